// Worker mode for a PathFilesystem: `Session.mount(pathWorkerModule({ module, export, options }), { workers: 1 })`.
// The worker imports the filesystem's module, builds it through its factory and wraps it in a PathLayer.
// The inode<->path table lives in that one worker: with several workers each would hand out its own node ids
// for the same names, so a second worker refuses to start (one clear error before anything is mounted).

import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';
import type { FilesystemModule } from '../types.js';
import { loadFilesystem } from '../../server/load-filesystem.js';
import { PathLayer } from './layer.js';
import type { PathFilesystem, PathLayerOptions } from './types.js';

export interface PathWorkerOptions {
  /** The module that exports a factory `(options) => PathFilesystem`. */
  module: string;
  /** The factory's name (default 'createFilesystem'). */
  export?: string;
  options?: unknown;
  layer?: PathLayerOptions;
}

/** The FilesystemModule that serves a PathFilesystem module in worker mode. */
export function pathWorkerModule(opts: PathWorkerOptions): FilesystemModule {
  return { module: fileURLToPath(new URL('./worker.js', import.meta.url)), export: 'createPathLayer', options: opts, maxWorkers: 1 };
}

export async function createPathLayer(opts: PathWorkerOptions): Promise<PathLayer> {
  const index = (workerData as { index?: number } | undefined)?.index ?? 0;
  if (index > 0) throw new Error('a path filesystem is served by one worker (workers: 1): its inode<->path table lives in one thread');
  const fs = (await loadFilesystem({ module: opts.module, export: opts.export, options: opts.options })) as unknown as PathFilesystem;
  return new PathLayer(fs, opts.layer);
}
