// The C client (bench/clients/fsbench.c), compiled once per source version into bench/data/bin/.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DATA, REPO } from './paths.js';
import { runSync } from './proc.js';

let cached: string | undefined;

/** Path of the compiled fsbench binary (compiles it on first use). */
export function fsbench(): string {
  if (cached) return cached;
  const src = join(REPO, 'bench', 'clients', 'fsbench.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const dir = join(BENCH_DATA, 'bin');
  const bin = join(dir, `fsbench-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.tmp${process.pid}`;
    runSync('gcc', ['-O2', '-Wall', '-o', tmp, src], { timeoutMs: 60_000 });
    renameSync(tmp, bin);
  }
  cached = bin;
  return bin;
}

export interface ClientReport {
  kind: string;
  ops: number;
  bytes: number;
  errors: number;
  t0: number;
  t1: number;
  ns: number;
  passes: number;
  create_ns?: number;
  stat_ns?: number;
  unlink_ns?: number;
}

export function parseReport(stdout: string): ClientReport {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ClientReport;
  } catch {
    throw new Error(`fsbench printed no report: ${stdout.slice(0, 200)}`);
  }
}
