// What an EROFS mount is made of, apart from mounting it: the filesystem module every worker builds and the
// session options. Its own module so that the CLI's background mount (src/cli/hand-over.ts) gets the same
// mount without loading the session and the remote stack it does not use.

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import type { FilesystemModule } from '../fs/types.js';
import { STABLE_TREE_TIMEOUT } from '../fs/entries.js';
import type { RemoteOptions } from '../remote/open.js';
import type { AdoptedConnection, SessionOptions } from '../server/session.js';
import type { VerityMode } from './verity-check.js';

export interface MountErofsOptions {
  /** A path, or an http(s)://, s3:// or docker:// name (fetched lazily through the block cache). */
  image: string;
  /** For remote images: cache directory and bound, S3 endpoint, timeouts. */
  remote?: Omit<RemoteOptions, 'log'>;
  mountpoint: string;
  /** composefs object store (objects/XX/rest live below it): a directory, or an http(s):// or s3:// prefix. */
  basedir?: string;
  /** fs-verity of composefs objects: 'off', 'check' (default: when the image carries a digest), 'require'. */
  verity?: VerityMode;
  /** Hand object files to the kernel (FUSE passthrough); needs basedir. */
  passthrough?: boolean;
  /** Mount overlayfs at this directory on top of a metadata-only FUSE mount. */
  overlay?: string;
  upperdir?: string;
  workdir?: string;
  workers?: number;
  /** Bytes the image caches of the whole server may hold (--cache-size), shared out evenly between the workers. */
  cacheSize?: number;
  options?: string[];
  debug?: boolean;
  log?: (msg: string) => void;
  /** SessionOptions.serveFirst (default: for a local image); false where another process serves first (the CLI). */
  serveFirst?: boolean;
  /** SessionOptions.adopt: serve a connection another process mounted (the CLI's hand-over). */
  adopt?: AdoptedConnection;
  /** SessionOptions.warmUp (default true): each worker compiles its request path on a built-in image while idle. */
  warmUp?: boolean;
}

const FS_MODULE = fileURLToPath(new URL('./filesystem.js', import.meta.url));
/** Requests a worker serving a remote image may have waiting for fetches (each holds a ring slot and a lane). */
const REMOTE_IN_FLIGHT = 16;
const REMOTE_FS_MODULE = fileURLToPath(new URL('../remote/erofs-remote.js', import.meta.url));

/** Cache timeouts: the image never changes under the mount. */
const IMAGE_TIMEOUT = STABLE_TREE_TIMEOUT;

/**
 * READDIRPLUS 'auto': the kernel asks for READDIRPLUS only while entries are being looked up (ls -l, find
 * -type): a plain listing of a big directory then costs READDIR records, not an inode per entry.
 */
export const IMAGE_READDIRPLUS = 'auto' as const;

/** Default budget of a whole image server's decoded-image caches, shared out between its workers. */
export const DEFAULT_SERVER_CACHE_BYTES = 16 * 1024 * 1024;
/** The least a worker gets by default however many CPUs there are (a 1 MiB extent next to its metadata). */
const MIN_DEFAULT_WORKER_CACHE = 8 * 1024 * 1024;

/**
 * Each worker has its own reader, so each gets its share of the budget (image bytes stay in the page cache):
 * --cache-size split evenly, or by default DEFAULT_SERVER_CACHE_BYTES split with a floor per worker. A copy of
 * 16 MiB per worker cost ~30 MiB of peak RSS on a tar of /usr with two workers for no gain in speed there
 * (bench/results/findings.md, "Memory").
 */
function perWorkerCache(o: MountErofsOptions): number {
  const workers = Math.max(1, o.workers ?? availableParallelism());
  if (o.cacheSize !== undefined) return Math.floor(o.cacheSize / workers);
  return Math.max(MIN_DEFAULT_WORKER_CACHE, Math.floor(DEFAULT_SERVER_CACHE_BYTES / workers));
}

/**
 * V8 limits of each image worker. The young generation: the default (16 MiB semi-spaces on 64-bit) is mostly
 * garbage between scavenges, resident in every worker; the reader's buffers are allocated once (page slots,
 * extent ring), so a small one costs few extra scavenges and saves its size per worker. The old generation:
 * V8 lets it grow to up to 4x its live size between full GCs when the limit is large (by default it is sized
 * from the machine's memory, GBs here), and ~1.3x when the limit is 256 MiB or less (heap growing factors of
 * V8's MemoryController). A worker's live heap is its caches' objects (bounded by the budget) plus a few MiB,
 * so 256 MiB more than twice its budget leaves ample room and keeps the growth small: ~25 MiB less peak RSS
 * on a tar of /usr with two workers (bench/results/findings.md, "Memory").
 */
function imageWorkerLimits(cacheBytes: number): ResourceLimits {
  return { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256 + Math.ceil((2 * cacheBytes) / (1024 * 1024)) };
}

/** Shared memory of a remote mount's workers: fetch statistics and the blocks being fetched. */
export interface RemoteShared {
  stats: SharedArrayBuffer;
  inflight: SharedArrayBuffer;
}

/** The filesystem module and session options of the mount `o` asks for (`remote` for a remote image or basedir). */
export function erofsMountSpec(o: MountErofsOptions, remote?: RemoteShared): { module: FilesystemModule; session: SessionOptions } {
  const mode = o.overlay ? 'overlay' : 'plain';
  const cacheSize = perWorkerCache(o);
  const options = [...(o.options ?? [])];
  if (!options.includes('ro') && !options.includes('rw')) options.push('ro');
  // overlayfs reads the lower layer with the mounter's credentials, so an overlay view needs no allow_other as root.
  return {
    module: {
      module: remote ? REMOTE_FS_MODULE : FS_MODULE,
      export: 'createFilesystem',
      // A remote image's reads wait for fetches: let each worker keep serving meanwhile.
      inFlight: remote ? REMOTE_IN_FLIGHT : undefined,
      options: {
        image: o.image, basedir: o.basedir, mode, passthrough: !!o.passthrough, cacheSize,
        verity: o.verity ?? 'check', debug: !!o.debug,
        remote: remote ? { ...o.remote, stats: remote.stats, inflight: remote.inflight, debug: o.debug } : undefined,
      },
    },
    session: {
      mountpoint: o.mountpoint, fsname: o.image, subtype: 'erofs', options, workers: o.workers, debug: o.debug,
      passthrough: !!o.passthrough, entryTimeout: IMAGE_TIMEOUT, attrTimeout: IMAGE_TIMEOUT, log: o.log,
      readdirplus: IMAGE_READDIRPLUS, workerLimits: imageWorkerLimits(cacheSize),
      // Every instance of a local image's filesystem answers alike (inode numbers are nids), so this thread may
      // answer the first requests while worker 0 boots, even with one worker. Not for a remote image: this
      // thread would fetch the same blocks again, and the fetch, not the boot, is what the first stat waits for.
      serveFirst: o.serveFirst ?? !remote,
      // Read-only: no open needs the server (the VFS refuses writes), so the filesystem may answer OPEN and
      // OPENDIR with ENOSYS (filesystem.ts init) and the kernel stops sending them and their RELEASEs.
      want: options.includes('ro') ? ['NO_OPEN_SUPPORT', 'NO_OPENDIR_SUPPORT'] : undefined,
      adopt: o.adopt,
      // A fresh worker's first listing or find would otherwise run cold code: ~50 ms of V8 compiling per worker
      // (bench/results/metadata.md, rounds 3 and 5), paid by whoever looks first.
      warmUp: o.warmUp ?? true,
    },
  };
}
