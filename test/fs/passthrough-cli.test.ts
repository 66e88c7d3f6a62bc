// `tsfuse passthrough SOURCE MNT` from the command line: it returns once the mount is ready and keeps serving
// in the background; `tsfuse umount MNT` ends it (the serving process exits). Whether READs reach the server
// is read from its --debug trace (--log FILE): none with kernel passthrough (the default), some with
// --nopassthrough. SOURCE under /var/tmp (ext4).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, sh } from '../helpers/client.js';
import { makeSource, removeSource } from '../helpers/passthrough.js';
import { describeProcesses } from '../helpers/proc.js';
import { abortConnection } from '../../src/kernel/fusectl.js';
import { findMount } from '../../src/kernel/mountinfo.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tsfuse = (args: string[], timeoutMs = 30_000) => run(process.execPath, [CLI, ...args], { timeoutMs });
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function isMounted(dir: string): boolean {
  return findMount(dir)?.mountPoint === dir;
}

/** pids of serving processes for `mnt` (their command line names it and --foreground). */
function servers(mnt: string): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd: string[];
    try {
      cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (cmd.includes(mnt) && cmd.includes('--foreground') && cmd.includes('passthrough')) pids.push(Number(p));
  }
  return pids;
}

async function waitGone(mnt: string, ms = 10_000): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (servers(mnt).length === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The serving process exits within 10 s of the unmount; if not, the failure says what its threads were doing. */
async function assertGone(mnt: string): Promise<void> {
  if (await waitGone(mnt)) return;
  assert.unreachable(`the serving process exited: still up 10 s after the unmount\n${describeProcesses(servers(mnt))}`);
}

/** A mountpoint and a SOURCE; whatever a failed test leaves mounted is aborted and unmounted. */
async function withDirs(fn: (src: string, mnt: string, log: string) => Promise<void>): Promise<void> {
  const src = makeSource('tsfuse-ptcli-');
  const mnt = fs.mkdtempSync(path.join(tmpdir(), 'tsfuse-ptcli-mnt-'));
  const log = path.join(fs.mkdtempSync(path.join(tmpdir(), 'tsfuse-ptcli-log-')), 'trace.log');
  try {
    await fn(src, mnt, log);
  } finally {
    if (isMounted(mnt)) {
      abortConnection(mnt);
      await run('umount', ['-l', mnt], { timeoutMs: 5000 });
    }
    await waitGone(mnt, 5000);
    fs.rmSync(mnt, { recursive: true, force: true });
    fs.rmSync(path.dirname(log), { recursive: true, force: true });
    removeSource(src);
  }
}

/** Who wrote the trace's OPEN lines: a worker ("[worker 0] ..." lines) or the main thread (embedded mode). */
function tracedBy(log: string, who: 'worker' | 'main'): boolean {
  const opens = fs.readFileSync(log, 'utf8').split('\n').filter((l) => / OPEN nodeid /.test(l));
  return opens.length > 0 && opens.every((l) => /\[worker 0\]/.test(l) === (who === 'worker'));
}

/**
 * Waits (up to 10 s) until the trace holds `atLeast` requests of `op`: a worker's trace lines reach the log
 * through the main thread (a message each), so they land a little after the request was answered.
 */
async function traced(log: string, op: string, atLeast: number): Promise<number> {
  const end = Date.now() + 10_000;
  let n = countOps(log, op);
  while (n < atLeast && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    n = countOps(log, op);
  }
  return n;
}

function countOps(log: string, op: string): number {
  const re = new RegExp(` ${op} nodeid `);
  return fs.readFileSync(log, 'utf8').split('\n').filter((l) => re.test(l)).length;
}

test('tsfuse passthrough SOURCE MNT: background mount, ready on return, kernel passthrough (no READ), umount ends it', async () => {
  const data = randomBytes(1 << 20);
  await withDirs(async (src, mnt, log) => {
    fs.writeFileSync(path.join(src, 'big'), data);
    fs.mkdirSync(path.join(src, 'dir'));
    const r = await tsfuse(['passthrough', src, mnt, '--debug', '--log', log]);
    assert.is(r.code, 0, r.stderr);
    assert.ok(isMounted(mnt), 'mounted when the command returned');
    const mi = findMount(mnt)!;
    assert.is(mi.fstype, 'fuse.passthrough');
    assert.is(mi.source, src);
    assert.is(servers(mnt).length, 1, 'one serving process');
    const sum = await sh('sha256sum', [path.join(mnt, 'big')]);
    assert.is(sum.split(' ')[0], sha(data));
    await sh('sh', ['-c', `echo hi > '${mnt}/dir/new' && ls '${mnt}/dir'`]);
    assert.is(fs.readFileSync(path.join(src, 'dir', 'new'), 'utf8'), 'hi\n');
    // the CREATE of dir/new came after sha256sum's reads: once it is in the trace, any READ would be too
    assert.ok((await traced(log, 'CREATE', 1)) >= 1, 'the CREATE is in the trace');
    assert.ok(countOps(log, 'OPEN') >= 1, 'OPEN requests in the trace');
    assert.is(countOps(log, 'READ'), 0, 'READ requests with kernel passthrough');
    assert.is(countOps(log, 'WRITE'), 0, 'WRITE requests with kernel passthrough');
    assert.ok(tracedBy(log, 'worker'), 'one worker serves (worker mode is the default)');
    const u = await tsfuse(['umount', mnt]);
    assert.is(u.code, 0, u.stderr);
    assert.not.ok(isMounted(mnt));
    await assertGone(mnt);
  });
});

test('tsfuse passthrough --nocache --nopassthrough: source changes show at once, READs reach the server', async () => {
  await withDirs(async (src, mnt, log) => {
    fs.writeFileSync(path.join(src, 'f'), 'first');
    const r = await tsfuse(['passthrough', src, mnt, '--nocache', '--nopassthrough', '--workers', '1', '--debug', '--log', log]);
    assert.is(r.code, 0, r.stderr);
    assert.ok(isMounted(mnt));
    assert.is(await sh('cat', [path.join(mnt, 'f')]), 'first');
    fs.writeFileSync(path.join(src, 'f'), 'second, longer');
    fs.writeFileSync(path.join(src, 'g'), 'new');
    assert.is(await sh('sh', ['-c', `cat '${mnt}/f' '${mnt}/g'`]), 'second, longernew');
    fs.unlinkSync(path.join(src, 'g'));
    assert.is((await run('cat', [path.join(mnt, 'g')])).code, 1);
    assert.ok((await traced(log, 'READ', 2)) >= 2, 'READ requests without kernel passthrough');
    const u = await tsfuse(['umount', mnt]);
    assert.is(u.code, 0, u.stderr);
    assert.not.ok(isMounted(mnt));
    await assertGone(mnt);
  });
});

test('tsfuse passthrough --embedded: the main thread serves; the mirror and umount work the same', async () => {
  await withDirs(async (src, mnt, log) => {
    fs.writeFileSync(path.join(src, 'f'), 'first');
    const r = await tsfuse(['passthrough', src, mnt, '--embedded', '--debug', '--log', log]);
    assert.is(r.code, 0, r.stderr);
    assert.ok(isMounted(mnt));
    await sh('sh', ['-c', `cat '${mnt}/f' > '${mnt}/g' && echo more >> '${mnt}/g' && mv '${mnt}/g' '${mnt}/h'`]);
    assert.is(fs.readFileSync(path.join(src, 'h'), 'utf8'), 'firstmore\n');
    assert.ok((await traced(log, 'OPEN', 2)) >= 2 && tracedBy(log, 'main'), 'the main thread answered the OPENs');
    const u = await tsfuse(['umount', mnt]);
    assert.is(u.code, 0, u.stderr);
    assert.not.ok(isMounted(mnt));
    await assertGone(mnt);
  });
});

/** CPU time (user + system, ms) of process `pid`, all threads. */
function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

test('tsfuse passthrough: the worker polls for the next request only right after an answer, never while idle', async () => {
  await withDirs(async (src, mnt) => {
    // polling on; no warm-up, so an idle server has nothing to do at all
    const r = await tsfuse(['passthrough', src, mnt, '--no-warm-up', '--spin-us', '30']);
    assert.is(r.code, 0, r.stderr);
    const [pid] = servers(mnt);
    assert.ok(pid !== undefined, 'one serving process');
    // a burst of metadata calls, each answered while the worker is polling or after it slept
    await sh('sh', ['-c', `cd '${mnt}' && for i in $(seq 200); do touch f$i && mv f$i g$i && rm g$i; done`]);
    assert.equal(fs.readdirSync(src).filter((n) => /^[fg]\d+$/.test(n)), [], 'every file made, renamed and removed');
    const before = cpuMs(pid!);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = cpuMs(pid!) - before;
    // polling that went on after the burst would show as ~1000 ms here
    assert.ok(idle < 100, `the idle server used ${idle} ms of CPU in 1 s`);
    const u = await tsfuse(['umount', mnt]);
    assert.is(u.code, 0, u.stderr);
    await assertGone(mnt);
  });
});

test('tsfuse passthrough: bad SOURCE or MOUNTPOINT is a usage error (exit 2, one line)', async () => {
  const src = makeSource('tsfuse-ptcli-');
  try {
    for (const [args, re] of [
      [['passthrough', '/nonexistent/src', src], /source '\/nonexistent\/src' does not exist/],
      [['passthrough', src, '/nonexistent/mnt'], /does not exist/],
      [['passthrough', src, src], /must differ/],
      [['passthrough', src], /missing argument/],
      [['passthrough', src, tmpdir(), '--workers', '2'], /--workers must be 1/],
      [['passthrough', src, tmpdir(), '--spin-us', '20000'], /--spin-us must be between 0 and 10000/],
      [['passthrough', path.join(src, 'file'), src], /not a directory|does not exist/],
    ] as [string[], RegExp][]) {
      if (args[1].endsWith('/file')) fs.writeFileSync(args[1], '');
      const r = await tsfuse(args);
      assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
  } finally {
    removeSource(src);
  }
});

test.run();
