// A PuzzleFS image opened from an OCI layout: manifest -> rootfs (Cap'n Proto) -> inode layers, plus the
// facts the format leaves out and a filesystem needs: nlink (counted from directory entries), parents (for
// ".."), and the visible entries of each directory (whiteouts removed).
//
// Inodes are looked up layer by layer, top first; the first layer holding the ino decides, and a whiteout
// there means the inode is absent. Opening walks the tree once from the root (ino 1) reading only each
// entry's mode tag; a directory reached twice (a loop, or a hard-linked directory) refuses the image.

import { createHash } from 'node:crypto';
import { decodeName } from '../protocol/names.js';
import { LruCache } from '../erofs/reader/lru.js';
import { ChunkStore } from './chunks.js';
import { corrupt } from './errors.js';
import { fsverityDigest } from '../verity/digest.js';
import type { PuzzleBlobStore } from './blob-store.js';
import { type Descriptor, type Manifest, MEDIA_ROOTFS, OciLayout, readManifest, VERITY_ROOT_HASH_ANNOTATION } from './oci.js';
import { type DirEntry, type InodeKind, LAYOUT, MODE_TAGS, type PuzzleInode, type RootfsView, openRootfs } from './schema.js';

export const ROOT_INO = 1;
const MAX_ROOTFS_BYTES = 1024 * 1024 * 1024;
/** Chunks past a read's end fetched ahead from a remote store (FastCDC's average is 64 KiB: about 128 KiB). */
const PREFETCH_CHUNKS = 2;

export interface OpenImageOptions {
  tag?: string;
  /** Check every blob's fs-verity digest against the rootfs's fsVerityData (and the rootfs's own). */
  verity?: boolean;
  /** The expected fs-verity digest (hex) of the image manifest; implies verity. */
  manifestDigest?: string;
  cacheBytes?: number;
}

/** A decoded inode plus what serving it needs. */
export interface ImageInode extends PuzzleInode {
  size: number;
  /** Regular files: start offset of each chunk in the file. */
  starts: number[];
  /** Directories: entries that exist (whiteouts dropped), with their file type. */
  visible: { ino: number; name: Uint8Array; kind: InodeKind }[];
  byName: Map<string, number> | undefined;
}

export class PuzzleImage {
  /** Where the blobs come from: a local layout or a remote store. */
  readonly layout: PuzzleBlobStore;
  readonly manifestDescriptor: Descriptor;
  readonly manifest: Manifest;
  readonly rootfsDescriptor: Descriptor;
  readonly rootfs: RootfsView;
  readonly chunks: ChunkStore;
  /** Bytes of the image in the layout (rootfs plus every layer the manifest lists). */
  readonly imageBytes: number;
  /** Inodes reachable from the root. */
  readonly reachable: number;
  private readonly links = new Map<number, number>();
  private readonly parents = new Map<number, number>();
  private readonly cache = new LruCache<number, ImageInode>(65536, 64 * 1024 * 1024, weigh);

  private constructor(store: string | PuzzleBlobStore, o: OpenImageOptions) {
    this.layout = typeof store === 'string' ? OciLayout.open(store) : store;
    this.manifestDescriptor = this.layout.resolve(o.tag);
    const manifestBytes = this.layout.readBlob(this.manifestDescriptor, 'manifest', 16 * 1024 * 1024);
    const verity = !!o.verity || o.manifestDigest !== undefined;
    if (o.manifestDigest !== undefined) {
      const got = fsverityDigest(manifestBytes).toString('hex');
      if (got !== o.manifestDigest.toLowerCase()) corrupt(`manifest fs-verity digest is ${got}, expected ${o.manifestDigest}`);
    }
    this.manifest = readManifest(this.layout, this.manifestDescriptor);
    const rootfs = this.manifest.layers.find((l) => l.mediaType === MEDIA_ROOTFS);
    if (!rootfs) corrupt(`manifest ${this.manifestDescriptor.digest} has no ${MEDIA_ROOTFS} layer`);
    this.rootfsDescriptor = rootfs;
    const rootfsBytes = this.layout.readBlob(rootfs, 'rootfs', MAX_ROOTFS_BYTES);
    if (verity) {
      const want = rootfs.annotations?.[VERITY_ROOT_HASH_ANNOTATION];
      if (!want) corrupt(`rootfs descriptor has no ${VERITY_ROOT_HASH_ANNOTATION} annotation`);
      if (fsverityDigest(rootfsBytes).toString('hex') !== want.toLowerCase()) corrupt('rootfs fails its fs-verity check');
    }
    this.rootfs = openRootfs(rootfsBytes);
    const verityMap = verity ? new Map(this.rootfs.verity.map((v) => [ChunkStore.hex(v.digest), ChunkStore.hex(v.verity)])) : undefined;
    this.chunks = new ChunkStore(this.layout, { verity: verityMap, cacheBytes: o.cacheBytes });
    this.imageBytes = this.manifest.layers.reduce((n, l) => n + l.size, 0);
    this.reachable = this.scan();
  }

  /** Opens the image in a local layout directory, or in any blob store (a remote one may answer BytesPending). */
  static open(store: string | PuzzleBlobStore, options: OpenImageOptions = {}): PuzzleImage {
    return new PuzzleImage(store, options);
  }

  /** Where `ino` lives: [layer, index]; 'wht' when the first layer holding it whites it out; null: no layer has it. */
  private locate(ino: number): [number, number] | 'wht' | null {
    const layers = this.rootfs.layers;
    for (let l = 0; l < layers.length; l++) {
      const i = layers[l]!.indexOf(ino);
      if (i >= 0) return this.kindAt(l, i) === 'wht' ? 'wht' : [l, i];
    }
    return null;
  }

  private kindAt(layer: number, index: number): InodeKind {
    const list = this.rootfs.layers[layer]!.list;
    const tag = list.msg.u16(list.offsetOf(index) + LAYOUT.Inode.modeTag);
    const kind = MODE_TAGS[tag];
    if (kind === undefined) corrupt(`inode at layer ${layer} index ${index}: unknown mode tag ${tag}`);
    return kind;
  }

  /** The kind of `ino` without decoding it; null when whited out. An ino no layer holds is corrupt. */
  kindOf(ino: number): InodeKind | null {
    const at = this.locate(ino);
    if (at === null) corrupt(`inode ${ino} is listed in a directory but no layer holds it`);
    return at === 'wht' ? null : this.kindAt(at[0], at[1]);
  }

  /** Walks every directory once from the root: counts links, records parents, refuses loops. */
  private scan(): number {
    const at = this.locate(ROOT_INO);
    const rootKind = at === null || at === 'wht' ? null : this.kindAt(at[0], at[1]);
    if (rootKind !== 'dir') corrupt(rootKind ? `root inode is a ${rootKind}` : 'the image has no root inode (ino 1)');
    this.parents.set(ROOT_INO, ROOT_INO);
    const queue = [ROOT_INO];
    let reachable = 1;
    for (let q = 0; q < queue.length; q++) {
      const dir = queue[q]!;
      let subdirs = 0;
      for (const e of this.inode(dir)!.visible) {
        if (e.kind === 'dir') {
          if (this.parents.has(e.ino)) corrupt(`directory inode ${e.ino} is reachable twice (a loop or a hard-linked directory)`);
          this.parents.set(e.ino, dir);
          queue.push(e.ino);
          subdirs++;
          reachable++;
        } else {
          const n = this.links.get(e.ino);
          if (n === undefined) reachable++;
          this.links.set(e.ino, (n ?? 0) + 1);
        }
      }
      this.links.set(dir, 2 + subdirs);
    }
    return reachable;
  }

  nlink(ino: number): number {
    return this.links.get(ino) ?? 1;
  }

  parentOf(ino: number): number {
    return this.parents.get(ino) ?? ROOT_INO;
  }

  /** The inode, decoded (cached); null when absent. */
  inode(ino: number): ImageInode | null {
    const hit = this.cache.get(ino);
    if (hit) return hit;
    const at = this.locate(ino);
    if (at === null || at === 'wht') return null;
    const raw = this.rootfs.layers[at[0]]!.decode(at[1]);
    if (raw.ino !== ino) corrupt(`inode ${ino} decoded as ${raw.ino}`);
    const n = this.prepare(raw);
    this.cache.set(ino, n);
    return n;
  }

  private prepare(raw: PuzzleInode): ImageInode {
    const n = raw as ImageInode;
    n.size = 0;
    n.starts = [];
    n.visible = [];
    n.byName = undefined;
    if (raw.kind === 'file') {
      let pos = 0;
      for (const c of raw.chunks) {
        n.starts.push(pos);
        pos += c.len;
        if (!Number.isSafeInteger(pos)) corrupt(`inode ${raw.ino}: file size exceeds 2^53`);
      }
      n.size = pos;
    } else if (raw.kind === 'lnk') {
      if (!raw.symlinkTarget || raw.symlinkTarget.length === 0) corrupt(`symlink inode ${raw.ino} has no target`);
      n.size = raw.symlinkTarget.length;
    } else if (raw.kind === 'dir') {
      for (const e of raw.entries) {
        if (!Number.isSafeInteger(e.ino) || e.ino < 1) corrupt(`inode ${raw.ino}: entry with inode ${e.ino}`);
        if (e.ino === raw.ino || e.ino === ROOT_INO) corrupt(`directory inode ${raw.ino} lists itself or the root (a loop)`);
        const kind = this.kindOf(e.ino);
        if (kind === null) continue; // whiteout: the entry is gone
        n.visible.push({ ino: e.ino, name: e.name, kind });
      }
    }
    return n;
  }

  /** The ino of `name` in directory `dir` (name as the FUSE server decodes it); 0 when absent. */
  lookup(dir: ImageInode, name: string): number {
    if (!dir.byName) {
      const m = new Map<string, number>();
      for (const e of dir.visible) {
        const key = decodeName(Buffer.from(e.name.buffer, e.name.byteOffset, e.name.byteLength), 0, e.name.length);
        if (!m.has(key)) m.set(key, e.ino);
      }
      dir.byName = m;
    }
    return dir.byName.get(name) ?? 0;
  }

  /** Reads [offset, offset + len) of a regular file into dst; returns the bytes copied (short at EOF). */
  read(n: ImageInode, offset: number, len: number, dst: Uint8Array): number {
    const end = Math.min(n.size, offset + len);
    if (offset >= end) return 0;
    // the last chunk starting at or before offset
    let lo = 0;
    let hi = n.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (n.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    // A remote store fetches every chunk this read needs, and the next few of the file, at once; without this each
    // rerun would find the next missing blob one round trip at a time. Never past the file's last chunk.
    if (this.chunks.canPrefetch) {
      for (let i = lo, ahead = 0; i < n.chunks.length && ahead < PREFETCH_CHUNKS; i++) {
        if (n.starts[i]! >= end) ahead++;
        this.chunks.prefetch(n.chunks[i]!.blob);
      }
    }
    let pos = offset;
    for (let i = lo; pos < end && i < n.chunks.length; i++) {
      const c = n.chunks[i]!;
      const start = n.starts[i]!;
      const from = pos - start;
      const take = Math.min(c.len - from, end - pos);
      if (take <= 0) continue;
      this.chunks.copy(c.blob, c.blob.offset + from, take, dst, pos - offset);
      pos += take;
    }
    return pos - offset;
  }
}

/** sha256 (hex) of a regular file's content, read through `buf`. */
export function contentSha256(img: PuzzleImage, n: ImageInode, buf: Uint8Array): string {
  const h = createHash('sha256');
  for (let off = 0; off < n.size; ) {
    const got = img.read(n, off, buf.length, buf);
    if (got <= 0) break;
    h.update(buf.subarray(0, got));
    off += got;
  }
  return h.digest('hex');
}

function weigh(n: ImageInode): number {
  let w = 200 + n.entries.length * 64 + n.chunks.length * 96;
  for (const x of n.xattrs) w += x.key.length + x.val.length + 64;
  return w;
}

/** Entries of a directory inode as the builder's "existing" view (names as bytes). */
export function entriesOf(n: ImageInode): DirEntry[] {
  return n.visible.map((e) => ({ ino: e.ino, name: e.name }));
}
