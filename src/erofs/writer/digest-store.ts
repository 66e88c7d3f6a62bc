// Fills a composefs object store (--digest-store) the way mkcomposefs does: every regular file whose content
// is not inline goes to STORE/XX/REST (its fs-verity digest), reflinked when the filesystem can, else copied;
// written under a temporary name, made 0644, synced, fs-verity enabled when the filesystem supports it, then
// renamed into place; an object that already exists is left alone. Nothing is written outside the store: an
// XX directory that is a symlink (or not a directory) is refused.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ioctlBufferRaw, openLibc } from '../../kernel/libc.js';
import { validateRedirect } from '../object-store.js';
import type { WNode } from './node.js';

export class DigestStoreError extends Error {}

/** FS_IOC_ENABLE_VERITY = _IOW('f', 133, struct fsverity_enable_arg) */
const FS_IOC_ENABLE_VERITY = 0x40806685;

function tryEnableVerity(file: string): void {
  let fd: number | undefined;
  try {
    openLibc();
    fd = fs.openSync(file, 'r');
    const arg = Buffer.alloc(128);
    arg.writeUInt32LE(1, 0); // version
    arg.writeUInt32LE(1, 4); // FS_VERITY_HASH_ALG_SHA256
    arg.writeUInt32LE(4096, 8); // block size
    ioctlBufferRaw(fd, FS_IOC_ENABLE_VERITY, arg); // errors ignored: only an attempt, as in mkcomposefs
  } catch {
    // no ffi or no file: nothing to enable
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function ensureStoreDir(dir: string, rel: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir);
  } catch {
    st = undefined;
  }
  if (st && !st.isDirectory()) throw new DigestStoreError(`object ${rel}: ${path.dirname(rel)} in the digest store is not a directory (the path would escape the store)`);
  if (!st) fs.mkdirSync(dir, { mode: 0o755 });
}

function storeOne(store: string, rel: string, source: Buffer, origin: string): void {
  try {
    validateRedirect(rel);
  } catch (e) {
    throw new DigestStoreError(`${origin}: object path ${JSON.stringify(rel)} escapes the digest store (${(e as Error).message})`);
  }
  const parts = rel.split('/');
  let dir = store;
  for (const p of parts.slice(0, -1)) {
    dir = path.join(dir, p);
    ensureStoreDir(dir, rel);
  }
  const dest = path.join(store, rel);
  try {
    fs.lstatSync(dest);
    return; // already stored
  } catch {
    // not there yet
  }
  const tmp = path.join(store, `.tmp${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    fs.copyFileSync(source, tmp, fs.constants.COPYFILE_FICLONE | fs.constants.COPYFILE_EXCL);
    fs.chmodSync(tmp, 0o644);
    const fd = fs.openSync(tmp, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    tryEnableVerity(tmp);
    fs.renameSync(tmp, dest);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never created
    }
    throw new DigestStoreError(`cannot fill store with ${origin}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Copies every external-content file of the tree into the store (depth first, as mkcomposefs walks). */
export function fillDigestStore(root: WNode, storeDir: string): void {
  fs.mkdirSync(storeDir, { recursive: true });
  const store = fs.realpathSync(storeDir);
  const visit = (n: WNode): void => {
    if (n.isDir()) {
      for (const c of n.children) if (!c.linkTo) visit(c);
      return;
    }
    if (n.data?.kind === 'file' && n.payload) storeOne(store, Buffer.from(n.payload).toString('latin1'), n.data.path, n.origin);
  };
  visit(root);
}
