// Which files a node process (and its children and threads) loads: the environment below adds
// `--import module-log-register.js` to NODE_OPTIONS, so every process started with it, and every worker thread
// of those, logs each file:// URL it loads to `logFile` (module-log-hooks.ts).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REGISTER = fileURLToPath(new URL('./module-log-register.js', import.meta.url));

/** The environment that makes node processes log their modules to `logFile`. */
export function moduleLogEnv(logFile: string): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${REGISTER}`.trim(), TSFUSE_TEST_MODULE_LOG: logFile };
}

/** The files logged to `logFile` below `dir` (paths relative to it), each once, sorted. */
export function loadedBelow(logFile: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  const files = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((u) => fileURLToPath(u));
  return [...new Set(files.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length)))].sort();
}
