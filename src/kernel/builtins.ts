// Node built-ins that a module needs only on some paths, loaded on first use. An ESM import loads a built-in
// (and its graph of Node's internal modules) when the importing module loads, which for the CLI's `erofs
// mount` is before the mount can answer: node:child_process (for starting the server, fusermount3) and
// node:zlib (DEFLATE images only) cost ~4-5 ms of CPU together there (bench/results/startup.md, round 3).

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let cp: typeof import('node:child_process') | undefined;
let z: typeof import('node:zlib') | undefined;

export function childProcess(): typeof import('node:child_process') {
  return (cp ??= require('node:child_process') as typeof import('node:child_process'));
}

export function zlib(): typeof import('node:zlib') {
  return (z ??= require('node:zlib') as typeof import('node:zlib'));
}
