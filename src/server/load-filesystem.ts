// Building a worker-mode filesystem from its FilesystemModule: in each serving worker, and in the owning
// thread when it serves first (session.ts). Its own module so that the owner does not load worker.ts' serving
// loops to get it.

import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Filesystem, FilesystemModule } from '../fs/types.js';
import { bundledModule } from './bundled.js';

export async function loadFilesystem(mod: FilesystemModule): Promise<Filesystem> {
  const url = mod.module.startsWith('file:') ? mod.module : pathToFileURL(mod.module).href;
  const fromBundle = bundledModule(fileURLToPath(url));
  const ns = (fromBundle ? await fromBundle() : await import(url)) as Record<string, unknown>;
  const name = mod.export ?? 'createFilesystem';
  const factory = ns[name];
  if (typeof factory !== 'function') throw new Error(`${mod.module} has no exported function ${name}`);
  return (await (factory as (o: unknown) => Filesystem | Promise<Filesystem>)(mod.options)) as Filesystem;
}
