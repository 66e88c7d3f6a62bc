// One dispatch table indexed by opcode: {name, decode} from the protocol layer plus the handler that calls
// the Filesystem and encodes its answer. A plain value is encoded and written at once (no trip through the
// event loop); a Promise is awaited, then written. Replies go to the fd the request was read from.

import { writeSync, writevSync } from 'node:fs';
import { FOPEN, FATTR, FUSE_GETATTR_FH, FUSE_LK_FLOCK, FUSE_FSYNC_FDATASYNC, LAYOUT as L, Opcode } from '../protocol/abi.js';
import { errnoName, errnoOf, ERRNO } from '../protocol/errno.js';
import { OPCODE_TABLE, opcodeName } from '../protocol/opcodes.js';
import { encodeName } from '../protocol/names.js';
import * as Rp from '../protocol/replies.js';
import * as Rq from '../protocol/requests.js';
import type { WireBuffer } from '../protocol/wire.js';
import type { Attr, CreateReply, Entry, FileLock, Filesystem, OpenReply, SetAttr, StatFs, Statx } from '../fs/types.js';
import type { Lane } from './lane.js';
import type { InterruptTable } from './interrupts.js';

const H = 16; // reply body offset
const ENOSYS = ERRNO.ENOSYS;

export interface DispatchOptions {
  entryTimeout: number;
  attrTimeout: number;
  /** Negative-lookup cache time (seconds) when a lookup throws ENOENT; 0 = none. */
  negativeTimeout: number;
  debug: boolean;
  /** SETXATTR_EXT negotiated: 16-byte setxattr_in. */
  setxattrExt: boolean;
  /** Written when a handler throws something without an errno. */
  log: (msg: string) => void;
}

/** What a handler produced: either a reply body length already encoded in lane.out, or raw data. */
type Done = number | Uint8Array;
type Encoder<T> = (d: Dispatcher, lane: Lane, value: T) => Done;
type Handler = (d: Dispatcher, lane: Lane, h: Rq.InHeader, w: WireBuffer, off: number, end: number) => unknown;

interface Row {
  name: string;
  handler: Handler;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class Dispatcher {
  readonly cache: Rp.CacheDefaults;
  private readonly loggedErrors = new Set<string>();
  /** Called for NOTIFY_REPLY (answers to retrieve notifications). */
  onNotifyReply: ((unique: number, offset: number, data: Uint8Array) => void) | undefined;
  /** Called for DESTROY after fs.destroy. */
  onDestroy: (() => void) | undefined;

  constructor(readonly fs: Filesystem, readonly opts: DispatchOptions, readonly interrupts: InterruptTable) {
    this.cache = { entryTimeout: opts.entryTimeout, attrTimeout: opts.attrTimeout };
  }

  /**
   * Serves one request read from `fd` into `w` (n bytes). Returns undefined when the reply was written
   * synchronously, or a Promise that settles once it was written.
   */
  dispatch(lane: Lane, fd: number, w: WireBuffer, n: number): Promise<void> | undefined {
    const h = Rq.decodeInHeader(w, 0, lane.header);
    lane.fd = fd;
    lane.replied = false;
    const ctx = lane.ctx;
    ctx.uid = h.uid;
    ctx.gid = h.gid;
    ctx.pid = h.pid;
    ctx.opcode = h.opcode;
    ctx.interrupted = false;
    if (h.len > n || h.len < 40 || h.extLen > h.len - 40) {
      this.log(`malformed request: header says ${h.len} bytes, read ${n}`);
      if (h.len >= 40) this.replyError(lane, ERRNO.EIO);
      return undefined;
    }
    const row = TABLE[h.opcode];
    if (this.opts.debug) this.trace(h, w);
    if (row === undefined) {
      this.replyError(lane, ENOSYS);
      return undefined;
    }
    let result: unknown;
    try {
      result = row.handler(this, lane, h, w, 40, h.len - h.extLen);
    } catch (err) {
      this.replyThrown(lane, err);
      return undefined;
    }
    if (isPromise(result)) {
      this.interrupts.begin(lane, h);
      return result.then(
        () => this.interrupts.end(lane),
        (err) => {
          this.interrupts.end(lane);
          this.replyThrown(lane, err);
        },
      );
    }
    return undefined;
  }

  /** Runs fs call `value` then `encode` on the result (sync when the value is not a promise). */
  finish<T>(lane: Lane, value: T | Promise<T>, encode: Encoder<T>): unknown {
    if (isPromise(value)) return value.then((v) => this.send(lane, encode(this, lane, v as T)));
    this.send(lane, encode(this, lane, value as T));
    return undefined;
  }

  send(lane: Lane, done: Done): void {
    if (lane.replied || (lane.ctx.interruptWord !== undefined && lane.ctx.interrupted)) return;
    lane.replied = true;
    const h = lane.header;
    const out = lane.out;
    if (typeof done === 'number') {
      const len = H + done;
      Rp.writeOutHeader(out, len, 0, h.uniqueLo, h.uniqueHi);
      this.write(lane, out.buf, len);
      if (this.opts.debug) this.log(`   unique ${h.unique}: ok, ${done} bytes`);
      return;
    }
    const len = H + done.length;
    Rp.writeOutHeader(out, len, 0, h.uniqueLo, h.uniqueHi);
    if (done.length <= 16384 && len <= out.length) {
      out.buf.set(done, H);
      this.write(lane, out.buf, len);
    } else {
      try {
        writevSync(lane.fd, [lane.outHeader, done]);
      } catch (err) {
        this.writeFailed(err);
      }
    }
    if (this.opts.debug) this.log(`   unique ${h.unique}: ok, ${done.length} bytes of data`);
  }

  sendEmpty(lane: Lane): void {
    this.send(lane, 0);
  }

  replyError(lane: Lane, errno: number): void {
    if (lane.replied || (lane.ctx.interruptWord !== undefined && lane.ctx.interrupted)) return;
    lane.replied = true;
    const h = lane.header;
    Rp.writeOutHeader(lane.out, H, -errno, h.uniqueLo, h.uniqueHi);
    this.write(lane, lane.out.buf, H);
    if (this.opts.debug) this.log(`   unique ${h.unique}: error ${errnoName(errno)}`);
  }

  replyThrown(lane: Lane, err: unknown): void {
    let errno = errnoOf(err);
    if (errno === undefined) {
      errno = ERRNO.EIO;
      const name = opcodeName(lane.header.opcode);
      const msg = err instanceof Error ? err.stack ?? err.message : String(err);
      const key = `${name}:${err instanceof Error ? err.message : String(err)}`;
      if (!this.loggedErrors.has(key) && this.loggedErrors.size < 1000) {
        this.loggedErrors.add(key);
        this.log(`tsfuse: ${name} handler failed, answering EIO: ${msg}`);
      }
    }
    this.replyError(lane, errno);
  }

  private write(lane: Lane, buf: Buffer, len: number): void {
    try {
      writeSync(lane.fd, buf, 0, len);
    } catch (err) {
      this.writeFailed(err);
    }
  }

  private writeFailed(err: unknown): void {
    const code = (err as { code?: string }).code;
    // ENOENT: the request was interrupted or aborted meanwhile; ENODEV: unmounted. Both are normal.
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ECONNABORTED') return;
    this.log(`tsfuse: writing a reply failed: ${String(err)}`);
  }

  log(msg: string): void {
    this.opts.log(msg);
  }

  private trace(h: Rq.InHeader, w: WireBuffer): void {
    const info = OPCODE_TABLE[h.opcode];
    let body = '';
    if (info) {
      try {
        const decoded = info.decode(w, 40, h.len - h.extLen) as Record<string, unknown>;
        body = JSON.stringify(decoded, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
      } catch (err) {
        body = `(undecodable: ${String(err)})`;
      }
    }
    this.log(`tsfuse: unique ${h.unique} ${opcodeName(h.opcode)} nodeid ${h.nodeid} uid ${h.uid} gid ${h.gid} pid ${h.pid} ${body}`);
  }
}

// ---- encoders ------------------------------------------------------------------------------------------

const encEntry: Encoder<Entry> = (d, lane, e) => Rp.encodeEntryOut(lane.out, H, e, d.cache);
const encLookup: Encoder<Entry> = (d, lane, e) =>
  e.ino === 0 ? Rp.encodeNegativeEntryOut(lane.out, H, e.entryTimeout ?? d.cache.entryTimeout) : Rp.encodeEntryOut(lane.out, H, e, d.cache);
const encAttr: Encoder<Attr> = (d, lane, a) => Rp.encodeAttrOut(lane.out, H, a, d.cache);
const encNone: Encoder<unknown> = () => 0;
const encOpen: Encoder<OpenReply | undefined> = (_d, lane, r) => Rp.encodeOpenOut(lane.out, H, r);
const encCreate: Encoder<CreateReply> = (d, lane, r) => Rp.encodeCreateOut(lane.out, H, r, d.cache);
// Encoders are module constants, not closures made per request: the request path allocates nothing here.
const encRead: Encoder<Uint8Array> = (_d, lane, data) => (data.length > lane.readSize ? data.subarray(0, lane.readSize) : data);
const encWrite: Encoder<number> = (_d, lane, n) => Rp.encodeWriteOut(lane.out, H, n);
const encStatfs: Encoder<StatFs> = (_d, lane, s) => Rp.encodeStatfsOut(lane.out, H, s);
const encLk: Encoder<FileLock> = (_d, lane, v) => Rp.encodeLkOut(lane.out, H, v);
const encBmap: Encoder<number> = (_d, lane, b) => Rp.encodeBmapOut(lane.out, H, b);
const encPoll: Encoder<number> = (_d, lane, v) => Rp.encodePollOut(lane.out, H, v);
const encLseek: Encoder<number> = (_d, lane, v) => Rp.encodeLseekOut(lane.out, H, v);
const encStatx: Encoder<Statx> = (d, lane, v) => Rp.encodeStatxOut(lane.out, H, v, d.cache);
const encBytes: Encoder<string | Uint8Array> = (_d, _lane, v) => (typeof v === 'string' ? encodeName(v) : v);

function defaultStatfs(): StatFs {
  return { blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, bsize: 512, namelen: 255, frsize: 512 };
}

// ---- handlers ------------------------------------------------------------------------------------------

const TABLE: (Row | undefined)[] = [];

function on(op: number, handler: Handler): void {
  TABLE[op] = { name: opcodeName(op), handler };
}

function nosys(d: Dispatcher, lane: Lane): undefined {
  d.replyError(lane, ENOSYS);
  return undefined;
}

function scratch<T>(lane: Lane, op: number): T {
  return lane.scratchFor<T>(op);
}

on(Opcode.LOOKUP, (d, lane, h, w, off, end) => {
  const fs = d.fs;
  if (!fs.lookup) return nosys(d, lane);
  const name = w.cstring(off, end);
  if (d.opts.negativeTimeout > 0) {
    let v: Entry | Promise<Entry>;
    const negative = (err: unknown): Entry => {
      if (errnoOf(err) === ERRNO.ENOENT) return { ino: 0, entryTimeout: d.opts.negativeTimeout } as Entry;
      throw err;
    };
    try {
      v = fs.lookup(lane.ctx, h.nodeid, name);
    } catch (err) {
      v = negative(err);
    }
    if (isPromise(v)) v = v.catch(negative);
    return d.finish(lane, v, encLookup);
  }
  return d.finish(lane, fs.lookup(lane.ctx, h.nodeid, name), encLookup);
});

on(Opcode.FORGET, (d, _lane, h, w, off, end) => {
  // Never answered.
  if (d.fs.forget) d.fs.forget(h.nodeid, Rq.decodeForget(w, off, end, scratchForget).nlookup);
  return undefined;
});
const scratchForget = {} as Rq.ForgetIn;

on(Opcode.BATCH_FORGET, (d, _lane, _h, w, off, end) => {
  const fs = d.fs;
  if (fs.forget) Rq.forEachBatchForget(w, off, end, (id, n) => fs.forget!(id, n));
  return undefined;
});

on(Opcode.GETATTR, (d, lane, h, w, off, end) => {
  if (!d.fs.getattr) return nosys(d, lane);
  const r = Rq.decodeGetattr(w, off, end, scratch(lane, Opcode.GETATTR));
  return d.finish(lane, d.fs.getattr(lane.ctx, h.nodeid, (r.getattrFlags & FUSE_GETATTR_FH) !== 0 ? r.fh : undefined), encAttr);
});

on(Opcode.SETATTR, (d, lane, h, w, off, end) => {
  if (!d.fs.setattr) return nosys(d, lane);
  const r = Rq.decodeSetattr(w, off, end, scratch(lane, Opcode.SETATTR));
  const v = r.valid;
  const set: SetAttr = {};
  if (v & FATTR.MODE) set.mode = r.mode;
  if (v & FATTR.UID) set.uid = r.uid;
  if (v & FATTR.GID) set.gid = r.gid;
  if (v & FATTR.SIZE) set.size = r.size;
  if (v & FATTR.ATIME_NOW) set.atime = 'now';
  else if (v & FATTR.ATIME) set.atime = { sec: r.atime, nsec: r.atimensec };
  if (v & FATTR.MTIME_NOW) set.mtime = 'now';
  else if (v & FATTR.MTIME) set.mtime = { sec: r.mtime, nsec: r.mtimensec };
  if (v & FATTR.CTIME) set.ctime = { sec: r.ctime, nsec: r.ctimensec };
  if (v & FATTR.FH) set.fh = r.fh;
  if (v & FATTR.LOCKOWNER) set.lockOwner = r.lockOwner;
  if (v & FATTR.KILL_SUIDGID) set.killSuidgid = true;
  return d.finish(lane, d.fs.setattr(lane.ctx, h.nodeid, set), encAttr);
});

on(Opcode.READLINK, (d, lane, h) => {
  if (!d.fs.readlink) return nosys(d, lane);
  return d.finish(lane, d.fs.readlink(lane.ctx, h.nodeid), encBytes);
});

on(Opcode.SYMLINK, (d, lane, h, w, off, end) => {
  if (!d.fs.symlink) return nosys(d, lane);
  const r = Rq.decodeSymlink(w, off, end, scratch(lane, Opcode.SYMLINK));
  return d.finish(lane, d.fs.symlink(lane.ctx, h.nodeid, r.name, r.target), encEntry);
});

on(Opcode.MKNOD, (d, lane, h, w, off, end) => {
  if (!d.fs.mknod) return nosys(d, lane);
  const r = Rq.decodeMknod(w, off, end, scratch(lane, Opcode.MKNOD));
  return d.finish(lane, d.fs.mknod(lane.ctx, h.nodeid, r.name, r.mode, r.rdev, r.umask), encEntry);
});

on(Opcode.MKDIR, (d, lane, h, w, off, end) => {
  if (!d.fs.mkdir) return nosys(d, lane);
  const r = Rq.decodeMkdir(w, off, end, scratch(lane, Opcode.MKDIR));
  return d.finish(lane, d.fs.mkdir(lane.ctx, h.nodeid, r.name, r.mode, r.umask), encEntry);
});

on(Opcode.UNLINK, (d, lane, h, w, off, end) => {
  if (!d.fs.unlink) return nosys(d, lane);
  return d.finish(lane, d.fs.unlink(lane.ctx, h.nodeid, w.cstring(off, end)), encNone);
});

on(Opcode.RMDIR, (d, lane, h, w, off, end) => {
  if (!d.fs.rmdir) return nosys(d, lane);
  return d.finish(lane, d.fs.rmdir(lane.ctx, h.nodeid, w.cstring(off, end)), encNone);
});

function renameHandler(decode: typeof Rq.decodeRename, op: number): Handler {
  return (d, lane, h, w, off, end) => {
    if (!d.fs.rename) return nosys(d, lane);
    const r = decode(w, off, end, scratch(lane, op));
    return d.finish(lane, d.fs.rename(lane.ctx, h.nodeid, r.oldname, r.newdir, r.newname, r.flags), encNone);
  };
}
on(Opcode.RENAME, renameHandler(Rq.decodeRename, Opcode.RENAME));
on(Opcode.RENAME2, renameHandler(Rq.decodeRename2, Opcode.RENAME2));

on(Opcode.LINK, (d, lane, h, w, off, end) => {
  if (!d.fs.link) return nosys(d, lane);
  const r = Rq.decodeLink(w, off, end, scratch(lane, Opcode.LINK));
  return d.finish(lane, d.fs.link(lane.ctx, r.oldnodeid, h.nodeid, r.newname), encEntry);
});

on(Opcode.OPEN, (d, lane, h, w, off, end) => {
  const r = Rq.decodeOpen(w, off, end, scratch(lane, Opcode.OPEN));
  if (!d.fs.open) return d.finish(lane, undefined, encOpen);
  return d.finish(lane, d.fs.open(lane.ctx, h.nodeid, r.flags, r.openFlags), encOpen);
});

on(Opcode.READ, (d, lane, h, w, off, end) => {
  if (!d.fs.read) return nosys(d, lane);
  const r = Rq.decodeRead(w, off, end, scratch(lane, Opcode.READ));
  const size = r.size;
  lane.readSize = size;
  return d.finish(lane, d.fs.read(lane.ctx, h.nodeid, r.fh, r.offset, size), encRead);
});

on(Opcode.WRITE, (d, lane, h, w, off, end) => {
  if (!d.fs.write) return nosys(d, lane);
  const r = Rq.decodeWrite(w, off, end, scratch(lane, Opcode.WRITE));
  const data = w.buf.subarray(r.dataOffset, r.dataOffset + r.size);
  return d.finish(lane, d.fs.write(lane.ctx, h.nodeid, r.fh, r.offset, data, r.writeFlags, r.flags), encWrite);
});

on(Opcode.STATFS, (d, lane, h) => {
  const v = d.fs.statfs ? d.fs.statfs(lane.ctx, h.nodeid) : defaultStatfs();
  return d.finish(lane, v, encStatfs);
});

on(Opcode.RELEASE, (d, lane, h, w, off, end) => {
  const r = Rq.decodeRelease(w, off, end, scratch(lane, Opcode.RELEASE));
  if (!d.fs.release) return d.finish(lane, undefined, encNone);
  return d.finish(lane, d.fs.release(lane.ctx, h.nodeid, r.fh, r.flags, r.releaseFlags, r.lockOwner), encNone);
});

on(Opcode.FSYNC, (d, lane, h, w, off, end) => {
  if (!d.fs.fsync) return nosys(d, lane);
  const r = Rq.decodeFsync(w, off, end, scratch(lane, Opcode.FSYNC));
  return d.finish(lane, d.fs.fsync(lane.ctx, h.nodeid, r.fh, (r.fsyncFlags & FUSE_FSYNC_FDATASYNC) !== 0), encNone);
});

on(Opcode.SETXATTR, (d, lane, h, w, off, end) => {
  if (!d.fs.setxattr) return nosys(d, lane);
  const r = Rq.decodeSetxattr(w, off, end, scratch(lane, Opcode.SETXATTR), d.opts.setxattrExt);
  const value = w.buf.subarray(r.valueOffset, r.valueOffset + r.size);
  return d.finish(lane, d.fs.setxattr(lane.ctx, h.nodeid, r.name, value, r.flags), encNone);
});

/** GETXATTR/LISTXATTR: size 0 asks for the size; a value larger than size is ERANGE. */
function xattrReply(size: number): Encoder<Uint8Array> {
  return (_d, lane, value) => {
    if (size === 0) return Rp.encodeXattrSizeOut(lane.out, H, value.length);
    if (value.length > size) throw Object.assign(new Error('ERANGE'), { code: 'ERANGE' });
    return value;
  };
}

function finishXattr(d: Dispatcher, lane: Lane, v: Uint8Array | Promise<Uint8Array>, size: number): unknown {
  const enc = xattrReply(size);
  if (isPromise(v)) return v.then((x) => d.send(lane, enc(d, lane, x)));
  d.send(lane, enc(d, lane, v));
  return undefined;
}

on(Opcode.GETXATTR, (d, lane, h, w, off, end) => {
  if (!d.fs.getxattr) return nosys(d, lane);
  const r = Rq.decodeGetxattr(w, off, end, scratch(lane, Opcode.GETXATTR));
  return finishXattr(d, lane, d.fs.getxattr(lane.ctx, h.nodeid, r.name), r.size);
});

function encodeNames(names: string[]): Uint8Array {
  const parts: Buffer[] = [];
  const nul = Buffer.of(0);
  for (const n of names) parts.push(encodeName(n), nul);
  return Buffer.concat(parts);
}

on(Opcode.LISTXATTR, (d, lane, h, w, off, end) => {
  if (!d.fs.listxattr) return nosys(d, lane);
  const r = Rq.decodeListxattr(w, off, end, scratch(lane, Opcode.LISTXATTR));
  const v = d.fs.listxattr(lane.ctx, h.nodeid);
  return finishXattr(d, lane, isPromise(v) ? v.then(encodeNames) : encodeNames(v), r.size);
});

on(Opcode.REMOVEXATTR, (d, lane, h, w, off, end) => {
  if (!d.fs.removexattr) return nosys(d, lane);
  return d.finish(lane, d.fs.removexattr(lane.ctx, h.nodeid, w.cstring(off, end)), encNone);
});

on(Opcode.FLUSH, (d, lane, h, w, off, end) => {
  const r = Rq.decodeFlush(w, off, end, scratch(lane, Opcode.FLUSH));
  if (!d.fs.flush) return nosys(d, lane); // ENOSYS: the kernel stops sending FLUSH
  return d.finish(lane, d.fs.flush(lane.ctx, h.nodeid, r.fh, r.lockOwner), encNone);
});

on(Opcode.INIT, (d, lane) => {
  // INIT is answered by the session before workers start; a second one is a protocol error.
  d.replyError(lane, ERRNO.EPROTO);
  return undefined;
});

on(Opcode.OPENDIR, (d, lane, h, w, off, end) => {
  const r = Rq.decodeOpen(w, off, end, scratch(lane, Opcode.OPENDIR));
  if (!d.fs.opendir) return d.finish(lane, undefined, encOpen);
  return d.finish(lane, d.fs.opendir(lane.ctx, h.nodeid, r.flags), encOpen);
});

on(Opcode.READDIR, (d, lane, h, w, off, end) => {
  if (!d.fs.readdir) return nosys(d, lane);
  const r = Rq.decodeRead(w, off, end, scratch(lane, Opcode.READDIR));
  const writer = lane.dirents.reset(lane.out, H, r.size);
  return d.finish(lane, d.fs.readdir(lane.ctx, h.nodeid, r.fh, r.offset, writer), () => writer.length);
});

on(Opcode.READDIRPLUS, (d, lane, h, w, off, end) => {
  if (!d.fs.readdirplus) return nosys(d, lane);
  const r = Rq.decodeRead(w, off, end, scratch(lane, Opcode.READDIRPLUS));
  const writer = lane.direntsPlus.reset(lane.out, H, r.size);
  writer.defaults = d.cache;
  return d.finish(lane, d.fs.readdirplus(lane.ctx, h.nodeid, r.fh, r.offset, writer), () => writer.length);
});

on(Opcode.RELEASEDIR, (d, lane, h, w, off, end) => {
  const r = Rq.decodeRelease(w, off, end, scratch(lane, Opcode.RELEASEDIR));
  if (!d.fs.releasedir) return d.finish(lane, undefined, encNone);
  return d.finish(lane, d.fs.releasedir(lane.ctx, h.nodeid, r.fh, r.flags), encNone);
});

on(Opcode.FSYNCDIR, (d, lane, h, w, off, end) => {
  if (!d.fs.fsyncdir) return nosys(d, lane);
  const r = Rq.decodeFsync(w, off, end, scratch(lane, Opcode.FSYNCDIR));
  return d.finish(lane, d.fs.fsyncdir(lane.ctx, h.nodeid, r.fh, (r.fsyncFlags & FUSE_FSYNC_FDATASYNC) !== 0), encNone);
});

function lockEnd(end: number): number {
  return end >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : end;
}

on(Opcode.GETLK, (d, lane, h, w, off, end) => {
  if (!d.fs.getlk) return nosys(d, lane);
  const r = Rq.decodeLk(w, off, end, scratch(lane, Opcode.GETLK));
  const lk = { start: r.lk.start, end: lockEnd(r.lk.end), type: r.lk.type, pid: r.lk.pid };
  return d.finish(lane, d.fs.getlk(lane.ctx, h.nodeid, r.fh, r.owner, lk), encLk);
});

function setlkHandler(op: number, sleep: boolean): Handler {
  return (d, lane, h, w, off, end) => {
    if (!d.fs.setlk) return nosys(d, lane);
    const r = Rq.decodeLk(w, off, end, scratch(lane, op));
    const lk = { start: r.lk.start, end: lockEnd(r.lk.end), type: r.lk.type, pid: r.lk.pid };
    return d.finish(lane, d.fs.setlk(lane.ctx, h.nodeid, r.fh, r.owner, lk, sleep, (r.lkFlags & FUSE_LK_FLOCK) !== 0), encNone);
  };
}
on(Opcode.SETLK, setlkHandler(Opcode.SETLK, false));
on(Opcode.SETLKW, setlkHandler(Opcode.SETLKW, true));

on(Opcode.ACCESS, (d, lane, h, w, off, end) => {
  if (!d.fs.access) return nosys(d, lane);
  const r = Rq.decodeAccess(w, off, end, scratch(lane, Opcode.ACCESS));
  return d.finish(lane, d.fs.access(lane.ctx, h.nodeid, r.mask), encNone);
});

on(Opcode.CREATE, (d, lane, h, w, off, end) => {
  if (!d.fs.create) return nosys(d, lane);
  const r = Rq.decodeCreate(w, off, end, scratch(lane, Opcode.CREATE));
  return d.finish(lane, d.fs.create(lane.ctx, h.nodeid, r.name, r.mode, r.umask, r.flags, r.openFlags), encCreate);
});

on(Opcode.TMPFILE, (d, lane, h, w, off, end) => {
  if (!d.fs.tmpfile) return nosys(d, lane);
  const r = Rq.decodeCreate(w, off, end, scratch(lane, Opcode.TMPFILE));
  return d.finish(lane, d.fs.tmpfile(lane.ctx, h.nodeid, r.mode, r.umask, r.flags), encCreate);
});

on(Opcode.INTERRUPT, (d, lane, _h, w, off, end) => {
  // Never answered itself: the interrupted request (if still running) gets EINTR on its own fd.
  const r = Rq.decodeInterrupt(w, off, end, scratch(lane, Opcode.INTERRUPT));
  d.interrupts.interrupt(r.unique);
  lane.replied = true;
  return undefined;
});

on(Opcode.BMAP, (d, lane, h, w, off, end) => {
  if (!d.fs.bmap) return nosys(d, lane);
  const r = Rq.decodeBmap(w, off, end, scratch(lane, Opcode.BMAP));
  return d.finish(lane, d.fs.bmap(lane.ctx, h.nodeid, r.blocksize, r.block), encBmap);
});

on(Opcode.DESTROY, (d, lane) => {
  const v = d.fs.destroy ? d.fs.destroy() : undefined;
  d.onDestroy?.();
  return d.finish(lane, v, encNone);
});

on(Opcode.IOCTL, (d, lane, h, w, off, end) => {
  if (!d.fs.ioctl) return nosys(d, lane);
  const r = Rq.decodeIoctl(w, off, end, scratch(lane, Opcode.IOCTL));
  const inData = Buffer.from(w.buf.subarray(r.dataOffset, r.dataOffset + r.inSize));
  return d.finish(lane, d.fs.ioctl(lane.ctx, h.nodeid, r.fh, r.flags, r.cmd, r.arg, inData, r.outSize), (_d, l, v) =>
    Rp.encodeIoctlOut(l.out, H, v.result, v.data?.subarray(0, r.outSize)),
  );
});

on(Opcode.POLL, (d, lane, h, w, off, end) => {
  if (!d.fs.poll) return nosys(d, lane);
  const r = Rq.decodePoll(w, off, end, scratch(lane, Opcode.POLL));
  return d.finish(lane, d.fs.poll(lane.ctx, h.nodeid, r.fh, r.kh, r.flags, r.events), encPoll);
});

on(Opcode.NOTIFY_REPLY, (d, lane, h, w, off, end) => {
  const r = Rq.decodeNotifyReply(w, off, end, {} as Rq.NotifyReplyIn);
  d.onNotifyReply?.(h.unique, r.offset, Buffer.from(w.buf.subarray(r.dataOffset, r.dataOffset + r.size)));
  lane.replied = true;
  return undefined;
});

on(Opcode.FALLOCATE, (d, lane, h, w, off, end) => {
  if (!d.fs.fallocate) return nosys(d, lane);
  const r = Rq.decodeFallocate(w, off, end, scratch(lane, Opcode.FALLOCATE));
  return d.finish(lane, d.fs.fallocate(lane.ctx, h.nodeid, r.fh, r.offset, r.length, r.mode), encNone);
});

on(Opcode.LSEEK, (d, lane, h, w, off, end) => {
  if (!d.fs.lseek) return nosys(d, lane);
  const r = Rq.decodeLseek(w, off, end, scratch(lane, Opcode.LSEEK));
  return d.finish(lane, d.fs.lseek(lane.ctx, h.nodeid, r.fh, r.offset, r.whence), encLseek);
});

function copyRangeHandler(op: number, wide: boolean): Handler {
  return (d, lane, h, w, off, end) => {
    if (!d.fs.copyFileRange) return nosys(d, lane);
    const r = Rq.decodeCopyFileRange(w, off, end, scratch(lane, op));
    // The 32-bit reply of COPY_FILE_RANGE cannot say more than 4 GiB - 1.
    const len = wide ? r.len : Math.min(r.len, 0xfffff000);
    const v = d.fs.copyFileRange(lane.ctx, h.nodeid, r.fhIn, r.offIn, r.nodeidOut, r.fhOut, r.offOut, len, r.flags);
    return d.finish(lane, v, (_d, l, n) => (wide ? Rp.encodeCopyFileRange64Out(l.out, H, n) : Rp.encodeWriteOut(l.out, H, n)));
  };
}
on(Opcode.COPY_FILE_RANGE, copyRangeHandler(Opcode.COPY_FILE_RANGE, false));
on(Opcode.COPY_FILE_RANGE_64, copyRangeHandler(Opcode.COPY_FILE_RANGE_64, true));

on(Opcode.SETUPMAPPING, (d, lane) => nosys(d, lane)); // DAX windows exist only for virtiofs
on(Opcode.REMOVEMAPPING, (d, lane) => nosys(d, lane));

on(Opcode.SYNCFS, (d, lane, h) => {
  if (!d.fs.syncfs) return nosys(d, lane);
  return d.finish(lane, d.fs.syncfs(lane.ctx, h.nodeid), encNone);
});

on(Opcode.STATX, (d, lane, h, w, off, end) => {
  if (!d.fs.statx) return nosys(d, lane);
  const r = Rq.decodeStatx(w, off, end, scratch(lane, Opcode.STATX));
  const fh = (r.getattrFlags & FUSE_GETATTR_FH) !== 0 ? r.fh : undefined;
  return d.finish(lane, d.fs.statx(lane.ctx, h.nodeid, fh, r.sxFlags, r.sxMask), encStatx);
});

/** Opcodes the table serves (for tests: every opcode 1-53 of the ABI has a row). */
export function servedOpcodes(): number[] {
  const out: number[] = [];
  TABLE.forEach((r, op) => r && out.push(op));
  return out;
}

export { FOPEN, L as LAYOUT };
