// The composefs object store (basedir): content-addressed files named objects/XX/rest. A redirect comes
// from the image, so it is untrusted: it must name a regular file *inside* the store. The rules are overlayfs'
// for a data-only layer (a path lookup beneath the layer root, no symlinks, no crossing mounts), with the
// errnos it answers:
//  1. lexical: one leading '/' dropped, no empty components, no NUL, bounded length (EINVAL); '.' is skipped,
//     '..' goes up one level and may not climb above the store (EXDEV);
//  2. every intermediate component is a real directory (lstat: a symlink is ELOOP, a missing one ENOENT);
//  3. the final component is opened with O_NOFOLLOW | O_NONBLOCK (a planted FIFO cannot block us), and must be a
//     regular file (anything else, a symlink included, is ENOENT);
//  4. /proc/self/fd/N of the opened fd resolves inside the store (catches races and anything the walk missed).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Errno, ERRNO } from '../protocol/errno.js';
import type { ByteSource } from './bytesource.js';

/**
 * An object a redirect named: a local file (fd, which passthrough can hand to the kernel) or remote bytes, with
 * what identifies that very version of the object (remembered fs-verity checks are keyed by it).
 */
export type StoreObject = { fd: number; bytes?: undefined } | { fd?: undefined; bytes: ByteSource; identity?: string };

/**
 * Where composefs objects come from: a local directory (ObjectStore) or a URL prefix (src/remote/object-store.ts).
 * open throws an Errno saying why not (or BytesPending while a remote object is being looked up).
 */
export interface ObjectSource {
  openObject(redirect: string): StoreObject;
}

export const MAX_REDIRECT_LENGTH = 4096;

/**
 * The store-relative path a redirect names, '.' and '..' resolved lexically ("aa/obj"); throws an Errno
 * (EINVAL for a malformed redirect, EXDEV for one that climbs out of the store). Intermediate directories are
 * checked by ObjectStore.open.
 */
export function validateRedirect(redirect: string): string {
  const rel = resolveLexically(redirectComponents(redirect), redirect);
  if (rel.length === 0) refuse(ERRNO.EINVAL, `redirect ${JSON.stringify(redirect)} names the store itself`);
  return rel.join('/');
}

function refuse(errno: number, message: string): never {
  throw new Errno(errno, message);
}

function redirectComponents(redirect: string): string[] {
  if (redirect.length === 0 || redirect.length > MAX_REDIRECT_LENGTH) refuse(ERRNO.EINVAL, `redirect of length ${redirect.length}`);
  if (redirect.includes('\0')) refuse(ERRNO.EINVAL, 'redirect contains NUL');
  const parts = (redirect.startsWith('/') ? redirect.slice(1) : redirect).split('/');
  if (parts.includes('')) refuse(ERRNO.EINVAL, `redirect ${JSON.stringify(redirect)} has an empty component`);
  return parts;
}

function resolveLexically(parts: string[], redirect: string): string[] {
  const out: string[] = [];
  for (const part of parts) {
    if (part === '.') continue;
    if (part === '..') {
      if (out.length === 0) refuse(ERRNO.EXDEV, `redirect ${JSON.stringify(redirect)} climbs out of the object store`);
      out.pop();
    } else out.push(part);
  }
  return out;
}

export class ObjectStore implements ObjectSource {
  /** The store's real path (symlinks of the basedir itself resolved once, at start). */
  readonly root: string;

  constructor(basedir: string) {
    this.root = fs.realpathSync(basedir);
    if (!fs.statSync(this.root).isDirectory()) throw new Errno(ERRNO.ENOTDIR, `object store ${basedir} is not a directory`);
  }

  openObject(redirect: string): StoreObject {
    return { fd: this.open(redirect) };
  }

  /** Opens the object a redirect names, read-only. The caller closes the fd. Throws an Errno saying why not. */
  open(redirect: string): number {
    const parts = redirectComponents(redirect);
    // Walk as the kernel's lookup does: every directory we pass through (even one a later '..' leaves) must be a
    // real directory inside the store.
    const stack: string[] = [];
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      if (part === '.') continue;
      if (part === '..') {
        if (stack.length === 0) refuse(ERRNO.EXDEV, `redirect ${JSON.stringify(redirect)} climbs out of the object store`);
        stack.pop();
        continue;
      }
      stack.push(part);
      const dir = path.join(this.root, ...stack);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(dir);
      } catch (e) {
        refuse(ERRNO.ENOENT, `object ${redirect} is missing from the store (${stack.join('/')}: ${(e as NodeJS.ErrnoException).code ?? e})`);
      }
      if (st.isSymbolicLink()) refuse(ERRNO.ELOOP, `object ${redirect}: ${stack.join('/')} is a symlink`);
      if (!st.isDirectory()) refuse(ERRNO.ENOTDIR, `object ${redirect}: ${stack.join('/')} is not a directory`);
    }
    const last = parts[parts.length - 1]!;
    const rel = resolveLexically([...stack, last], redirect).join('/');
    if (last === '.' || last === '..' || rel === '') refuse(ERRNO.ENOENT, `object ${redirect} is a directory`);
    const full = path.join(this.root, rel);
    let fd: number;
    try {
      fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') refuse(ERRNO.ENOENT, `object ${rel} is a symlink`);
      if (code === 'ENOENT') refuse(ERRNO.ENOENT, `object ${rel} is missing from the store`);
      refuse(ERRNO.EIO, `object ${rel}: ${code ?? e}`);
    }
    try {
      if (!fs.fstatSync(fd).isFile()) refuse(ERRNO.ENOENT, `object ${rel} is not a regular file`);
      let real: string | undefined;
      try {
        real = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        real = undefined; // no /proc: the lstat walk above is what we have
      }
      if (real !== undefined && !real.startsWith(this.root + '/')) {
        refuse(ERRNO.EXDEV, `object ${rel} resolves outside the store (${real})`);
      }
      return fd;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }
}
