#!/usr/bin/env node
// The bundle (`npm run build` runs this after tsc): dist/bundle/, made from dist/src by esbuild. Node's ESM
// loader pays a resolve, stat, read and compile per module, and a background `erofs mount` loads ~76 of them
// before its mount answers; each of its serving workers loads ~50 more. Here each kind of thread gets one file
// holding all it runs (bench/results/startup.md, round 3: the same code imported in 71 ms as modules, 46 ms as
// the ~45 chunks of esbuild's code splitting, 25 ms as one file).
//
// - One file per kind of thread, no shared chunks: threads share no module instances anyway. A module a thread
//   loads by path (a worker-mode filesystem module) is held by its file (src/cli/bundle/*.ts, holdModules) and
//   looked up there (src/server/bundled.ts), never loaded a second time from dist/src. Only what `erofs mount`
//   runs is bundled; every other command, and the library, run from dist/src.
// - import.meta.url: each module keeps its own (its file's URL in dist/src, written relative to the bundle
//   file, so that the tree can move): paths next to a module and createRequire resolve as before.
// - Packages (ffi-rs, koffi, zstd's wasm, ...) stay outside: native addons and wasm files load from node_modules.
// - src/cli/main.ts runs the bundle only when it is not older than dist/ (tsc rewrites all of dist/).
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const outdir = join(dist, 'bundle');

/** Bundle file -> its entry under dist/. */
const BUNDLES = {
  'erofs-mount.js': 'src/cli/bundle/erofs-mount.js',
  'erofs-worker.js': 'src/cli/bundle/erofs-worker.js',
  'erofs-remote-worker.js': 'src/cli/bundle/erofs-remote-worker.js',
  'reader-thread.js': 'src/server/reader-thread.js',
};

/** Where bundled code starts threads (src/server/bundled.ts): a serving worker by the filesystem module it loads. */
const THREADS = {
  workers: { 'src/erofs/filesystem.js': 'erofs-worker.js', 'src/remote/erofs-remote.js': 'erofs-remote-worker.js' },
  reader: 'reader-thread.js',
};

/** Gives every module of dist/src its own import.meta.url back (esbuild would leave the bundle file's). */
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/dist\/src\/.*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(outdir, args.path);
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

await rm(outdir, { recursive: true, force: true });
await Promise.all(Object.entries(BUNDLES).map(([file, entry]) => build({
  entryPoints: [join(dist, entry)],
  outfile: join(outdir, file),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  define: { TSFUSE_BUNDLE: JSON.stringify({ name: file, ...THREADS }) },
  plugins: [ownImportMetaUrl],
  logLevel: 'warning',
})));

// Not a bundle, but made from dist/ by the same step: the image server's warm-up image (src/erofs/warm-up-image.ts),
// written once here rather than by each serving worker at run time.
const { writeWarmUpImage, WARM_UP_IMAGE } = await import(join(dist, 'src', 'erofs', 'warm-up-image.js'));
writeWarmUpImage(WARM_UP_IMAGE);
