// memfs file I/O: OPEN, CREATE, TMPFILE, READ, WRITE, FLUSH, RELEASE, FSYNC, FALLOCATE, LSEEK,
// COPY_FILE_RANGE. The data itself lives in the chunk store (chunks.ts).

import { WriteFlags } from '../../protocol/abi.js';
import { Errno } from '../../protocol/errno.js';
import {
  FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, O_ACCMODE, O_APPEND, O_EXCL, O_TRUNC, SEEK_CUR, SEEK_DATA, SEEK_END,
  SEEK_HOLE, SEEK_SET,
} from '../../protocol/posix.js';
import { S_IFMT, S_IFREG, type CreateReply, type OpenReply, type RequestContext } from '../types.js';
import { checkName, isDotName, killSuidgid, MAX_FILE_SIZE, Node } from './node.js';
import type { MemStore } from './store.js';

export function open(s: MemStore, _ctx: RequestContext, ino: number, flags: number): OpenReply {
  const n = s.node(ino);
  if (n.isDir) {
    if ((flags & O_ACCMODE) !== 0 || (flags & O_TRUNC)) throw new Errno('EISDIR');
  } else if (!n.isReg) {
    // the kernel opens special files itself; nothing to serve here
    throw new Errno('ENXIO');
  }
  if ((flags & O_TRUNC) && n.isReg) {
    s.data.truncate(n, 0);
    const now = s.clock.now();
    n.mtime = now;
    n.ctime = now;
  }
  return { fh: s.openHandle(n, flags, false), flags: s.settings.openFlags };
}

export function create(s: MemStore, ctx: RequestContext, parent: number, name: string, mode: number, umask: number, flags: number): CreateReply {
  const p = s.dirNode(parent);
  checkName(name);
  const existing = isDotName(name) ? p : p.dir!.get(name);
  if (existing) {
    if (flags & O_EXCL) throw new Errno('EEXIST');
    const n = existing instanceof Node ? existing : s.node(existing.ino);
    if (n.isDir) throw new Errno('EISDIR');
    const o = open(s, ctx, n.ino, flags);
    return { ...o, entry: s.entryOf(n) };
  }
  const type = mode & S_IFMT;
  if (type !== 0 && type !== S_IFREG) throw new Errno('EINVAL');
  const n = s.newNode(ctx, p, name, S_IFREG | (mode & 0o7777 & ~umask));
  const fh = s.openHandle(n, flags, false);
  return { fh, flags: s.settings.openFlags, entry: s.entryOf(n) };
}

export function tmpfile(s: MemStore, ctx: RequestContext, parent: number, mode: number, umask: number, flags: number): CreateReply {
  const p = s.dirNode(parent);
  const n = s.newNode(ctx, p, undefined, S_IFREG | (mode & 0o7777 & ~umask));
  n.linkable = (flags & O_EXCL) === 0;
  const fh = s.openHandle(n, flags, false);
  return { fh, flags: s.settings.openFlags, entry: s.entryOf(n) };
}

export function read(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, offset: number, size: number): Uint8Array {
  const n = s.node(ino);
  if (n.isDir) throw new Errno('EISDIR');
  if (!n.isReg) throw new Errno('EINVAL');
  if (offset < 0 || size < 0) throw new Errno('EINVAL');
  const out = s.data.read(n, offset, size);
  s.touchAtime(n);
  return out;
}

export function write(s: MemStore, _ctx: RequestContext, ino: number, fh: number, offset: number, data: Uint8Array, writeFlags: number, flags: number): number {
  const n = s.node(ino);
  if (n.isDir) throw new Errno('EISDIR');
  if (!n.isReg) throw new Errno('EINVAL');
  if (offset < 0) throw new Errno('EINVAL');
  const h = s.handles.get(fh);
  if (((h ? h.flags : flags) & O_APPEND) !== 0) offset = n.size;
  if (offset + data.length > MAX_FILE_SIZE) throw new Errno('EFBIG');
  const now = s.clock.now();
  if (writeFlags & WriteFlags.mask.KILL_SUIDGID) killSuidgid(n);
  const written = data.length === 0 ? 0 : s.data.write(n, offset, data);
  n.mtime = now;
  n.ctime = now;
  return written;
}

export function flush(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, _lockOwner: number): void {
  s.node(ino);
}

export function release(s: MemStore, _ctx: RequestContext, _ino: number, fh: number, _flags: number, _releaseFlags: number, _lockOwner: number): void {
  s.closeHandle(fh, false);
}

export function fsync(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, _datasync: boolean): void {
  s.node(ino);
}

export function fallocate(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, offset: number, length: number, mode: number): void {
  const n = s.node(ino);
  if (n.isDir) throw new Errno('EISDIR');
  if (!n.isReg) throw new Errno('ENODEV');
  if (offset < 0 || length <= 0) throw new Errno('EINVAL');
  if (offset + length > MAX_FILE_SIZE) throw new Errno('EFBIG');
  const now = s.clock.now();
  if (mode === 0 || mode === FALLOC_FL_KEEP_SIZE) {
    // Space is not reserved up front (holes stay holes); refuse what cannot possibly fit.
    const end = offset + length;
    const grow = end > n.size ? end - n.size : 0;
    if (grow > s.data.totalBytes - s.data.usedBytes) throw new Errno('ENOSPC');
    if (mode === 0 && end > n.size) {
      n.size = end;
      n.ctime = now;
      n.mtime = now;
    }
    return;
  }
  if (mode === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
    const end = Math.min(offset + length, n.size);
    if (end > offset) s.data.zero(n, offset, end - offset);
    n.mtime = now;
    n.ctime = now;
    return;
  }
  throw new Errno('EOPNOTSUPP');
}

export function lseek(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, offset: number, whence: number): number {
  const n = s.node(ino);
  switch (whence) {
    case SEEK_SET:
      if (offset < 0) throw new Errno('EINVAL');
      return offset;
    case SEEK_END: {
      const r = n.size + offset;
      if (r < 0) throw new Errno('EINVAL');
      return r;
    }
    case SEEK_CUR:
      // the file position lives in the kernel, which handles SEEK_CUR itself
      throw new Errno('EINVAL');
    case SEEK_DATA:
    case SEEK_HOLE: {
      if (!n.isReg) throw new Errno(n.isDir ? 'EISDIR' : 'EINVAL');
      if (offset < 0 || offset >= n.size) throw new Errno('ENXIO');
      return s.data.seek(n, offset, whence);
    }
    default:
      throw new Errno('EINVAL');
  }
}

export function copyFileRange(s: MemStore, 
  _ctx: RequestContext, inoIn: number, _fhIn: number, offIn: number, inoOut: number, _fhOut: number, offOut: number,
  len: number, flags: number,
): number {
  if (flags !== 0) throw new Errno('EINVAL');
  const src = s.node(inoIn);
  const dst = s.node(inoOut);
  if (src.isDir || dst.isDir) throw new Errno('EISDIR');
  if (!src.isReg || !dst.isReg) throw new Errno('EINVAL');
  if (offIn < 0 || offOut < 0 || len < 0) throw new Errno('EINVAL');
  const n = Math.max(0, Math.min(len, src.size - offIn));
  if (n === 0) return 0;
  if (offOut + n > MAX_FILE_SIZE) throw new Errno('EFBIG');
  if (src === dst && offIn < offOut + n && offOut < offIn + n) throw new Errno('EINVAL');
  const cs = s.data.chunkSize;
  let done = 0;
  while (done < n) {
    const pos = offIn + done;
    const idx = Math.floor(pos / cs);
    const take = Math.min(n - done, (idx + 1) * cs - pos);
    if (src.chunks!.has(idx)) {
      const piece = Buffer.from(s.data.read(src, pos, take)); // copy: src and dst may share chunks' owner
      const w = s.data.write(dst, offOut + done, piece);
      done += w;
      if (w < take) break;
    } else {
      // a hole in the source stays a hole in the destination
      s.data.zero(dst, offOut + done, take);
      done += take;
      if (offOut + done > dst.size) dst.size = offOut + done;
    }
  }
  const now = s.clock.now();
  dst.mtime = now;
  dst.ctime = now;
  // The source's atime stays: the kernel refreshes only the destination's cached attributes after
  // COPY_FILE_RANGE (unlike READ, which marks atime stale), so a new atime here would not show in stat until
  // the attribute timeout ran out (test/fs/memfs-attr-cache.test.ts).
  return done;
}
