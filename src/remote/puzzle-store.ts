// PuzzleFS images on a server, as a PuzzleBlobStore (src/puzzlefs/blob-store.ts) so the one PuzzleFS reader
// serves them:
//   http(s)://HOST/PATH[:TAG], s3://BUCKET/PREFIX[:TAG]  an OCI layout published under a prefix (index.json and
//                                                        blobs/sha256/HEX below it; redirects stay beneath it)
//   docker://HOST[:PORT]/REPO[:TAG|@DIGEST]              a registry repository whose manifest is a PuzzleFS one
// The index (or the registry's manifest) is fetched when the store opens; every blob is fetched lazily, whole,
// through a RemoteByteSource keyed by its digest (so the persistent block cache serves later mounts) and
// checked against its sha256 before it is used or cached: a wrong byte answers EIO and names the digest. Until a
// blob is local, reading it throws BytesPending and the reader runs again once it is (src/remote/await-bytes.ts).

import { BytesPending } from '../erofs/bytesource.js';
import { LruCache } from '../erofs/reader/lru.js';
import type { PuzzleBlobStore } from '../puzzlefs/blob-store.js';
import { corrupt } from '../puzzlefs/errors.js';
import {
  checkBlobDigest, type Descriptor, MAX_JSON, MEDIA_MANIFEST, parseIndex, readDescribed, resolveTag, sha256Hex, TAG_ANNOTATION, tagsOf,
} from '../puzzlefs/oci.js';
import { BlockCache, defaultCacheDir } from './block-cache.js';
import { HttpObject, type Authorize, type HttpObjectOptions } from './http-object.js';
import { OciRegistry, parseOciUrl } from './oci-registry.js';
import { digestSource, hashKey, sourceCommon, unreachable, type RemoteOptions } from './open.js';
import type { RemoteByteSource, RemoteByteSourceOptions } from './remote-byte-source.js';
import { s3Object } from './s3.js';

/** Blobs up to this size are fetched in one piece and checked before use (every FastCDC chunk; most rootfs blobs). */
const WHOLE_MAX = 64 << 20;
/**
 * Blob sources kept open, each holding its blob in memory (chunks are at most 256 KiB from FastCDC); older ones
 * are dropped and their blobs come from the disk cache. The reader keeps decoded chunks in its own cache.
 */
const OPEN_SOURCES = 256;

/** A remote PuzzleFS name split into where the layout (or repository) is and which tag. */
export interface PuzzleRemoteRef {
  kind: 'layout' | 'registry';
  /** The layout prefix (no trailing '/', no tag), or the docker:// name as given. */
  location: string;
  tag: string | undefined;
}

/**
 * http(s)://HOST/PATH:TAG and s3://BUCKET/PREFIX:TAG: the tag is what follows the last ':' of the last path
 * component (a port is never there); docker:// names keep their own syntax (parseOciUrl).
 */
export function parsePuzzleRemote(spec: string): PuzzleRemoteRef {
  if (spec.startsWith('docker://')) {
    parseOciUrl(spec);
    return { kind: 'registry', location: spec, tag: undefined };
  }
  const m = /^(https?:\/\/[^/]+|s3:\/\/[^/]+)(\/.*)?$/.exec(spec);
  if (!m || !m[2] || m[2] === '/') throw new Error(`${spec}: expected http(s)://HOST/PATH[:TAG] or s3://BUCKET/PREFIX[:TAG] (an OCI layout)`);
  let rest = m[2].replace(/\/+$/, '');
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new Error(`${spec}: '${tag}' is not a valid tag`);
  }
  return { kind: 'layout', location: `${m[1]}${rest}`, tag };
}

interface BlobAccess {
  url(hex: string): string;
  http: HttpObjectOptions;
}

type Open = { source: RemoteByteSource } | { pending: Promise<void> } | { failed: true };

export class RemotePuzzleStore implements PuzzleBlobStore {
  /** Blob sizes from the manifest (a blob not listed there is asked for with a HEAD). */
  private readonly sizes = new Map<string, number>();
  /** Blobs known without a fetch: the registry's manifest (its digest is its hash). */
  private readonly held = new Map<string, Buffer>();
  private readonly open = new LruCache<string, Open>(OPEN_SOURCES);
  private readonly common: Omit<RemoteByteSourceOptions, 'key'>;

  private constructor(
    readonly name: string,
    private readonly manifests: Descriptor[],
    private readonly access: BlobAccess,
    o: RemoteOptions,
    cache: BlockCache | undefined,
  ) {
    this.common = sourceCommon(o, cache, o.log ?? ((m: string) => console.error(m)));
  }

  /**
   * Opens the store: fetches the layout's index.json, or resolves the registry reference to its manifest. What
   * it got is recorded in the block cache, so when the server cannot be reached a later mount starts from there
   * (its blobs are in the cache under their digests).
   */
  static async open(spec: string, o: RemoteOptions = {}): Promise<{ store: RemotePuzzleStore; tag: string | undefined }> {
    const ref = parsePuzzleRemote(spec);
    const cache = o.cache ?? (o.cacheDir === null ? undefined : new BlockCache({ dir: o.cacheDir ?? defaultCacheDir(), maxBytes: o.cacheSize }));
    const http: HttpObjectOptions = { timeoutMs: o.timeoutMs, attempts: o.attempts };
    const log = o.log ?? ((m: string) => console.error(m));
    const refKey = hashKey('puzzlefs', spec, o.s3Endpoint);
    /** The fetched document, or the cached one when the server is unreachable (and it was recorded). */
    const orCached = async (fetchIt: () => Promise<Buffer>, check: (b: Buffer) => boolean): Promise<Buffer> => {
      try {
        const bytes = await fetchIt();
        cache?.putRef(refKey, { bytes: bytes.toString('base64') });
        return bytes;
      } catch (e) {
        const saved = cache?.getRef<{ bytes?: unknown }>(refKey)?.bytes;
        const bytes = typeof saved === 'string' ? Buffer.from(saved, 'base64') : undefined;
        if (!bytes || !check(bytes) || !unreachable(e)) throw e;
        log(`tsfuse remote: ${spec}: server unreachable (${(e as Error).message}); starting from the cache`);
        return bytes;
      }
    };
    if (ref.kind === 'registry') {
      const registry = new OciRegistry(parseOciUrl(spec), o.timeoutMs);
      const wanted = registry.ref.reference;
      const bytes = await orCached(async () => (await registry.manifest(wanted)).bytes, (b) => !wanted.startsWith('sha256:') || sha256Hex(b) === wanted.slice(7));
      const digest = `sha256:${sha256Hex(bytes)}`;
      let json: { manifests?: unknown; mediaType?: string };
      try {
        json = JSON.parse(bytes.toString('utf8')) as typeof json;
      } catch {
        corrupt(`${spec}: manifest ${digest} is not JSON`);
      }
      if (json.manifests) throw new Error(`${spec}: an image index, not a PuzzleFS manifest`);
      const tag = registry.ref.reference.startsWith('sha256:') ? digest : registry.ref.reference;
      const d: Descriptor = { mediaType: json.mediaType ?? MEDIA_MANIFEST, digest, size: bytes.length, annotations: { [TAG_ANNOTATION]: tag } };
      const access: BlobAccess = {
        url: (hex) => registry.blobUrl(`sha256:${hex}`),
        http: { ...http, authorize: registry.auth.authorize, reauthorize: (res) => registry.auth.challenge(res) },
      };
      const store = new RemotePuzzleStore(spec, [d], access, o, cache);
      store.held.set(digest.slice(7), bytes);
      return { store, tag };
    }
    let prefixUrl = ref.location;
    let authorize: Authorize | undefined;
    if (ref.location.startsWith('s3://')) {
      const s3 = s3Object(`${ref.location}/index.json`, o.s3Endpoint);
      prefixUrl = s3.url.slice(0, -'/index.json'.length);
      authorize = s3.authorize;
    }
    const layoutHttp: HttpObjectOptions = { ...http, authorize, within: `${prefixUrl}/` };
    const bytes = await orCached(async () => {
      const index = await HttpObject.open(`${prefixUrl}/index.json`, layoutHttp);
      if (index.size > MAX_JSON) corrupt(`${spec}: index.json is ${index.size} bytes`);
      return Buffer.from(index.size === 0 ? new Uint8Array(0) : await index.getRange(0, index.size));
    }, () => true);
    const access: BlobAccess = { url: (hex) => `${prefixUrl}/blobs/sha256/${hex}`, http: layoutHttp };
    return { store: new RemotePuzzleStore(ref.location, parseIndex(bytes), access, o, cache), tag: ref.tag };
  }

  tags(): string[] {
    return tagsOf(this.manifests);
  }

  resolve(tag: string | undefined): Descriptor {
    return resolveTag(this.manifests, tag, this.name);
  }

  readBlob(d: Pick<Descriptor, 'digest' | 'size'>, what: string, maxSize: number): Buffer {
    this.sizes.set(d.digest.slice(7), d.size);
    const bytes = readDescribed(this, d, what, maxSize);
    if (what === 'manifest') this.learnSizes(bytes);
    return bytes;
  }

  /** Records the sizes a manifest gives its layers, so their blobs open without a HEAD. Checking is readManifest's. */
  private learnSizes(bytes: Buffer): void {
    let m: { layers?: unknown };
    try {
      m = JSON.parse(bytes.toString('utf8')) as { layers?: unknown };
    } catch {
      return;
    }
    if (!Array.isArray(m.layers)) return;
    for (const l of m.layers as Array<{ digest?: unknown; size?: unknown }>) {
      if (typeof l?.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(l.digest) && Number.isSafeInteger(l.size) && (l.size as number) >= 0) {
        this.sizes.set(l.digest.slice(7), l.size as number);
      }
    }
  }

  readBlobHex(hex: string, what: string, maxSize: number): Buffer {
    const held = this.held.get(hex);
    if (held) return held;
    const known = this.sizes.get(hex);
    if (known !== undefined && known > maxSize) corrupt(`${what}: blob sha256:${hex} is ${known} bytes (limit ${maxSize})`);
    const source = this.source(hex);
    if (source.size > maxSize) corrupt(`${what}: blob sha256:${hex} is ${source.size} bytes (limit ${maxSize})`);
    const buf = Buffer.allocUnsafe(source.size);
    source.readInto(buf, 0, 0, source.size);
    // Blobs up to WHOLE_MAX were checked as they arrived; this also covers larger ones, and the disk cache.
    checkBlobDigest(buf, hex, what);
    return buf;
  }

  prefetch(hex: string): void {
    if (this.held.has(hex)) return;
    let source: RemoteByteSource;
    try {
      source = this.source(hex);
    } catch (e) {
      if (e instanceof BytesPending) void e.ready.then(() => this.prefetch(hex), () => {});
      return;
    }
    // A failure is logged by the source and met again by the read that needs the blob.
    void source.prefetch(0, source.size).catch(() => {});
  }

  /** The blob's byte source; BytesPending while it is being opened (a HEAD when the manifest gave no size). */
  private source(hex: string): RemoteByteSource {
    const o = this.open.get(hex);
    if (o && 'source' in o) return o.source;
    if (o && 'pending' in o) throw new BytesPending(o.pending);
    const url = this.access.url(hex);
    const size = this.sizes.get(hex);
    const pending = HttpObject.open(url, { ...this.access.http, known: size === undefined ? undefined : { size } }).then(
      (obj) => {
        this.open.set(hex, { source: digestSource(obj, `sha256:${hex}`, this.common, WHOLE_MAX) });
      },
      (e: unknown) => {
        this.open.set(hex, { failed: true }); // a later read asks again
        throw e;
      },
    );
    this.open.set(hex, { pending });
    throw new BytesPending(pending);
  }
}
