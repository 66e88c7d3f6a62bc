// The Node peer: fuse-native 2.2.6 (libfuse 2 high-level path API, every callback on the JS main thread),
// serving a directory read-only through node:fs (path-based passthrough of the same tree the images hold).
// Loaded from bench/data/peers (npm install --no-save fuse-native there).
//
//   node fuse-native.js --src DIR --mnt DIR [--timeout S]

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BENCH_DATA } from '../lib/paths.js';
import { need, parseFlags } from './args.js';

const f = parseFlags(process.argv.slice(2));
const src = need(f, 'src');
const mnt = need(f, 'mnt');
const timeout = typeof f.timeout === 'string' ? f.timeout : '86400';

const require = createRequire(join(BENCH_DATA, 'peers', 'package.json'));
type Cb = (...a: unknown[]) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Fuse = require('fuse-native') as any;

const errno = (e: unknown): number => {
  const code = (e as { code?: string }).code;
  return code && typeof Fuse[code] === 'number' ? Fuse[code] : Fuse.EIO;
};

const ops = {
  getattr(path: string, cb: Cb) {
    try {
      const st = fs.lstatSync(src + path);
      cb(0, st);
    } catch (e) {
      cb(errno(e));
    }
  },
  fgetattr(path: string, fd: number, cb: Cb) {
    try {
      cb(0, fs.fstatSync(fd));
    } catch (e) {
      cb(errno(e));
    }
  },
  readdir(path: string, cb: Cb) {
    try {
      cb(0, fs.readdirSync(src + path));
    } catch (e) {
      cb(errno(e));
    }
  },
  readlink(path: string, cb: Cb) {
    try {
      cb(0, fs.readlinkSync(src + path));
    } catch (e) {
      cb(errno(e));
    }
  },
  open(path: string, flags: number, cb: Cb) {
    try {
      cb(0, fs.openSync(src + path, 'r'));
    } catch (e) {
      cb(errno(e));
    }
  },
  read(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) {
    try {
      cb(fs.readSync(fd, buf, 0, len, pos));
    } catch (e) {
      cb(-errno(e));
    }
  },
  release(path: string, fd: number, cb: Cb) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    cb(0);
  },
  statfs(path: string, cb: Cb) {
    cb(0, { bsize: 4096, frsize: 4096, blocks: 1 << 20, bfree: 0, bavail: 0, files: 1 << 20, ffree: 0, favail: 0, fsid: 0, flag: 1, namemax: 255 });
  },
};

const fuse = new Fuse(mnt, ops, {
  force: true,
  mkdir: false,
  fsname: 'fuse-native',
  subtype: 'fuse-native',
  // strings, because fuse-native drops a falsy 0
  entryTimeout: timeout,
  attrTimeout: timeout,
});
fuse.mount((err: Error | null) => {
  if (err) {
    process.stderr.write(`fuse-native: mount failed: ${err.message}\n`);
    process.exit(1);
  }
});
const stop = (): void => {
  fuse.unmount(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
