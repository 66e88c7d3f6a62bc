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

import { Errno } from '../../protocol/errno.js';
import type {
  Attr, ConnectionInfo, CreateReply, DirentPlusSink, DirentSink, Entry, FileLock, Filesystem, OpenReply, RequestContext, SetAttr, StatFs,
} from '../types.js';
import { RENAME_EXCHANGE } from '../types.js';
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
  children: number;
  hidden: boolean;
}

interface DirHandle {
  fh: number;
  list: { name: string; attr?: PathAttr }[] | undefined;
}

const nosys = (): never => {
  throw new Errno('ENOSYS');
};

export class PathLayer implements Filesystem {
  readonly fs: PathFilesystem;
  private readonly opts: Required<PathLayerOptions>;
  private readonly byId = new Map<number, Node>();
  private readonly byName = new Map<string, Node>();
  private readonly dirs = new Map<number, DirHandle>();
  private nextId = ROOT + 1;
  private nextDir = 1;
  private hideCounter = 0;

  constructor(fs: PathFilesystem, opts: PathLayerOptions = {}) {
    this.fs = fs;
    this.opts = { hardRemove: opts.hardRemove ?? false, useIno: opts.useIno ?? true };
    this.byId.set(ROOT, { id: ROOT, parent: undefined, name: '', nlookup: 1, openCount: 0, children: 0, hidden: false });
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
      const n = this.byName.get(key(node.id, part));
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
    const parts: string[] = [];
    for (let c: Node | undefined = n; c && c.id !== ROOT; c = c.parent) {
      if (c.name === undefined || !c.parent) return undefined;
      parts.push(c.name);
    }
    return '/' + parts.reverse().join('/');
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

  private findOrAdd(parent: number, name: string): Node {
    const k = key(parent, name);
    let n = this.byName.get(k);
    if (!n) {
      const p = this.node(parent);
      n = { id: this.nextId++, parent: p, name, nlookup: 0, openCount: 0, children: 0, hidden: false };
      p.children++;
      this.byId.set(n.id, n);
      this.byName.set(k, n);
    }
    return n;
  }

  /** Takes the node out of the name table (its id stays valid until forgotten). */
  private unhash(n: Node): void {
    if (n.name !== undefined && n.parent) this.byName.delete(key(n.parent.id, n.name));
    n.name = undefined;
    this.maybeDrop(n);
  }

  private rehash(n: Node, parent: number, name: string): void {
    if (n.name !== undefined && n.parent) this.byName.delete(key(n.parent.id, n.name));
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
    this.byName.set(key(parent, name), n);
  }

  private maybeDrop(n: Node): void {
    while (n.id !== ROOT && n.nlookup === 0 && n.children === 0 && n.openCount === 0) {
      this.byId.delete(n.id);
      if (n.name !== undefined && n.parent) this.byName.delete(key(n.parent.id, n.name));
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
  private async entryFor(ctx: RequestContext, parent: number, name: string, path: string, fh?: number): Promise<Entry> {
    const a = await this.getattrPath(ctx, path, fh);
    const n = this.findOrAdd(parent, name);
    n.nlookup++;
    return { ino: n.id, attr: this.attrOf(n, { ...a }) };
  }

  private getattrPath(ctx: RequestContext, path: string | null, fh?: number): PathAttr | Promise<PathAttr> {
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

  lookup(ctx: RequestContext, parent: number, name: string): Promise<Entry> {
    return this.entryFor(ctx, parent, name, this.childPath(parent, name));
  }

  forget(ino: number, nlookup: number): void {
    const n = this.byId.get(ino);
    if (!n || ino === ROOT) return;
    n.nlookup = Math.max(0, n.nlookup - nlookup);
    this.maybeDrop(n);
  }

  async getattr(ctx: RequestContext, ino: number, fh: number | undefined): Promise<Attr> {
    const n = this.node(ino);
    const path = fh !== undefined ? this.pathNullOk(ino) : this.path(ino);
    const a = await this.getattrPath(ctx, path, fh);
    return this.attrOf(n, { ...a });
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

  async mknod(ctx: RequestContext, parent: number, name: string, mode: number, rdev: number): Promise<Entry> {
    const path = this.childPath(parent, name);
    await (this.fs.mknod ?? nosys).call(this.fs, ctx, path, mode, rdev);
    return this.entryFor(ctx, parent, name, path);
  }

  async mkdir(ctx: RequestContext, parent: number, name: string, mode: number): Promise<Entry> {
    const path = this.childPath(parent, name);
    await (this.fs.mkdir ?? nosys).call(this.fs, ctx, path, mode);
    return this.entryFor(ctx, parent, name, path);
  }

  async symlink(ctx: RequestContext, parent: number, name: string, target: string): Promise<Entry> {
    const path = this.childPath(parent, name);
    await (this.fs.symlink ?? nosys).call(this.fs, ctx, target, path);
    return this.entryFor(ctx, parent, name, path);
  }

  async link(ctx: RequestContext, ino: number, newParent: number, newName: string): Promise<Entry> {
    const path = this.childPath(newParent, newName);
    await (this.fs.link ?? nosys).call(this.fs, ctx, this.path(ino), path);
    return this.entryFor(ctx, newParent, newName, path);
  }

  private isOpen(parent: number, name: string): Node | undefined {
    const n = this.byName.get(key(parent, name));
    return n && n.openCount > 0 ? n : undefined;
  }

  /** libfuse's hide_node: rename an open file out of the way under a name nobody uses. */
  private async hide(ctx: RequestContext, n: Node, parent: number, path: string): Promise<void> {
    if (!this.fs.rename) throw new Errno('EBUSY');
    for (let tries = 0; tries < 10; tries++) {
      const name = `.fuse_hidden${hex8(n.id)}${hex8(++this.hideCounter)}`;
      if (this.byName.has(key(parent, name))) continue;
      const hiddenPath = this.childPath(parent, name);
      try {
        await this.getattrPath(ctx, hiddenPath);
        continue; // taken in the filesystem
      } catch {
        // free
      }
      await this.fs.rename(ctx, path, hiddenPath, 0);
      this.rehash(n, parent, name);
      n.hidden = true;
      return;
    }
    throw new Errno('EBUSY');
  }

  async unlink(ctx: RequestContext, parent: number, name: string): Promise<void> {
    const path = this.childPath(parent, name);
    // without a rename method nothing can be hidden: unlink at once (libfuse would fail the unlink)
    const open = this.opts.hardRemove || !this.fs.rename ? undefined : this.isOpen(parent, name);
    if (open) {
      await this.hide(ctx, open, parent, path);
      return;
    }
    await (this.fs.unlink ?? nosys).call(this.fs, ctx, path);
    const n = this.byName.get(key(parent, name));
    if (n) this.unhash(n);
  }

  async rmdir(ctx: RequestContext, parent: number, name: string): Promise<void> {
    await (this.fs.rmdir ?? nosys).call(this.fs, ctx, this.childPath(parent, name));
    const n = this.byName.get(key(parent, name));
    if (n) this.unhash(n);
  }

  async rename(ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): Promise<void> {
    if (!this.fs.rename) nosys();
    const from = this.childPath(parent, name);
    const to = this.childPath(newParent, newName);
    const exchange = (flags & RENAME_EXCHANGE) !== 0;
    const target = !this.opts.hardRemove && !exchange ? this.isOpen(newParent, newName) : undefined;
    if (target) await this.hide(ctx, target, newParent, to);
    await this.fs.rename!(ctx, from, to, flags);
    const src = this.byName.get(key(parent, name));
    const dst = this.byName.get(key(newParent, newName));
    if (exchange) {
      if (src) this.byName.delete(key(parent, name));
      if (dst) this.byName.delete(key(newParent, newName));
      if (src) this.rehash(detach(src), newParent, newName);
      if (dst) this.rehash(detach(dst), parent, name);
      return;
    }
    if (dst && dst !== src) this.unhash(dst);
    if (src) this.rehash(src, newParent, newName);
  }

  async open(ctx: RequestContext, ino: number, flags: number): Promise<OpenReply> {
    const n = this.node(ino);
    const r = this.fs.open ? (await this.fs.open(ctx, this.path(ino), flags)) ?? {} : {};
    n.openCount++;
    return r;
  }

  async create(ctx: RequestContext, parent: number, name: string, mode: number, _umask: number, flags: number): Promise<CreateReply> {
    if (!this.fs.create) nosys();
    const path = this.childPath(parent, name);
    const r = (await this.fs.create!(ctx, path, mode, flags)) ?? {};
    let entry: Entry;
    try {
      entry = await this.entryFor(ctx, parent, name, path, r.fh ?? 0);
    } catch (err) {
      await this.fs.release?.(ctx, path, r.fh ?? 0, flags);
      throw err;
    }
    this.byId.get(entry.ino)!.openCount++;
    return { ...r, entry };
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

  async release(ctx: RequestContext, ino: number, fh: number, flags: number): Promise<void> {
    const n = this.byId.get(ino);
    const path = this.pathNullOk(ino);
    try {
      await this.fs.release?.(ctx, path, fh, flags);
    } finally {
      if (n) {
        n.openCount = Math.max(0, n.openCount - 1);
        if (n.hidden && n.openCount === 0) {
          n.hidden = false;
          const p = this.pathOf(n);
          if (p !== undefined) {
            try {
              await this.fs.unlink?.(ctx, p);
            } finally {
              this.unhash(n);
            }
          }
        }
        this.maybeDrop(n);
      }
    }
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

  async opendir(ctx: RequestContext, ino: number, flags: number): Promise<OpenReply> {
    const r = this.fs.opendir ? (await this.fs.opendir(ctx, this.path(ino), flags)) ?? {} : {};
    const id = this.nextDir++;
    this.dirs.set(id, { fh: r.fh ?? 0, list: undefined });
    return { ...r, fh: id };
  }

  private async listing(ctx: RequestContext, ino: number, fh: number, offset: number): Promise<{ name: string; attr?: PathAttr }[]> {
    const dh = this.dirs.get(fh);
    if (!dh) throw new Errno('EBADF');
    if (offset === 0 || dh.list === undefined) {
      if (!this.fs.readdir) nosys();
      const raw: PathDirent[] = await this.fs.readdir!(ctx, this.path(ino), dh.fh);
      const list = raw.map((e) => (typeof e === 'string' ? { name: e } : e));
      const names = new Set(list.map((e) => e.name));
      if (!names.has('..')) list.unshift({ name: '..' });
      if (!names.has('.')) list.unshift({ name: '.' });
      // a hidden open file is unlinked as far as the user is concerned
      dh.list = list.filter((e) => !this.byName.get(key(ino, e.name))?.hidden);
    }
    return dh.list;
  }

  private direntIno(ino: number, name: string, attr: PathAttr | undefined): number {
    const n = name === '.' ? this.byId.get(ino) : name === '..' ? this.byId.get(ino)?.parent ?? this.byId.get(ino) : this.byName.get(key(ino, name));
    if (this.opts.useIno && attr?.ino) return attr.ino;
    return n ? n.id : UNKNOWN_INO;
  }

  async readdir(ctx: RequestContext, ino: number, fh: number, offset: number, out: DirentSink): Promise<void> {
    const list = await this.listing(ctx, ino, fh, offset);
    for (let i = offset; i < list.length; i++) {
      const e = list[i]!;
      const mode = e.attr?.mode ?? (e.name === '.' || e.name === '..' ? 0o040000 : 0);
      if (!out.add(this.direntIno(ino, e.name, e.attr), e.name, mode, i + 1)) break;
    }
  }

  async readdirplus(ctx: RequestContext, ino: number, fh: number, offset: number, out: DirentPlusSink): Promise<void> {
    const list = await this.listing(ctx, ino, fh, offset);
    for (let i = offset; i < list.length; i++) {
      const e = list[i]!;
      const dot = e.name === '.' || e.name === '..';
      if (!e.attr || dot) {
        // ino 0: the kernel ignores the attributes and looks the name up when it needs it
        const mode = e.attr?.mode ?? (dot ? 0o040000 : 0);
        const attr = { ino: this.direntIno(ino, e.name, e.attr), mode, nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 };
        if (!out.add(e.name, { ino: 0, attr }, i + 1)) break;
        continue;
      }
      const n = this.findOrAdd(ino, e.name);
      const entry: Entry = { ino: n.id, attr: this.attrOf(n, { ...e.attr }) };
      if (!out.add(e.name, entry, i + 1)) {
        this.maybeDrop(n);
        break;
      }
      n.nlookup++;
    }
  }

  async releasedir(ctx: RequestContext, ino: number, fh: number): Promise<void> {
    const dh = this.dirs.get(fh);
    this.dirs.delete(fh);
    if (dh && this.fs.releasedir) await this.fs.releasedir(ctx, this.pathNullOk(ino), dh.fh);
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

function key(parent: number, name: string): string {
  return parent + '/' + name;
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
