// The small image a fresh image worker walks to compile its request path before real requests come
// (src/server/warm-up/): built by our own writer at warm-up time, in the layouts real images use (mkfs.erofs'
// and ours): compact and extended inodes, inline and block directories, a directory of WARM_BIG_DIR_NAMES
// names over several blocks, empty, inline, block+tail and whole-block files, symlinks, inline and shared
// xattrs. It is read from a file with pread like a real image (an in-memory source would take other branches
// of the reader and leave the real image's call sites to be compiled again). `npm run build` writes it next to
// this module (scripts/bundle.mjs): the writer's own cold code would cost a worker more than the walk does
// (~70 ms of CPU for this tree). Without that file it is written to a temporary file instead.

import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as F from './reader/format.js';
import { writeImage } from './writer/image.js';
import { computeLayout } from './writer/layout.js';
import { WNode, bytes } from './writer/node.js';
import { ImageOutput } from './writer/output.js';
import { scratchDir } from '../kernel/scratch-dir.js';

/** Names in the big directory: about the bench's 2000-entry directory, several 4 KiB blocks of dirents. */
export const WARM_BIG_DIR_NAMES = 2000;

const BLOCK = 4096;
/** Build time of the image: nodes with this mtime and 16-bit ids get compact inodes. */
const MTIME = 1_700_000_000;

function node(mode: number, mtime = MTIME): WNode {
  const n = new WNode();
  n.mode = mode;
  n.mtimeSec = mtime;
  return n;
}

function dir(): WNode {
  return node(F.S_IFDIR | 0o755);
}

function file(size: number, fill: number, mtime?: number): WNode {
  const n = node(F.S_IFREG | 0o644, mtime);
  n.size = size;
  if (size > 0) n.data = { kind: 'content', bytes: new Uint8Array(size).fill(fill) };
  return n;
}

function symlink(target: string): WNode {
  const n = node(F.S_IFLNK | 0o777);
  n.payload = bytes(target);
  n.size = n.payload.length;
  return n;
}

function add(parent: WNode, name: string, child: WNode): WNode {
  parent.addChild(bytes(name), child);
  return child;
}

/** "." and ".." in every directory, as buildErofs adds them. */
function addDots(d: WNode, parent: WNode): void {
  const dot = new WNode();
  dot.linkTo = d;
  d.addChild(bytes('.'), dot);
  const dotdot = new WNode();
  dotdot.linkTo = parent;
  d.addChild(bytes('..'), dotdot);
  for (const c of d.children) if (!c.linkTo && c.isDir()) addDots(c, d);
}

/** The warm-up tree. */
function warmUpTree(): WNode {
  const root = dir();
  const shared = bytes('shared');
  // a small directory: its dirents fit inline after the inode
  const etc = add(root, 'etc', dir());
  add(etc, 'empty', file(0, 0));
  add(etc, 'hostname', file(12, 0x61)).setXattr(bytes('user.comment'), bytes('inline'));
  add(etc, 'passwd', file(BLOCK + 700, 0x62)).setXattr(bytes('user.shared'), shared);
  add(etc, 'services', file(3 * BLOCK, 0x63)).setXattr(bytes('user.shared'), shared);
  add(etc, 'localtime', symlink('../usr/share/zoneinfo/UTC'));
  // extended inodes: an mtime other than the build time, ids above 16 bits
  const usr = add(root, 'usr', dir());
  const owned = add(usr, 'owned', file(2 * BLOCK + 100, 0x64, MTIME + 3600));
  owned.uid = owned.gid = 100_000;
  owned.mtimeNsec = 123_456_789;
  owned.setXattr(bytes('security.capability'), new Uint8Array(20).fill(1));
  owned.setXattr(bytes('trusted.overlay.opaque'), bytes('y'));
  const share = add(usr, 'share', dir());
  add(add(share, 'zoneinfo', dir()), 'UTC', file(114, 0x65));
  add(usr, 'lib', symlink('share/' + 'x'.repeat(200)));
  // a big directory: mixed names, types and lengths over several blocks, as /usr/bin or the bench's tree
  const big = add(root, 'big', dir());
  for (let i = 0; i < WARM_BIG_DIR_NAMES; i++) {
    const name = `${i % 7 === 0 ? 'lib' : 'entry'}-${i.toString().padStart(4, '0')}${'.x'.repeat(i % 5)}`;
    if (i % 97 === 0) add(add(big, name, dir()), 'inner', file(40, 0x66));
    else if (i % 31 === 0) add(big, name, symlink(`entry-${i}`));
    else add(big, name, file(i % 101 === 0 ? BLOCK + i : i % 300, 0x67, i % 13 === 0 ? MTIME + i : MTIME));
  }
  addDots(root, root);
  return root;
}

/** The image `npm run build` writes (scripts/bundle.mjs). */
export const WARM_UP_IMAGE = fileURLToPath(new URL('./warm-up.erofs', import.meta.url));

/** Writes the warm-up image to `path`. */
export function writeWarmUpImage(path: string): void {
  const out = new ImageOutput(path);
  try {
    writeImage(out, computeLayout(warmUpTree(), { blockBits: Math.log2(BLOCK) }), {
      featureCompat: F.COMPAT_MTIME | F.COMPAT_XATTR_FILTER,
      featureIncompat: 0,
    });
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

/**
 * Hands the warm-up image's path to `open`, which must open it: the built one, or a temporary one that is
 * removed when `open` returns (only the open file is left then).
 */
export function withWarmUpImage<T>(open: (path: string) => T): T {
  if (existsSync(WARM_UP_IMAGE)) return open(WARM_UP_IMAGE);
  const where = scratchDir('tsfuse-warm-');
  try {
    const path = join(where, 'image.erofs');
    writeWarmUpImage(path);
    return open(path);
  } finally {
    rmSync(where, { recursive: true, force: true });
  }
}
