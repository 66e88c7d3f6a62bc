// Serves one request through its row of the opcode table (src/protocol/opcodes.ts): decode once, apply the
// row's missing-method rule, call the Filesystem, encode. A plain value is encoded and written at once (no
// trip through the event loop); a Promise is awaited, then written. Replies leave through the channel, to
// the fd the request was read from.

import { IN_HEADER_SIZE, OUT_HEADER_SIZE } from '../protocol/abi.js';
import { errnoName, errnoOf, ERRNO, type ErrnoName } from '../protocol/errno.js';
import { formatBody, isPromise, OPCODE_TABLE, OPCODES, opcodeName, type OpcodeInfo, type ReplyBody, type ServeSettings } from '../protocol/opcodes.js';
import { Opcode } from '../protocol/abi.js';
import * as Rp from '../protocol/replies.js';
import * as Rq from '../protocol/requests.js';
import type { WireBuffer } from '../protocol/wire.js';
import type { Filesystem } from '../fs/types.js';
import type { Channel } from './channel.js';
import type { Lane } from './lane.js';
import type { InterruptTable } from './interrupts.js';

const H = OUT_HEADER_SIZE;

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

/** How the dispatcher answers a row whose method the filesystem lacks (from the row's `missing`). */
const ANSWER_REPLY = 0; // a default reply through the row's encoder
const ANSWER_EMPTY = -1; // an empty success (or nothing, for rows that are never answered)

function missingAnswer(row: OpcodeInfo): number {
  const m = row.missing;
  if (m === 'success') return ANSWER_EMPTY;
  if (typeof m === 'string') return ERRNO[m as ErrnoName];
  return ANSWER_REPLY;
}

export class Dispatcher {
  readonly cache: Rp.CacheDefaults;
  readonly settings: ServeSettings;
  private readonly loggedErrors = new Set<string>();
  /** Per opcode: 1 when the filesystem has the row's method (looked up once, not per request). */
  private readonly bound: Uint8Array;
  /** Per opcode: the answer when the method is missing (an errno > 0, ANSWER_REPLY or ANSWER_EMPTY). */
  private readonly absent: Int32Array;
  /** Called for NOTIFY_REPLY (answers to retrieve notifications). */
  onNotifyReply: ((unique: number, offset: number, data: Uint8Array) => void) | undefined;

  constructor(readonly fs: Filesystem, readonly opts: DispatchOptions, readonly interrupts: InterruptTable, readonly channel: Channel) {
    this.cache = { entryTimeout: opts.entryTimeout, attrTimeout: opts.attrTimeout };
    this.settings = { cache: this.cache, negativeTimeout: opts.negativeTimeout, setxattrExt: opts.setxattrExt };
    const size = OPCODES.reduce((m, r) => Math.max(m, r.opcode + 1), 0);
    this.bound = new Uint8Array(size);
    this.absent = new Int32Array(size);
    for (const row of OPCODES) {
      const m = row.method;
      this.bound[row.opcode] = m !== undefined && typeof fs[m] === 'function' ? 1 : 0;
      this.absent[row.opcode] = missingAnswer(row);
    }
  }

  /**
   * Serves one request read from `fd` into `w` (n bytes). Returns undefined when the reply was written
   * synchronously, or a Promise that settles once it was written.
   */
  dispatch(lane: Lane, fd: number, w: WireBuffer, n: number): Promise<void> | undefined {
    const h = Rq.decodeInHeader(w, 0, lane.header);
    lane.fd = fd;
    lane.input = w;
    lane.replied = false;
    const ctx = lane.ctx;
    ctx.uid = h.uid;
    ctx.gid = h.gid;
    ctx.pid = h.pid;
    ctx.opcode = h.opcode;
    ctx.interrupted = false;
    if (h.len > n || h.len < IN_HEADER_SIZE || h.extLen > h.len - IN_HEADER_SIZE) {
      this.log(`malformed request: header says ${h.len} bytes, read ${n}`);
      if (h.len >= IN_HEADER_SIZE) this.replyError(lane, ERRNO.EIO);
      return undefined;
    }
    const op = h.opcode;
    const row = OPCODE_TABLE[op];
    if (this.opts.debug) this.trace(h, row, w);
    if (row === undefined) {
      this.replyError(lane, ERRNO.ENOSYS);
      return undefined;
    }
    const end = h.len - h.extLen;
    let req: unknown;
    let result: unknown;
    try {
      if (this.bound[op] === 0) {
        const answer = this.absent[op];
        if (op === Opcode.INTERRUPT || op === Opcode.NOTIFY_REPLY) this.serveInternal(lane, row, w, end);
        else if (answer > 0) this.replyError(lane, answer);
        else if (answer === ANSWER_EMPTY) this.replyEmpty(lane, row);
        else this.send(lane, row.encode(lane, (row.missing as { reply: unknown }).reply, row.decode(w, IN_HEADER_SIZE, end, lane.scratchFor(op), this.settings.setxattrExt), this.settings));
        return undefined;
      }
      req = row.decode(w, IN_HEADER_SIZE, end, lane.scratchFor(op), this.settings.setxattrExt);
      result = row.call!(this.fs, lane, req, this.settings);
      if (!isPromise(result)) {
        this.reply(lane, row, result, req);
        return undefined;
      }
    } catch (err) {
      this.replyThrown(lane, err);
      return undefined;
    }
    this.interrupts.begin(lane, h);
    return result.then(
      (v) => {
        try {
          this.reply(lane, row, v, req);
        } catch (err) {
          this.replyThrown(lane, err);
        }
        this.interrupts.end(lane);
      },
      (err) => {
        this.interrupts.end(lane);
        this.replyThrown(lane, err);
      },
    );
  }

  /** INTERRUPT and NOTIFY_REPLY: the server's own requests, never answered themselves. */
  private serveInternal(lane: Lane, row: OpcodeInfo, w: WireBuffer, end: number): void {
    lane.replied = true;
    if (row.opcode === Opcode.INTERRUPT) {
      // the interrupted request (if still running) gets EINTR on its own fd
      this.interrupts.interrupt(Rq.decodeInterrupt(w, IN_HEADER_SIZE, end, lane.scratchFor(row.opcode)).unique, this.channel);
      return;
    }
    const r = Rq.decodeNotifyReply(w, IN_HEADER_SIZE, end, lane.scratchFor(row.opcode));
    this.onNotifyReply?.(lane.header.unique, r.offset, Buffer.from(w.buf.subarray(r.dataOffset, r.dataOffset + r.size)));
  }

  private reply(lane: Lane, row: OpcodeInfo, value: unknown, req: unknown): void {
    if (row.noReply) lane.replied = true;
    else this.send(lane, row.encode(lane, value, req, this.settings));
  }

  private replyEmpty(lane: Lane, row: OpcodeInfo): void {
    if (row.noReply) lane.replied = true;
    else this.send(lane, 0);
  }

  send(lane: Lane, done: ReplyBody): void {
    if (lane.replied || (lane.ctx.interruptWord !== undefined && lane.ctx.interrupted)) return;
    lane.replied = true;
    const h = lane.header;
    const out = lane.out;
    if (typeof done === 'number') {
      const len = H + done;
      Rp.writeOutHeader(out, len, 0, h.uniqueLo, h.uniqueHi);
      this.channel.write(lane.fd, out.buf, len);
      if (this.opts.debug) this.log(`   unique ${h.unique}: ok, ${done} bytes`);
      return;
    }
    const len = H + done.length;
    Rp.writeOutHeader(out, len, 0, h.uniqueLo, h.uniqueHi);
    if (done.length <= 16384 && len <= out.length) {
      out.buf.set(done, H);
      this.channel.write(lane.fd, out.buf, len);
    } else {
      this.channel.writev(lane.fd, [lane.outHeader, done]);
    }
    if (this.opts.debug) this.log(`   unique ${h.unique}: ok, ${done.length} bytes of data`);
  }

  replyError(lane: Lane, errno: number): void {
    if (lane.replied || (lane.ctx.interruptWord !== undefined && lane.ctx.interrupted)) return;
    lane.replied = true;
    const h = lane.header;
    Rp.writeOutHeader(lane.out, H, -errno, h.uniqueLo, h.uniqueHi);
    this.channel.write(lane.fd, lane.out.buf, H);
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

  log(msg: string): void {
    this.opts.log(msg);
  }

  /** One line per request: header fields, then the body with its flag fields spelled by name. */
  private trace(h: Rq.InHeader, row: OpcodeInfo | undefined, w: WireBuffer): void {
    let body = '';
    if (row) {
      try {
        body = formatBody(row, row.decode(w, IN_HEADER_SIZE, h.len - h.extLen, undefined, this.settings.setxattrExt));
      } catch (err) {
        body = `(undecodable: ${String(err)})`;
      }
    }
    this.log(`tsfuse: unique ${h.unique} ${opcodeName(h.opcode)} nodeid ${h.nodeid} uid ${h.uid} gid ${h.gid} pid ${h.pid} ${body}`);
  }
}

/** Opcodes the table serves (for tests: every opcode 1-53 of the ABI has a row). */
export function servedOpcodes(): number[] {
  return OPCODES.map((r) => r.opcode);
}
