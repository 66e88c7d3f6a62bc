// `tsfuse puzzlefs dump`: a listing of an image, one line per path, read straight from the layout:
//   /path TYPE mode=0644 uid=0 gid=0 nlink=1 [size=N] [rdev=MAJ:MIN] [target=ESC] [sha256=HEX]
//   /path  xattr NAME=0xHEX            (values longer than 128 bytes: NAME=#LEN:sha256:HEX)
// TYPE is reg, dir, lnk, chr, blk, fifo, sock; paths, targets and xattr names are escaped byte-wise
// (printable ASCII but '\' stays, everything else is \xHH). Lines are sorted by escaped path, xattrs by name:
// the same shape as the test kit's tree dump without times, so a source tree and its image compare as text.

import { createHash } from 'node:crypto';
import type { ImageInode, PuzzleImage } from './image.js';
import { ROOT_INO } from './image.js';
import type { InodeKind } from './schema.js';

const TYPE_NAMES: Record<InodeKind, string> = {
  unknown: 'reg', fifo: 'fifo', chr: 'chr', dir: 'dir', blk: 'blk', file: 'reg', lnk: 'lnk', sock: 'sock', wht: 'wht',
};
const XATTR_INLINE_MAX = 128;

export function escapeBytes(b: Uint8Array): string {
  let out = '';
  for (const c of b) out += c > 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Runs a synchronous step of the dump until its bytes are local (untilBytes for a remote image). */
export type Until = <T>(job: () => T) => T | Promise<T>;

/** sha256 (hex) of a regular file's content; each read is one step, so a remote image fetches as it goes. */
async function fileSha256(img: PuzzleImage, n: ImageInode, buf: Uint8Array, until: Until): Promise<string> {
  const h = createHash('sha256');
  for (let off = 0; off < n.size; ) {
    const got = await until(() => img.read(n, off, buf.length, buf));
    if (got <= 0) break;
    h.update(buf.subarray(0, got));
    off += got;
  }
  return h.digest('hex');
}

/** Writes the listing through `write` (called with pieces of text). */
export async function dumpImage(img: PuzzleImage, write: (s: string) => void, until: Until = (job) => job()): Promise<void> {
  const lines: { key: string; text: string }[] = [];
  const buf = Buffer.allocUnsafe(1 << 20);
  const visit = async (ino: number, path: string): Promise<void> => {
    const n = await until(() => img.inode(ino));
    if (!n) return;
    const key = path === '' ? '/' : path;
    const type = TYPE_NAMES[n.kind];
    const f = [key, type, `mode=${(n.permissions & 0o7777).toString(8).padStart(4, '0')}`, `uid=${n.uid}`, `gid=${n.gid}`, `nlink=${img.nlink(ino)}`];
    if (type === 'reg' || type === 'lnk') f.push(`size=${n.size}`);
    if (type === 'chr' || type === 'blk') f.push(`rdev=${n.major}:${n.minor}`);
    if (type === 'lnk' && n.symlinkTarget) f.push(`target=${escapeBytes(n.symlinkTarget)}`);
    if (n.kind === 'file') f.push(`sha256=${await fileSha256(img, n, buf, until)}`);
    let text = f.join(' ');
    const xs = n.xattrs.map((x) => ({ name: Buffer.from(x.key).toString('latin1'), val: x.val })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const x of xs) {
      const v = x.val.length <= XATTR_INLINE_MAX ? `0x${hex(x.val)}` : `#${x.val.length}:sha256:${createHash('sha256').update(x.val).digest('hex')}`;
      text += `\n${key}  xattr ${escapeBytes(Buffer.from(x.name, 'latin1'))}=${v}`;
    }
    lines.push({ key, text });
    if (n.kind === 'dir') for (const e of n.visible) await visit(e.ino, `${path}/${escapeBytes(e.name)}`);
  };
  await visit(ROOT_INO, '');
  lines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let chunk = '';
  for (const l of lines) {
    chunk += l.text + '\n';
    if (chunk.length > 1 << 16) {
      write(chunk);
      chunk = '';
    }
  }
  if (chunk) write(chunk);
}
