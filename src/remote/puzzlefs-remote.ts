// Worker-mode factory for a PuzzleFS image on a server (an OCI layout at an http(s):// or s3:// prefix, or a
// docker:// registry repository): each worker opens the remote store itself (workers share the persistent block
// cache, not memory), builds the one PuzzleFS filesystem over it once the index, manifest and rootfs are local,
// and serves it through awaitingBytes so a read whose chunk blob is still being fetched is answered when it
// arrives instead of blocking the worker's thread.

import { zstdReady } from '../compress/zstd.js';
import { defaultLog } from '../erofs/filesystem.js';
import type { Filesystem } from '../fs/types.js';
import { type OpenImageOptions, PuzzleImage } from '../puzzlefs/image.js';
import { PuzzleFilesystem, type PuzzleFilesystemOptions } from '../puzzlefs/filesystem.js';
import { awaitingBytes, untilBytes } from './await-bytes.js';
import type { RemoteOptions } from './open.js';
import { RemotePuzzleStore } from './puzzle-store.js';

export interface RemotePuzzleOptions extends PuzzleFilesystemOptions {
  /** Cache directory and bound, S3 endpoint, timeouts, shared statistics. */
  remote?: Omit<RemoteOptions, 'log'>;
}

/** Opens a remote image (for `dump` and `info`): the tag in the name unless `o.tag` says otherwise. */
export async function openRemotePuzzleImage(spec: string, o: OpenImageOptions, remote: RemoteOptions): Promise<PuzzleImage> {
  await zstdReady;
  const { store, tag } = await RemotePuzzleStore.open(spec, remote);
  return untilBytes(() => PuzzleImage.open(store, { ...o, tag: o.tag ?? tag }));
}

export async function createFilesystem(options: RemotePuzzleOptions): Promise<Filesystem> {
  await zstdReady;
  const log = options.log ?? defaultLog();
  const { store, tag } = await RemotePuzzleStore.open(options.dir, { ...options.remote, log });
  const fs = await untilBytes(() => new PuzzleFilesystem({ ...options, tag: options.tag ?? tag, log }, store));
  return awaitingBytes(fs);
}
