// The command's entry (src/cli/main.ts) and its bundle: `erofs mount` runs from dist/bundle/erofs-mount.js
// only when that file is at least as new as the entry (tsc rewrites all of dist/, so an older bundle is a copy
// of older code), and from dist/src/cli/command.js otherwise, when there is no bundle, and for every other
// command. The real entry file runs here in a copy of dist/'s layout whose command.js and bundle file only say
// which of them ran; a second check looks at the tree the tests run on, which run-tests.mjs bundles if stale.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../helpers/client.js';

const ENTRY = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const REAL_BUNDLE = fileURLToPath(new URL('../../bundle/erofs-mount.js', import.meta.url));

/** A dist/ with the real entry, and a command.js and a bundle file that print which one ran and its arguments. */
function layout(): { dir: string; entry: string; bundle: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsfuse-bundle-guard-'));
  mkdirSync(join(dir, 'dist/src/cli'), { recursive: true });
  mkdirSync(join(dir, 'dist/bundle'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  const entry = join(dir, 'dist/src/cli/main.js');
  copyFileSync(ENTRY, entry);
  writeFileSync(join(dir, 'dist/src/cli/command.js'), "console.log('command.js ' + process.argv.slice(2).join(' '));\n");
  const bundle = join(dir, 'dist/bundle/erofs-mount.js');
  writeFileSync(bundle, "console.log('bundle ' + process.argv.slice(2).join(' '));\n");
  return { dir, entry, bundle, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Gives `ref` a whole-second mtime and `file` one `deltaS` seconds from it (exactly representable both). */
function touchRelative(file: string, ref: string, deltaS: number): void {
  const t = Math.floor(Date.now() / 1000) - 60;
  utimesSync(ref, t, t);
  utimesSync(file, t + deltaS, t + deltaS);
}

async function ran(entry: string, args: string[]): Promise<string> {
  const r = await run(process.execPath, [entry, ...args], { timeoutMs: 30_000 });
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim();
}

test('erofs mount runs from a bundle newer than the entry', async () => {
  const l = layout();
  try {
    touchRelative(l.bundle, l.entry, 5);
    assert.is(await ran(l.entry, ['erofs', 'mount', 'IMG', 'MNT']), 'bundle erofs mount IMG MNT');
  } finally {
    l.cleanup();
  }
});

test('erofs mount runs from a bundle exactly as old as the entry (npm pack gives every file one mtime)', async () => {
  const l = layout();
  try {
    touchRelative(l.bundle, l.entry, 0);
    assert.is(await ran(l.entry, ['erofs', 'mount', 'IMG', 'MNT']), 'bundle erofs mount IMG MNT');
  } finally {
    l.cleanup();
  }
});

test('a bundle older than the entry (tsc ran since) is not used: the command runs from dist/src', async () => {
  const l = layout();
  try {
    touchRelative(l.bundle, l.entry, -5);
    assert.is(await ran(l.entry, ['erofs', 'mount', 'IMG', 'MNT', '-f']), 'command.js erofs mount IMG MNT -f');
  } finally {
    l.cleanup();
  }
});

test('without a bundle the command runs from dist/src', async () => {
  const l = layout();
  try {
    rmSync(l.bundle);
    assert.is(await ran(l.entry, ['erofs', 'mount', 'IMG', 'MNT']), 'command.js erofs mount IMG MNT');
  } finally {
    l.cleanup();
  }
});

test('every other command runs from dist/src, fresh bundle or not', async () => {
  const l = layout();
  try {
    touchRelative(l.bundle, l.entry, 5);
    assert.is(await ran(l.entry, ['erofs', 'dump', 'IMG']), 'command.js erofs dump IMG');
    assert.is(await ran(l.entry, ['umount', 'MNT']), 'command.js umount MNT');
    assert.is(await ran(l.entry, ['--version']), 'command.js --version');
  } finally {
    l.cleanup();
  }
});

test('the tree under test has a fresh bundle, so the CLI tests run what users run', () => {
  const made = statSync(REAL_BUNDLE, { throwIfNoEntry: false });
  assert.ok(made, `${REAL_BUNDLE} is missing: npm run build makes it`);
  assert.ok(made.mtimeMs >= statSync(ENTRY).mtimeMs, `${REAL_BUNDLE} is older than ${ENTRY}: npm run build (or node scripts/bundle.mjs)`);
});

test.run();
