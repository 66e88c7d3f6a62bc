// composefs objects at a URL prefix (http(s):// or s3://): the remote ObjectSource. A redirect is checked by the
// same lexical rules as a local store's (validateRedirect: no '..' above the store, no empty components, no NUL)
// and every component is percent-encoded, so the URL it makes always lies beneath the prefix; HTTP redirects
// must stay beneath it too (HttpObjectOptions.within). Each object is
// opened once (a HEAD for its size and ETag) through openRemoteImage, so its blocks go through the mount's block
// cache and count in its statistics; until the lookup is done the request waits on BytesPending.

import { BytesPending } from '../erofs/bytesource.js';
import { validateRedirect, type ObjectSource, type StoreObject } from '../erofs/object-store.js';
import { Errno, ERRNO } from '../protocol/errno.js';
import { BlockCache, defaultCacheDir } from './block-cache.js';
import { RemoteError } from './http-object.js';
import { openRemoteImage, type RemoteOptions } from './open.js';
import type { RemoteByteSource } from './remote-byte-source.js';

/** The URL of the object a (validated, store-relative) path names beneath prefix. */
export function objectUrl(prefix: string, rel: string): string {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return `${base}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

/** Looked-up objects kept (size, ETag, memory blocks); the oldest is forgotten beyond this and looked up again. */
const MAX_OBJECTS = 4096;

type Entry = { source: RemoteByteSource } | { pending: Promise<void> };

export class RemoteObjectStore implements ObjectSource {
  private readonly entries = new Map<string, Entry>();
  private readonly options: RemoteOptions;

  constructor(readonly prefix: string, options: RemoteOptions = {}) {
    if (!/^(https?|s3):\/\//.test(prefix)) throw new Errno(ERRNO.EINVAL, `object store ${prefix}: an http(s):// or s3:// prefix`);
    const cache = options.cache ?? (options.cacheDir === null ? undefined : new BlockCache({ dir: options.cacheDir ?? defaultCacheDir(), maxBytes: options.cacheSize }));
    this.options = { ...options, cache };
  }

  openObject(redirect: string): StoreObject {
    const rel = validateRedirect(redirect);
    const entry = this.entries.get(rel);
    // the source's key names the pinned object (URL, ETag, size): what a remembered fs-verity check stands for
    if (entry && 'source' in entry) return { bytes: entry.source, identity: entry.source.key };
    if (entry) throw new BytesPending(entry.pending);
    const pending = openRemoteImage(objectUrl(this.prefix, rel), { ...this.options, within: this.prefix }).then(
      (source) => {
        this.entries.set(rel, { source });
        if (this.entries.size > MAX_OBJECTS) {
          // The filesystem holds the objects it has open itself; this only bounds what is remembered.
          for (const [key, e] of this.entries) {
            if ('source' in e) {
              this.entries.delete(key);
              break;
            }
          }
        }
      },
      (e: unknown) => {
        // Forget the failure: a later open asks again (the server may be back).
        this.entries.delete(rel);
        if (e instanceof RemoteError && (e.status === 404 || e.status === 403)) throw new Errno(ERRNO.ENOENT, `object ${rel}: ${e.message}`);
        throw e;
      },
    );
    this.entries.set(rel, { pending });
    throw new BytesPending(pending);
  }
}
