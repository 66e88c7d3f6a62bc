// bench/run.ts's fuse-native section: bench/fuse-native.ts's comparison with fuse-native from bench/data/peers
// (installed there on first use), written to fuse-native.md in the results directory.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFuseNativeComparison } from '../fuse-native.js';
import { fuseNativeMissing } from './contenders.js';
import { BENCH_DATA } from './paths.js';

/** Returns the path written (a note saying why when fuse-native is unavailable). */
export async function fuseNativeSection(rounds: number, out: string, log: (s: string) => void): Promise<string> {
  mkdirSync(out, { recursive: true });
  const file = join(out, 'fuse-native.md');
  const head = '# tsfuse/fuse-native vs fuse-native\n\nThe same fuse-native program (bench/fuse-native.ts) on both; Python clients; rounds alternate.\n\n';
  const why = fuseNativeMissing();
  if (why) {
    log(`fuse-native section skipped: ${why}`);
    writeFileSync(file, `${head}Skipped: ${why}\n`);
    return file;
  }
  log('fuse-native section');
  const table = await runFuseNativeComparison(join(BENCH_DATA, 'peers'), rounds);
  writeFileSync(file, `${head}${table}\n`);
  return file;
}
