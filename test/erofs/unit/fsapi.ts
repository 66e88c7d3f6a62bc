// Test helpers that drive a Filesystem the way the FUSE server would, without a mount.

import type { DirentPlusSink, DirentSink, Entry, Filesystem, RequestContext } from '../../../src/fs/types.js';
import { type Tree, type TreeEntry, typeName } from './tree.js';
import * as crypto from 'node:crypto';

export const ctx: RequestContext = { uid: 0, gid: 0, pid: 1, opcode: 0, interrupted: false };

export function userCtx(uid: number, gid: number): RequestContext {
  return { uid, gid, pid: 1, opcode: 0, interrupted: false };
}

export interface PlusItem {
  name: string;
  entry: Entry;
  next: number;
}

/** READDIRPLUS until exhausted, `perCall` entries per reply (to exercise resuming at offsets). */
export async function readdirplusAll(fsys: Filesystem, ino: number, perCall = 1000): Promise<PlusItem[]> {
  const out: PlusItem[] = [];
  let offset = 0;
  for (let calls = 0; calls < 100000; calls++) {
    const batch: PlusItem[] = [];
    const sink: DirentPlusSink = {
      add(name, entry, next) {
        if (batch.length >= perCall) return false;
        // the entry is only valid during add (the image server reuses one object): keep a copy
        batch.push({ name: typeof name === 'string' ? name : new TextDecoder().decode(name), entry: { ...entry, attr: { ...entry.attr } }, next });
        return true;
      },
    };
    await fsys.readdirplus!(ctx, ino, 0, offset, sink);
    if (!batch.length) return out;
    out.push(...batch);
    offset = batch[batch.length - 1]!.next;
  }
  throw new Error('readdirplus never ended');
}

export interface Item {
  ino: number;
  name: string;
  mode: number;
  next: number;
}

export async function readdirAll(fsys: Filesystem, ino: number, perCall = 1000): Promise<Item[]> {
  const out: Item[] = [];
  let offset = 0;
  for (let calls = 0; calls < 100000; calls++) {
    const batch: Item[] = [];
    const sink: DirentSink = {
      add(i, name, mode, next) {
        if (batch.length >= perCall) return false;
        batch.push({ ino: i, name: typeof name === 'string' ? name : new TextDecoder().decode(name), mode, next });
        return true;
      },
    };
    await fsys.readdir!(ctx, ino, 0, offset, sink);
    if (!batch.length) return out;
    out.push(...batch);
    offset = batch[batch.length - 1]!.next;
  }
  throw new Error('readdir never ended');
}

export async function readAll(fsys: Filesystem, ino: number, size: number, chunk = 128 * 1024): Promise<Uint8Array> {
  const reply = await fsys.open!(ctx, ino, 0);
  const fh = reply.fh ?? 0;
  try {
    const parts: Uint8Array[] = [];
    let off = 0;
    for (;;) {
      const b = await fsys.read!(ctx, ino, fh, off, chunk);
      if (!b.length) break;
      parts.push(Buffer.from(b)); // a copy: a filesystem may hand out a buffer it reuses for its next read
      off += b.length;
      if (off > size + chunk) throw new Error('read past the size');
    }
    return Buffer.concat(parts);
  } finally {
    await fsys.release?.(ctx, ino, fh, 0, 0, 0);
  }
}

/** The tree as seen through the Filesystem API (readdirplus, getattr, read, readlink, listxattr/getxattr). */
export async function filesystemTree(fsys: Filesystem, options: { contents?: boolean } = {}): Promise<Tree> {
  const tree: Tree = new Map();
  const walk = async (ino: number, rel: string) => {
    for (const it of await readdirplusAll(fsys, ino)) {
      if (it.name === '.' || it.name === '..') continue;
      const a = it.entry.attr;
      const names = await fsys.listxattr!(ctx, it.entry.ino);
      const xattrs: string[] = [];
      for (const n of names) xattrs.push(`${n}=${Buffer.from(await fsys.getxattr!(ctx, it.entry.ino, n)).toString('hex')}`);
      const e: TreeEntry = {
        type: typeName(a.mode),
        mode: a.mode,
        uid: a.uid,
        gid: a.gid,
        size: a.size,
        nlink: a.nlink,
        mtimeNs: BigInt(a.mtime) * 1_000_000_000n + BigInt(a.mtimeNsec ?? 0),
        rdev: a.rdev ?? 0,
        xattrs: xattrs.sort(),
      };
      if (e.type === 'file' && options.contents !== false) {
        e.sha256 = crypto.createHash('sha256').update(await readAll(fsys, it.entry.ino, a.size)).digest('hex');
      }
      if (e.type === 'link') {
        const t = await fsys.readlink!(ctx, it.entry.ino);
        e.target = typeof t === 'string' ? t : new TextDecoder().decode(t);
      }
      const r = `${rel}/${it.name}`;
      tree.set(r, e);
      if (e.type === 'dir') await walk(it.entry.ino, r);
    }
  };
  await walk(1, '');
  return tree;
}
