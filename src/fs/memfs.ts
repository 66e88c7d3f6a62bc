// memfs's public module path (src/index.ts, the CLI, worker-mode module paths): the filesystem itself lives
// in ./memfs/, one job per file (see ./memfs/index.ts).
export * from './memfs/index.js';
export { default } from './memfs/index.js';
