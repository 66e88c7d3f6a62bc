// Worker-mode factory for an EROFS or composefs image that lives on a server, or whose composefs objects do (a
// remote --basedir, with the image local or remote): each worker opens the remote sources itself (they share the
// persistent block cache, not memory), builds the image filesystem over them once the bytes it needs at start are
// local, and serves it through awaitingBytes so a read that needs more bytes is answered when they arrive instead
// of blocking the worker's thread.

import { defaultLog, ErofsFilesystem, type ErofsFilesystemOptions } from '../erofs/filesystem.js';
import type { Filesystem } from '../fs/types.js';
import { awaitingBytes, untilBytes } from './await-bytes.js';
import { BlockCache, defaultCacheDir } from './block-cache.js';
import { isRemoteName } from './names.js';
import { RemoteObjectStore } from './object-store.js';
import { openRemoteImage, type RemoteOptions } from './open.js';

export interface RemoteErofsOptions extends Omit<ErofsFilesystemOptions, 'image'> {
  /** http(s)://, s3:// or docker:// name of the image, or a local path when only basedir is remote. */
  image: string;
  remote?: Omit<RemoteOptions, 'log'>;
}

export async function createFilesystem(options: RemoteErofsOptions): Promise<Filesystem> {
  const log = options.log ?? defaultLog();
  const r = options.remote ?? {};
  const cache = r.cacheDir === null ? undefined : new BlockCache({ dir: r.cacheDir ?? defaultCacheDir(), maxBytes: r.cacheSize });
  const remote: RemoteOptions = { ...r, cache, log };
  const image = isRemoteName(options.image) ? await openRemoteImage(options.image, remote) : options.image;
  const objectSource = options.basedir && isRemoteName(options.basedir) ? new RemoteObjectStore(options.basedir, remote) : undefined;
  const basedir = objectSource ? undefined : options.basedir;
  const fs = await untilBytes(() => new ErofsFilesystem({ ...options, image, basedir, objectSource, log }));
  return awaitingBytes(fs);
}
