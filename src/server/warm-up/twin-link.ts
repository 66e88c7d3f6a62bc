// The warm-up's line to the twin: requests written as the kernel writes them (RequestWriter), dispatched by a
// Dispatcher of the warm-up's own over a Lane and the ReplyFile (the classes real requests meet, so what V8
// compiles here is what they run), and each reply read back so a walk can follow nodeids and handles as the
// kernel would. The walks (walk.ts, write-walk.ts) are generators over one TwinLink; TwinLink.step drives one.

import { LAYOUT as L, OUT_HEADER_SIZE } from '../../protocol/abi.js';
import { RequestWriter } from '../../protocol/request-writer.js';
import { WireBuffer } from '../../protocol/wire.js';
import { ERRNO } from '../../protocol/errno.js';
import type { Filesystem } from '../../fs/types.js';
import { Dispatcher, type DispatchOptions } from '../dispatch.js';
import type { InterruptTable } from '../interrupts.js';
import { Lane } from '../lane.js';
import { ReplyFile } from './reply-file.js';

/** A walk: yields after each request, so the serving loop can look at its fd between slices. */
export type Walk = Generator<void, void, void>;

export class TwinLink {
  readonly writer = new RequestWriter();
  /** The last reply's bytes (header first). */
  readonly reply: WireBuffer;
  /** Requests sent so far (for the closing log line). */
  requests = 0;
  /** Replies with an error the walk did not expect: a twin that fails. */
  failures = 0;
  private readonly lane: Lane;
  private readonly replies: ReplyFile;
  private readonly dispatcher: Dispatcher;
  private walk: Walk | undefined;

  /**
   * `lane`: the serving loop's own, when it is free between requests (worker mode): the decoders' output
   * objects and the in-header the real requests fill are then the ones the warm-up's compiled code saw. A
   * lane of the link's own has objects made later, and an opcode first met after the warm-up starts from an
   * empty object there, which the compiled decoder was not made for ("wrong map", seen with --trace-deopt).
   */
  constructor(private readonly twin: Filesystem, opts: DispatchOptions, interrupts: InterruptTable, bufSize: number, lane?: Lane) {
    this.replies = new ReplyFile(opts.log);
    this.lane = lane ?? new Lane(bufSize);
    this.reply = new WireBuffer(bufSize);
    this.dispatcher = new Dispatcher(twin, { ...opts, debug: false }, interrupts, this.replies.channel);
  }

  /** Starts `walk` (made with this link) as the one step() drives. */
  start(walk: Walk): this {
    this.walk = walk;
    return this;
  }

  /**
   * Runs `steps` steps of the walk (a step is one request, or the two or three the kernel sends back to back
   * for one call, as LOOKUP then CREATE); false once it is over (the twin is then destroyed).
   */
  step(steps: number): boolean {
    for (let i = 0; i < steps; i++) {
      if (this.walk!.next().done) {
        this.close();
        return false;
      }
    }
    return true;
  }

  /** Ends the walk early (the session is going), or after its end. */
  close(): void {
    this.walk?.return();
    this.replies.close();
    void this.twin.destroy?.();
  }

  /**
   * Dispatches the request in the writer; the reply's error (0 or -errno) and its bytes in `reply`. Errors
   * other than ENOSYS (NO_OPEN_SUPPORT), ENODATA (no such xattr) and `expected` count as failures.
   */
  send(len: number, expected = 0): number {
    this.replies.reset();
    this.requests++;
    const pending = this.dispatcher.dispatch(this.lane, this.replies.fd, this.writer.wire, len);
    // a twin answers synchronously (the image server and the passthrough do); one that does not is not waited for
    if (pending !== undefined) {
      this.failures++;
      return -ERRNO.EIO;
    }
    const n = this.replies.read(this.reply.buf);
    const error = n >= OUT_HEADER_SIZE ? this.reply.getI32(L.fuse_out_header.error) : -ERRNO.EIO;
    if (error !== 0 && error !== -ERRNO.ENOSYS && error !== -ERRNO.ENODATA && error !== expected) this.failures++;
    return error;
  }

  /** Dispatches a request that has no reply (FORGET, BATCH_FORGET). */
  sendUnanswered(len: number): void {
    this.requests++;
    if (this.dispatcher.dispatch(this.lane, this.replies.fd, this.writer.wire, len) !== undefined) this.failures++;
  }
}
