// The tsfuse command: usage errors, background mounts that return once ready, umount.

import { mkdtempSync, rmdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../helpers/client.js';
import { abortConnection } from '../../src/kernel/fusectl.js';
import { findMount } from '../../src/kernel/mountinfo.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tsfuse = (args: string[], timeoutMs = 30_000) => run(process.execPath, [CLI, ...args], { timeoutMs });

function isMounted(dir: string): boolean {
  return findMount(dir)?.mountPoint === dir;
}

/** Unmounts whatever a failed test left, through fusectl if it hangs. */
async function cleanup(dir: string): Promise<void> {
  if (isMounted(dir)) {
    abortConnection(dir);
    await run('umount', ['-l', dir], { timeoutMs: 5000 });
  }
  try {
    rmdirSync(dir);
  } catch {
    // ignore
  }
}

test('--help prints usage and exits 0', async () => {
  const r = await tsfuse(['--help']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /tsfuse memfs MOUNTPOINT/);
  assert.match(r.stdout, /tsfuse erofs mount IMAGE MOUNTPOINT/);
});

const bad: [string, string[], RegExp][] = [
  ['no command', [], /Usage/],
  ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['unknown option', ['memfs', '/tmp', '--bogus'], /unknown option --bogus/],
  ['missing mountpoint', ['memfs'], /missing argument/],
  ['mountpoint that does not exist', ['memfs', '/nonexistent/dir'], /does not exist/],
  ['--workers not a number', ['memfs', '/tmp', '--workers', 'many'], /whole number/],
  ['--workers zero', ['memfs', '/tmp', '--workers', '0'], /between 1 and 256/],
  ['erofs without subcommand', ['erofs'], /missing erofs subcommand/],
  ['erofs image missing', ['erofs', 'mount', '/nonexistent.img', '/tmp'], /does not exist/],
  ['upperdir without workdir', ['erofs', 'mount', '/etc/hostname', '/tmp', '--basedir', '/tmp', '--overlay', '/tmp', '--upperdir', '/tmp'], /go together/],
  ['passthrough without basedir', ['erofs', 'mount', '/etc/hostname', '/tmp', '--passthrough'], /needs --basedir/],
  ['too many arguments', ['umount', '/a', '/b'], /unexpected argument/],
];
for (const [name, args, re] of bad) {
  test(`bad arguments (${name}): one line on stderr, exit 2`, async () => {
    const r = await tsfuse(args);
    assert.is(r.code, 2, r.stderr);
    if (args.length === 0) return;
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], re);
  });
}

test('memfs mounts in the background, returns once ready, and `tsfuse umount` ends it', async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'tsfuse-cli-'));
  try {
    const r = await tsfuse(['memfs', mnt, '-o', 'fsname=clitest', '--workers', '2']);
    assert.is(r.code, 0, r.stderr);
    assert.ok(isMounted(mnt), 'mounted when the command returned');
    assert.is(findMount(mnt)?.source, 'clitest');
    const w = await run('sh', ['-c', `echo hi > '${mnt}/f' && cat '${mnt}/f'`], { timeoutMs: 10_000 });
    assert.is(w.stdout, 'hi\n');
    const u = await tsfuse(['umount', mnt]);
    assert.is(u.code, 0, u.stderr);
    assert.not.ok(isMounted(mnt));
  } finally {
    await cleanup(mnt);
  }
});

test('a foreground server unmounts cleanly on SIGTERM', async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'tsfuse-cli-'));
  try {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, 'memfs', mnt, '--foreground'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!isMounted(mnt) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(isMounted(mnt), 'mounted');
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.is(code, 0);
    assert.not.ok(isMounted(mnt));
  } finally {
    await cleanup(mnt);
  }
});

test('umount of something that is not a mount point: exit 2', async () => {
  const r = await tsfuse(['umount', '/nonexistent-mountpoint']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /not a mount point/);
});

test('the README names the two set-up commands', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  assert.match(readme, /bash scripts\/setup.sh && npm run sample/);
  assert.match(readme, /^npm test/m);
});

test.run();
