// `mkcomposefs` as a function: SOURCE (a directory, or with fromFile a dumpfile, '-' for stdin) to a
// composefs image, byte for byte what mkcomposefs 1.0.8 writes. As there, --from-file ignores the options
// that describe how to read a directory (epoch, devices, xattrs, digest store).

import { writeComposefs } from './composefs-image.js';
import { readComposefsSource } from './composefs-source.js';
import { fillDigestStore } from './digest-store.js';
import { parseDumpfile } from './dumpfile.js';

export interface MkcomposefsOptions {
  source: string;
  /** Image path ('-' = stdout); undefined with printDigestOnly. */
  image: string | undefined;
  fromFile?: boolean;
  digestStore?: string;
  useEpoch?: boolean;
  skipDevices?: boolean;
  skipXattrs?: boolean;
  userXattrs?: boolean;
  /** Defaults 0 and 1 (LCFS_DEFAULT_VERSION_MIN/MAX). */
  minVersion?: number;
  maxVersion?: number;
  digest?: boolean;
  /** Threads for the digests of a directory's files (default: one per CPU). */
  threads?: number;
}

/** Writes the image; returns the image's fs-verity digest (hex) when `digest` is set. */
export async function mkcomposefs(o: MkcomposefsOptions): Promise<string | undefined> {
  const root = o.fromFile
    ? parseDumpfile(o.source)
    : await readComposefsSource(o.source, {
        useEpoch: o.useEpoch, skipDevices: o.skipDevices, skipXattrs: o.skipXattrs, userXattrs: o.userXattrs, threads: o.threads,
      });
  if (!o.fromFile && o.digestStore) fillDigestStore(root, o.digestStore);
  const d = writeComposefs(root, { image: o.image, minVersion: o.minVersion ?? 0, maxVersion: o.maxVersion ?? 1, digest: !!o.digest });
  return d?.toString('hex');
}
