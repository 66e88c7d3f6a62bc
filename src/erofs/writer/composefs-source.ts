// A source directory as mkcomposefs 1.0.8 reads it (lcfs_build + compute_digest): every entry its own inode
// (hardlinks are not detected: each name is a file with nlink 1), mode/uid/gid/rdev/size from lstat, mtimes
// unless --use-epoch, xattrs unless --skip-xattrs (only user.* with --user-xattrs), devices left out with
// --skip-devices; non-empty regular files get their fs-verity digest and the object path XX/REST as payload,
// and files of at most 64 bytes are inlined instead.

import * as fs from 'node:fs';
import * as F from '../reader/format.js';
import { DumpfileError, setExternalXattr } from './dumpfile.js';
import { WNode } from './node.js';
import { SourceError, mtimeOf, rdev32, readSourceTree, readSymlink, readXattrs, type SourceEntry } from './source-tree.js';
import { VerityHasher, digestObjectPath } from './verity-digest.js';

/** Files up to this size are stored in the image (LCFS_RECOMMENDED_INLINE_CONTENT_MAX). */
export const RECOMMENDED_INLINE_MAX = 64;
const PATH_MAX = 4096;

export interface ComposefsSourceOptions {
  useEpoch?: boolean;
  skipDevices?: boolean;
  skipXattrs?: boolean;
  userXattrs?: boolean;
}

const PIECE = 1 << 20;
const piece = Buffer.alloc(PIECE);

/** fs-verity digest and (for small files) the content, reading the file once, in pieces. */
function digestFile(path: Buffer, rel: string, size: number): { digest: Uint8Array; content: Uint8Array | undefined } {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    throw new SourceError(`error computing digest of ${rel}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    const h = new VerityHasher();
    let total = 0;
    let content: Uint8Array | undefined;
    for (;;) {
      const n = fs.readSync(fd, piece, 0, PIECE, null);
      if (n === 0) break;
      if (total === 0 && n === size && size <= RECOMMENDED_INLINE_MAX) content = Uint8Array.from(piece.subarray(0, n));
      h.update(piece.subarray(0, n));
      total += n;
    }
    if (total !== size) throw new SourceError(`error computing digest of ${rel}: file changed size while read`);
    return { digest: h.digest(), content: size <= RECOMMENDED_INLINE_MAX ? (content ?? new Uint8Array(0)) : undefined };
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw new SourceError(`error computing digest of ${rel}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  } finally {
    fs.closeSync(fd);
  }
}

function makeNode(e: SourceEntry, o: ComposefsSourceOptions): WNode | undefined {
  const st = e.st;
  const type = Number(st.mode) & F.S_IFMT;
  if (o.skipDevices && e.rel !== '' && (type === F.S_IFCHR || type === F.S_IFBLK)) return undefined;
  const n = new WNode();
  n.mode = Number(st.mode);
  n.uid = Number(st.uid);
  n.gid = Number(st.gid);
  n.rdev = rdev32(st);
  n.size = Number(st.size);
  n.origin = e.rel || '/';
  if (type === F.S_IFREG) {
    if (n.size > 0) {
      const { digest, content } = digestFile(e.path, e.rel, n.size);
      n.digest = digest;
      n.payload = new TextEncoder().encode(digestObjectPath(digest));
      if (content) n.data = { kind: 'content', bytes: content };
      else n.data = { kind: 'file', path: e.path };
    }
  } else if (type === F.S_IFLNK) {
    n.payload = readSymlink(e);
    if (n.payload.length >= PATH_MAX) throw new SourceError(`error accessing ${e.rel}: symlink target too long`);
    n.size = n.payload.length;
  }
  if (!o.useEpoch) [n.mtimeSec, n.mtimeNsec] = mtimeOf(st);
  if (!o.skipXattrs) {
    for (const [k, v] of readXattrs(e, o.userXattrs ? (name) => name.startsWith('user.') : undefined)) {
      try {
        setExternalXattr(n, k, v, e.rel || '/');
      } catch (err) {
        if (err instanceof DumpfileError) throw new SourceError(`error accessing ${err.message}`);
        throw err;
      }
    }
  }
  return n;
}

export function readComposefsSource(root: string, o: ComposefsSourceOptions): WNode {
  return readSourceTree(root, (e) => makeNode(e, o));
}
