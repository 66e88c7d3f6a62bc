// Mounting the passthrough filesystem for tests: a fresh SOURCE tree under /var/tmp (ext4: kernel passthrough
// does not work with backing files on tmpfs), the filesystem object wrapped so tests can count calls by method
// (reads that kernel passthrough keeps away from the server, lookups of odd names...), and the session options
// of `tsfuse passthrough` (src/cli/main.ts cmdPassthrough): timeouts 86400, or 0 with nocache, kernel passthrough
// negotiated unless turned off, EXPORT_SUPPORT and HANDLE_KILLPRIV_V2 wanted. allow_other so checks can run as
// an unprivileged uid.
//
// The configurations of the test matrix are named `cache` / `nocache` crossed with `pt` (kernel passthrough)
// / `nopt`; TSFUSE_PT_CONFIGS=nocache+pt,cache+nopt picks some of them.

import fs from 'node:fs';
import path from 'node:path';
import { withMount, type MountedTest } from './mount.js';
import { wrapFs } from './fs-wrappers.js';
import { createPassthroughFs, type PassthroughFs } from '../../src/fs/passthrough/index.js';
import type { Filesystem } from '../../src/fs/types.js';

export const SOURCE_BASE = '/var/tmp';

export interface PtConfig {
  /** Mirrors --nocache: timeouts 0, no keep_cache, no negative entries. */
  nocache: boolean;
  /** Mirrors the default (true) / --nopassthrough (false). */
  passthrough: boolean;
}

export function configName(c: PtConfig): string {
  return `${c.nocache ? 'nocache' : 'cache'}+${c.passthrough ? 'pt' : 'nopt'}`;
}

export const ALL_CONFIGS: PtConfig[] = [
  { nocache: false, passthrough: true },
  { nocache: false, passthrough: false },
  { nocache: true, passthrough: true },
  { nocache: true, passthrough: false },
];

/** The configurations to run: all four, or those named in TSFUSE_PT_CONFIGS (comma-separated). */
export function selectedConfigs(from: PtConfig[] = ALL_CONFIGS): PtConfig[] {
  const want = process.env.TSFUSE_PT_CONFIGS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!want?.length) return from;
  return from.filter((c) => want.includes(configName(c)));
}

/** A fresh, empty SOURCE directory (0755, so other uids can reach the mount's root). */
export function makeSource(prefix = 'tsfuse-ptm-', base = SOURCE_BASE): string {
  const d = fs.mkdtempSync(path.join(base, prefix));
  fs.chmodSync(d, 0o755);
  return d;
}

/** Removes a SOURCE tree (after its mount is gone). */
export function removeSource(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    // left for the OS temp cleaner
  }
}

export interface PtMounted extends MountedTest {
  /** The SOURCE directory (the test thread may touch it freely: it is not the mount). */
  src: string;
  /** The real filesystem object. */
  pt: PassthroughFs;
  /** The object the session serves (counts calls; overrides applied). */
  served: Filesystem;
  /** Calls the session made, by method name. */
  calls: Record<string, number>;
  /** What the filesystem and the session logged. */
  logs: string[];
  config: PtConfig;
}

export interface PtMountOptions {
  /** Use this SOURCE instead of a fresh one (it is then not removed afterwards). */
  source?: string;
  /** Filled in SOURCE before mounting. */
  setup?: (src: string) => void;
  timeoutMs?: number;
  workers?: number;
  /** Methods replaced on the served object (close over `pt` through the getter argument to delegate). */
  overrides?: (pt: PassthroughFs) => Partial<Record<keyof Filesystem, (...args: any[]) => unknown>>;
  maxDirFds?: number;
  debug?: boolean;
}

/** Mounts SOURCE through the passthrough filesystem in configuration `config` for the duration of `fn`. */
export async function withPassthrough<T>(config: PtConfig, fn: (m: PtMounted) => Promise<T>, opts: PtMountOptions = {}): Promise<T> {
  const src = opts.source ?? makeSource();
  const logs: string[] = [];
  const log = (m: string): void => {
    logs.push(m);
  };
  try {
    opts.setup?.(src);
    const pt = createPassthroughFs({ source: src, nocache: config.nocache, passthrough: config.passthrough, log, maxDirFds: opts.maxDirFds });
    const { fs: served, calls } = wrapFs(pt as Filesystem, opts.overrides?.(pt) ?? {});
    const timeout = config.nocache ? 0 : 86400;
    return await withMount(
      served,
      {
        fsname: src,
        subtype: 'passthrough',
        options: ['allow_other'],
        workers: opts.workers ?? 2,
        passthrough: config.passthrough,
        entryTimeout: timeout,
        attrTimeout: timeout,
        want: ['EXPORT_SUPPORT', 'HANDLE_KILLPRIV_V2'],
        timeoutMs: opts.timeoutMs ?? 60_000,
        debug: opts.debug,
        log,
      },
      (m) => fn({ ...m, src, pt, served, calls, logs, config }),
    );
  } finally {
    if (!opts.source) removeSource(src);
  }
}

/** Resets the counters of `calls` (between the phases of one test). */
export function resetCalls(calls: Record<string, number>): void {
  for (const k of Object.keys(calls)) delete calls[k];
}
