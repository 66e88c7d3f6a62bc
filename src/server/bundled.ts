// What code running from the bundle (scripts/bundle.mjs) loads by path. The bundle is one file per kind of
// thread (the `erofs mount` command, a worker serving a local or a remote EROFS image, an embedded-mode
// reader), each holding every module its thread runs, so that the thread loads one file rather than a module
// graph of ~80. A module loaded by path inside a thread (a worker-mode filesystem module: loadFilesystem) must
// then come from that same file: a second copy loaded from dist/src would compile its graph again and have
// classes of its own, so instanceof between the two copies would fail (the EROFS filesystem's fast path for
// the dispatcher's DirentWriter, the dispatcher's Errno check). A new thread may start from any file: threads
// share no module instances.

import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Defined by scripts/bundle.mjs in each bundle file: its name, the bundle file a serving worker starts from
 * for each filesystem module (by path under dist/), and the reader's.
 */
declare const TSFUSE_BUNDLE: { name: string; workers: Record<string, string>; reader: string } | undefined;

/** dist/ (this module is dist/src/server/bundled.js; in the bundle each module keeps its own import.meta.url). */
const DIST = fileURLToPath(new URL('../..', import.meta.url));

type Namespace = Record<string, unknown>;
const held = new Map<string, () => Promise<Namespace>>();

/** In a bundle's entry, before anything else runs: the modules loaded by path that this file holds. */
export function holdModules(mods: Record<string, () => Promise<Namespace>>): void {
  for (const [path, load] of Object.entries(mods)) held.set(path, load);
}

/**
 * How to load the module at `file` (a path): from the file (undefined), or in the bundle its copy there. In the
 * bundle a module it does not hold is an error, not a silent second copy.
 */
export function bundledModule(file: string): (() => Promise<Namespace>) | undefined {
  if (typeof TSFUSE_BUNDLE === 'undefined') return undefined;
  const rel = relative(DIST, file);
  const load = held.get(rel);
  if (!load) throw new Error(`tsfuse: ${rel} is not in the bundle file ${TSFUSE_BUNDLE.name} (scripts/bundle.mjs)`);
  return load;
}

/**
 * The script a serving worker starts from (`worker`, dist/src/server/worker.js), given the filesystem module it
 * will load: in the bundle, the bundle file holding that module if there is one.
 */
export function workerScript(worker: URL, fsModule: string): string {
  if (typeof TSFUSE_BUNDLE === 'undefined') return fileURLToPath(worker);
  const file = TSFUSE_BUNDLE.workers[relative(DIST, fsModule.startsWith('file:') ? fileURLToPath(fsModule) : fsModule)];
  return file !== undefined ? `${DIST}bundle/${file}` : fileURLToPath(worker);
}

/** The script an embedded-mode reader starts from (`reader`, dist/src/server/reader-thread.js), or its bundle file. */
export function readerScript(reader: URL): string {
  return typeof TSFUSE_BUNDLE === 'undefined' ? fileURLToPath(reader) : `${DIST}bundle/${TSFUSE_BUNDLE.reader}`;
}
