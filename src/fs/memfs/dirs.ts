// memfs directory handles: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR (offsets: see node.ts).

import { Errno } from '../../protocol/errno.js';
import { S_IFDIR, S_IFMT, type DirentPlusSink, type DirentSink, type OpenReply, type RequestContext } from '../types.js';
import type { MemStore } from './store.js';

export function opendir(s: MemStore, _ctx: RequestContext, ino: number, flags: number): OpenReply {
  const n = s.dirNode(ino);
  return { fh: s.openHandle(n, flags, true), flags: s.settings.opendirFlags };
}

export function readdir(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentSink): void {
  const d = s.dirNode(ino);
  if (d.nlink === 0) throw new Errno('ENOENT');
  let pos = offset;
  if (pos === 0) {
    if (!out.add(d.ino, '.', S_IFDIR, 1)) return;
    pos = 1;
  }
  if (pos === 1) {
    if (!out.add(d.parent, '..', S_IFDIR, 2)) return;
    pos = 2;
  }
  const list = d.dir!.list;
  for (let i = d.dir!.indexFrom(pos); i < list.length; i++) {
    const e = list[i]!;
    if (e.removed) continue;
    const child = s.nodes.get(e.ino);
    if (!child) continue;
    if (!out.add(e.ino, e.name, child.mode & S_IFMT, e.cookie + 1)) break;
  }
  s.touchAtime(d);
}

export function readdirplus(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentPlusSink): void {
  const d = s.dirNode(ino);
  if (d.nlink === 0) throw new Errno('ENOENT');
  let pos = offset;
  if (pos === 0) {
    if (!out.add('.', s.entryNoCount(d), 1)) return;
    pos = 1;
  }
  if (pos === 1) {
    if (!out.add('..', s.entryNoCount(s.node(d.parent)), 2)) return;
    pos = 2;
  }
  const list = d.dir!.list;
  for (let i = d.dir!.indexFrom(pos); i < list.length; i++) {
    const e = list[i]!;
    if (e.removed) continue;
    const child = s.nodes.get(e.ino);
    if (!child) continue;
    if (!out.add(e.name, s.entryNoCount(child), e.cookie + 1)) break;
    child.lookups++;
  }
  s.touchAtime(d);
}

export function releasedir(s: MemStore, _ctx: RequestContext, _ino: number, fh: number, _flags: number): void {
  s.closeHandle(fh, true);
}

export function fsyncdir(s: MemStore, _ctx: RequestContext, ino: number, _fh: number, _datasync: boolean): void {
  s.node(ino);
}
