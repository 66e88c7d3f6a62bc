// A composefs image from a writer tree: the rewrite libcomposefs applies (composefs-rewrite.ts), the layout
// with 4096-byte blocks, the 32-byte composefs header in front of the EROFS superblock, and the features
// mkcomposefs 1.0.8 sets (MTIME, XATTR_FILTER; no incompat bits).

import * as F from '../reader/format.js';
import { COMPOSEFS_VERSION_MAX, effectiveVersion, rewriteForComposefs } from './composefs-rewrite.js';
import { writeImage } from './image.js';
import { computeLayout } from './layout.js';
import type { WNode } from './node.js';
import { ImageOutput } from './output.js';

export class ComposefsVersionError extends Error {}

export interface ComposefsWriteOptions {
  /** Final image path, '-' for stdout, undefined to write nothing (digest only). */
  image: string | undefined;
  minVersion: number;
  maxVersion: number;
  /** Compute the image's fs-verity digest. */
  digest: boolean;
}

function header(version: number, hasAcl: boolean): Uint8Array {
  const h = new Uint8Array(F.LCFS_EROFS_HEADER_SIZE);
  const v = new DataView(h.buffer);
  v.setUint32(F.LCFS_H_MAGIC, F.LCFS_EROFS_MAGIC, true);
  v.setUint32(F.LCFS_H_VERSION, F.LCFS_EROFS_VERSION, true);
  v.setUint32(F.LCFS_H_FLAGS, hasAcl ? F.LCFS_EROFS_FLAGS_HAS_ACL : 0, true);
  v.setUint32(F.LCFS_H_COMPOSEFS_VERSION, version, true);
  return h;
}

/** Writes the image; returns its fs-verity digest when asked for. The tree is consumed (rewritten). */
export function writeComposefs(root: WNode, opts: ComposefsWriteOptions): Buffer | undefined {
  if (opts.minVersion > COMPOSEFS_VERSION_MAX || opts.maxVersion > COMPOSEFS_VERSION_MAX || opts.minVersion < 0 || opts.maxVersion < 0) {
    throw new ComposefsVersionError(`format versions go from 0 to ${COMPOSEFS_VERSION_MAX}`);
  }
  const max = Math.max(opts.maxVersion, opts.minVersion);
  const version = effectiveVersion(root, opts.minVersion, max);
  rewriteForComposefs(root, version);
  const layout = computeLayout(root, { blockBits: 12 });
  const out = new ImageOutput(opts.image, { digest: opts.digest });
  try {
    writeImage(out, layout, {
      header: header(version, layout.hasAcl),
      featureCompat: F.COMPAT_MTIME | F.COMPAT_XATTR_FILTER,
      featureIncompat: 0,
    });
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  return out.hasher?.digest();
}
