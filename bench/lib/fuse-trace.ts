// Requests counted on the kernel side, the same way for every FUSE contender (tsfuse, libfuse servers): the
// fuse:fuse_request_send tracepoint (kernel 6.14+) in a tracefs instance of the bench's own, filtered to one
// connection (the dev_t of the mount, from mountinfo: this process never stats a mountpoint). The event fires
// in the requesting task, so counting costs the server nothing; it adds ~0.1-0.3 µs per request to the
// client, the same for every contender. Without tracefs or the tracepoint there is no counter (undefined)
// and the figures that need one are left out.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mountsAt } from './mounts.js';

const TRACEFS = '/sys/kernel/tracing';
const EVENT = 'events/fuse/fuse_request_send';
/** Per-CPU ring of the instance: ~40 bytes an event, so a few hundred thousand requests per pass fit. */
const BUFFER_KB = 16384;

function tracefsReady(): boolean {
  if (existsSync(join(TRACEFS, EVENT))) return true;
  if (!existsSync(join(TRACEFS, 'instances'))) spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { timeout: 5000, stdio: 'ignore' });
  return existsSync(join(TRACEFS, EVENT));
}

export class RequestCounter {
  private constructor(
    private readonly dir: string,
    private readonly connection: number,
  ) {}

  /** A counter for the FUSE connection mounted at `mnt`, or undefined when the kernel cannot count. */
  static open(mnt: string, name: string): RequestCounter | undefined {
    const m = mountsAt(mnt).find((e) => e.fstype === 'fuse' || e.fstype.startsWith('fuse.'));
    if (!m || !tracefsReady()) return undefined;
    const dir = join(TRACEFS, 'instances', `tsfuse-bench-${process.pid}-${name}`);
    try {
      if (!existsSync(dir)) mkdirSync(dir);
      writeFileSync(join(dir, 'buffer_size_kb'), String(BUFFER_KB));
      return new RequestCounter(dir, m.major * 2 ** 20 + m.minor);
    } catch {
      return undefined;
    }
  }

  /** Clears the buffer and starts counting. */
  start(): void {
    writeFileSync(join(this.dir, 'trace'), '');
    writeFileSync(join(this.dir, EVENT, 'filter'), `connection == ${this.connection}`);
    writeFileSync(join(this.dir, EVENT, 'enable'), '1');
  }

  /** Stops counting; requests since start() by opcode name (FUSE_LOOKUP, ...), and their total. */
  stop(): { total: number; byOpcode: Record<string, number>; lost: boolean } {
    writeFileSync(join(this.dir, EVENT, 'enable'), '0');
    const text = readFileSync(join(this.dir, 'trace'), 'utf8');
    const byOpcode: Record<string, number> = {};
    let total = 0;
    for (const m of text.matchAll(/ \((FUSE_[A-Z_0-9]+)\) len /g)) {
      byOpcode[m[1]] = (byOpcode[m[1]] ?? 0) + 1;
      total++;
    }
    // "entries-in-buffer/entries-written: N/M": M > N means the ring overwrote events
    const head = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(text);
    return { total, byOpcode, lost: head !== null && Number(head[2]) > Number(head[1]) };
  }

  close(): void {
    try {
      writeFileSync(join(this.dir, EVENT, 'enable'), '0');
      rmdirSync(this.dir);
    } catch {
      // already gone
    }
  }
}

/** "LOOKUP 1.00 GETATTR 2.00": requests of each opcode per operation, most frequent first. */
export function opcodeMix(byOpcode: Record<string, number>, per: number): string {
  return Object.entries(byOpcode).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.replace(/^FUSE_/, '')} ${(v / per).toFixed(2)}`).join(' ');
}
