// Names of remote images -> a cached RemoteByteSource: http(s)://URL, s3://BUCKET/KEY, docker://HOST/REPO:TAG.
// What a name resolved to (size, ETag, blob digest) is recorded in the cache, so a later mount starts from the
// cache alone when the server cannot be reached (and says so once).

import { createHash } from 'node:crypto';
import { BlockCache, defaultCacheDir } from './block-cache.js';
import { HttpObject, RemoteError, type HttpObjectOptions } from './http-object.js';
import { OciRegistry, parseOciUrl } from './oci-registry.js';
import { RemoteByteSource, type RangeReader, type RemoteByteSourceOptions } from './remote-byte-source.js';
import { s3Object } from './s3.js';
import { SharedInflight } from './shared-inflight.js';
import { RemoteStats } from './stats.js';
export { isRemoteName } from './names.js';

export interface RemoteOptions {
  /** Persistent block cache directory (default $XDG_CACHE_HOME/tsfuse); null: memory only. */
  cacheDir?: string | null;
  /** Bound of the block cache in bytes (default 1 GiB). */
  cacheSize?: number;
  /** S3 endpoint for s3:// names (default AWS_ENDPOINT_URL, else AWS). */
  s3Endpoint?: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Attempts per request (default 4). */
  attempts?: number;
  log?: (message: string) => void;
  /** RemoteStats buffer shared by the mount's workers (see stats.ts). */
  stats?: SharedArrayBuffer;
  /** SharedInflight buffer of the mount's workers (see shared-inflight.ts). */
  inflight?: SharedArrayBuffer;
  /** Log every fetch. */
  debug?: boolean;
  /** A prefix (http(s):// or s3://) that HTTP redirects may not leave (composefs objects). */
  within?: string;
  /** An already open block cache (many objects of one mount share it; cacheDir is then unused). */
  cache?: BlockCache;
}

/** Blobs up to this size are fetched whole and checked against their digest (PuzzleFS chunks, small images). */
const VERIFY_WHOLE_MAX = 4 << 20;

export function hashKey(...parts: Array<string | number | undefined>): string {
  return createHash('sha256').update(parts.map(String).join('\0')).digest('hex').slice(0, 40);
}

interface HttpRef {
  url: string;
  size: number;
  etag: string | undefined;
}

interface BlobRef extends HttpRef {
  digest: string;
}

/** What every RemoteByteSource of a mount shares: cache, log, counters, claims on blocks in flight. */
export function sourceCommon(o: RemoteOptions, cache: BlockCache | undefined, log: (m: string) => void): Omit<RemoteByteSourceOptions, 'key'> {
  // A claim outlives a hung fetch by at most about one request's retries.
  const waitMs = (o.timeoutMs ?? 30_000) * 2;
  return {
    cache, log, debug: o.debug,
    stats: o.stats ? new RemoteStats(o.stats) : undefined,
    shared: o.inflight && cache ? new SharedInflight(o.inflight, waitMs) : undefined,
  };
}

/** Whether a failure means "the server is not there" (so the cache may answer) rather than "it said no". */
export function unreachable(e: unknown): boolean {
  return e instanceof RemoteError ? e.status === 0 || e.status >= 500 : e instanceof TypeError || (e as Error)?.name === 'TimeoutError';
}

export async function openRemoteImage(spec: string, o: RemoteOptions = {}): Promise<RemoteByteSource> {
  const cache = o.cache ?? (o.cacheDir === null ? undefined : new BlockCache({ dir: o.cacheDir ?? defaultCacheDir(), maxBytes: o.cacheSize }));
  const log = o.log ?? ((m: string) => console.error(m));
  const http: HttpObjectOptions = { timeoutMs: o.timeoutMs, attempts: o.attempts };
  const refKey = hashKey('ref', spec, o.s3Endpoint);
  const common = sourceCommon(o, cache, log);

  if (spec.startsWith('docker://')) {
    const registry = new OciRegistry(parseOciUrl(spec), o.timeoutMs);
    let ref: BlobRef;
    let obj: HttpObject;
    try {
      const blob = await registry.resolveErofsLayer();
      ref = { url: blob.url, size: blob.size, etag: undefined, digest: blob.digest };
      obj = await HttpObject.open(blob.url, { ...http, authorize: blob.authorize, reauthorize: blob.reauthorize, known: { size: blob.size } });
      cache?.putRef(refKey, ref);
    } catch (e) {
      const cached = cache?.getRef<BlobRef>(refKey);
      if (!cached || !unreachable(e)) throw e;
      log(`tsfuse remote: ${spec}: registry unreachable (${(e as Error).message}); serving ${cached.digest} from the cache`);
      ref = cached;
      obj = await HttpObject.open(cached.url, { ...http, authorize: registry.auth.authorize, known: { size: cached.size } });
    }
    return digestSource(obj, ref.digest, common);
  }

  let url = spec;
  const extra: HttpObjectOptions = {};
  if (spec.startsWith('s3://')) {
    const s3 = s3Object(spec, o.s3Endpoint);
    url = s3.url;
    extra.authorize = s3.authorize;
  }
  if (o.within !== undefined) extra.within = withinUrl(o.within, o.s3Endpoint);
  let obj: HttpObject;
  try {
    obj = await HttpObject.open(url, { ...http, ...extra });
    if (!obj.etag) log(`tsfuse remote: ${spec}: the server sends no ETag, so a change of the object under the mount cannot be detected`);
    cache?.putRef(refKey, { url, size: obj.size, etag: obj.etag } satisfies HttpRef);
  } catch (e) {
    const cached = cache?.getRef<HttpRef>(refKey);
    if (!cached || !unreachable(e)) throw e;
    log(`tsfuse remote: ${spec}: server unreachable (${(e as Error).message}); serving from the cache`);
    obj = await HttpObject.open(url, { ...http, ...extra, known: { size: cached.size, etag: cached.etag } });
  }
  return new RemoteByteSource(obj, { key: hashKey('http', url, obj.etag, obj.size), ...common });
}

/** The HTTP URL prefix a (http(s):// or s3://) prefix spec names: s3 keys map to URLs as s3Object maps them. */
function withinUrl(prefix: string, endpoint: string | undefined): string {
  const dir = prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (!dir.startsWith('s3://')) return dir;
  const probe = s3Object(`${dir}_`, endpoint).url; // a placeholder key below the prefix, then cut off
  return probe.slice(0, -1);
}

/**
 * A content-addressed blob: cached under its digest. Blobs up to `wholeMax` bytes are fetched whole and checked
 * against it before they are used or cached, so a server handing out wrong bytes answers EIO; larger ones are
 * pinned by digest and size (ranges of a blob cannot be checked against a whole-blob digest).
 */
export function digestSource(obj: RangeReader & { url: string }, digest: string, common: Omit<RemoteByteSourceOptions, 'key'>, wholeMax = VERIFY_WHOLE_MAX): RemoteByteSource {
  const hex = digest.slice('sha256:'.length);
  if (obj.size > wholeMax) return new RemoteByteSource(obj, { key: hex, ...common });
  return new RemoteByteSource(obj, {
    key: hex,
    ...common,
    blockSize: Math.max(1, obj.size),
    verify: (_offset, bytes) => {
      const got = createHash('sha256').update(bytes).digest('hex');
      if (got !== hex) throw new RemoteError(obj.url, 200, `${obj.url}: blob bytes hash to sha256:${got}, not ${digest}`);
    },
  });
}
