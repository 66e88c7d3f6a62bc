// A path-based hello filesystem: one file, /hello.txt. Run: node examples/hello-path.mjs /mnt/hello
import { Session, pathFilesystem, Errno, S_IFDIR, S_IFREG } from 'tsfuse';

const text = Buffer.from('Hello, world!\n');
const t = Math.floor(Date.now() / 1000);
const dir = { mode: S_IFDIR | 0o755, nlink: 2, uid: 0, gid: 0, size: 0, atime: t, mtime: t, ctime: t };
const file = { ...dir, mode: S_IFREG | 0o444, nlink: 1, size: text.length };

const hello = {
  getattr(_ctx, path) {
    if (path === '/') return dir;
    if (path === '/hello.txt') return file;
    throw new Errno('ENOENT');
  },
  readdir: () => [{ name: 'hello.txt', attr: file }],
  read: (_ctx, _path, _fh, offset, size) => text.subarray(offset, offset + size),
};

const session = await Session.mount(pathFilesystem(hello), { mountpoint: process.argv[2], workers: 1 });
console.log(`mounted on ${session.mountpoint}`);
process.once('SIGINT', () => session.unmount());
