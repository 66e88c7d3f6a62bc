// The ring entries of one serving thread: for every queue it owns (qid), `depth` entries, each with the
// header buffer and the payload buffer the kernel registered (REGISTER) and fills with a request, and the
// Lane that serves it. All buffers live in one anonymous mapping, so their addresses are known and JS
// reads them in place.
//
// Per entry (stride: one page of headers + the payload, page aligned):
//   [0, 288)          struct fuse_uring_req_header (iov[0])
//   [512, 544)        the two iovecs REGISTER points at
//   [4096-168, 4096)  where fuse_in_header and op_in are copied so the request is contiguous (see below)
//   [4096, ...)       the payload (iov[1])
// The dispatcher decodes a request laid out as /dev/fuse delivers it: header, op struct, then the rest. The
// ring delivers the rest in the payload buffer, so copying the 40-byte header and the op struct (at most 128
// bytes) just in front of the payload makes the same layout without copying the payload (WRITE data).

import { IN_HEADER_SIZE, OUT_HEADER_SIZE } from '../../protocol/abi.js';
import { FuseUringCmd, URING_CMD_REQ, URING_HEADER, URING_IOV_SEGS, URING_OP_IN_SIZE } from '../../protocol/uring.js';
import { WireBuffer } from '../../protocol/wire.js';
import { mapAnonymous, unmap, type Mapping } from '../../kernel/uring-sys.js';
import { Lane } from '../lane.js';
import { IORING_OP, SQE, type IoUring } from './io-uring.js';

const PAGE = 4096;
const IOV_OFFSET = 512;
const PAYLOAD_OFFSET = PAGE;
const TWO32 = 4294967296;

/** Where an entry is. */
export const EntryState = {
  /** Its command is in the kernel, waiting for a request. */
  WAITING: 0,
  /** It holds a request being served. */
  SERVING: 1,
  /** Its reply is written and COMMIT_AND_FETCH queued. */
  COMMITTED: 2,
  /** The kernel ended its command (unmount, abort, or an error): it takes no more requests. */
  DEAD: 3,
} as const;

export class RingEntries {
  readonly count: number;
  readonly payloadSize: number;
  readonly lanes: Lane[] = [];
  readonly state: Uint8Array;
  private readonly qid: Uint16Array;
  /** The current request's unique (commit_id), as two words. */
  private readonly commitLo: Uint32Array;
  private readonly commitHi: Uint32Array;
  private readonly map: Mapping;
  private readonly bytes: Uint8Array;
  private readonly target: Buffer;
  private readonly words: Uint32Array;
  private readonly stride: number;
  /** Per entry, per op struct size / 8: a WireBuffer starting where the contiguous request starts. */
  private readonly views: (WireBuffer | undefined)[][] = [];
  /** Per entry: the laid-out request (its WireBuffer and byte count). */
  private readonly reqWire: (WireBuffer | undefined)[] = [];
  private readonly reqLen: Uint32Array;

  constructor(qids: readonly number[], depth: number, payloadSize: number, laneSize: number) {
    this.payloadSize = Math.ceil(payloadSize / PAGE) * PAGE;
    this.stride = PAYLOAD_OFFSET + this.payloadSize;
    this.count = qids.length * depth;
    this.map = mapAnonymous(Math.max(PAGE, this.count * this.stride)); // a worker beyond the queue count has none
    this.bytes = new Uint8Array(this.map.memory);
    this.target = Buffer.from(this.map.memory);
    this.words = new Uint32Array(this.map.memory);
    this.state = new Uint8Array(this.count).fill(EntryState.DEAD);
    this.qid = new Uint16Array(this.count);
    this.commitLo = new Uint32Array(this.count);
    this.commitHi = new Uint32Array(this.count);
    this.reqLen = new Uint32Array(this.count);
    for (let e = 0; e < this.count; e++) {
      this.qid[e] = qids[Math.floor(e / depth)];
      this.lanes.push(new Lane(laneSize));
      this.views.push([]);
      // iovec[0] = headers, iovec[1] = payload: { void *base; size_t len } each
      const iov = (e * this.stride + IOV_OFFSET) >>> 2;
      const base = this.map.address + e * this.stride;
      this.setAddress(iov, base);
      this.words[iov + 2] = URING_HEADER.size;
      this.words[iov + 3] = 0;
      this.setAddress(iov + 4, base + PAYLOAD_OFFSET);
      this.words[iov + 6] = this.payloadSize;
      this.words[iov + 7] = 0;
    }
  }

  private setAddress(word: number, address: number): void {
    this.words[word] = address % TWO32;
    this.words[word + 1] = Math.floor(address / TWO32);
  }

  private header(e: number): number {
    return e * this.stride;
  }

  /** Queues REGISTER for entry e on `devFd`. */
  register(ring: IoUring, devFd: number, e: number): void {
    const s = this.cmdSqe(ring, devFd, e, FuseUringCmd.REGISTER);
    const w = ring.sqeWords;
    const iovAddress = this.map.address + this.header(e) + IOV_OFFSET;
    w[s + (SQE.addr >>> 2)] = iovAddress % TWO32;
    w[s + (SQE.addr >>> 2) + 1] = Math.floor(iovAddress / TWO32);
    w[s + (SQE.len >>> 2)] = URING_IOV_SEGS;
    this.state[e] = EntryState.WAITING;
  }

  /** Queues COMMIT_AND_FETCH for entry e (its reply is in its buffers). */
  private commitAndFetch(ring: IoUring, devFd: number, e: number): void {
    const s = this.cmdSqe(ring, devFd, e, FuseUringCmd.COMMIT_AND_FETCH);
    const w = ring.sqeWords;
    const cmd = s + ((SQE.cmd + URING_CMD_REQ.commitId) >>> 2);
    w[cmd] = this.commitLo[e];
    w[cmd + 1] = this.commitHi[e];
    this.state[e] = EntryState.COMMITTED;
  }

  private cmdSqe(ring: IoUring, devFd: number, e: number, cmdOp: number): number {
    const s = ring.nextSqe();
    const w = ring.sqeWords;
    w[s] = IORING_OP.URING_CMD; // opcode; flags and ioprio 0
    w[s + (SQE.fd >>> 2)] = devFd;
    w[s + (SQE.cmdOp >>> 2)] = cmdOp;
    w[s + (SQE.userData >>> 2)] = e;
    // fuse_uring_cmd_req.qid is a u16 at the start of its word (little-endian)
    w[s + ((SQE.cmd + URING_CMD_REQ.qid) >>> 2)] = this.qid[e];
    return s;
  }

  /**
   * Entry e's command completed with a request: lays it out contiguously and returns its WireBuffer and byte
   * count through `out`, or false when the kernel's sizes do not add up (answered EIO by the caller).
   */
  takeRequest(e: number, out: { wire: WireBuffer; n: number }): boolean {
    const ok = this.layOut(e, out);
    this.reqWire[e] = out.wire;
    this.reqLen[e] = out.n;
    return ok;
  }

  /** The request takeRequest laid out for entry e (for one that waited for a handler slot). */
  requestOf(e: number, out: { wire: WireBuffer; n: number }): void {
    out.wire = this.reqWire[e]!;
    out.n = this.reqLen[e];
  }

  private layOut(e: number, out: { wire: WireBuffer; n: number }): boolean {
    const hb = this.header(e);
    const hw = hb >>> 2;
    this.state[e] = EntryState.SERVING;
    this.commitLo[e] = this.words[hw + (URING_HEADER.entCommitId >>> 2)];
    this.commitHi[e] = this.words[hw + (URING_HEADER.entCommitId >>> 2) + 1];
    const len = this.words[hw + (URING_HEADER.inOut >>> 2)];
    const payload = this.words[hw + (URING_HEADER.entPayloadSize >>> 2)];
    const opSize = len - IN_HEADER_SIZE - payload;
    if (payload > this.payloadSize || opSize < 0 || opSize > URING_OP_IN_SIZE) {
      // keep the header readable for the error answer
      out.wire = this.viewAt(e, 0);
      this.bytes.copyWithin(hb + PAYLOAD_OFFSET - IN_HEADER_SIZE, hb, hb + IN_HEADER_SIZE);
      out.n = IN_HEADER_SIZE;
      return false;
    }
    if (opSize % 8 !== 0) {
      // not a layout the kernel uses (op structs are 8-byte multiples): a copy rather than misaligned views
      const w = new WireBuffer((IN_HEADER_SIZE + opSize + payload + 7) & ~7);
      w.buf.set(this.bytes.subarray(hb, hb + IN_HEADER_SIZE), 0);
      w.buf.set(this.bytes.subarray(hb + URING_HEADER.opIn, hb + URING_HEADER.opIn + opSize), IN_HEADER_SIZE);
      w.buf.set(this.bytes.subarray(hb + PAYLOAD_OFFSET, hb + PAYLOAD_OFFSET + payload), IN_HEADER_SIZE + opSize);
      out.wire = w;
      out.n = len;
      return true;
    }
    const start = hb + PAYLOAD_OFFSET - opSize - IN_HEADER_SIZE;
    this.bytes.copyWithin(start, hb, hb + IN_HEADER_SIZE);
    if (opSize > 0) this.bytes.copyWithin(start + IN_HEADER_SIZE, hb + URING_HEADER.opIn, hb + URING_HEADER.opIn + opSize);
    out.wire = this.viewAt(e, opSize);
    out.n = len;
    return true;
  }

  private viewAt(e: number, opSize: number): WireBuffer {
    const views = this.views[e];
    const k = opSize >>> 3;
    let v = views[k];
    if (v === undefined) {
      const start = this.header(e) + PAYLOAD_OFFSET - opSize - IN_HEADER_SIZE;
      v = new WireBuffer(this.map.memory, start, IN_HEADER_SIZE + opSize + this.payloadSize);
      views[k] = v;
    }
    return v;
  }

  /**
   * Writes a reply (fuse_out_header then body, `len` bytes of `buf`) into entry e and queues its commit.
   * Returns false when e holds no request with that unique (a late or foreign reply).
   */
  reply(ring: IoUring, devFd: number, e: number, buf: Uint8Array, len: number): boolean {
    if (!this.matches(e, buf)) return false;
    const hb = this.header(e);
    const body = len - OUT_HEADER_SIZE;
    if (body > this.payloadSize) return this.replyTooBig(ring, devFd, e, body);
    // Buffer.copy takes a range without a subarray object per reply (the dispatcher's buffers are Buffers)
    if (Buffer.isBuffer(buf)) {
      buf.copy(this.target, hb, 0, OUT_HEADER_SIZE);
      if (body > 0) buf.copy(this.target, hb + PAYLOAD_OFFSET, OUT_HEADER_SIZE, len);
    } else {
      this.bytes.set(buf.subarray(0, OUT_HEADER_SIZE), hb);
      if (body > 0) this.bytes.set(buf.subarray(OUT_HEADER_SIZE, len), hb + PAYLOAD_OFFSET);
    }
    this.words[(hb + URING_HEADER.entPayloadSize) >>> 2] = body;
    this.commitAndFetch(ring, devFd, e);
    return true;
  }

  /** As reply, from parts (the 16-byte header first, as the dispatcher's writev sends). */
  replyParts(ring: IoUring, devFd: number, e: number, parts: readonly Uint8Array[]): boolean {
    if (parts.length === 0 || parts[0].length !== OUT_HEADER_SIZE) return this.reply(ring, devFd, e, Buffer.concat(parts), parts.reduce((n, p) => n + p.length, 0));
    if (!this.matches(e, parts[0])) return false;
    const hb = this.header(e);
    this.bytes.set(parts[0], hb);
    let at = 0;
    for (let i = 1; i < parts.length; i++) {
      if (at + parts[i].length > this.payloadSize) return this.replyTooBig(ring, devFd, e, at + parts[i].length);
      this.bytes.set(parts[i], hb + PAYLOAD_OFFSET + at);
      at += parts[i].length;
    }
    this.words[(hb + URING_HEADER.entPayloadSize) >>> 2] = at;
    this.commitAndFetch(ring, devFd, e);
    return true;
  }

  /** A reply must leave: when the request was never answered, an empty one with error -errno (or 0). */
  finish(ring: IoUring, devFd: number, e: number, errno: number): void {
    if (this.state[e] !== EntryState.SERVING) return;
    const hw = this.header(e) >>> 2;
    this.words[hw] = OUT_HEADER_SIZE;
    this.words[hw + 1] = -errno >>> 0;
    this.words[hw + 2] = this.commitLo[e];
    this.words[hw + 3] = this.commitHi[e];
    this.words[hw + (URING_HEADER.entPayloadSize >>> 2)] = 0;
    this.commitAndFetch(ring, devFd, e);
  }

  private matches(e: number, header: Uint8Array): boolean {
    if (e < 0 || e >= this.count || this.state[e] !== EntryState.SERVING || header.length < OUT_HEADER_SIZE) return false;
    const lo = header[8] | (header[9] << 8) | (header[10] << 16) | (header[11] << 24);
    const hi = header[12] | (header[13] << 8) | (header[14] << 16) | (header[15] << 24);
    return lo >>> 0 === this.commitLo[e] && hi >>> 0 === this.commitHi[e];
  }

  /** A body larger than the payload buffer cannot be sent: the request gets EIO instead. */
  private replyTooBig(ring: IoUring, devFd: number, e: number, body: number): true {
    const hw = this.header(e) >>> 2;
    this.words[hw] = OUT_HEADER_SIZE;
    this.words[hw + 1] = -5 >>> 0; // -EIO
    this.words[hw + 2] = this.commitLo[e];
    this.words[hw + 3] = this.commitHi[e];
    this.words[(this.header(e) + URING_HEADER.entPayloadSize) >>> 2] = 0;
    this.overflowed = body;
    this.commitAndFetch(ring, devFd, e);
    return true;
  }

  /** The size of the last reply that did not fit (for the caller's log line), 0 when none. */
  overflowed = 0;

  close(): void {
    unmap(this.map);
  }
}
