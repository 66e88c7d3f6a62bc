// FUSE requests as the kernel writes them (the server's warm-up walk, src/server/warm-up/, plays the kernel's
// part with them): the in-header and the bodies of the requests a tree gets (the reads of a walk, and the
// creates, setattrs, renames and removals of a writable one), into one WireBuffer. They come from the server's
// own uid and gid, as a client like it would send them.
// Uniques never equal a real request's and stay small integers (MAX_UNIQUE below says how and why).

import { IN_HEADER_SIZE, LAYOUT as L, Opcode } from './abi.js';
import { O_RDONLY } from './posix.js';
import { WireBuffer } from './wire.js';

const H = L.fuse_in_header;
/**
 * Uniques are odd and small: the kernel's requests have even ones (FUSE_REQ_ID_STEP is 2; odd ones are its
 * INTERRUPTs' own), so a written request never shares a unique with a real one, and they are small integers
 * as the kernel's are. (A high word made them doubles: every request header's unique field turned double in
 * the warm-up, and the first real request deoptimized the dispatcher on the header it had made before.)
 */
const MAX_UNIQUE = 2 ** 30;
/** Bytes of an encoded request at most: header, a body, a name. */
const REQUEST_BYTES = 4096 + IN_HEADER_SIZE + 64;
const UID = process.getuid?.() ?? 0;
const GID = process.getgid?.() ?? 0;

export class RequestWriter {
  readonly wire = new WireBuffer(REQUEST_BYTES);
  private unique = -1;

  /** The header of a request to `nodeid`, with the body `bodyLen` bytes long (written by the caller after). */
  private head(opcode: number, nodeid: number, bodyLen: number): number {
    const w = this.wire;
    const len = IN_HEADER_SIZE + bodyLen;
    w.zero(0, len);
    w.setU32(H.len, len);
    w.setU32(H.opcode, opcode);
    this.unique = this.unique + 2 < MAX_UNIQUE ? this.unique + 2 : 1;
    w.setU32(H.unique, this.unique);
    w.setU32(H.unique + 4, 0);
    w.setU64(H.nodeid, nodeid);
    w.setU32(H.uid, UID);
    w.setU32(H.gid, GID);
    w.setU32(H.pid, process.pid);
    return len;
  }

  /** A name and its NUL at `off`; returns the bytes taken. */
  private name(off: number, name: string): number {
    const n = this.wire.buf.write(name, off, 'utf8');
    this.wire.buf[off + n] = 0;
    return n + 1;
  }

  /** Each returns the request's length. */
  lookup(parent: number, name: string): number {
    const len = this.head(Opcode.LOOKUP, parent, Buffer.byteLength(name) + 1);
    this.name(IN_HEADER_SIZE, name);
    return len;
  }

  getattr(nodeid: number): number {
    return this.head(Opcode.GETATTR, nodeid, L.fuse_getattr_in.size);
  }

  open(opcode: number, nodeid: number): number {
    const len = this.head(opcode, nodeid, L.fuse_open_in.size);
    this.wire.setU32(IN_HEADER_SIZE + L.fuse_open_in.flags, O_RDONLY);
    return len;
  }

  /** READ, READDIR or READDIRPLUS. */
  read(opcode: number, nodeid: number, fh: number, offset: number, size: number): number {
    const len = this.head(opcode, nodeid, L.fuse_read_in.size);
    const R = L.fuse_read_in;
    this.wire.setU64(IN_HEADER_SIZE + R.fh, fh);
    this.wire.setU64(IN_HEADER_SIZE + R.offset, offset);
    this.wire.setU32(IN_HEADER_SIZE + R.size_, size);
    return len;
  }

  /** RELEASE or RELEASEDIR; `flags`: the open's flags. */
  release(opcode: number, nodeid: number, fh: number, flags = 0): number {
    const len = this.head(opcode, nodeid, L.fuse_release_in.size);
    this.wire.setU64(IN_HEADER_SIZE + L.fuse_release_in.fh, fh);
    this.wire.setU32(IN_HEADER_SIZE + L.fuse_release_in.flags, flags);
    return len;
  }

  /** READLINK, STATFS: no body. */
  bare(opcode: number, nodeid: number): number {
    return this.head(opcode, nodeid, 0);
  }

  getxattr(nodeid: number, name: string, size: number): number {
    const len = this.head(Opcode.GETXATTR, nodeid, L.fuse_getxattr_in.size + Buffer.byteLength(name) + 1);
    this.wire.setU32(IN_HEADER_SIZE + L.fuse_getxattr_in.size_, size);
    this.name(IN_HEADER_SIZE + L.fuse_getxattr_in.size, name);
    return len;
  }

  listxattr(nodeid: number, size: number): number {
    const len = this.head(Opcode.LISTXATTR, nodeid, L.fuse_getxattr_in.size);
    this.wire.setU32(IN_HEADER_SIZE + L.fuse_getxattr_in.size_, size);
    return len;
  }

  /** SETATTR of the fields in `valid` (FATTR_*): one value each for mode, size, both times, fh and lock owner. */
  setattr(nodeid: number, valid: number, v: { mode?: number; size?: number; sec?: number; nsec?: number; fh?: number; lockOwner?: number }): number {
    const S = L.fuse_setattr_in;
    const len = this.head(Opcode.SETATTR, nodeid, S.size);
    const at = IN_HEADER_SIZE;
    const w = this.wire;
    w.setU32(at + S.valid, valid);
    w.setU64(at + S.fh, v.fh ?? 0);
    w.setU64(at + S.size_, v.size ?? 0);
    w.setU64(at + S.lock_owner, v.lockOwner ?? 0);
    w.setU64(at + S.atime, v.sec ?? 0);
    w.setU64(at + S.mtime, v.sec ?? 0);
    w.setU32(at + S.atimensec, v.nsec ?? 0);
    w.setU32(at + S.mtimensec, v.nsec ?? 0);
    w.setU32(at + S.mode, v.mode ?? 0);
    return len;
  }

  create(parent: number, name: string, flags: number, mode: number, umask: number): number {
    const C = L.fuse_create_in;
    const len = this.head(Opcode.CREATE, parent, C.size + Buffer.byteLength(name) + 1);
    this.wire.setU32(IN_HEADER_SIZE + C.flags, flags);
    this.wire.setU32(IN_HEADER_SIZE + C.mode, mode);
    this.wire.setU32(IN_HEADER_SIZE + C.umask, umask);
    this.name(IN_HEADER_SIZE + C.size, name);
    return len;
  }

  mkdir(parent: number, name: string, mode: number, umask: number): number {
    const M = L.fuse_mkdir_in;
    const len = this.head(Opcode.MKDIR, parent, M.size + Buffer.byteLength(name) + 1);
    this.wire.setU32(IN_HEADER_SIZE + M.mode, mode);
    this.wire.setU32(IN_HEADER_SIZE + M.umask, umask);
    this.name(IN_HEADER_SIZE + M.size, name);
    return len;
  }

  /** UNLINK or RMDIR. */
  remove(opcode: number, parent: number, name: string): number {
    const len = this.head(opcode, parent, Buffer.byteLength(name) + 1);
    this.name(IN_HEADER_SIZE, name);
    return len;
  }

  /** RENAME (no flags, what rename(2) sends). */
  rename(parent: number, name: string, newParent: number, newName: string): number {
    const R = L.fuse_rename_in;
    const len = this.head(Opcode.RENAME, parent, R.size + Buffer.byteLength(name) + 1 + Buffer.byteLength(newName) + 1);
    this.wire.setU64(IN_HEADER_SIZE + R.newdir, newParent);
    const n = this.name(IN_HEADER_SIZE + R.size, name);
    this.name(IN_HEADER_SIZE + R.size + n, newName);
    return len;
  }

  flush(nodeid: number, fh: number, lockOwner: number): number {
    const len = this.head(Opcode.FLUSH, nodeid, L.fuse_flush_in.size);
    this.wire.setU64(IN_HEADER_SIZE + L.fuse_flush_in.fh, fh);
    this.wire.setU64(IN_HEADER_SIZE + L.fuse_flush_in.lock_owner, lockOwner);
    return len;
  }

  forget(nodeid: number, nlookup: number): number {
    const len = this.head(Opcode.FORGET, nodeid, L.fuse_forget_in.size);
    this.wire.setU64(IN_HEADER_SIZE + L.fuse_forget_in.nlookup, nlookup);
    return len;
  }

  /** BATCH_FORGET of each nodeid once (what the kernel sends when it evicts many inodes). */
  batchForget(nodeids: readonly number[]): number {
    const F = L.fuse_forget_one;
    const len = this.head(Opcode.BATCH_FORGET, 0, L.fuse_batch_forget_in.size + nodeids.length * F.size);
    this.wire.setU32(IN_HEADER_SIZE + L.fuse_batch_forget_in.count, nodeids.length);
    let at = IN_HEADER_SIZE + L.fuse_batch_forget_in.size;
    for (const id of nodeids) {
      this.wire.setU64(at + F.nodeid, id);
      this.wire.setU64(at + F.nlookup, 1);
      at += F.size;
    }
    return len;
  }
}
