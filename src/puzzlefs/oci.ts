// An OCI image layout (image-spec image-layout.md) as PuzzleFS uses it: `oci-layout`, `index.json` whose
// manifests carry their tag in org.opencontainers.image.ref.name, and content-addressed blobs/sha256/<hex>.
// Reading checks every descriptor it follows: the digest's form, the blob's size and its sha256. Writing
// puts blobs by content (an existing blob is reused, never rewritten) and replaces index.json atomically.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PuzzleBlobStore } from './blob-store.js';
import { corrupt } from './errors.js';

export const TAG_ANNOTATION = 'org.opencontainers.image.ref.name';
export const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_EMPTY = 'application/vnd.oci.empty.v1+json';
export const MEDIA_ROOTFS = 'application/vnd.puzzlefs.image.rootfs.v1';
export const MEDIA_FILEDATA = 'application/vnd.puzzlefs.image.filedata.v1';
export const VERITY_ROOT_HASH_ANNOTATION = 'io.puzzlefsoci.puzzlefs.puzzlefs_verity_root_hash';
/** The empty JSON config `{}` every PuzzleFS manifest points to. */
export const EMPTY_CONFIG = { bytes: Buffer.from('{}'), digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' };

/** Largest JSON document (index, manifest) we read. */
export const MAX_JSON = 16 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  data?: string;
  platform?: unknown;
}

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The hex part of a "sha256:<64 hex>" digest; anything else is refused. */
export function digestHex(digest: unknown, what: string): string {
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) corrupt(`${what}: bad digest ${JSON.stringify(digest)}`);
  return digest.slice(7);
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  if (typeof d !== 'object' || d === null) corrupt(`${what}: descriptor is not an object`);
  const o = d as Record<string, unknown>;
  if (typeof o.mediaType !== 'string') corrupt(`${what}: descriptor without a mediaType`);
  digestHex(o.digest, what);
  if (!Number.isSafeInteger(o.size) || (o.size as number) < 0) corrupt(`${what}: bad size ${JSON.stringify(o.size)}`);
  if (o.annotations !== undefined && (typeof o.annotations !== 'object' || o.annotations === null)) corrupt(`${what}: annotations are not an object`);
  return o as unknown as Descriptor;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    corrupt(`${what}: not JSON (${(e as Error).message})`);
  }
}

/** index.json's manifest descriptors, each checked. */
export function parseIndex(bytes: Uint8Array): Descriptor[] {
  if (bytes.length > MAX_JSON) corrupt(`index.json is ${bytes.length} bytes`);
  const idx = parseJson(bytes, 'index.json') as { manifests?: unknown };
  if (!Array.isArray(idx?.manifests)) corrupt('index.json has no manifests array');
  return idx.manifests.map((d, i) => checkDescriptor(d, `index.json manifest ${i}`));
}

export function tagsOf(manifests: Descriptor[]): string[] {
  return manifests.map((d) => d.annotations?.[TAG_ANNOTATION]).filter((t): t is string => typeof t === 'string');
}

/** The manifest descriptor tagged `tag` among an index's; with no tag, the only tagged one. `where` names the layout. */
export function resolveTag(ms: Descriptor[], tag: string | undefined, where: string): Descriptor {
  if (tag === undefined) {
    const tagged = ms.filter((d) => typeof d.annotations?.[TAG_ANNOTATION] === 'string');
    // not corruption, a question the caller must answer: a plain Error
    if (tagged.length !== 1) throw new Error(`${where} has ${tagged.length} tags; name one (OCI_DIR:TAG)`);
    return tagged[0]!;
  }
  const hits = ms.filter((d) => d.annotations?.[TAG_ANNOTATION] === tag);
  if (hits.length === 0) throw new Error(`${where} has no tag '${tag}' (tags: ${tagsOf(ms).join(', ') || 'none'})`);
  if (hits.length > 1) corrupt(`${where} has ${hits.length} manifests tagged '${tag}'`);
  return hits[0]!;
}

/** A blob through `store`, checked against the descriptor's size (its digest is checked by readBlobHex). */
export function readDescribed(store: PuzzleBlobStore, d: Pick<Descriptor, 'digest' | 'size'>, what: string, maxSize: number): Buffer {
  const hex = digestHex(d.digest, what);
  if (d.size > maxSize) corrupt(`${what}: blob of ${d.size} bytes (limit ${maxSize})`);
  const bytes = store.readBlobHex(hex, what, maxSize);
  if (bytes.length !== d.size) corrupt(`${what}: blob ${hex} is ${bytes.length} bytes, its descriptor says ${d.size}`);
  return bytes;
}

/** Refuses bytes that are not the blob `hex` names. */
export function checkBlobDigest(bytes: Uint8Array, hex: string, what: string): void {
  if (sha256Hex(bytes) !== hex) corrupt(`${what}: blob sha256:${hex} does not match its digest`);
}

/** The image manifest `d` points to, read through `store` and checked. */
export function readManifest(store: PuzzleBlobStore, d: Descriptor): Manifest {
  if (d.mediaType !== MEDIA_MANIFEST) corrupt(`manifest ${d.digest}: media type ${d.mediaType}`);
  const m = parseJson(store.readBlob(d, 'manifest', MAX_JSON), 'manifest') as Manifest;
  if (m?.schemaVersion !== 2) corrupt(`manifest ${d.digest}: schemaVersion ${m?.schemaVersion}`);
  checkDescriptor(m.config, 'manifest config');
  if (!Array.isArray(m.layers)) corrupt(`manifest ${d.digest} has no layers`);
  m.layers.forEach((l, i) => checkDescriptor(l, `manifest layer ${i}`));
  return m;
}

export class OciLayout implements PuzzleBlobStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  static open(dir: string): OciLayout {
    const l = new OciLayout(dir);
    let layout: unknown;
    try {
      layout = JSON.parse(fs.readFileSync(path.join(dir, 'oci-layout'), 'utf8'));
    } catch (e) {
      corrupt(`${dir}: not an OCI layout (oci-layout: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (typeof (layout as { imageLayoutVersion?: unknown })?.imageLayoutVersion !== 'string') corrupt(`${dir}/oci-layout has no imageLayoutVersion`);
    return l;
  }

  blobPath(hex: string): string {
    return path.join(this.dir, 'blobs', 'sha256', hex);
  }

  index(): Descriptor[] {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.join(this.dir, 'index.json'));
    } catch (e) {
      corrupt(`index.json: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return parseIndex(bytes);
  }

  get name(): string {
    return this.dir;
  }

  tags(): string[] {
    return tagsOf(this.index());
  }

  /** The manifest descriptor of `tag`; with no tag, the layout's only tagged manifest. */
  resolve(tag: string | undefined): Descriptor {
    return resolveTag(this.index(), tag, this.dir);
  }

  /** A blob's bytes, checked against the descriptor's size and digest. */
  readBlob(d: Pick<Descriptor, 'digest' | 'size'>, what: string, maxSize: number): Buffer {
    return readDescribed(this, d, what, maxSize);
  }

  /** A blob by hex digest, checked against its sha256; refused if bigger than maxSize. */
  readBlobHex(hex: string, what: string, maxSize: number): Buffer {
    const p = this.blobPath(hex);
    let fd: number;
    try {
      fd = fs.openSync(p, fs.constants.O_RDONLY);
    } catch (e) {
      corrupt(`${what}: blob ${hex}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) corrupt(`${what}: blob ${hex} is not a regular file`);
      if (st.size > maxSize) corrupt(`${what}: blob ${hex} is ${st.size} bytes (limit ${maxSize})`);
      const buf = Buffer.allocUnsafe(st.size);
      let got = 0;
      while (got < st.size) {
        const n = fs.readSync(fd, buf, got, st.size - got, got);
        if (n <= 0) corrupt(`${what}: blob ${hex} shrank while read`);
        got += n;
      }
      checkBlobDigest(buf, hex, what);
      return buf;
    } finally {
      fs.closeSync(fd);
    }
  }

  manifest(d: Descriptor): Manifest {
    return readManifest(this, d);
  }

  // ---- writing ----------------------------------------------------------------------------------------------------

  /** Creates the layout's skeleton where missing. */
  static create(dir: string): OciLayout {
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const layoutFile = path.join(dir, 'oci-layout');
    if (!fs.existsSync(layoutFile)) writeAtomic(layoutFile, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    const indexFile = path.join(dir, 'index.json');
    if (!fs.existsSync(indexFile)) writeAtomic(indexFile, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_INDEX, manifests: [] })));
    return OciLayout.open(dir);
  }

  /** Stores `bytes` under its digest; an existing blob is kept (content addressing makes it identical). */
  putBlob(bytes: Uint8Array): { digest: string; hex: string; size: number; existed: boolean } {
    const hex = sha256Hex(bytes);
    const p = this.blobPath(hex);
    const existed = fs.existsSync(p);
    if (!existed) writeAtomic(p, bytes);
    return { digest: `sha256:${hex}`, hex, size: bytes.length, existed };
  }

  /** Points `tag` at the manifest; an older manifest with that tag leaves the index (its blobs stay). */
  setTag(tag: string, manifest: Descriptor): void {
    const kept = this.index().filter((d) => d.annotations?.[TAG_ANNOTATION] !== tag);
    kept.push({ ...manifest, annotations: { ...(manifest.annotations ?? {}), [TAG_ANNOTATION]: tag } });
    writeAtomic(path.join(this.dir, 'index.json'), Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_INDEX, manifests: kept }, null, 2) + '\n'));
  }
}

function writeAtomic(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}
