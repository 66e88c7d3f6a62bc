// The oracle comparison: the same image mounted by the in-kernel EROFS driver and by tsfuse, both trees dumped
// in child processes (test/helpers/tree-dump.ts: path, type, mode, uid, gid, nlink, mtime ns, size, rdev, symlink
// target, every xattr, sha256 of content), and the dumps compared.

import * as assert from 'uvu/assert';
import { withKernelMount } from '../kit/index.js';
import { type DumpOptions, diffDumps, dumpTreeInChild } from '../../helpers/tree-dump.js';
import { type ErofsMountOptions, serverLines, withErofsMount } from './mount.js';

export const DUMP_TIMEOUT_MS = 120_000;

export async function kernelDump(image: string, opts: DumpOptions = {}): Promise<string> {
  return withKernelMount(image, (dir) => dumpTreeInChild(dir, DUMP_TIMEOUT_MS, opts));
}

export interface TsfuseDump {
  dump: string;
  /** Image-server log lines (corruption, unsupported features...). */
  serverLog: string[];
  mountMs: number;
  dumpMs: number;
}

/** Dumps the tsfuse mount of `image`; fails if a serving thread ended while it was mounted. */
export async function tsfuseDump(image: string, mount: Omit<ErofsMountOptions, 'image'>, opts: DumpOptions = {}): Promise<TsfuseDump> {
  return withErofsMount({ image, ...mount }, async (h) => {
    const t0 = performance.now();
    const dump = await dumpTreeInChild(h.mnt, DUMP_TIMEOUT_MS, opts);
    const dumpMs = performance.now() - t0;
    assert.equal(h.threadEvents, [], `serving threads ended while ${image} was mounted`);
    assert.ok(h.m.session.alive, 'session still alive after the dump');
    return { dump, serverLog: serverLines(h.logs), mountMs: h.mountMs, dumpMs };
  });
}

/** Asserts two dumps are identical, with a readable diff in the failure message. */
export function assertSameDump(kernel: string, tsfuse: string, label: string): void {
  const d = diffDumps(kernel, tsfuse, 20, ['kernel', 'tsfuse']);
  assert.ok(d === '', `${label}: the tsfuse dump differs from the kernel's\n${d}`);
}

/** Sanity: a dump that is about a real tree (not two empty dumps agreeing). */
export function assertSubstantial(dump: string, minEntries: number, label: string): void {
  const entries = dump.split('\n').filter((l) => l.startsWith('/') && !l.includes('  xattr ')).length;
  assert.ok(entries >= minEntries, `${label}: only ${entries} entries in the dump`);
  assert.ok(/ sha256=[0-9a-f]{64}/.test(dump), `${label}: no file content hashed`);
  assert.not.match(dump, / !error |!getfattr /, `${label}: errors while dumping`);
}

/** Every line of `dump` whose content hash is `sha256=!error:CODE`. */
export function contentErrors(dump: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of dump.split('\n')) {
    const m = / sha256=!error:(\S+)/.exec(l);
    if (m) out.set(l.slice(0, l.indexOf(' ')), m[1]!);
  }
  return out;
}
