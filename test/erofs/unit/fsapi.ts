// Test helpers that drive a Filesystem the way the FUSE server would, without a mount.

import type { DirentPlusSink, DirentSink, Entry, Filesystem, RequestContext } from '../../../src/fs/types.js';
import type { Attr } from '../../../src/protocol/types.js';
import { type BPath, bJoin, utf8ToB } from '../../helpers/bytes.js';
import { type DumpEntry, sha256Hex, typeName } from '../../helpers/tree-dump.js';
import type { Xattr } from '../../helpers/xattrs.js';
import type { Tree } from './tree.js';

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

/** The tree as seen through the Filesystem API (getattr, readdirplus, read, readlink, listxattr/getxattr). */
export async function filesystemTree(fsys: Filesystem, options: { contents?: boolean } = {}): Promise<Tree> {
  const items: Tree = [];
  const visit = async (ino: number, a: Attr, rel: BPath): Promise<void> => {
    const xattrs: Xattr[] = [];
    for (const n of await fsys.listxattr!(ctx, ino)) xattrs.push([utf8ToB(n), Buffer.from(await fsys.getxattr!(ctx, ino, n))]);
    const type = typeName(a.mode);
    const e: DumpEntry = {
      path: rel,
      mode: a.mode,
      uid: a.uid,
      gid: a.gid,
      size: a.size,
      nlink: a.nlink,
      mtimeNs: BigInt(a.mtime) * 1_000_000_000n + BigInt(a.mtimeNsec ?? 0),
      rdev: a.rdev ?? 0,
      xattrs,
    };
    if (type === 'reg' && options.contents !== false) e.sha256 = sha256Hex(await readAll(fsys, ino, a.size));
    if (type === 'lnk') {
      const t = await fsys.readlink!(ctx, ino);
      e.target = typeof t === 'string' ? Buffer.from(t, 'utf8') : t;
    }
    items.push(e);
    if (type !== 'dir') return;
    for (const it of await readdirplusAll(fsys, ino)) {
      if (it.name === '.' || it.name === '..') continue;
      // nodeid 0: a record without attributes, which the kernel follows with a LOOKUP (so does this walk)
      const entry = it.entry.ino !== 0 ? it.entry : await fsys.lookup!(ctx, ino, it.name);
      await visit(entry.ino, entry.attr, bJoin(rel, utf8ToB(it.name)));
    }
  };
  await visit(1, await fsys.getattr!(ctx, 1, undefined), '');
  return items;
}
