// A lane is everything one in-flight request needs and nothing else touches while it runs: the reply
// buffer, the request context, the decoders' output objects and the dirent writers. Worker mode has one
// lane per worker (requests there are served one at a time); embedded mode has one lane per ring slot.

import { DirentPlusWriter, DirentWriter } from '../protocol/dirents.js';
import { newInHeader, type InHeader } from '../protocol/requests.js';
import { WireBuffer } from '../protocol/wire.js';
import type { ServeScope } from '../protocol/opcodes.js';
import type { RequestContext } from '../fs/types.js';

export class LaneContext implements RequestContext {
  uid = 0;
  gid = 0;
  pid = 0;
  opcode = 0;
  /** Set by INTERRUPT handling (possibly from another thread through `interruptWord`). */
  private flag = false;
  interruptWord: Int32Array | undefined;
  interruptIndex = 0;
  get interrupted(): boolean {
    if (this.flag) return true;
    return this.interruptWord !== undefined && Atomics.load(this.interruptWord, this.interruptIndex) !== 0;
  }
  set interrupted(v: boolean) {
    this.flag = v;
  }
}

export class Lane implements ServeScope {
  readonly out: WireBuffer;
  readonly header: InHeader = newInHeader();
  readonly ctx = new LaneContext();
  readonly dirents = new DirentWriter();
  readonly direntsPlus = new DirentPlusWriter();
  /** Decoder output objects, by opcode. */
  readonly scratch: unknown[] = [];
  /** The 16-byte header view of `out`, for writev of READ replies. */
  readonly outHeader: Buffer;
  /** The fd the current request came from (its reply must go back there). */
  fd = -1;
  /** True once a reply (or EINTR on interrupt) was written for the current request. */
  replied = false;
  /** The buffer the current request was read into. */
  input: WireBuffer;

  constructor(outSize: number) {
    this.out = new WireBuffer(outSize);
    this.input = this.out;
    this.outHeader = this.out.buf.subarray(0, 16);
  }

  scratchFor<T>(op: number): T {
    let s = this.scratch[op] as T | undefined;
    if (s === undefined) {
      s = {} as T;
      this.scratch[op] = s;
    }
    return s;
  }
}
