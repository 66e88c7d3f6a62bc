// Helpers for the tests that check our tables against C: locate the reference fuse_kernel.h, compile a tiny C
// program against a copy of it (or of another reference header, e.g. erofs_fs.h) with the system compiler, run
// it and parse its "key value" lines.
//
// The header is the repository's reference/fuse_kernel.h (see reference/README.md), or $TSFUSE_FUSE_KERNEL_H.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FUSE_KERNEL_H } from '../helpers/fixtures.js';

export function headerPath(): string {
  return process.env.TSFUSE_FUSE_KERNEL_H ?? FUSE_KERNEL_H;
}

export function headerText(): string {
  return readFileSync(headerPath(), 'utf8');
}

function compiler(): string {
  for (const c of [process.env.CC, 'cc', 'gcc', 'clang']) {
    if (!c) continue;
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch {
      // try the next one
    }
  }
  throw new Error('no C compiler (cc/gcc/clang) found: the ABI checks need one');
}

/** Another header to compile against, with the C lines that must precede it (kernel types, macros). */
export interface HeaderUnderTest {
  path: string;
  prelude?: string;
}

/**
 * Compiles `body` (statements of main) with the given includes plus "fuse_kernel.h" (or `header`; a copy, in a
 * temp dir), runs it and returns its stdout parsed as `key value` lines (values as BigInt, keys unique).
 */
export function runC(includes: string[], body: string, header: HeaderUnderTest = { path: headerPath() }): Map<string, bigint> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfuse-abi-'));
  try {
    const name = basename(header.path);
    copyFileSync(header.path, join(dir, name));
    const src = [
      ...['stdio.h', 'stddef.h', 'stdint.h', ...includes].map((h) => `#include <${h}>`),
      header.prelude ?? '',
      `#include "${name}"`,
      '#define P(k, v) printf("%s %lld\\n", k, (long long)(v))',
      '#define U(k, v) printf("%s %llu\\n", k, (unsigned long long)(v))',
      'int main(void) {',
      body,
      'return 0;',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'abi.c'), src);
    execFileSync(compiler(), ['-std=gnu11', '-Wall', '-Werror', '-o', join(dir, 'abi'), join(dir, 'abi.c')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = execFileSync(join(dir, 'abi'), { encoding: 'utf8' });
    const map = new Map<string, bigint>();
    for (const line of out.split('\n')) {
      if (!line) continue;
      const sp = line.lastIndexOf(' ');
      const key = line.slice(0, sp);
      if (map.has(key)) throw new Error(`duplicate key ${key}`);
      map.set(key, BigInt(line.slice(sp + 1)));
    }
    return map;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A C string literal for a key. */
export function lit(s: string): string {
  return JSON.stringify(s);
}
