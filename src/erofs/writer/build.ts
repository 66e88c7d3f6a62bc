// `tsfuse erofs build`: an EROFS image of a directory. Hardlinks are found by (dev, ino)
// and share one inode; regular files are FLAT_PLAIN/FLAT_INLINE (blocks copied from the source in pieces,
// a short tail inline), or with a chunk size CHUNK_BASED, where chunks of zeros become holes. Inodes are
// compact when they can be (mtime equal to the image's build time, 16-bit ids), else extended with
// nanosecond mtimes. With --compress lz4/lz4hc/zstd/deflate, regular files are compressed into one-block
// pclusters with compact indexes (compress-file.ts, compact-index.ts, pcluster-codecs.ts) unless that saves
// nothing, as mkfs.erofs decides. The same layout engine as the composefs writer, so the same rules for tails
// and directories.

import * as path from 'node:path';
import * as os from 'node:os';
import * as F from '../reader/format.js';
import { FileCompressor, Spill, windowFor } from './compress-file.js';
import { COMPRESSION_OF, comprConfigRecords, pclusterEncoder, type CompressSpec } from './pcluster-codecs.js';
import { writeImage } from './image.js';
import { computeLayout } from './layout.js';
import { zeroChunks } from './file-copy.js';
import { WNode, bytes } from './node.js';
import { ImageOutput } from './output.js';
import { SourceError, mtimeOf, rdev32, readSourceTree, readSymlink, readXattrs, type SourceEntry } from './source-tree.js';

export interface BuildOptions {
  source: string;
  image: string;
  /** 512 .. 4096 (default 4096). */
  blockSize?: number;
  /** Store regular files chunk-based with chunks of this many bytes (a power of two, at least a block). */
  chunkSize?: number;
  allRoot?: boolean;
  uidOffset?: number;
  /** Every inode gets the oldest mtime of the tree (and so a compact inode). */
  ignoreMtime?: boolean;
  /** Compress regular files (not with chunkSize); zstd needs src/compress/zstd.ts' zstdReady awaited first. */
  compress?: CompressSpec;
}

function spillPath(image: string): string {
  const dir = image === '-' ? os.tmpdir() : path.dirname(path.resolve(image));
  return path.join(dir, `.${path.basename(image)}.spill-${process.pid}-${Date.now().toString(36)}`);
}

export class BuildError extends Error {}

const DOT = bytes('.');
const DOTDOT = bytes('..');
const SYMLINK_MAX = 4095;

function addDots(dir: WNode, parent: WNode): void {
  const dot = new WNode();
  dot.linkTo = dir;
  dir.addChild(DOT, dot);
  const dotdot = new WNode();
  dotdot.linkTo = parent;
  dir.addChild(DOTDOT, dotdot);
  for (const c of dir.children) if (!c.linkTo && c.isDir()) addDots(c, dir);
}

export function buildErofs(o: BuildOptions): void {
  const bs = o.blockSize ?? 4096;
  const blockBits = Math.log2(bs);
  if (!Number.isInteger(blockBits) || blockBits < 9 || blockBits > 12) throw new BuildError(`block size ${bs} is not 512, 1024, 2048 or 4096`);
  let chunkBits: number | undefined;
  if (o.chunkSize !== undefined) {
    chunkBits = Math.log2(o.chunkSize);
    if (!Number.isInteger(chunkBits) || chunkBits < blockBits || chunkBits - blockBits > F.CHUNK_FORMAT_BLKBITS_MASK) {
      throw new BuildError(`chunk size ${o.chunkSize} is not a power of two from the block size up`);
    }
  }
  const compress = o.compress;
  if (compress && chunkBits !== undefined) throw new BuildError('--compress and --chunksize exclude each other');
  const uidOffset = o.uidOffset ?? 0;
  const links = new Map<string, { node: WNode; names: number }>();
  const nodes: WNode[] = [];
  let anyChunked = false;

  const makeNode = (e: SourceEntry): WNode | undefined => {
    const st = e.st;
    const type = Number(st.mode) & F.S_IFMT;
    if (type !== F.S_IFDIR && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const seen = links.get(key);
      if (seen) {
        seen.names++;
        const l = new WNode();
        l.linkTo = seen.node;
        return l;
      }
    }
    const n = new WNode();
    n.mode = Number(st.mode);
    n.uid = o.allRoot ? 0 : Number(st.uid) + uidOffset;
    n.gid = o.allRoot ? 0 : Number(st.gid);
    if (n.uid > 0xffffffff) throw new SourceError(`${e.rel}: uid ${n.uid} out of range after --uid-offset`);
    if (type === F.S_IFCHR || type === F.S_IFBLK) n.rdev = rdev32(st);
    [n.mtimeSec, n.mtimeNsec] = mtimeOf(st);
    if (type === F.S_IFREG) {
      n.size = Number(st.size);
      if (n.size > 0) {
        if (chunkBits === undefined) n.data = { kind: 'file', path: e.path };
        else {
          n.data = { kind: 'chunked', path: e.path, chunkBits };
          n.chunkMap = zeroChunks(e.path, n.size, chunkBits).map((z) => (z ? F.NULL_ADDR : 0));
          anyChunked = true;
        }
      }
    } else if (type === F.S_IFLNK) {
      n.payload = readSymlink(e);
      if (n.payload.length > SYMLINK_MAX) throw new SourceError(`${e.rel}: symlink target of ${n.payload.length} bytes`);
      n.size = n.payload.length;
    }
    for (const [k, v] of readXattrs(e)) {
      if (v.length > 0xffff) throw new SourceError(`${e.rel || '/'}: xattr ${Buffer.from(k).toString()} of ${v.length} bytes does not fit EROFS (at most 65535)`);
      n.setXattr(k, v);
    }
    if (type !== F.S_IFDIR && st.nlink > 1n) links.set(`${st.dev}:${st.ino}`, { node: n, names: 1 });
    nodes.push(n);
    return n;
  };

  const root = readSourceTree(o.source, makeNode);
  for (const { node, names } of links.values()) node.nlink = names;
  if (o.ignoreMtime) {
    let [s, ns] = [root.mtimeSec, root.mtimeNsec];
    for (const n of nodes) if (n.mtimeSec < s || (n.mtimeSec === s && n.mtimeNsec < ns)) [s, ns] = [n.mtimeSec, n.mtimeNsec];
    for (const n of nodes) [n.mtimeSec, n.mtimeNsec] = [s, ns];
  }
  addDots(root, root);
  const spill = compress ? new Spill(spillPath(o.image)) : undefined;
  const comprConfigs = compress ? comprConfigRecords(compress, windowFor(bs)) : undefined;
  try {
    if (compress && spill) {
      const fc = new FileCompressor(pclusterEncoder(compress), bs, spill);
      for (const n of nodes) {
        const d = n.data;
        if (d?.kind !== 'file') continue;
        const file = fc.compress(d.path, n.size);
        if (file) n.data = { kind: 'compressed', path: d.path, spill, file };
      }
    }
    const layout = computeLayout(root, { blockBits, afterSuperblock: comprConfigs?.length });
    const out = new ImageOutput(o.image);
    try {
      writeImage(out, layout, {
        featureCompat: F.COMPAT_MTIME | F.COMPAT_XATTR_FILTER,
        // mkfs.erofs sets 0PADDING whenever it compresses; the kernel needs it to decompress in place
        featureIncompat:
          (anyChunked ? F.INCOMPAT_CHUNKED_FILE : 0) | (spill ? F.INCOMPAT_LZ4_0PADDING : 0) | (comprConfigs ? F.INCOMPAT_COMPR_CFGS : 0),
        comprConfigs,
        availableComprAlgs: comprConfigs && compress ? 1 << COMPRESSION_OF[compress.algorithm] : undefined,
      });
      out.commit();
    } catch (e) {
      out.abort();
      throw e;
    }
  } finally {
    spill?.close();
  }
}
