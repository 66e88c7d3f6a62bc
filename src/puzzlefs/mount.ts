// Serving a PuzzleFS image: a worker-mode session whose workers each open the same OCI layout (blobs are read
// through the page cache every worker shares; each worker keeps its own decoded-chunk cache), or the same remote
// image (src/remote/puzzlefs-remote.ts: blobs through the shared block cache, many requests in flight per
// worker). The image is opened once here first, so a bad image refuses to mount with its reason instead of
// failing in every worker.

import { fileURLToPath } from 'node:url';
import { Session } from '../server/session.js';
import { isRemoteName } from '../remote/names.js';
import type { RemoteOptions } from '../remote/open.js';
import { SharedInflight } from '../remote/shared-inflight.js';
import { RemoteStats } from '../remote/stats.js';
import { createFilesystem, type PuzzleFilesystemOptions } from './filesystem.js';

export interface MountPuzzleOptions {
  /** The layout directory, or an http(s)://, s3:// or docker:// name (see src/remote/puzzle-store.ts). */
  dir: string;
  tag?: string;
  mountpoint: string;
  verity?: boolean;
  manifestDigest?: string;
  workers?: number;
  options?: string[];
  debug?: boolean;
  log?: (msg: string) => void;
  /** Remote images: cache directory and bound, S3 endpoint, timeouts. */
  remote?: Omit<RemoteOptions, 'log'>;
}

export interface MountedPuzzle {
  session: Session;
  /** Remote images: fetch statistics of all workers, one line. */
  remoteStats?: () => string;
  closed: Promise<void>;
  unmount(): Promise<void>;
}

const FS_MODULE = fileURLToPath(new URL('./filesystem.js', import.meta.url));
const REMOTE_FS_MODULE = fileURLToPath(new URL('../remote/puzzlefs-remote.js', import.meta.url));
/** Requests a worker serving a remote image may have waiting for fetches. */
const REMOTE_IN_FLIGHT = 16;
/** Cache timeouts: the image never changes under the mount. */
const IMAGE_TIMEOUT = 86400;

export async function mountPuzzlefs(o: MountPuzzleOptions): Promise<MountedPuzzle> {
  const remote = isRemoteName(o.dir);
  const stats = remote ? new RemoteStats() : undefined;
  const fsOptions: PuzzleFilesystemOptions & { remote?: Omit<RemoteOptions, 'log'> } = {
    dir: o.dir, tag: o.tag, verity: o.verity, manifestDigest: o.manifestDigest,
    remote: stats ? { ...o.remote, stats: stats.buffer, inflight: new SharedInflight().buffer, debug: o.debug } : undefined,
  };
  // Fails here, once, with the reason (corrupt rootfs, missing blob, digest mismatch, inode loop, 404...).
  if (remote) await (await import('../remote/puzzlefs-remote.js')).createFilesystem({ ...fsOptions, log: o.log });
  else await createFilesystem(fsOptions);
  const options = [...(o.options ?? [])];
  if (!options.includes('ro') && !options.includes('rw')) options.push('ro');
  const session = await Session.mount(
    { module: remote ? REMOTE_FS_MODULE : FS_MODULE, export: 'createFilesystem', inFlight: remote ? REMOTE_IN_FLIGHT : undefined, options: fsOptions },
    {
      mountpoint: o.mountpoint, fsname: o.dir, subtype: 'puzzlefs', options, workers: o.workers, debug: o.debug,
      entryTimeout: IMAGE_TIMEOUT, attrTimeout: IMAGE_TIMEOUT, log: o.log, readdirplus: 'auto',
    },
  );
  return {
    session,
    remoteStats: stats && (() => stats.format()),
    closed: session.closed,
    unmount: () => session.unmount(),
  };
}
