// Serving a PuzzleFS image: a worker-mode session whose workers each open the same OCI layout (blobs are read
// through the page cache every worker shares; each worker keeps its own decoded-chunk cache). The image is
// opened once here first, so a bad image refuses to mount with its reason instead of failing in every worker.

import { fileURLToPath } from 'node:url';
import { Session } from '../server/session.js';
import { createFilesystem, type PuzzleFilesystemOptions } from './filesystem.js';

export interface MountPuzzleOptions {
  dir: string;
  tag?: string;
  mountpoint: string;
  verity?: boolean;
  manifestDigest?: string;
  workers?: number;
  options?: string[];
  debug?: boolean;
  log?: (msg: string) => void;
}

const FS_MODULE = fileURLToPath(new URL('./filesystem.js', import.meta.url));
/** Cache timeouts: the image never changes under the mount. */
const IMAGE_TIMEOUT = 86400;

export async function mountPuzzlefs(o: MountPuzzleOptions): Promise<Session> {
  const fsOptions: PuzzleFilesystemOptions = { dir: o.dir, tag: o.tag, verity: o.verity, manifestDigest: o.manifestDigest };
  // Fails here, once, with the reason (corrupt rootfs, missing blob, digest mismatch, inode loop...).
  await createFilesystem(fsOptions);
  const options = [...(o.options ?? [])];
  if (!options.includes('ro') && !options.includes('rw')) options.push('ro');
  return Session.mount(
    { module: FS_MODULE, export: 'createFilesystem', options: fsOptions },
    {
      mountpoint: o.mountpoint, fsname: o.dir, subtype: 'puzzlefs', options, workers: o.workers, debug: o.debug,
      entryTimeout: IMAGE_TIMEOUT, attrTimeout: IMAGE_TIMEOUT, log: o.log, readdirplus: 'auto',
    },
  );
}
