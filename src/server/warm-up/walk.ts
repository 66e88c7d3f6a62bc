// The warm-up's tree walk: a worker, idle after INIT, plays the kernel's part against a throw-away twin of its
// filesystem (Filesystem.warmUpTwin: same class and settings, built-in sample data) through a TwinLink
// (twin-link.ts), so the request path real requests take (decoders, the opcode table, the filesystem's
// methods, the reply encoders and writers) is compiled before they come. V8 compiles a function for the types
// it has seen: the twin, its Dispatcher, the Lane and the DeviceChannel are the classes real requests meet, so
// nothing compiled here is thrown away at the first real request. The real filesystem's caches are never
// touched. A writable twin gets the write walk (write-walk.ts) first.
//
// The request mix is a tree walk as `find`, `ls -l` and `stat` make the kernel send it: per directory GETATTR,
// OPENDIR, READDIRPLUS at offset 0 then READDIR to the end (what READDIRPLUS_AUTO asks for), RELEASEDIR; per
// entry LOOKUP and GETATTR, and for some OPEN/READ/RELEASE, READLINK, GETXATTR, LISTXATTR.

import { FUSE_ROOT_ID, LAYOUT as L, OUT_HEADER_SIZE, Opcode } from '../../protocol/abi.js';
import type { RequestWriter } from '../../protocol/request-writer.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../../protocol/types.js';
import type { WireBuffer } from '../../protocol/wire.js';
import { ERRNO } from '../../protocol/errno.js';
import type { TwinLink, Walk } from './twin-link.js';

/** Times the whole tree is walked: the first round runs in V8's interpreter, the second on what it compiled. */
export const WARM_UP_ROUNDS = 2;
/** A listing request's size: what the kernel asks for behind a 32 KiB getdents buffer. */
const DIR_BYTES = 32768;
const READ_BYTES = 65536;
/** Files opened and read per directory. */
const FILES_READ_PER_DIR = 48;
/** Entries looked up and stat'ed per directory (a few hundred compile LOOKUP and GETATTR). */
const LOOKUPS_PER_DIR = 64;
/**
 * Listings of each directory per round: a listing's per-entry loops are what a find or a first readdir runs
 * most, and V8 compiles a loop after enough iterations of it. With 4, the image server's listing code
 * (READDIR and READDIRPLUS writers, bare entries, the dot-name checks) was still compiled during the first
 * cold find of the bench tree (3-15 ms of V8's compiler thread, --trace-opt); with 8 that was 0.7-1.1 ms, for
 * ~100-150 ms more CPU in the idle warm-up after the mount (bench/results/metadata.md, round 7).
 */
const LISTINGS_PER_DIR = 8;
/**
 * LOOKUP and GETATTR pairs after the rounds. V8 optimizes a function once it has run enough of its own
 * bytecode; the per-request functions (the Dispatcher's dispatch, decodeInHeader, the reply's writer, Node's
 * readSync) run a few dozen bytecodes a request and the rounds' ~800 requests were too few: they were compiled
 * during the first real find (13, 6, 5 and 3.5 ms of V8's compiler threads, --trace-opt). On compiled code a
 * pair costs a few µs.
 */
const DRILL_PAIRS = 1500;
const DRILL_LISTING_EVERY = 4;
/** Every how many entries one GETXATTR and one LISTXATTR go out. */
const XATTR_EVERY = 8;

const E = L.fuse_entry_out;
const D = L.fuse_dirent;
const ATTR_MODE = E.attr + L.fuse_attr.mode;
const ATTR_SIZE = E.attr + L.fuse_attr.size_;

interface Listed {
  names: string[];
}

/** The tree walk over `link`'s twin, `rounds` times. */
export function treeWalk(link: TwinLink, rounds = WARM_UP_ROUNDS): Walk {
  return new TreeWalk(link).walk(rounds);
}

class TreeWalk {
  private readonly writer: RequestWriter;
  private readonly reply: WireBuffer;

  constructor(private readonly link: TwinLink) {
    this.writer = link.writer;
    this.reply = link.reply;
  }

  private send(len: number): number {
    return this.link.send(len);
  }

  *walk(rounds: number): Walk {
    const w = this.writer;
    for (let round = 0; round < rounds; round++) {
      this.send(w.bare(Opcode.STATFS, FUSE_ROOT_ID));
      yield;
      const dirs = [FUSE_ROOT_ID];
      while (dirs.length > 0) {
        const dir = dirs.shift()!;
        const listed: Listed = { names: [] };
        for (let n = 0; n < LISTINGS_PER_DIR; n++) {
          listed.names.length = 0;
          yield* this.list(dir, listed, n % 2 === 1);
        }
        let files = 0;
        for (let i = 0; i < listed.names.length && i < LOOKUPS_PER_DIR; i++) {
          if (this.send(w.lookup(dir, listed.names[i])) !== 0) {
            yield;
            continue;
          }
          const ino = this.reply.getU64(OUT_HEADER_SIZE + E.nodeid);
          const type = this.reply.getU32(OUT_HEADER_SIZE + ATTR_MODE) & S_IFMT;
          const size = this.reply.getU64(OUT_HEADER_SIZE + ATTR_SIZE);
          yield;
          if (ino === 0) continue;
          this.send(w.getattr(ino));
          yield;
          if (type === S_IFDIR) dirs.push(ino);
          else if (type === S_IFLNK) {
            this.send(w.bare(Opcode.READLINK, ino));
            yield;
          } else if (type === S_IFREG && files++ < FILES_READ_PER_DIR) yield* this.read(ino, size);
          if (i % XATTR_EVERY === 0) {
            this.send(w.getxattr(ino, 'security.capability', 0));
            yield;
            this.send(w.listxattr(ino, 0));
            yield;
          }
        }
      }
    }
    yield* this.drill();
  }

  /** DRILL_PAIRS LOOKUPs of the root's names, each followed by a GETATTR of what it found; a listing of the root every few. */
  private *drill(): Walk {
    const w = this.writer;
    const root: Listed = { names: [] };
    yield* this.list(FUSE_ROOT_ID, root, false);
    if (root.names.length === 0) return;
    for (let i = 0; i < DRILL_PAIRS; i++) {
      // a listing now and then: READDIRPLUS's own small functions (the opcode table's call) need calls too
      if (i % DRILL_LISTING_EVERY === 0) yield* this.list(FUSE_ROOT_ID, { names: [] }, false);
      const found = this.send(w.lookup(FUSE_ROOT_ID, root.names[i % root.names.length])) === 0;
      const ino = found ? this.reply.getU64(OUT_HEADER_SIZE + E.nodeid) : 0;
      yield;
      if (ino === 0) continue;
      this.send(w.getattr(ino));
      yield;
    }
  }

  /**
   * A listing as the kernel makes it: READDIRPLUS at 0, then READDIR from where it stopped to the end, or
   * (`allPlus`) READDIRPLUS to the end, as when the kernel's READDIRPLUS_AUTO sees the entries looked up. A cold
   * find lists every directory with READDIRPLUS: without whole listings of it here, the READDIRPLUS loop ran
   * too few iterations to be optimized, and was compiled during the first real find (12.6 ms of CPU, seen
   * with --trace-opt).
   */
  private *list(dir: number, out: Listed, allPlus: boolean): Walk {
    const w = this.writer;
    this.send(w.getattr(dir));
    yield;
    // ENOSYS: the filesystem took NO_OPENDIR_SUPPORT, and the kernel lists with fh 0 and no RELEASEDIR
    const opened = this.send(w.open(Opcode.OPENDIR, dir));
    if (opened !== 0 && opened !== -ERRNO.ENOSYS) return;
    const fh = opened === 0 ? this.reply.getU64(OUT_HEADER_SIZE + L.fuse_open_out.fh) : 0;
    yield;
    let offset = 0;
    for (let plus = true; ; plus = allPlus) {
      if (this.send(w.read(plus ? Opcode.READDIRPLUS : Opcode.READDIR, dir, fh, offset, DIR_BYTES)) !== 0) break;
      const next = this.names(plus, out);
      yield;
      if (next < 0) break;
      offset = next;
    }
    if (opened !== 0) return;
    this.send(w.release(Opcode.RELEASEDIR, dir, fh));
    yield;
  }

  /** The names of the listing reply in `reply` (but . and ..); the offset of its last record, -1 if empty. */
  private names(plus: boolean, out: Listed): number {
    const r = this.reply;
    const end = r.getU32(L.fuse_out_header.len);
    const skip = plus ? L.fuse_direntplus.dirent : 0;
    let last = -1;
    for (let at = OUT_HEADER_SIZE; at + skip + D.size <= end; ) {
      const d = at + skip;
      const len = r.getU32(d + D.namelen);
      const name = r.buf.toString('utf8', d + D.size, d + D.size + len);
      if (name !== '.' && name !== '..') out.names.push(name);
      last = r.getU64(d + D.off);
      at = d + ((D.size + len + 7) & ~7);
    }
    return last;
  }

  private *read(ino: number, size: number): Walk {
    const w = this.writer;
    const opened = this.send(w.open(Opcode.OPEN, ino));
    if (opened !== 0 && opened !== -ERRNO.ENOSYS) return;
    const fh = opened === 0 ? this.reply.getU64(OUT_HEADER_SIZE + L.fuse_open_out.fh) : 0;
    yield;
    for (let offset = 0; offset < Math.max(size, 1); offset += READ_BYTES) {
      this.send(w.read(Opcode.READ, ino, fh, offset, READ_BYTES));
      yield;
    }
    if (opened !== 0) return;
    this.send(w.release(Opcode.RELEASE, ino, fh));
    yield;
  }
}
