// Worker-mode factory for an EROFS or composefs image that lives on a server: each worker opens the remote
// source itself (they share the persistent block cache, not memory), builds the image filesystem over it once the
// bytes it needs at start are local, and serves it through awaitingBytes so a read that needs more bytes is
// answered when they arrive instead of blocking the worker's thread.

import { defaultLog, ErofsFilesystem, type ErofsFilesystemOptions } from '../erofs/filesystem.js';
import type { Filesystem } from '../fs/types.js';
import { awaitingBytes, untilBytes } from './await-bytes.js';
import { openRemoteImage, type RemoteOptions } from './open.js';

export interface RemoteErofsOptions extends Omit<ErofsFilesystemOptions, 'image'> {
  /** http(s)://, s3:// or docker:// name of the image. */
  image: string;
  remote?: Omit<RemoteOptions, 'log'>;
}

export async function createFilesystem(options: RemoteErofsOptions): Promise<Filesystem> {
  const log = options.log ?? defaultLog();
  const source = await openRemoteImage(options.image, { ...options.remote, log });
  const fs = await untilBytes(() => new ErofsFilesystem({ ...options, image: source, log }));
  return awaitingBytes(fs);
}
