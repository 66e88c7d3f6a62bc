#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in its own process, so a crash or a hung mount in
// one file cannot take the others with it, and prints the counted closing line `N passed, N failed`.
// Then, where the kernel has FUSE over io_uring (the fuse module's enable_uring parameter exists), an io_uring
// pass: the parameter is set to Y, the files whose mounts are worker-mode mounts (uringPass below) run again
// with TSFUSE_TEST_IO_URING=1, and the parameter is put back (also on failure or a signal: src/kernel/uring-param.ts,
// loaded from dist/). Both passes count in the closing line. TSFUSE_TEST_IO_URING_PASS=0 leaves the second pass out, =only runs just that one.
// It compiles nothing (run tsc first), but makes the bundle (scripts/bundle.mjs, under a second) when it is
// missing or older than dist/: the CLI's `erofs mount` runs from it, and the tests should run what users run.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
const filters = process.argv.slice(2);
const FILE_TIMEOUT_MS = Number(process.env.TSFUSE_TEST_TIMEOUT_MS ?? 8 * 60_000);

// the same test as src/cli/main.ts makes before it runs the bundle
const bundleMade = statSync(join(root, 'dist', 'bundle', 'erofs-mount.js'), { throwIfNoEntry: false })?.mtimeMs;
if (bundleMade === undefined || bundleMade < statSync(join(root, 'dist', 'src', 'cli', 'main.js')).mtimeMs) {
  process.stdout.write('[run-tests] dist/bundle is missing or older than dist/: node scripts/bundle.mjs\n');
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let running; // the child of the file being run, killed if this process is told to stop

function runFile(file, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], { stdio: ['ignore', 'pipe', 'pipe'], env });
    running = child;
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    const timer = setTimeout(() => {
      out += `\n[run-tests] ${file}: timed out after ${FILE_TIMEOUT_MS} ms, killed\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running = undefined;
      resolve({ code, signal, out });
    });
  });
}

// ---- which files get the io_uring pass ----------------------------------------------------------------------
// The rule: a file gets the pass when it makes worker-mode mounts, because only worker mode serves over
// io_uring (embedded mode, a Filesystem object served in the test's thread, keeps /dev/fuse reads: the ring
// needs a thread that may block in io_uring_enter). Worker-mode mounts are FilesystemModule mounts through
// test/helpers/mount.ts (withMount, withPuzzleMount), EROFS/composefs image mounts (withErofsMount, tsfuseDump)
// and the CLI's `erofs mount` / `puzzlefs mount`; with TSFUSE_TEST_IO_URING=1 those helpers (and the tests' CLI
// mount lines, through test/helpers/uring.ts) ask for io_uring and fail a mount that fell back to /dev/fuse
// reads. Left out: files that mount nothing, files whose mounts are all embedded (test/fs memfs and
// passthrough, the CLI's memfs, path-api's PathLayer tables, fuse-native, test/kernel's own tiny server,
// server/{smoke,forget,notify,embedded-poll}), and the CLI's passthrough (worker mode, but its test checks the
// command's defaults and does not ask for io_uring).
const URING_PASS = [
  'erofs/cli-mount', 'erofs/composefs-views', 'erofs/composefs', 'erofs/corrupt', 'erofs/no-open', 'erofs/oracle-big',
  'erofs/oracle-fixtures', 'erofs/oracle-kit', 'erofs/readdir-policy', 'erofs/startup', 'erofs/verity',
  'erofs/writer/compress', 'erofs/writer/compress-zstd', 'erofs/writer/reader-oracle',
  'puzzlefs/base', 'puzzlefs/cli', 'puzzlefs/corrupt', 'puzzlefs/mount',
  'remote/composefs', 'remote/http', 'remote/puzzlefs', 'remote/readahead', 'remote/registry-token', 'remote/registry', 'remote/s3',
  'path-api/worker-mode', 'passthrough/worker-mode',
  'server/debug', 'server/errors', 'server/inflight', 'server/interrupt', 'server/unmount', 'server/worker-hello',
].map((f) => `dist/test/${f}.test.js`);
/** Worker-mode files left out of the io_uring pass, each with why. */
const URING_EXCLUDE = {
  'dist/test/server/io-uring.test.js': 'tests the transport itself, setting enable_uring both ways in each pass',
};

function uringPass(rel) {
  return URING_PASS.includes(rel) && !(rel in URING_EXCLUDE);
}

// enable_uring is set and put back by the same code the bench uses (src/kernel/uring-param.ts, compiled)
const { URING_PARAM, uringParamPresent, enableUringParam, restoreUringParam } = await import(join(root, 'dist', 'src', 'kernel', 'uring-param.js'));

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    running?.kill('SIGKILL');
    restoreUringParam();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}

// ---- the passes -------------------------------------------------------------------------------------------------
const files = walk(testDir).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
let passed = 0, failed = 0, skipped = 0;
const failures = [];

async function runCounted(file, label, env) {
  const rel = label + relative(root, file);
  console.log(`\n=== ${rel}`);
  const t0 = Date.now();
  const { code, signal, out } = await runFile(file, env);
  // uvu prints "Total: N", "Passed: N", "Skipped: N" (with ANSI colours)
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const pass = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const skip = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  if (Number.isNaN(total) || Number.isNaN(pass)) {
    failed += 1;
    failures.push(`${rel} (no uvu summary; exit ${code ?? signal})`);
  } else {
    passed += pass;
    skipped += skip;
    const f = total - pass - skip;
    failed += f;
    if (f > 0 || code !== 0) {
      if (f === 0) failed += 1;
      failures.push(`${rel} (${f} failed, exit ${code ?? signal})`);
    }
  }
  console.log(`--- ${rel}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const t0 = Date.now();
const uringOnly = process.env.TSFUSE_TEST_IO_URING_PASS === 'only';
if (!uringOnly) for (const file of files) await runCounted(file, '');
const normalMs = Date.now() - t0;
const normalCounts = `${passed} passed, ${failed} failed`;

const uringFiles = files.filter((f) => uringPass(relative(root, f)));
if (filters.length === 0) {
  // a renamed or removed test must not drop out of the io_uring pass unnoticed
  const all = new Set(files.map((f) => relative(root, f)));
  for (const f of URING_PASS) if (!all.has(f)) { failed += 1; failures.push(`[io_uring] ${f}: listed in URING_PASS but not found`); }
}
if (process.env.TSFUSE_TEST_IO_URING_PASS === '0') {
  if (uringFiles.length) console.log(`\n[run-tests] io_uring pass left out (TSFUSE_TEST_IO_URING_PASS=0)`);
} else if (uringFiles.length && !uringParamPresent()) {
  console.log(`\n[run-tests] no io_uring pass: ${URING_PARAM} is missing (no FUSE over io_uring in this kernel)`);
} else if (uringFiles.length) {
  let set = false;
  try {
    enableUringParam();
    set = true;
  } catch (e) {
    // counted: a pass that was asked for and could not run must not look like a green run
    failed += 1;
    failures.push(`[io_uring] pass not run: cannot set ${URING_PARAM} (${e.message})`);
  }
  if (set) {
    console.log(`\n[run-tests] io_uring pass: ${uringFiles.length} files with enable_uring=Y and TSFUSE_TEST_IO_URING=1`);
    const t1 = Date.now();
    const [p0, f0] = [passed, failed];
    try {
      for (const file of uringFiles) await runCounted(file, '[io_uring] ', { ...process.env, TSFUSE_TEST_IO_URING: '1' });
    } finally {
      restoreUringParam();
    }
    const uringMs = Date.now() - t1;
    console.log(`\n[run-tests] normal pass ${(normalMs / 1000).toFixed(0)} s (${normalCounts}); io_uring pass ${(uringMs / 1000).toFixed(0)} s (${passed - p0} passed, ${failed - f0} failed)`);
  }
}
console.log('');
if (failures.length) console.log('Failed files:\n  ' + failures.join('\n  '));
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed ? 1 : 0);
