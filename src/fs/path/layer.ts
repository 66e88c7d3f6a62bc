// PathLayer: a low-level Filesystem over a PathFilesystem, as libfuse's high-level layer (lib/fuse.c) does it.
//
// The node table: one node per name the kernel knows (node id = the FUSE nodeid), each with its parent and
// name, a lookup count (LOOKUP, CREATE, MKDIR, READDIRPLUS... add one; FORGET gives them back) and an open
// count. A node leaves the table when its lookup count is 0 and no child node refers to it. Node ids are never
// reused (a counter, safe to 2^53), so a stale nodeid can never reach another file.
//
// Open files that lose their name (libfuse's hide / hard_remove):
//  - default: unlink of an open file, or a rename over one, first renames it to `.fuse_hidden<id><n>` in the same
//    directory (fs.rename), and the last release unlinks that name (fs.unlink); reads by path keep working.
//    getattr reports nlink - 1 for a hidden node, as libfuse. Unlike libfuse, readdir leaves hidden names out.
//  - hardRemove (or a filesystem without rename): fs.unlink at once; the node leaves the name table and handle
//    methods get path null.
//
// Inode numbers: stat shows attr.ino when the filesystem gives one (use_ino; hardlinks then share st_ino),
// otherwise the node id. READDIR snapshots the listing at offset 0 per open directory (libfuse does the same:
// entries added or removed while a listing is read do not shift offsets; rewinddir refreshes). Entries that
// come with attributes answer READDIRPLUS without a LOOKUP each.
//
// Methods answer synchronously when the filesystem does (a plain value, no Promise: the dispatcher replies at
// once), and with a Promise only when a filesystem method returned one. Names are looked up in each node's own
// map of named children (no per-request key strings).

import { Errno } from '../../protocol/errno.js';
import type {
  Attr, ConnectionInfo, CreateReply, DirentPlusSink, DirentSink, Entry, FileLock, Filesystem, OpenReply, RequestContext, SetAttr, StatFs,
} from '../types.js';
import { RENAME_EXCHANGE, type MaybePromise } from '../types.js';
import { isPromise } from '../../protocol/opcodes.js';
import type { PathAttr, PathDirent, PathFilesystem, PathLayerOptions } from './types.js';

const ROOT = 1;
/** libfuse's "unknown" d_ino (never 0: readdir(3) users skip entries with d_ino 0). */
const UNKNOWN_INO = 0xffffffff;

interface Node {
  id: number;
  parent: Node | undefined;
  /** undefined once the name is gone (unlinked with hardRemove, or replaced). */
  name: string | undefined;
  nlookup: number;
  openCount: number;
  /** Nodes whose parent this is (named or not): it stays in the table while there are any. */
  children: number;
  /** The named ones among them, by name. */
  kids: Map<string, Node> | undefined;
  hidden: boolean;
}

interface DirHandle {
  fh: number;
  /** The listing at offset 0 ("." and ".." first when the filesystem left them out), hidden names left out. */
  list: PathDirent[] | undefined;
}

const newNode = (id: number, parent: Node | undefined, name: string | undefined): Node => ({
  id, parent, name, nlookup: 0, openCount: 0, children: 0, kids: undefined, hidden: false,
});

const nosys = (): never => {
  throw new Errno('ENOSYS');
};

export class PathLayer implements Filesystem {
  readonly fs: PathFilesystem;
  private readonly opts: Required<PathLayerOptions>;
  private readonly byId = new Map<number, Node>();
  private readonly dirs = new Map<number, DirHandle>();
  private nextId = ROOT + 1;
  private nextDir = 1;
  private hideCounter = 0;
  /** Nodes hidden now: readdir filters names only while there are any. */
  private hiddenCount = 0;

  constructor(fs: PathFilesystem, opts: PathLayerOptions = {}) {
    this.fs = fs;
    this.opts = { hardRemove: opts.hardRemove ?? false, useIno: opts.useIno ?? true };
    const root = newNode(ROOT, undefined, '');
    root.nlookup = 1;
    this.byId.set(ROOT, root);
  }

  // ---- the table (exported for tests and tools) ----

  /** Nodes in the table besides the root. */
  get nodeCount(): number {
    return this.byId.size - 1;
  }

  /** The lookup count of the node at `path` (0 when the kernel does not know it). */
  lookupCount(path: string): number {
    let node = this.byId.get(ROOT)!;
    for (const part of path.split('/').filter((p) => p !== '')) {
      const n = node.kids?.get(part);
      if (!n) return 0;
      node = n;
    }
    return node.nlookup;
  }

  private node(ino: number): Node {
    const n = this.byId.get(ino);
    if (!n) throw new Errno('ESTALE');
    return n;
  }

  /** The node's path, or undefined when a name on the way is gone. */
  private pathOf(n: Node): string | undefined {
    if (n.id === ROOT) return '/';
    let path = '';
    for (let c: Node | undefined = n; c && c.id !== ROOT; c = c.parent) {
      if (c.name === undefined || !c.parent) return undefined;
      path = '/' + c.name + path;
    }
    return path;
  }

  private path(ino: number): string {
    const p = this.pathOf(this.node(ino));
    if (p === undefined) throw new Errno('ESTALE');
    return p;
  }

  /** For handle methods: null when the file lost its name (hardRemove), as libfuse's get_path_nullok. */
  private pathNullOk(ino: number): string | null {
    const n = this.byId.get(ino);
    return n ? this.pathOf(n) ?? null : null;
  }

  private childPath(parent: number, name: string): string {
    const p = this.path(parent);
    return p === '/' ? '/' + name : p + '/' + name;
  }

  /** The node named `name` in directory `parent`, if the kernel knows it. */
  private named(parent: number, name: string): Node | undefined {
    return this.byId.get(parent)?.kids?.get(name);
  }

  private findOrAdd(parent: number, name: string): Node {
    const p = this.node(parent);
    let n = p.kids?.get(name);
    if (!n) {
      n = newNode(this.nextId++, p, name);
      p.children++;
      this.byId.set(n.id, n);
      (p.kids ??= new Map()).set(name, n);
    }
    return n;
  }

  /** Takes the node's name out of its parent's map (the node itself stays). */
  private unname(n: Node): void {
    if (n.name !== undefined && n.parent) n.parent.kids?.delete(n.name);
  }

  private setHidden(n: Node, hidden: boolean): void {
    if (n.hidden !== hidden) this.hiddenCount += hidden ? 1 : -1;
    n.hidden = hidden;
  }

  /** Takes the node out of the name table (its id stays valid until forgotten). */
  private unhash(n: Node): void {
    this.unname(n);
    n.name = undefined;
    this.maybeDrop(n);
  }

  private rehash(n: Node, parent: number, name: string): void {
    this.unname(n);
    const p = this.node(parent);
    if (n.parent !== p) {
      p.children++;
      const old = n.parent;
      n.parent = p;
      if (old) {
        old.children--;
        this.maybeDrop(old);
      }
    }
    n.name = name;
    (p.kids ??= new Map()).set(name, n);
  }

  private maybeDrop(n: Node): void {
    while (n.id !== ROOT && n.nlookup === 0 && n.children === 0 && n.openCount === 0) {
      this.byId.delete(n.id);
      if (n.hidden) this.setHidden(n, false);
      this.unname(n);
      const p = n.parent;
      n.parent = undefined;
      if (!p) return;
      p.children--;
      n = p;
    }
  }

  private attrOf(n: Node, a: PathAttr): Attr {
    const out = a as Attr;
    if (!this.opts.useIno || !a.ino) out.ino = n.id;
    if (n.hidden && out.nlink > 0) out.nlink--;
    return out;
  }

  /** LOOKUP-style answer for parent/name: getattr, then one lookup counted. */
  private entryFor(ctx: RequestContext, parent: number, name: string, path: string, fh?: number): MaybePromise<Entry> {
    const a = this.getattrPath(ctx, path, fh);
    return isPromise(a) ? a.then((v) => this.entered(parent, name, v)) : this.entered(parent, name, a);
  }

  private entered(parent: number, name: string, a: PathAttr): Entry {
    const n = this.findOrAdd(parent, name);
    n.nlookup++;
    return { ino: n.id, attr: this.attrOf(n, { ...a }) };
  }

  /** After a method that made parent/name (mknod, mkdir, ...): its entry. */
  private thenEntry(ctx: RequestContext, made: MaybePromise<void>, parent: number, name: string, path: string): MaybePromise<Entry> {
    return isPromise(made) ? made.then(() => this.entryFor(ctx, parent, name, path)) : this.entryFor(ctx, parent, name, path);
  }

  private getattrPath(ctx: RequestContext, path: string | null, fh?: number): MaybePromise<PathAttr> {
    if (!this.fs.getattr) {
      if (path === '/') return { mode: 0o040755, nlink: 2, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 };
      throw new Errno('ENOENT');
    }
    return this.fs.getattr(ctx, path, fh);
  }

  // ---- Filesystem ----

  init(conn: ConnectionInfo): void | Promise<void> {
    return this.fs.init?.(conn);
  }

  destroy(): void | Promise<void> {
    return this.fs.destroy?.();
  }

  lookup(ctx: RequestContext, parent: number, name: string): MaybePromise<Entry> {
    return this.entryFor(ctx, parent, name, this.childPath(parent, name));
  }

  forget(ino: number, nlookup: number): void {
    const n = this.byId.get(ino);
    if (!n || ino === ROOT) return;
    n.nlookup = Math.max(0, n.nlookup - nlookup);
    this.maybeDrop(n);
  }

  getattr(ctx: RequestContext, ino: number, fh: number | undefined): MaybePromise<Attr> {
    const n = this.node(ino);
    const path = fh !== undefined ? this.pathNullOk(ino) : this.path(ino);
    const a = this.getattrPath(ctx, path, fh);
    return isPromise(a) ? a.then((v) => this.attrOf(n, { ...v })) : this.attrOf(n, { ...a });
  }

  async setattr(ctx: RequestContext, ino: number, set: SetAttr): Promise<Attr> {
    const fs = this.fs;
    const path = set.fh !== undefined ? this.pathNullOk(ino) : this.path(ino);
    if (set.mode !== undefined) await (fs.chmod ?? nosys).call(fs, ctx, path, set.mode, set.fh);
    if (set.uid !== undefined || set.gid !== undefined) await (fs.chown ?? nosys).call(fs, ctx, path, set.uid ?? -1, set.gid ?? -1, set.fh);
    if (set.size !== undefined) await (fs.truncate ?? nosys).call(fs, ctx, path, set.size, set.fh);
    if (set.atime !== undefined || set.mtime !== undefined) await (fs.utimens ?? nosys).call(fs, ctx, path, set.atime, set.mtime, set.fh);
    return this.getattr(ctx, ino, set.fh);
  }

  readlink(ctx: RequestContext, ino: number): string | Uint8Array | Promise<string | Uint8Array> {
    return (this.fs.readlink ?? nosys).call(this.fs, ctx, this.path(ino));
  }

  mknod(ctx: RequestContext, parent: number, name: string, mode: number, rdev: number): MaybePromise<Entry> {
    const path = this.childPath(parent, name);
    return this.thenEntry(ctx, (this.fs.mknod ?? nosys).call(this.fs, ctx, path, mode, rdev), parent, name, path);
  }

  mkdir(ctx: RequestContext, parent: number, name: string, mode: number): MaybePromise<Entry> {
    const path = this.childPath(parent, name);
    return this.thenEntry(ctx, (this.fs.mkdir ?? nosys).call(this.fs, ctx, path, mode), parent, name, path);
  }

  symlink(ctx: RequestContext, parent: number, name: string, target: string): MaybePromise<Entry> {
    const path = this.childPath(parent, name);
    return this.thenEntry(ctx, (this.fs.symlink ?? nosys).call(this.fs, ctx, target, path), parent, name, path);
  }

  link(ctx: RequestContext, ino: number, newParent: number, newName: string): MaybePromise<Entry> {
    const path = this.childPath(newParent, newName);
    return this.thenEntry(ctx, (this.fs.link ?? nosys).call(this.fs, ctx, this.path(ino), path), newParent, newName, path);
  }

  private isOpen(parent: number, name: string): Node | undefined {
    const n = this.named(parent, name);
    return n && n.openCount > 0 ? n : undefined;
  }

  /** libfuse's hide_node: rename an open file out of the way under a name nobody uses. */
  private async hide(ctx: RequestContext, n: Node, parent: number, path: string): Promise<void> {
    if (!this.fs.rename) throw new Errno('EBUSY');
    for (let tries = 0; tries < 10; tries++) {
      const name = `.fuse_hidden${hex8(n.id)}${hex8(++this.hideCounter)}`;
      if (this.named(parent, name)) continue;
      const hiddenPath = this.childPath(parent, name);
      try {
        await this.getattrPath(ctx, hiddenPath);
        continue; // taken in the filesystem
      } catch {
        // free
      }
      await this.fs.rename(ctx, path, hiddenPath, 0);
      this.rehash(n, parent, name);
      this.setHidden(n, true);
      return;
    }
    throw new Errno('EBUSY');
  }

  unlink(ctx: RequestContext, parent: number, name: string): MaybePromise<void> {
    const path = this.childPath(parent, name);
    // without a rename method nothing can be hidden: unlink at once (libfuse would fail the unlink)
    const open = this.opts.hardRemove || !this.fs.rename ? undefined : this.isOpen(parent, name);
    if (open) return this.hide(ctx, open, parent, path);
    const r = (this.fs.unlink ?? nosys).call(this.fs, ctx, path);
    return isPromise(r) ? r.then(() => this.removed(parent, name)) : this.removed(parent, name);
  }

  /** parent/name is gone from the filesystem (unlink, rmdir). */
  private removed(parent: number, name: string): void {
    const n = this.named(parent, name);
    if (n) this.unhash(n);
  }

  rmdir(ctx: RequestContext, parent: number, name: string): MaybePromise<void> {
    const r = (this.fs.rmdir ?? nosys).call(this.fs, ctx, this.childPath(parent, name));
    return isPromise(r) ? r.then(() => this.removed(parent, name)) : this.removed(parent, name);
  }

  async rename(ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): Promise<void> {
    if (!this.fs.rename) nosys();
    const from = this.childPath(parent, name);
    const to = this.childPath(newParent, newName);
    const exchange = (flags & RENAME_EXCHANGE) !== 0;
    const target = !this.opts.hardRemove && !exchange ? this.isOpen(newParent, newName) : undefined;
    if (target) await this.hide(ctx, target, newParent, to);
    await this.fs.rename!(ctx, from, to, flags);
    const src = this.named(parent, name);
    const dst = this.named(newParent, newName);
    if (exchange) {
      if (src) this.unname(src);
      if (dst) this.unname(dst);
      if (src) this.rehash(detach(src), newParent, newName);
      if (dst) this.rehash(detach(dst), parent, name);
      return;
    }
    if (dst && dst !== src) this.unhash(dst);
    if (src) this.rehash(src, newParent, newName);
  }

  open(ctx: RequestContext, ino: number, flags: number): MaybePromise<OpenReply> {
    const n = this.node(ino);
    if (!this.fs.open) return opened(n, undefined);
    const r = this.fs.open(ctx, this.path(ino), flags);
    return isPromise(r) ? r.then((v) => opened(n, v)) : opened(n, r);
  }

  create(ctx: RequestContext, parent: number, name: string, mode: number, _umask: number, flags: number): MaybePromise<CreateReply> {
    if (!this.fs.create) nosys();
    const path = this.childPath(parent, name);
    const r = this.fs.create!(ctx, path, mode, flags);
    return isPromise(r) ? r.then((v) => this.created(ctx, parent, name, path, v ?? {}, flags)) : this.created(ctx, parent, name, path, r ?? {}, flags);
  }

  /** The file was created (and opened as r): its entry, or when that fails the handle released and the error. */
  private created(ctx: RequestContext, parent: number, name: string, path: string, r: OpenReply, flags: number): MaybePromise<CreateReply> {
    const fh = r.fh ?? 0;
    const withEntry = (entry: Entry): CreateReply => {
      this.byId.get(entry.ino)!.openCount++;
      return { ...r, entry };
    };
    let e: MaybePromise<Entry>;
    try {
      e = this.entryFor(ctx, parent, name, path, fh);
    } catch (err) {
      return this.releaseThenThrow(ctx, path, fh, flags, err);
    }
    return isPromise(e) ? e.then(withEntry, (err) => this.releaseThenThrow(ctx, path, fh, flags, err)) : withEntry(e);
  }

  private async releaseThenThrow(ctx: RequestContext, path: string, fh: number, flags: number, err: unknown): Promise<never> {
    await this.fs.release?.(ctx, path, fh, flags);
    throw err;
  }

  read(ctx: RequestContext, ino: number, fh: number, offset: number, size: number): Uint8Array | Promise<Uint8Array> {
    return (this.fs.read ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), fh, offset, size);
  }

  write(ctx: RequestContext, ino: number, fh: number, offset: number, data: Uint8Array): number | Promise<number> {
    return (this.fs.write ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), fh, offset, data);
  }

  flush(ctx: RequestContext, ino: number, fh: number): void | Promise<void> {
    return (this.fs.flush ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), fh);
  }

  release(ctx: RequestContext, ino: number, fh: number, flags: number): MaybePromise<void> {
    const n = this.byId.get(ino);
    const path = this.pathNullOk(ino);
    let r: MaybePromise<void>;
    try {
      r = this.fs.release?.(ctx, path, fh, flags);
    } catch (err) {
      return this.closed(ctx, n, true, err);
    }
    if (isPromise(r)) return r.then(() => this.closed(ctx, n, false, undefined), (err) => this.closed(ctx, n, true, err));
    return this.closed(ctx, n, false, undefined);
  }

  /** After the filesystem's release (which failed with err when `failed`): one open fewer; a hidden file goes. */
  private closed(ctx: RequestContext, n: Node | undefined, failed: boolean, err: unknown): MaybePromise<void> {
    if (n) {
      n.openCount = Math.max(0, n.openCount - 1);
      if (n.hidden && n.openCount === 0) {
        this.setHidden(n, false);
        const p = this.pathOf(n);
        if (p !== undefined) return this.unlinkHidden(ctx, n, p, failed, err);
      }
      this.maybeDrop(n);
    }
    if (failed) throw err;
  }

  private async unlinkHidden(ctx: RequestContext, n: Node, path: string, failed: boolean, err: unknown): Promise<void> {
    try {
      await this.fs.unlink?.(ctx, path);
    } finally {
      this.unhash(n);
    }
    this.maybeDrop(n);
    if (failed) throw err;
  }

  fsync(ctx: RequestContext, ino: number, fh: number, datasync: boolean): void | Promise<void> {
    return (this.fs.fsync ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), fh, datasync);
  }

  fallocate(ctx: RequestContext, ino: number, fh: number, offset: number, length: number, mode: number): void | Promise<void> {
    return (this.fs.fallocate ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), fh, offset, length, mode);
  }

  lseek(ctx: RequestContext, ino: number, fh: number, offset: number, whence: number): number | Promise<number> {
    return (this.fs.lseek ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), fh, offset, whence);
  }

  getlk(ctx: RequestContext, ino: number, fh: number, owner: number, lock: FileLock): FileLock | Promise<FileLock> {
    return (this.fs.getlk ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), fh, owner, lock);
  }

  setlk(ctx: RequestContext, ino: number, fh: number, owner: number, lock: FileLock, sleep: boolean): void | Promise<void> {
    return (this.fs.setlk ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), fh, owner, lock, sleep);
  }

  opendir(ctx: RequestContext, ino: number, flags: number): MaybePromise<OpenReply> {
    if (!this.fs.opendir) return this.dirOpened(undefined);
    const r = this.fs.opendir(ctx, this.path(ino), flags);
    return isPromise(r) ? r.then((v) => this.dirOpened(v)) : this.dirOpened(r);
  }

  private dirOpened(r: OpenReply | void): OpenReply {
    const id = this.nextDir++;
    this.dirs.set(id, { fh: r?.fh ?? 0, list: undefined });
    return { ...r, fh: id };
  }

  private listing(ctx: RequestContext, ino: number, fh: number, offset: number): MaybePromise<PathDirent[]> {
    const dh = this.dirs.get(fh);
    if (!dh) throw new Errno('EBADF');
    if (offset !== 0 && dh.list !== undefined) return dh.list;
    if (!this.fs.readdir) nosys();
    const raw = this.fs.readdir!(ctx, this.path(ino), dh.fh);
    return isPromise(raw) ? raw.then((v) => (dh.list = this.snapshot(ino, v))) : (dh.list = this.snapshot(ino, raw));
  }

  /** The filesystem's listing as READDIR serves it: its own array is copied (it may change it later). */
  private snapshot(ino: number, raw: PathDirent[]): PathDirent[] {
    let dot = false;
    let dotdot = false;
    for (let i = 0; i < raw.length; i++) {
      const name = direntName(raw[i]!);
      if (name.length <= 2) {
        if (name === '.') dot = true;
        else if (name === '..') dotdot = true;
      }
    }
    const list: PathDirent[] = [];
    if (!dot) list.push('.');
    if (!dotdot) list.push('..');
    // a hidden open file is unlinked as far as the user is concerned
    const kids = this.hiddenCount > 0 ? this.byId.get(ino)?.kids : undefined;
    for (let i = 0; i < raw.length; i++) {
      const e = raw[i]!;
      if (kids !== undefined && kids.get(direntName(e))?.hidden) continue;
      list.push(e);
    }
    return list;
  }

  private direntIno(dir: Node | undefined, name: string, attr: PathAttr | undefined): number {
    if (this.opts.useIno && attr?.ino) return attr.ino;
    const n = name === '.' ? dir : name === '..' ? dir?.parent ?? dir : dir?.kids?.get(name);
    return n ? n.id : UNKNOWN_INO;
  }

  readdir(ctx: RequestContext, ino: number, fh: number, offset: number, out: DirentSink): MaybePromise<void> {
    const list = this.listing(ctx, ino, fh, offset);
    if (isPromise(list)) return list.then((l) => this.fillDir(ino, l, offset, out));
    this.fillDir(ino, list, offset, out);
  }

  private fillDir(ino: number, list: PathDirent[], offset: number, out: DirentSink): void {
    const dir = this.byId.get(ino);
    for (let i = offset; i < list.length; i++) {
      const e = list[i]!;
      const name = direntName(e);
      const attr = typeof e === 'string' ? undefined : e.attr;
      const mode = attr?.mode ?? (name === '.' || name === '..' ? 0o040000 : 0);
      if (!out.add(this.direntIno(dir, name, attr), name, mode, i + 1)) break;
    }
  }

  readdirplus(ctx: RequestContext, ino: number, fh: number, offset: number, out: DirentPlusSink): MaybePromise<void> {
    const list = this.listing(ctx, ino, fh, offset);
    if (isPromise(list)) return list.then((l) => this.fillDirPlus(ino, l, offset, out));
    this.fillDirPlus(ino, list, offset, out);
  }

  private fillDirPlus(ino: number, list: PathDirent[], offset: number, out: DirentPlusSink): void {
    const dir = this.byId.get(ino);
    // entries without attributes: ino 0, the kernel ignores the attributes and looks the name up when it needs
    // it; the sink encodes each record as it is added, so one scratch entry serves them all
    const bare: Entry = { ino: 0, attr: { ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 } };
    for (let i = offset; i < list.length; i++) {
      const e = list[i]!;
      const name = direntName(e);
      const attr = typeof e === 'string' ? undefined : e.attr;
      const dot = name === '.' || name === '..';
      if (!attr || dot) {
        bare.attr.ino = this.direntIno(dir, name, attr);
        bare.attr.mode = attr?.mode ?? (dot ? 0o040000 : 0);
        if (!out.add(name, bare, i + 1)) break;
        continue;
      }
      const n = this.findOrAdd(ino, name);
      const entry: Entry = { ino: n.id, attr: this.attrOf(n, { ...attr }) };
      if (!out.add(name, entry, i + 1)) {
        this.maybeDrop(n);
        break;
      }
      n.nlookup++;
    }
  }

  releasedir(ctx: RequestContext, ino: number, fh: number): MaybePromise<void> {
    const dh = this.dirs.get(fh);
    this.dirs.delete(fh);
    if (dh && this.fs.releasedir) return this.fs.releasedir(ctx, this.pathNullOk(ino), dh.fh);
  }

  fsyncdir(ctx: RequestContext, ino: number, fh: number, datasync: boolean): void | Promise<void> {
    return (this.fs.fsyncdir ?? nosys).call(this.fs, ctx, this.pathNullOk(ino), this.dirs.get(fh)?.fh ?? 0, datasync);
  }

  statfs(ctx: RequestContext, ino: number): StatFs | Promise<StatFs> {
    if (!this.fs.statfs) return { blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, bsize: 512, namelen: 255 };
    return this.fs.statfs(ctx, this.path(ino));
  }

  setxattr(ctx: RequestContext, ino: number, name: string, value: Uint8Array, flags: number): void | Promise<void> {
    return (this.fs.setxattr ?? nosys).call(this.fs, ctx, this.path(ino), name, value, flags);
  }

  getxattr(ctx: RequestContext, ino: number, name: string): Uint8Array | Promise<Uint8Array> {
    return (this.fs.getxattr ?? nosys).call(this.fs, ctx, this.path(ino), name);
  }

  listxattr(ctx: RequestContext, ino: number): string[] | Promise<string[]> {
    return (this.fs.listxattr ?? nosys).call(this.fs, ctx, this.path(ino));
  }

  removexattr(ctx: RequestContext, ino: number, name: string): void | Promise<void> {
    return (this.fs.removexattr ?? nosys).call(this.fs, ctx, this.path(ino), name);
  }

  access(ctx: RequestContext, ino: number, mask: number): void | Promise<void> {
    return (this.fs.access ?? nosys).call(this.fs, ctx, this.path(ino), mask);
  }
}

function direntName(e: PathDirent): string {
  return typeof e === 'string' ? e : e.name;
}

/** OPEN answered: one open more. */
function opened(n: Node, r: OpenReply | void): OpenReply {
  n.openCount++;
  return r ?? {};
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** Forgets a node's name before it is hashed under another (RENAME_EXCHANGE swaps two). */
function detach(n: Node): Node {
  n.name = undefined;
  return n;
}

/** A PathFilesystem as a low-level Filesystem (embedded mode: `Session.mount(pathFilesystem(fs), ...)`). */
export function pathFilesystem(fs: PathFilesystem, opts?: PathLayerOptions): PathLayer {
  return new PathLayer(fs, opts);
}
