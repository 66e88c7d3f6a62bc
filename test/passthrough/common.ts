// What the test files of test/passthrough/ share: each file checks one capability of the passthrough
// filesystem mounted for real, in every configuration of test/helpers/passthrough.ts's matrix (cache/nocache
// x kernel passthrough on/off). Checks run in python3 child processes (this thread serves the mount); a check
// that must not see the kernel caches of the process that made a change runs in a second, fresh child.

import { suite } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import { inPython, type PyOptions } from '../helpers/python.js';
import { configName, selectedConfigs, withPassthrough, type PtConfig, type PtMounted, type PtMountOptions } from '../helpers/passthrough.js';

/**
 * A python check with S (SOURCE) and Q(*parts) (a path under SOURCE) in scope besides mnt and P, and `defs`
 * (unindented python, e.g. helper functions) before the dedented body.
 */
export function py<T = unknown>(m: PtMounted, body: string, opts?: PyOptions, defs = ''): Promise<T> {
  const lines = body.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n');
  const ind = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  const src = lines.map((l) => l.slice(ind)).join('\n');
  return inPython<T>(m.mnt, `S = ${JSON.stringify(m.src)}\ndef Q(*parts):\n    return os.path.join(S, *parts)\n${defs}\n${src}`, opts);
}

/** lstat of a path under SOURCE (the test thread may touch SOURCE, never the mount). */
export function lstatSrc(m: PtMounted, ...parts: string[]): fs.Stats {
  return fs.lstatSync(path.join(m.src, ...parts));
}

export type Mounted = <T>(fn: (m: PtMounted) => Promise<T>, opts?: PtMountOptions) => Promise<T>;

/** Defines and runs one suite per selected configuration; `define` adds the tests. */
export function matrix(title: string, define: (t: ReturnType<typeof suite>, mounted: Mounted, cfg: PtConfig) => void): void {
  for (const cfg of selectedConfigs()) {
    const t = suite(`${title} [${configName(cfg)}]`);
    define(t, (fn, opts) => withPassthrough(cfg, fn, opts), cfg);
    t.run();
  }
}

/** Waits (up to 30 s) until a child has created `name` in SOURCE, its way of saying it is ready. */
export async function waitForSource(m: PtMounted, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(path.join(m.src, name))) {
    if (Date.now() > deadline) throw new Error(`the child never created ${name}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
