// memfs directory handles: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR (offsets: see node.ts).

import { Errno } from '../../protocol/errno.js';
import { S_IFMT, type DirentPlusSink, type DirentSink, type OpenReply, type RequestContext } from '../types.js';
import type { Node } from './node.js';
import type { MemStore } from './store.js';

export function opendir(s: MemStore, _ctx: RequestContext, ino: number, flags: number): OpenReply {
  const n = s.dirNode(ino);
  return { fh: s.openHandle(n, flags, true), flags: s.settings.opendirFlags };
}

export function readdir(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentSink): void {
  walk(s, ino, offset, (name, n, next) => out.add(n.ino, name, n.mode & S_IFMT, next));
}

export function readdirplus(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentPlusSink): void {
  walk(s, ino, offset, (name, n, next, counted) => {
    if (!out.add(name, s.entryNoCount(n), next)) return false;
    if (counted) n.lookups++;
    return true;
  });
}

/**
 * Visits directory `ino` from READDIR position `offset` ("." at 0, ".." at 1, then the entries by cookie)
 * until `visit` says the reply is full. `counted`: the kernel counts a lookup for this entry (not "." or "..").
 */
function walk(
  s: MemStore, ino: number, offset: number, visit: (name: string, n: Node, next: number, counted: boolean) => boolean,
): void {
  const d = s.dirNode(ino);
  if (d.nlink === 0) throw new Errno('ENOENT');
  if (offset === 0 && !visit('.', d, 1, false)) return;
  if (offset <= 1 && !visit('..', s.node(d.parent), 2, false)) return;
  const list = d.dir!.list;
  for (let i = d.dir!.indexFrom(Math.max(offset, 2)); i < list.length; i++) {
    const e = list[i]!;
    if (e.removed) continue;
    const child = s.nodes.get(e.ino);
    if (!child) continue;
    if (!visit(e.name, child, e.cookie + 1, true)) break;
  }
  s.touchAtime(d);
}

export function releasedir(s: MemStore, _ctx: RequestContext, _ino: number, fh: number, _flags: number): void {
  s.closeHandle(fh, true);
}

export function fsyncdir(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, _datasync: boolean): void {
  s.node(ino);
}
