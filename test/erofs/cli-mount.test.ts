// The command line: `tsfuse erofs mount IMAGE MNT` goes to the background and returns once the mount is
// ready, the mount serves the image, and `tsfuse umount MNT` ends it (mount gone, serving process exited);
// the same with `--basedir --overlay DIR` (overlayfs at DIR over the FUSE mount). Every test cleans up after
// itself even when the command misbehaves: lazy unmounts, fusectl abort, and SIGKILL of the serving process
// it started (found by its unique mountpoint in the command line). Needs root.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildComposefsImage, buildImage, run, withKernelMount } from './kit/index.js';
import { dumpTreeInChild, diffDumps } from '../helpers/tree-dump.js';
import { abortConnection } from '../../src/kernel/fusectl.js';
import { readMountInfo } from '../../src/kernel/mountinfo.js';
import { Timings, tempDir } from './conformance/mount.js';
import { startWatchdog } from '../helpers/mount.js';
import { tinyTree } from './conformance/trees.js';
import { assertCliMountOverUring, uringMountArgs } from '../helpers/uring.js';
import { loadedBelow, moduleLogEnv } from '../helpers/module-log.js';
import { describeProcesses } from '../helpers/proc.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const DIST = fileURLToPath(new URL('../..', import.meta.url));
const base = tempDir('tsfuse-cli-', '/var/tmp');
const timings = new Timings('cli timings');
let image: string;
let cfs: string;
let objects: string;
let source: string;

test.before(async () => {
  source = tinyTree(path.join(base, 'tree'), 50, 6);
  image = path.join(base, 'tree.erofs');
  await buildImage(source, image, 'default');
  cfs = path.join(base, 'cfs.erofs');
  objects = path.join(base, 'objects');
  await buildComposefsImage(source, cfs, objects, { inlineMax: 64 });
});

test.after(() => {
  timings.print();
  fs.rmSync(base, { recursive: true, force: true });
});

function mountsAt(dir: string): string[] {
  return readMountInfo().filter((m) => m.mountPoint === dir).map((m) => m.fstype);
}

/** pids of processes whose command line names `needle` (our unique mountpoint). */
async function serverPids(needle: string): Promise<number[]> {
  const r = await run('pgrep', ['-f', '--', needle], { check: false, timeoutMs: 5_000 });
  return r.stdout.toString().split('\n').filter(Boolean).map(Number).filter((p) => p !== process.pid);
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The mount's serving process ends within 10 s of the unmount; if not, the failure says what it was doing. */
async function assertServerExited(mnt: string, log?: string): Promise<void> {
  if (await waitFor(async () => (await serverPids(mnt)).length === 0, 10_000)) return;
  const connections = fs.existsSync('/sys/fs/fuse/connections') ? fs.readdirSync('/sys/fs/fuse/connections') : [];
  const waiting = connections.map((c) => `${c}: ${fs.readFileSync(`/sys/fs/fuse/connections/${c}/waiting`, 'utf8').trim()} waiting`);
  const tail = log && fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').slice(-40).join('\n') : '';
  assert.unreachable([
    'the serving process exited: still up 10 s after the unmount',
    describeProcesses(await serverPids(mnt)),
    `mounted at ${mnt}: ${JSON.stringify(mountsAt(mnt))}; fuse connections: ${waiting.join(', ') || 'none'}`,
    tail && `last lines of the log:\n${tail}`,
  ].filter(Boolean).join('\n'));
}

/** Leaves nothing behind: overlay and FUSE mounts detached, the connection aborted, our server killed. */
async function cleanup(mnt: string, overlay?: string): Promise<void> {
  for (const d of [overlay, mnt]) {
    if (!d) continue;
    while (mountsAt(d).length > 0) {
      if (mountsAt(d).some((t) => t.startsWith('fuse'))) abortConnection(d);
      const r = await run('umount', ['-l', d], { check: false, timeoutMs: 5_000 });
      if (r.status !== 0) break;
    }
  }
  if (!(await waitFor(async () => (await serverPids(mnt)).length === 0, 5_000))) {
    for (const pid of await serverPids(mnt)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

test('erofs mount in the background: returns when ready, serves, `tsfuse umount` ends it', async () => {
  const mnt = tempDir('mnt-', base);
  try {
    const t0 = performance.now();
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', image, mnt, ...uringMountArgs()], { timeoutMs: 30_000, check: false });
    timings.note(`erofs mount returned after ${(performance.now() - t0).toFixed(0)} ms`);
    assert.is(r.status, 0, r.stderr);
    await assertCliMountOverUring(mnt);
    // ready means mounted and answering, at once
    assert.equal(mountsAt(mnt), ['fuse.erofs']);
    const pids = await serverPids(mnt);
    assert.is(pids.length, 1, `one serving process: ${pids.join(' ')}`);
    const kernel = await withKernelMount(image, (d) => dumpTreeInChild(d, 30_000));
    const ours = await dumpTreeInChild(mnt, 30_000);
    const d = diffDumps(kernel, ours, 10, ['kernel', 'tsfuse erofs mount']);
    assert.ok(d === '', d);
    const u = await run(process.execPath, [CLI, 'umount', mnt], { timeoutMs: 10_000, check: false });
    assert.is(u.status, 0, u.stderr);
    assert.equal(mountsAt(mnt), []);
    await assertServerExited(mnt);
  } finally {
    await cleanup(mnt);
    fs.rmSync(mnt, { recursive: true, force: true });
  }
});

test('erofs mount runs from the bundle: the command, its server and the workers load one file each', async () => {
  const mnt = tempDir('mnt-', base);
  const log = path.join(base, 'modules.log');
  try {
    // every node process of the mount (the command, the server it starts) and their threads log what they load
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', image, mnt, '--workers', '1', ...uringMountArgs()], { timeoutMs: 30_000, check: false, env: moduleLogEnv(log) });
    assert.is(r.status, 0, r.stderr);
    // the command returns once the server's worker serves
    assert.ok(fs.readdirSync(mnt).length > 0);
    const u = await run(process.execPath, [CLI, 'umount', mnt], { timeoutMs: 10_000, check: false });
    assert.is(u.status, 0, u.stderr);
    await assertServerExited(mnt);
    // of dist/: the entry (command and server), the command's bundle file (both) and the worker's; packages aside
    assert.equal(loadedBelow(log, DIST), ['bundle/erofs-mount.js', 'bundle/erofs-worker.js', 'src/cli/main.js']);
  } finally {
    await cleanup(mnt);
    fs.rmSync(mnt, { recursive: true, force: true });
    fs.rmSync(log, { force: true });
  }
});

/** Stats fresh names (one LOOKUP each) under argv[1] until the file argv[2] exists; prints the error codes seen. */
const POLLER = `
  const fs = require('node:fs'), path = require('node:path');
  const [mnt, stop] = [process.argv[1], process.argv[2]];
  const codes = {};
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let i = 0;
  for (const end = Date.now() + 30000; Date.now() < end && !fs.existsSync(stop); i++) {
    try { fs.statSync(path.join(mnt, 'h' + i)); codes.found = (codes.found || 0) + 1; }
    catch (e) { codes[e.code] = (codes[e.code] || 0) + 1; }
    Atomics.wait(nap, 0, 0, 0.5);
  }
  process.stdout.write(JSON.stringify({ polled: i, codes }));
`;

/** The names of the LOOKUPs in the root that --debug trace lines show. */
function lookedUp(lines: string[]): string[] {
  return lines.flatMap((l) => / LOOKUP nodeid 1 .*\{"name":"(h\d+)"\}/.exec(l)?.[1] ?? []);
}

test('erofs mount in the background: the command answers first and hands over; each request answered once', async () => {
  const mnt = tempDir('mnt-', base);
  const log = path.join(base, 'hand-over.log');
  const stop = path.join(base, 'hand-over.stop');
  const watchdog = startWatchdog(mnt, 60_000, () => abortConnection(mnt));
  try {
    // From before the mount until after the command returned, a stat of a new name every ~0.5 ms: each one
    // LOOKUP, answered by the command or by the server's workers (their trace lines start `[worker N]`), both
    // tracing to the --log file.
    const poller = spawn(process.execPath, ['-e', POLLER, mnt, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let polled = '';
    poller.stdout.setEncoding('utf8');
    poller.stdout.on('data', (d: string) => (polled += d));
    const pollerDone = new Promise<void>((resolve) => poller.once('close', () => resolve()));
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', image, mnt, '--debug', '--log', log], { timeoutMs: 30_000, check: false });
    assert.is(r.status, 0, r.stderr);
    await new Promise((resolve) => setTimeout(resolve, 300));
    fs.writeFileSync(stop, '');
    await pollerDone;
    const seen = JSON.parse(polled) as { polled: number; codes: Record<string, number> };
    // nothing failed or hung at the hand-over: every name is simply absent
    assert.equal(Object.keys(seen.codes), ['ENOENT'], JSON.stringify(seen.codes));
    const u = await run(process.execPath, [CLI, 'umount', mnt], { timeoutMs: 10_000, check: false });
    assert.is(u.status, 0, u.stderr);
    await assertServerExited(mnt, log);
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    const byCommand = lookedUp(lines.filter((l) => !l.startsWith('[worker ')));
    const byServer = lookedUp(lines.filter((l) => l.startsWith('[worker ')));
    assert.ok(byCommand.length > 0, 'the command answered the first requests');
    assert.ok(byServer.length > 0, 'the server answered the later ones');
    // each name from the first one answered on reached the server exactly once, from one process or the other
    const all = [...byCommand, ...byServer].map((n) => Number(n.slice(1))).sort((a, b) => a - b);
    const first = all[0]!;
    const expected = Array.from({ length: all[all.length - 1]! - first + 1 }, (_, k) => first + k);
    assert.equal(all, expected);
    timings.note(`hand-over: ${byCommand.length} LOOKUPs answered by the command, ${byServer.length} by the server`);
  } finally {
    watchdog.stop();
    await cleanup(mnt);
    fs.rmSync(mnt, { recursive: true, force: true });
    fs.rmSync(stop, { force: true });
  }
});

test('erofs mount: errors are reported by the launching command (bad image, missing basedir)', async () => {
  const mnt = tempDir('mnt-', base);
  try {
    const bad = path.join(base, 'not-an-image');
    fs.writeFileSync(bad, Buffer.alloc(8192));
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', bad, mnt], { timeoutMs: 30_000, check: false });
    assert.is(r.status, 1);
    assert.match(r.stderr, /EROFS|superblock|magic/i);
    assert.equal(mountsAt(mnt), [], 'nothing left mounted');
    const u = await run(process.execPath, [CLI, 'erofs', 'mount', cfs, mnt, '--overlay', mnt], { timeoutMs: 30_000, check: false });
    assert.is(u.status, 2, 'usage error');
    assert.match(u.stderr, /--overlay needs --basedir/);
  } finally {
    await cleanup(mnt);
    fs.rmSync(mnt, { recursive: true, force: true });
  }
});

test('erofs mount --basedir --overlay DIR: content through DIR; `tsfuse umount MNT` ends it', async () => {
  const mnt = tempDir('mnt-', base);
  const ov = tempDir('ov-', base);
  try {
    const t0 = performance.now();
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', cfs, mnt, '--basedir', objects, '--overlay', ov, ...uringMountArgs()], { timeoutMs: 30_000, check: false });
    timings.note(`erofs mount --overlay returned after ${(performance.now() - t0).toFixed(0)} ms`);
    assert.is(r.status, 0, r.stderr);
    await assertCliMountOverUring(mnt);
    assert.equal(mountsAt(mnt), ['fuse.erofs']);
    assert.equal(mountsAt(ov), ['overlay']);
    // content (and everything but the overlay.* xattr namespace) through DIR is the source tree
    const opts = { excludeXattrs: '^(trusted|user)\\.overlay\\.' };
    const want = await dumpTreeInChild(source, 30_000, opts);
    const got = await dumpTreeInChild(ov, 30_000, opts);
    const d = diffDumps(want, got, 10, ['source', 'overlay']);
    assert.ok(d === '', d);
    const u = await run(process.execPath, [CLI, 'umount', mnt], { timeoutMs: 10_000, check: false });
    assert.is(u.status, 0, u.stderr);
    const gone = await waitFor(async () => mountsAt(mnt).length === 0 && mountsAt(ov).length === 0 && (await serverPids(mnt)).length === 0, 10_000);
    const left = `mounts at MNT: [${mountsAt(mnt).join(' ')}], at DIR: [${mountsAt(ov).join(' ')}], serving processes: [${(await serverPids(mnt)).join(' ')}]`;
    assert.ok(gone, `after \`tsfuse umount MNT\`: ${left}`);
  } finally {
    await cleanup(mnt, ov);
    fs.rmSync(mnt, { recursive: true, force: true });
    fs.rmSync(ov, { recursive: true, force: true });
  }
});

test.run();
