// The composefs object store (basedir): content-addressed files named objects/XX/rest. A redirect comes
// from the image, so it is untrusted: it must name a regular file *inside* the store. Checks, in order:
//  1. lexical: relative after dropping leading '/', no empty, '.' or '..' components, no NUL, bounded length;
//  2. every intermediate component is a real directory (lstat: no symlinks);
//  3. the final component is opened with O_NOFOLLOW | O_NONBLOCK (a planted FIFO cannot block us);
//  4. the opened fd is a regular file and /proc/self/fd/N resolves inside the store (catches races and
//     anything the lexical checks missed).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Errno, ERRNO } from '../protocol/errno.js';

export const MAX_REDIRECT_LENGTH = 4096;

/** Returns the store-relative path a redirect names, or throws Errno EACCES saying why it is refused. */
export function validateRedirect(redirect: string): string {
  if (redirect.length === 0 || redirect.length > MAX_REDIRECT_LENGTH) throw new Errno(ERRNO.EACCES, `redirect of length ${redirect.length}`);
  if (redirect.includes('\0')) throw new Errno(ERRNO.EACCES, 'redirect contains NUL');
  const rel = redirect.replace(/^\/+/, '');
  if (!rel) throw new Errno(ERRNO.EACCES, `redirect ${JSON.stringify(redirect)} names the store itself`);
  for (const part of rel.split('/')) {
    if (part === '' || part === '.' || part === '..') {
      throw new Errno(ERRNO.EACCES, `redirect ${JSON.stringify(redirect)} has a '${part}' component`);
    }
  }
  return rel;
}

export class ObjectStore {
  /** The store's real path (symlinks of the basedir itself resolved once, at start). */
  readonly root: string;

  constructor(basedir: string) {
    this.root = fs.realpathSync(basedir);
    if (!fs.statSync(this.root).isDirectory()) throw new Errno(ERRNO.ENOTDIR, `object store ${basedir} is not a directory`);
  }

  /** Opens the object a redirect names, read-only. The caller closes the fd. */
  open(redirect: string): number {
    const rel = validateRedirect(redirect);
    const parts = rel.split('/');
    let dir = this.root;
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(dir);
      } catch (e) {
        throw new Errno(ERRNO.ENOENT, `object ${rel}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
      if (!st.isDirectory()) throw new Errno(ERRNO.EACCES, `object ${rel}: ${path.relative(this.root, dir)} is not a plain directory`);
    }
    const full = path.join(dir, parts[parts.length - 1]!);
    let fd: number;
    try {
      fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new Errno(ERRNO.EACCES, `object ${rel} is a symlink`);
      if (code === 'ENOENT') throw new Errno(ERRNO.ENOENT, `object ${rel} is missing from the store`);
      throw new Errno(ERRNO.EIO, `object ${rel}: ${code ?? e}`);
    }
    try {
      if (!fs.fstatSync(fd).isFile()) throw new Errno(ERRNO.EACCES, `object ${rel} is not a regular file`);
      let real: string | undefined;
      try {
        real = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        real = undefined; // no /proc: the lstat walk above is what we have
      }
      if (real !== undefined && !real.startsWith(this.root + '/')) {
        throw new Errno(ERRNO.EACCES, `object ${rel} resolves outside the store (${real})`);
      }
      return fd;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }
}
