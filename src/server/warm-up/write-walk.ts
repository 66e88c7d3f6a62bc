// The warm-up's write walk, for a twin that takes writes (Filesystem.warmUpWrites: the passthrough's twin works
// in a scratch directory of its own): the requests the kernel sends for create, chmod, utimens, truncate,
// rename, unlink, mkdir and rmdir, in the order and with the fields it sends them (read off a real mount with
// --debug; the mix per operation is counted in bench/results/passthrough-writes.md, round 4), a few hundred of
// each, so that the first real ones run on compiled code. The fields matter as much as the opcodes: V8
// compiles for the values it has seen, and a lock owner that is not a small integer, or a SETATTR bit the
// walk never set, would throw compiled code away at the first real request (seen with --trace-deopt).
// It ends by leaving a small tree of files for the tree walk (walk.ts) that follows.
//
//   create    LOOKUP (negative), CREATE, FLUSH, RELEASE, GETATTR (of the parent)
//   chmod     SETATTR (mode)             utimens  SETATTR (atime, mtime)
//   truncate  GETXATTR (security.capability), SETATTR (size, lock owner)
//   rename    LOOKUP (negative), RENAME, GETATTR (of the parent)
//   unlink    GETATTR (of the parent), UNLINK, and later FORGET or BATCH_FORGET
//   mkdir     LOOKUP (negative), MKDIR, GETATTR (of the parent)
//   rmdir     GETATTR (of the parent), RMDIR, FORGET

import { FATTR, FUSE_ROOT_ID, LAYOUT as L, OUT_HEADER_SIZE, Opcode } from '../../protocol/abi.js';
import { ERRNO } from '../../protocol/errno.js';
import { O_CREAT, O_EXCL, O_WRONLY } from '../../protocol/posix.js';
import { S_IFREG } from '../../protocol/types.js';
import type { TwinLink, Walk } from './twin-link.js';

/**
 * Rounds of the mix: the first runs in V8's interpreter, the later ones on what it compiled meanwhile. 3, with
 * the tier-up budget lowered for the warm-up (tier-up-budget.ts) and the drill after them: round 5 had 8 at
 * the usual budget, and its large handlers (finishNew, rename) and Node's small wrappers (chmodSync) were
 * still marked and compiled during the bench's phases (bench/results/passthrough-writes.md, round 6).
 */
export const WRITE_WALK_ROUNDS = 3;
/**
 * The drill after the rounds: DRILL_FILES files, each chmodded, utimensed, truncated, renamed there and back
 * and given a directory made and removed DRILL_REPEATS times. V8 marks a function for TurboFan once it has
 * run (3 + its bytecode length / 150) times --interrupt-budget bytes of its own bytecode, a small one sooner
 * only when no inline cache changed since the last check, which the rounds' mix of requests keeps doing:
 * after 8 rounds (1000 of each request) Node's chmodSync, the passthrough's rename, finishNew and mkdir were
 * still short of it, marked at the first real requests and compiled during the bench's phases (chmodSync
 * 12.8 ms, rename 11.2 ms, finishNew 12.1 ms, mkdir 4.8 ms of TurboFan there, --trace-opt). These are the
 * cheap requests (no file made or removed for each), in long runs of one kind.
 */
const DRILL_FILES = 16;
const DRILL_REPEATS = 32;
/** Files (and directories) per round: V8 compiles a function after a few hundred calls of it. */
const FILES_PER_ROUND = 128;
const DIRS_PER_ROUND = 64;
/** Files left for the tree walk. */
const FILES_LEFT = 32;
/** Nodeids per BATCH_FORGET (the kernel sends larger ones; this keeps the request small). */
const FORGET_BATCH = 32;
const UMASK = 0o022;
/** What open(2) adds on 64-bit Linux, and the kernel passes on in CREATE and RELEASE. */
const O_LARGEFILE = 0o100000;
/** A lock owner as the kernel makes them (a hashed pointer: far above the small integers V8 keeps unboxed). */
const LOCK_OWNER = 2 ** 61 + 2 ** 40 + 0x5eed0;

const E = L.fuse_entry_out;
const NODEID = OUT_HEADER_SIZE + E.nodeid;
const CREATE_FH = OUT_HEADER_SIZE + E.size + L.fuse_open_out.fh;

export function writeWalk(link: TwinLink, rounds = WRITE_WALK_ROUNDS): Walk {
  return new WriteWalk(link).walk(rounds);
}

class WriteWalk {
  constructor(private readonly link: TwinLink) {}

  *walk(rounds: number): Walk {
    for (let round = 0; round < rounds; round++) {
      if (!(yield* this.round(round, FILES_PER_ROUND, DIRS_PER_ROUND))) return;
    }
    yield* this.drill(rounds);
    const kept = this.mkdir(FUSE_ROOT_ID, 'tree');
    yield;
    for (let i = 0; i < FILES_LEFT && kept !== 0; i++) {
      const f = this.create(kept, `f${i}`);
      yield;
      if (f.ino !== 0) yield* this.closeFile(f.ino, f.fh);
    }
  }

  private *drill(round: number): Walk {
    const l = this.link;
    const w = l.writer;
    const dir = this.mkdir(FUSE_ROOT_ID, 'drill');
    yield;
    if (dir === 0) return;
    const inos: number[] = [];
    for (let i = 0; i < DRILL_FILES; i++) {
      const f = this.create(dir, `f${i}`);
      yield;
      if (f.ino === 0) continue;
      inos.push(f.ino);
      yield* this.closeFile(f.ino, f.fh);
    }
    for (let r = 0; r < DRILL_REPEATS; r++) {
      for (const ino of inos) {
        l.send(w.setattr(ino, FATTR.MODE, { mode: S_IFREG | (r & 1 ? 0o600 : 0o644) }));
        yield;
      }
      for (const ino of inos) {
        l.send(w.setattr(ino, FATTR.ATIME | FATTR.MTIME, { sec: 1_700_000_000 + round + r, nsec: 1000 }));
        yield;
      }
      for (const ino of inos) {
        l.send(w.getxattr(ino, 'security.capability', 0));
        yield;
        l.send(w.setattr(ino, FATTR.SIZE | FATTR.LOCKOWNER, { size: 4096 * (r & 1), lockOwner: LOCK_OWNER }));
        yield;
      }
      for (let i = 0; i < inos.length; i++) yield* this.renameOnce(dir, `f${i}`, `g${i}`);
      for (let i = 0; i < inos.length; i++) yield* this.renameOnce(dir, `g${i}`, `f${i}`);
      for (let i = 0; i < inos.length; i++) {
        const d = this.mkdir(dir, `d${i}`);
        yield;
        yield* this.rmdir(dir, `d${i}`, d);
      }
    }
    for (let i = 0; i < inos.length; i++) {
      l.send(w.getattr(dir));
      yield;
      l.send(w.remove(Opcode.UNLINK, dir, `f${i}`));
      yield;
      l.sendUnanswered(w.forget(inos[i], 1));
      yield;
    }
    yield* this.rmdir(FUSE_ROOT_ID, 'drill', dir);
  }

  /** LOOKUP of the new name, RENAME, GETATTR of the parent, as rename(2) makes the kernel send them. */
  private *renameOnce(dir: number, from: string, to: string): Walk {
    const l = this.link;
    l.send(l.writer.lookup(dir, to), -ERRNO.ENOENT);
    yield;
    l.send(l.writer.rename(dir, from, dir, to));
    yield;
    l.send(l.writer.getattr(dir));
    yield;
  }

  /** One round in a directory of its own, removed after it; false if that directory could not be made. */
  private *round(round: number, files: number, dirs: number): Generator<void, boolean, void> {
    const dir = this.mkdir(FUSE_ROOT_ID, `round-${round}`);
    yield;
    if (dir === 0) return false;
    yield* this.files(dir, files, round);
    yield* this.dirs(dir, dirs);
    yield* this.rmdir(FUSE_ROOT_ID, `round-${round}`, dir);
    return true;
  }

  /** A file's round: create, chmod, utimens, truncate, rename, unlink, each over all `n` files in turn. */
  private *files(dir: number, n: number, round: number): Walk {
    const l = this.link;
    const w = l.writer;
    const inos: number[] = [];
    for (let i = 0; i < n; i++) {
      const f = this.create(dir, `f${i}`);
      yield;
      inos.push(f.ino);
      if (f.ino === 0) continue;
      yield* this.closeFile(f.ino, f.fh);
      l.send(w.getattr(dir));
      yield;
    }
    for (const ino of inos) {
      l.send(w.setattr(ino, FATTR.MODE, { mode: S_IFREG | 0o600 }));
      yield;
    }
    for (const ino of inos) {
      l.send(w.setattr(ino, FATTR.ATIME | FATTR.MTIME, { sec: 1_700_000_000 + round, nsec: 1000 }));
      yield;
    }
    for (const ino of inos) {
      l.send(w.getxattr(ino, 'security.capability', 0));
      yield;
      l.send(w.setattr(ino, FATTR.SIZE | FATTR.LOCKOWNER, { size: 4096, lockOwner: LOCK_OWNER }));
      yield;
    }
    for (let i = 0; i < n; i++) yield* this.renameOnce(dir, `f${i}`, `g${i}`);
    for (let i = 0; i < n; i++) {
      l.send(w.getattr(dir));
      yield;
      l.send(w.remove(Opcode.UNLINK, dir, `g${i}`));
      yield;
    }
    // the kernel forgets one at a time, or many at once when it evicts: both
    const live = inos.filter((ino) => ino !== 0);
    const half = live.length >> 1;
    for (let i = 0; i < half; i++) {
      l.sendUnanswered(w.forget(live[i], 1));
      yield;
    }
    for (let i = half; i < live.length; i += FORGET_BATCH) {
      l.sendUnanswered(w.batchForget(live.slice(i, i + FORGET_BATCH)));
      yield;
    }
  }

  private *dirs(dir: number, n: number): Walk {
    const inos: number[] = [];
    for (let i = 0; i < n; i++) {
      inos.push(this.mkdir(dir, `d${i}`));
      yield;
    }
    for (let i = 0; i < n; i++) yield* this.rmdir(dir, `d${i}`, inos[i]);
  }

  /** LOOKUP of the new name, CREATE, as open(O_CREAT | O_EXCL) makes the kernel send them; nodeid 0 if failed. */
  private create(dir: number, name: string): { ino: number; fh: number } {
    const l = this.link;
    l.send(l.writer.lookup(dir, name), -ERRNO.ENOENT);
    if (l.send(l.writer.create(dir, name, O_LARGEFILE | O_WRONLY | O_CREAT | O_EXCL, S_IFREG | 0o644, UMASK)) !== 0) return { ino: 0, fh: 0 };
    return { ino: l.reply.getU64(NODEID), fh: l.reply.getU64(CREATE_FH) };
  }

  private *closeFile(ino: number, fh: number): Walk {
    const l = this.link;
    l.send(l.writer.flush(ino, fh, LOCK_OWNER));
    yield;
    l.send(l.writer.release(Opcode.RELEASE, ino, fh, O_LARGEFILE | O_WRONLY));
    yield;
  }

  /** LOOKUP of the new name, MKDIR, GETATTR; the new directory's nodeid, 0 if it failed. */
  private mkdir(parent: number, name: string): number {
    const l = this.link;
    l.send(l.writer.lookup(parent, name), -ERRNO.ENOENT);
    if (l.send(l.writer.mkdir(parent, name, 0o755, UMASK)) !== 0) return 0;
    const ino = l.reply.getU64(NODEID);
    l.send(l.writer.getattr(parent));
    return ino;
  }

  private *rmdir(parent: number, name: string, ino: number): Walk {
    const l = this.link;
    l.send(l.writer.getattr(parent));
    yield;
    l.send(l.writer.remove(Opcode.RMDIR, parent, name));
    yield;
    if (ino !== 0) l.sendUnanswered(l.writer.forget(ino, 1));
    yield;
  }
}
