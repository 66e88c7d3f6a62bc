// `tsfuse puzzlefs build SOURCE OCI_DIR:TAG [--compression zstd|none] [--base OCI_DIR:TAG]`: writes a
// PuzzleFS image of SOURCE into an OCI layout (created if missing) and points TAG at it.
//
// Deterministic: walk order, inode numbers, chunk cuts, zstd output, Cap'n Proto layout and JSON are all
// functions of the tree, so the same tree gives the same digests.
//
// With a base image the new rootfs is one more layer on top of the base's layers, holding only what changed:
// inodes whose metadata, entries or content differ from the base inode at the same path (same number), new
// inodes, and whiteouts for base inodes no longer in the tree. Unchanged file content keeps its chunk list;
// changed files are chunked again, and a chunk already in the layout is reused, not rewritten.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { zstdReady } from '../compress/zstd.js';
import { BlobWriter, type ChunkStats, chunkFiles } from './chunk-writer.js';
import { fsverityDigest } from '../verity/digest.js';
import { PuzzleImage, ROOT_INO, contentSha256 } from './image.js';
import {
  type Descriptor, EMPTY_CONFIG, MEDIA_EMPTY, MEDIA_FILEDATA, MEDIA_MANIFEST, MEDIA_ROOTFS, OciLayout, VERITY_ROOT_HASH_ANNOTATION,
} from './oci.js';
import { type PuzzleInode, type VerityEntry, encodeRootfs } from './schema.js';
import { type SourceNode, walkSource } from './walk.js';

export interface BuildOptions {
  source: string;
  /** Output OCI layout directory and tag. */
  dir: string;
  tag: string;
  compression?: 'zstd' | 'none';
  base?: { dir: string; tag?: string };
  progress?: (done: number, total: number) => void;
}

export interface BuildResult {
  manifest: Descriptor;
  /** fs-verity digest of the manifest blob (what `mount --digest` takes). */
  manifestVerity: string;
  rootfs: Descriptor;
  inodes: number;
  /** Inodes in the new top layer (everything for a fresh image). */
  layerInodes: number;
  whiteouts: number;
  chunkStats: ChunkStats;
  /** Distinct chunk blobs the image references. */
  blobs: number;
}

const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function bytesEq(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (!a || !b) return (a?.length ?? 0) === (b?.length ?? 0);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function toInode(n: SourceNode): PuzzleInode {
  return {
    ino: n.ino, kind: n.kind, uid: n.uid, gid: n.gid, permissions: n.permissions, major: n.major, minor: n.minor,
    entries: n.entries, lookBelow: false, chunks: [], xattrs: n.xattrs, symlinkTarget: n.symlinkTarget,
  };
}

/** Same metadata as the base inode (everything but file content). */
function sameMeta(a: PuzzleInode, b: PuzzleInode): boolean {
  if (a.kind !== b.kind || a.uid !== b.uid || a.gid !== b.gid || a.permissions !== b.permissions) return false;
  if (a.major !== b.major || a.minor !== b.minor || !bytesEq(a.symlinkTarget, b.symlinkTarget)) return false;
  if (a.xattrs.length !== b.xattrs.length || a.xattrs.some((x, i) => !bytesEq(x.key, b.xattrs[i]!.key) || !bytesEq(x.val, b.xattrs[i]!.val))) return false;
  return true;
}

function sameEntries(a: PuzzleInode, base: { visible: { ino: number; name: Uint8Array }[] }): boolean {
  return a.entries.length === base.visible.length && a.entries.every((e, i) => e.ino === base.visible[i]!.ino && bytesEq(e.name, base.visible[i]!.name));
}

function sha256File(p: Buffer, buf: Buffer): string {
  const h = createHash('sha256');
  const fd = fs.openSync(p, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Every inode reachable in an image. */
function reachableInos(img: PuzzleImage): Set<number> {
  const seen = new Set<number>([ROOT_INO]);
  const queue = [ROOT_INO];
  for (let q = 0; q < queue.length; q++) {
    for (const e of img.inode(queue[q]!)!.visible) {
      if (seen.has(e.ino)) continue;
      seen.add(e.ino);
      if (e.kind === 'dir') queue.push(e.ino);
    }
  }
  return seen;
}

export async function buildImage(o: BuildOptions): Promise<BuildResult> {
  await zstdReady;
  const layout = OciLayout.create(o.dir);
  const base = o.base ? PuzzleImage.open(o.base.dir, { tag: o.base.tag }) : null;
  if (base && base.layout.name !== layout.dir) copyBlobs(base, layout);
  let maxIno = ROOT_INO;
  for (const l of base?.rootfs.layers ?? []) if (l.length > 0) maxIno = Math.max(maxIno, l.inoAt(l.length - 1));
  const walk = walkSource(o.source, base, maxIno + 1);
  const writer = new BlobWriter(layout, (o.compression ?? 'zstd') === 'zstd');
  const buf = Buffer.allocUnsafe(1 << 20);

  const top: PuzzleInode[] = [];
  const toChunk: { node: SourceNode; inode: PuzzleInode }[] = [];
  for (const n of walk.nodes) {
    const inode = toInode(n);
    const b = n.base;
    if (b) {
      const meta = sameMeta(inode, b);
      if (n.kind === 'file' && b.kind === 'file' && b.size === n.size && sha256File(n.path, buf) === contentSha256(base!, b, buf)) {
        // same content: keep the base's chunk list; the inode is new only if its metadata changed
        if (meta) continue;
        inode.chunks = b.chunks;
        top.push(inode);
        continue;
      }
      if (meta && (n.kind === 'dir' ? sameEntries(inode, b) : n.kind !== 'file')) continue;
    }
    if (n.kind === 'file') toChunk.push({ node: n, inode });
    top.push(inode);
  }
  const stream = toChunk.map((t) => ({ path: t.node.path, size: t.node.size, chunks: t.inode.chunks }));
  chunkFiles(stream, writer, o.progress);

  let whiteouts = 0;
  if (base) {
    for (const ino of reachableInos(base)) {
      if (walk.claimed.has(ino)) continue;
      top.push({ ino, kind: 'wht', uid: 0, gid: 0, permissions: 0o644, major: 0, minor: 0, entries: [], lookBelow: false, chunks: [], xattrs: [], symlinkTarget: null });
      whiteouts++;
    }
  }
  top.sort((a, b) => a.ino - b.ino);
  const lower = (base?.rootfs.layers ?? []).map((l) => Array.from({ length: l.length }, (_, i) => l.decode(i)));
  const layers = base && top.length === 0 ? lower : [top, ...lower];

  // blobs in first-use order, their fs-verity digests (sorted by digest, as the reference's BTreeMap)
  const blobs = new Map<string, { compressed: boolean }>();
  for (const layer of layers) for (const n of layer) for (const c of n.chunks) if (!blobs.has(hexOf(c.blob.digest))) blobs.set(hexOf(c.blob.digest), { compressed: c.blob.compressed });
  const baseVerity = new Map((base?.rootfs.verity ?? []).map((v) => [hexOf(v.digest), v.verity]));
  const verity: VerityEntry[] = [];
  const layerDescs: Descriptor[] = [];
  for (const [hex, b] of blobs) {
    const bytes = fs.readFileSync(layout.blobPath(hex));
    verity.push({ digest: Buffer.from(hex, 'hex'), verity: baseVerity.get(hex) ?? fsverityDigest(bytes) });
    layerDescs.push({ mediaType: b.compressed ? `${MEDIA_FILEDATA}+zstd` : MEDIA_FILEDATA, digest: `sha256:${hex}`, size: bytes.length });
  }
  verity.sort((a, b) => Buffer.compare(Buffer.from(a.digest), Buffer.from(b.digest)));

  const rootfsBytes = encodeRootfs(layers, verity);
  const rootfsBlob = layout.putBlob(rootfsBytes);
  const rootfs: Descriptor = {
    mediaType: MEDIA_ROOTFS, digest: rootfsBlob.digest, size: rootfsBlob.size,
    annotations: { [VERITY_ROOT_HASH_ANNOTATION]: fsverityDigest(rootfsBytes).toString('hex') },
  };
  layout.putBlob(EMPTY_CONFIG.bytes);
  const manifestJson = {
    schemaVersion: 2, mediaType: MEDIA_MANIFEST,
    config: { mediaType: MEDIA_EMPTY, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.bytes.length, data: EMPTY_CONFIG.bytes.toString('base64') },
    layers: [rootfs, ...layerDescs],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifestJson));
  const m = layout.putBlob(manifestBytes);
  const manifest: Descriptor = { mediaType: MEDIA_MANIFEST, digest: m.digest, size: m.size };
  layout.setTag(o.tag, manifest);
  const inodes = new Set(layers.flatMap((l) => l.map((n) => n.ino))).size;
  return {
    manifest, manifestVerity: fsverityDigest(manifestBytes).toString('hex'), rootfs, inodes, layerInodes: top.length, whiteouts,
    chunkStats: writer.stats, blobs: blobs.size,
  };
}

/** A base image in another layout: its file-data blobs are copied over (the new rootfs embeds its layers). */
function copyBlobs(base: PuzzleImage, to: OciLayout): void {
  for (const l of base.manifest.layers) {
    if (l.mediaType === MEDIA_ROOTFS) continue;
    const hex = l.digest.slice(7);
    if (!fs.existsSync(to.blobPath(hex))) to.putBlob(base.layout.readBlobHex(hex, 'base blob', 1 << 30));
  }
}
