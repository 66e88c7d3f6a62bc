// A mirror of a directory through the path API. Run: node examples/mirror.mjs /some/dir /mnt/mirror
// Paths come from the kernel, one name at a time, so root + path never leaves root (no "..", and lstat and
// readlink never follow a symlink); files are read and written through the fd opened for them.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Session, pathFilesystem } from 'tsfuse';

const root = process.argv[2];
const real = (p) => join(root, p);
const handles = new Map(); // fh -> FileHandle
const attr = (s) => ({
  ino: s.ino, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, size: s.size, blocks: s.blocks, rdev: s.rdev,
  atime: Math.floor(s.atimeMs / 1000), mtime: Math.floor(s.mtimeMs / 1000), ctime: Math.floor(s.ctimeMs / 1000),
});
const keep = (h) => (handles.set(h.fd, h), { fh: h.fd });

const mirror = {
  getattr: async (_c, p, fh) => attr(fh !== undefined && handles.has(fh) ? await handles.get(fh).stat() : await fsp.lstat(real(p))),
  readdir: async (_c, p) => (await fsp.readdir(real(p))),
  readlink: (_c, p) => fsp.readlink(real(p)),
  mkdir: (_c, p, mode) => fsp.mkdir(real(p), mode),
  rmdir: (_c, p) => fsp.rmdir(real(p)),
  unlink: (_c, p) => fsp.unlink(real(p)),
  symlink: (_c, target, p) => fsp.symlink(target, real(p)),
  link: (_c, from, to) => fsp.link(real(from), real(to)),
  rename: (_c, from, to) => fsp.rename(real(from), real(to)),
  chmod: (_c, p, mode) => fsp.chmod(real(p), mode & 0o7777),
  chown: (_c, p, uid, gid) => fsp.lchown(real(p), uid, gid),
  truncate: (_c, p, size, fh) => (fh !== undefined && handles.has(fh) ? handles.get(fh).truncate(size) : fsp.truncate(real(p), size)),
  utimens: async (_c, p, a, m) => {
    const s = await fsp.lstat(real(p));
    const t = (v, old) => (v === undefined ? old / 1000 : v === 'now' ? Date.now() / 1000 : v.sec + v.nsec / 1e9);
    await fsp.utimes(real(p), t(a, s.atimeMs), t(m, s.mtimeMs));
  },
  open: async (_c, p, flags) => keep(await fsp.open(real(p), flags)),
  create: async (_c, p, mode, flags) => keep(await fsp.open(real(p), flags, mode)),
  read: async (_c, _p, fh, offset, size) => {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await handles.get(fh).read(buf, 0, size, offset);
    return buf.subarray(0, bytesRead);
  },
  write: async (_c, _p, fh, offset, data) => (await handles.get(fh).write(data, 0, data.length, offset)).bytesWritten,
  fsync: (_c, _p, fh) => handles.get(fh).sync(),
  release: async (_c, _p, fh) => {
    await handles.get(fh)?.close();
    handles.delete(fh);
  },
  statfs: async (_c, p) => {
    const s = await fsp.statfs(real(p));
    return { blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, bsize: s.bsize, namelen: 255 };
  },
};

const session = await Session.mount(pathFilesystem(mirror), { mountpoint: process.argv[3], workers: 1 });
console.log(`mirroring ${root} on ${session.mountpoint}`);
process.once('SIGINT', () => session.unmount());
