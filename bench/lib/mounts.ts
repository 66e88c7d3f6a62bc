// Mount lifecycle for the contenders: start a server (or a kernel mount), wait until a file inside can be
// stat'ed (by a separate process), and stop it again: lazy unmount, wait for the server to exit, and if it
// does not, abort the connection through fusectl and kill it. Every mount has a watchdog; an exit hook
// aborts and unmounts whatever is still mounted if the harness dies. Nothing here stats the mountpoint in
// this process.

import { type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { alive, hrnow, processCpuNs, run, sleep, spawnServer } from './proc.js';
import { fsbench } from './clients.js';

export interface MountEntry {
  mountPoint: string;
  fstype: string;
  major: number;
  minor: number;
  source: string;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function readMounts(): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-');
    const [maj, min] = f[2].split(':').map(Number);
    out.push({ mountPoint: unescapeMount(f[4]), fstype: f[sep + 1], source: unescapeMount(f[sep + 2] ?? ''), major: maj, minor: min });
  }
  return out;
}

export function mountsAt(mnt: string): MountEntry[] {
  return readMounts().filter((m) => m.mountPoint === mnt);
}

const FUSECTL = '/sys/fs/fuse/connections';

function ensureFusectl(): void {
  if (readMounts().some((m) => m.mountPoint === FUSECTL && m.fstype === 'fusectl')) return;
  spawnSync('mount', ['-t', 'fusectl', 'none', FUSECTL], { timeout: 5000 });
}

/** Aborts every FUSE connection mounted at mnt (fusectl). Returns how many. */
export function abortFuseAt(mnt: string): number {
  let n = 0;
  for (const m of mountsAt(mnt)) {
    if (m.fstype !== 'fuse' && !m.fstype.startsWith('fuse.')) continue;
    try {
      ensureFusectl();
      writeFileSync(`${FUSECTL}/${m.major * 2 ** 20 + m.minor}/abort`, '1');
      n++;
    } catch {
      // connection gone already
    }
  }
  return n;
}

/** Lazy-unmounts everything at mnt (stacked mounts too). Never blocks on the filesystem. */
export function lazyUnmount(mnt: string): void {
  for (let i = 0; i < 8 && mountsAt(mnt).length > 0; i++) {
    spawnSync('umount', ['-l', mnt], { timeout: 5000, stdio: 'ignore' });
  }
}

/** Every mount this process started and has not stopped; the exit hook cleans them up. */
const live = new Set<Mounted>();
let hooked = false;

function emergencyCleanup(): void {
  for (const m of live) {
    try {
      abortFuseAt(m.mnt);
    } catch {
      // keep going
    }
    try {
      lazyUnmount(m.mnt);
    } catch {
      // keep going
    }
    if (m.pid !== undefined && alive(m.pid)) {
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', emergencyCleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`bench: ${sig}, unmounting\n`);
      emergencyCleanup();
      process.exit(130);
    });
  }
}

export interface StartSpec {
  /** Contender id, for messages. */
  name: string;
  mnt: string;
  /** A path inside the mount that exists once it serves (the start-up probe stats it); '' = wait for the
   * mount to show in mountinfo, then stat the mountpoint. */
  probe: string;
  /** The server command; for a kernel mount the mount(8) command (which exits). */
  cmd: string;
  args: string[];
  /** 'fuse' servers keep running; 'kernel' commands exit after mounting. */
  kind: 'fuse' | 'kernel';
  /** Server stdout/stderr go here. */
  logFile: string;
  /** Watchdog: abort and unmount after this long, whatever happens (ms). */
  watchdogMs: number;
  startTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Sent to the server right after the unmount, for servers that do not exit when unmounted. */
  stopSignal?: NodeJS.Signals;
}

export class Mounted {
  readonly name: string;
  readonly mnt: string;
  readonly kind: 'fuse' | 'kernel';
  child: ChildProcess | undefined;
  pid: number | undefined;
  /** ns from spawn of the server command to the first successful stat of the probe. */
  startupNs = 0;
  /** Set when the watchdog fired. */
  aborted = false;
  private watchdog: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;
  private stopSignal: NodeJS.Signals | undefined;

  constructor(name: string, mnt: string, kind: 'fuse' | 'kernel') {
    this.name = name;
    this.mnt = mnt;
    this.kind = kind;
  }

  /** CPU time (ns) of the server process so far, or undefined (kernel mount, or gone). */
  cpuNs(): number | undefined {
    return this.pid !== undefined ? processCpuNs(this.pid) : undefined;
  }

  /**
   * Waits (at most maxMs) until the server has used less than 1 ms of CPU in each of three 50 ms windows in a
   * row: after drop_caches the kernel sends FORGETs for every evicted inode, and a server's idle work (a
   * tsfuse worker's warm-up) goes on; neither must count towards the next figure. One quiet window was not
   * enough: right after drop_caches a server busy with idle work spends whole windows waiting for its own code
   * pages to come back from the disk, and the next figure then ran beside the rest of that work.
   */
  async settle(maxMs = 3000): Promise<void> {
    if (this.pid === undefined) return;
    const end = Date.now() + maxMs;
    let last = this.cpuNs();
    let quiet = 0;
    while (Date.now() < end) {
      await sleep(50);
      const now = this.cpuNs();
      if (now === undefined || last === undefined) return;
      quiet = now - last < 1e6 ? quiet + 1 : 0;
      if (quiet === 3) return;
      last = now;
    }
  }

  /** Ends the mount now without being polite (watchdog, client time-outs). */
  abort(why: string): void {
    if (this.stopped) return;
    this.aborted = true;
    process.stderr.write(`bench: ${this.name}: ${why}; aborting the connection at ${this.mnt}\n`);
    abortFuseAt(this.mnt);
    lazyUnmount(this.mnt);
    if (this.pid !== undefined && alive(this.pid)) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.watchdog) clearTimeout(this.watchdog);
    try {
      if (this.kind === 'kernel') {
        const r = spawnSync('umount', [this.mnt], { timeout: 10_000, stdio: 'ignore' });
        if (r.status !== 0) lazyUnmount(this.mnt);
      } else {
        lazyUnmount(this.mnt);
        if (this.stopSignal && this.pid !== undefined && alive(this.pid)) process.kill(this.pid, this.stopSignal);
        const gone = await Promise.race([this.exited.then(() => true), sleep(8000).then(() => false)]);
        if (!gone) {
          process.stderr.write(`bench: ${this.name}: server still running 8 s after unmount; aborting\n`);
          abortFuseAt(this.mnt);
          if (this.pid !== undefined && alive(this.pid)) process.kill(this.pid, 'SIGKILL');
          await Promise.race([this.exited, sleep(3000)]);
        }
      }
      if (mountsAt(this.mnt).length > 0) {
        abortFuseAt(this.mnt);
        lazyUnmount(this.mnt);
      }
    } finally {
      this.stopped = true;
      live.delete(this);
    }
  }

  static async start(s: StartSpec): Promise<Mounted> {
    hookExit();
    mkdirSync(s.mnt, { recursive: true });
    if (mountsAt(s.mnt).length > 0) {
      abortFuseAt(s.mnt);
      lazyUnmount(s.mnt);
    }
    const m = new Mounted(s.name, s.mnt, s.kind);
    m.stopSignal = s.stopSignal;
    live.add(m);
    m.watchdog = setTimeout(() => m.abort(`watchdog after ${s.watchdogMs} ms`), s.watchdogMs);
    m.watchdog.unref();
    const logFd = openSync(s.logFile, 'a');
    try {
      writeFileSync(logFd, `\n=== ${new Date().toISOString()} ${s.cmd} ${s.args.join(' ')}\n`);
      const t0 = hrnow();
      const child = spawnServer(s.cmd, s.args, logFd, { env: s.env ?? process.env });
      let exitInfo = '';
      m.exited = new Promise<void>((resolve) => {
        child.once('exit', (code, sig) => {
          exitInfo = `exited with ${code ?? sig}`;
          resolve();
        });
        child.once('error', (e) => {
          exitInfo = `failed to start: ${e.message}`;
          resolve();
        });
      });
      if (s.kind === 'fuse') {
        m.child = child;
        m.pid = child.pid;
      }
      const timeoutMs = s.startTimeoutMs ?? 30_000;
      if (s.probe === '') {
        // an empty filesystem has no file to probe: wait for the mount in mountinfo, then stat its root
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          if (mountsAt(s.mnt).some((e) => e.fstype.startsWith('fuse'))) break;
          if (Date.now() > deadline) throw new Error(`${s.name}: nothing mounted at ${s.mnt} after ${timeoutMs} ms (see ${s.logFile})`);
          if (child.exitCode !== null) throw new Error(`${s.name}: server exited with ${child.exitCode} (see ${s.logFile})`);
          await sleep(2);
        }
      }
      const probe = run(fsbench(), ['waitstat', s.probe || s.mnt, String(timeoutMs)], {
        timeoutMs: timeoutMs + 5000,
        check: false,
        onTimeout: () => m.abort('start-up probe hung'),
      });
      if (s.kind === 'kernel') {
        await m.exited;
        if (!exitInfo.endsWith(' 0')) {
          probe.catch(() => undefined);
          throw new Error(`${s.cmd} ${exitInfo}`);
        }
      } else {
        // A server that dies before it serves makes the probe wait its whole time; notice the death.
        const died = m.exited.then(() => 'died' as const);
        const first = await Promise.race([probe.then(() => 'probe' as const), died]);
        if (first === 'died') {
          await sleep(50);
          if (!mountsAt(s.mnt).length) {
            probe.catch(() => undefined);
            throw new Error(`${s.name}: server ${exitInfo} before it served (see ${s.logFile})`);
          }
        }
      }
      const r = await probe;
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.code !== 0 || !line) throw new Error(`${s.name}: ${s.probe} did not appear within ${timeoutMs} ms (${exitInfo || 'server running'}; see ${s.logFile})`);
      const j = JSON.parse(line) as { t1: number };
      m.startupNs = j.t1 - t0;
      if (mountsAt(s.mnt).length === 0) throw new Error(`${s.name}: the probe succeeded but nothing is mounted at ${s.mnt}`);
      return m;
    } catch (err) {
      m.abort(`start failed: ${err instanceof Error ? err.message : String(err)}`);
      await m.stop().catch(() => undefined);
      throw err;
    } finally {
      closeSync(logFd);
    }
  }
}

/** Drops the page cache, dentries and inodes (from a child process, bounded). */
export async function dropCaches(level: 1 | 2 | 3 = 3): Promise<void> {
  await run('sh', ['-c', `echo ${level} > /proc/sys/vm/drop_caches`], { timeoutMs: 60_000 });
}

export function ensureDir(p: string): string {
  if (!existsSync(p)) mkdirSync(p, { recursive: true });
  return p;
}
