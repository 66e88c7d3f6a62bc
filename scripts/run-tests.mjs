#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in its own process, so a crash or a hung mount in
// one file cannot take the others with it, and prints the counted closing line `N passed, N failed`.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
const filters = process.argv.slice(2);
const FILE_TIMEOUT_MS = Number(process.env.TSFUSE_TEST_TIMEOUT_MS ?? 8 * 60_000);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    const timer = setTimeout(() => {
      out += `\n[run-tests] ${file}: timed out after ${FILE_TIMEOUT_MS} ms, killed\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

const files = walk(testDir).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
let passed = 0, failed = 0, skipped = 0;
const failures = [];
for (const file of files) {
  const rel = relative(root, file);
  console.log(`\n=== ${rel}`);
  const t0 = Date.now();
  const { code, signal, out } = await runFile(file);
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
console.log('');
if (failures.length) console.log('Failed files:\n  ' + failures.join('\n  '));
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed ? 1 : 0);
