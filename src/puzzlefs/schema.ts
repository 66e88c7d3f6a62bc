// The PuzzleFS metadata schema (reference/puzzlefs-metadata.capnp) as data: each struct's field offsets, as
// `capnp compile -ocapnp reference/puzzlefs-metadata.capnp` prints them, plus decoders to plain objects and
// an encoder for the builder. Both sides use the same table, so a layout mistake shows in the `capnp decode`
// check rather than hiding in a matched pair.

import { CapnpBuilder, type StructBuilder } from './capnp-writer.js';
import { CapnpMessage, type CapStruct, type CapStructList } from './capnp.js';
import { corrupt } from './errors.js';

/** Struct sizes (data words, pointer words) and field positions (byte offsets / bit / pointer index). */
export const LAYOUT = {
  Chr: { data: 2, ptrs: 0, major: 0, minor: 8 },
  DirEntry: { data: 1, ptrs: 1, ino: 0, name: 0 },
  Dir: { data: 1, ptrs: 1, entries: 0, lookBelowBit: 0 },
  FileChunk: { data: 1, ptrs: 1, blob: 0, len: 0 },
  BlobRef: { data: 2, ptrs: 1, digest: 0, offset: 0, compressedBit: 64 },
  Xattr: { data: 0, ptrs: 2, key: 0, val: 1 },
  InodeAdditional: { data: 0, ptrs: 2, xattrs: 0, symlinkTarget: 1 },
  Inode: { data: 3, ptrs: 2, ino: 0, modeTag: 8, uid: 12, gid: 16, permissions: 10, modePtr: 0, additional: 1 },
  InodeVector: { data: 0, ptrs: 1, inodes: 0 },
  VerityData: { data: 0, ptrs: 2, digest: 0, verity: 1 },
  Rootfs: { data: 1, ptrs: 2, metadatas: 0, fsVerityData: 1, manifestVersion: 0 },
} as const;

/** Inode.mode union tags, in schema order. */
export const MODE_TAGS = ['unknown', 'fifo', 'chr', 'dir', 'blk', 'file', 'lnk', 'sock', 'wht'] as const;
export type InodeKind = (typeof MODE_TAGS)[number];
const TAG_OF: Record<InodeKind, number> = Object.fromEntries(MODE_TAGS.map((k, i) => [k, i])) as Record<InodeKind, number>;

/** The manifest version this reader and builder speak (inode layers inline in the Rootfs). */
export const MANIFEST_VERSION = 3;
export const DIGEST_BYTES = 32;

export interface BlobRef {
  digest: Uint8Array;
  offset: number;
  compressed: boolean;
}
export interface FileChunk {
  blob: BlobRef;
  len: number;
}
export interface DirEntry {
  ino: number;
  name: Uint8Array;
}
export interface Xattr {
  key: Uint8Array;
  val: Uint8Array;
}
export interface PuzzleInode {
  ino: number;
  kind: InodeKind;
  uid: number;
  gid: number;
  permissions: number;
  major: number;
  minor: number;
  /** Directories only. */
  entries: DirEntry[];
  lookBelow: boolean;
  /** Regular files only. */
  chunks: FileChunk[];
  xattrs: Xattr[];
  symlinkTarget: Uint8Array | null;
}
export interface VerityEntry {
  digest: Uint8Array;
  verity: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function blobRef(s: CapStruct | null, what: string): BlobRef {
  if (!s) corrupt(`${what}: file chunk without a blob`);
  const L = LAYOUT.BlobRef;
  const digest = s.bytes(L.digest, `${what} digest`);
  if (!digest || digest.length !== DIGEST_BYTES) corrupt(`${what}: blob digest of ${digest?.length ?? 0} bytes`);
  return { digest, offset: s.u64(L.offset, `${what} offset`), compressed: s.bool(L.compressedBit) };
}

/** Reads one Inode struct into a plain object (names and values are views into the message). */
export function decodeInode(s: CapStruct): PuzzleInode {
  s.msg.resetBudget();
  const L = LAYOUT.Inode;
  const ino = s.u64(L.ino, 'inode number');
  const what = `inode ${ino}`;
  const tag = s.u16(L.modeTag);
  const kind = MODE_TAGS[tag];
  if (kind === undefined) corrupt(`${what}: unknown mode tag ${tag}`);
  const inode: PuzzleInode = {
    ino, kind, uid: s.u32(L.uid), gid: s.u32(L.gid), permissions: s.u16(L.permissions), major: 0, minor: 0,
    entries: [], lookBelow: false, chunks: [], xattrs: [], symlinkTarget: null,
  };
  if (kind === 'chr' || kind === 'blk') {
    const d = s.struct(L.modePtr, `${what} device`);
    if (d) {
      inode.major = d.u64(LAYOUT.Chr.major, `${what} major`);
      inode.minor = d.u64(LAYOUT.Chr.minor, `${what} minor`);
    }
  } else if (kind === 'dir') {
    const d = s.struct(L.modePtr, `${what} dir`);
    if (d) {
      inode.lookBelow = d.bool(LAYOUT.Dir.lookBelowBit);
      const list = d.structList(LAYOUT.Dir.entries, `${what} entries`);
      if (list) inode.entries = dirEntries(list, what);
    }
  } else if (kind === 'file') {
    const list = s.structList(L.modePtr, `${what} chunks`);
    if (list) {
      for (let i = 0; i < list.length; i++) {
        const c = list.get(i);
        inode.chunks.push({ blob: blobRef(c.struct(LAYOUT.FileChunk.blob, `${what} chunk ${i}`), `${what} chunk ${i}`), len: c.u64(LAYOUT.FileChunk.len, `${what} chunk length`) });
      }
    }
  }
  const add = s.struct(L.additional, `${what} additional`);
  if (add) {
    const xs = add.structList(LAYOUT.InodeAdditional.xattrs, `${what} xattrs`);
    if (xs) {
      for (let i = 0; i < xs.length; i++) {
        const x = xs.get(i);
        const key = x.bytes(LAYOUT.Xattr.key, `${what} xattr key`);
        if (!key || key.length === 0) corrupt(`${what}: xattr ${i} has no name`);
        inode.xattrs.push({ key, val: x.bytes(LAYOUT.Xattr.val, `${what} xattr value`) ?? EMPTY });
      }
    }
    inode.symlinkTarget = add.bytes(LAYOUT.InodeAdditional.symlinkTarget, `${what} symlink target`);
  }
  return inode;
}

function dirEntries(list: CapStructList, what: string): DirEntry[] {
  const out: DirEntry[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const e = list.get(i);
    const name = e.bytes(LAYOUT.DirEntry.name, `${what} entry name`);
    if (!name || name.length === 0) corrupt(`${what}: directory entry ${i} has no name`);
    out[i] = { ino: e.u64(LAYOUT.DirEntry.ino, `${what} entry inode`), name };
  }
  return out;
}

/** One metadata layer: its inodes in place, sorted by ino (checked when opened). */
export class InodeLayer {
  constructor(readonly list: CapStructList) {}

  get length(): number {
    return this.list.length;
  }

  /** The ino of element i, read straight from its data section. */
  inoAt(i: number): number {
    return this.list.msg.u64(this.list.offsetOf(i) + LAYOUT.Inode.ino, 'inode number');
  }

  /** Binary search; -1 when the layer has no such inode. */
  indexOf(ino: number): number {
    let lo = 0;
    let hi = this.list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.inoAt(mid);
      if (v === ino) return mid;
      if (v < ino) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  decode(i: number): PuzzleInode {
    return decodeInode(this.list.get(i));
  }
}

export interface RootfsView {
  msg: CapnpMessage;
  layers: InodeLayer[];
  verity: VerityEntry[];
  manifestVersion: number;
}

/** Parses a Rootfs message: checks its version and that every layer's inodes are sorted by ino. */
export function openRootfs(buf: Uint8Array): RootfsView {
  const msg = new CapnpMessage(buf);
  const root = msg.root();
  const L = LAYOUT.Rootfs;
  const manifestVersion = root.u64(L.manifestVersion, 'manifest version');
  if (manifestVersion !== MANIFEST_VERSION) corrupt(`manifest version ${manifestVersion}, this reader knows ${MANIFEST_VERSION}`);
  const metas = root.structList(L.metadatas, 'metadatas');
  if (!metas || metas.length === 0) corrupt('rootfs has no metadata layers');
  const layers: InodeLayer[] = [];
  for (let i = 0; i < metas.length; i++) {
    const list = metas.get(i).structList(LAYOUT.InodeVector.inodes, `layer ${i} inodes`);
    if (!list) corrupt(`layer ${i} has no inode list`);
    if (list.dataBytes < 8) corrupt(`layer ${i}: inode structs too short to hold an ino`);
    const layer = new InodeLayer(list);
    let prev = -1;
    for (let k = 0; k < layer.length; k++) {
      const ino = layer.inoAt(k);
      if (ino <= prev) corrupt(`layer ${i}: inodes not sorted by ino (${prev} then ${ino})`);
      prev = ino;
    }
    layers.push(layer);
  }
  const verity: VerityEntry[] = [];
  msg.resetBudget();
  const vs = root.structList(L.fsVerityData, 'fsVerityData');
  if (vs) {
    for (let i = 0; i < vs.length; i++) {
      const v = vs.get(i);
      const digest = v.bytes(LAYOUT.VerityData.digest, 'verity digest');
      const ver = v.bytes(LAYOUT.VerityData.verity, 'verity value');
      if (digest?.length !== DIGEST_BYTES || ver?.length !== DIGEST_BYTES) corrupt(`fsVerityData entry ${i} is not two 32-byte digests`);
      verity.push({ digest, verity: ver });
    }
  }
  return { msg, layers, verity, manifestVersion };
}

// ---- writing ----------------------------------------------------------------------------------------------------

function writeInode(s: StructBuilder, n: PuzzleInode): void {
  const L = LAYOUT.Inode;
  s.u64(L.ino, n.ino).u16(L.modeTag, TAG_OF[n.kind]).u32(L.uid, n.uid).u32(L.gid, n.gid).u16(L.permissions, n.permissions);
  if (n.kind === 'chr' || n.kind === 'blk') {
    s.struct(L.modePtr, LAYOUT.Chr.data, LAYOUT.Chr.ptrs).u64(LAYOUT.Chr.major, n.major).u64(LAYOUT.Chr.minor, n.minor);
  } else if (n.kind === 'dir') {
    const d = s.struct(L.modePtr, LAYOUT.Dir.data, LAYOUT.Dir.ptrs).bool(LAYOUT.Dir.lookBelowBit, n.lookBelow);
    const es = d.structList(LAYOUT.Dir.entries, n.entries.length, LAYOUT.DirEntry.data, LAYOUT.DirEntry.ptrs);
    n.entries.forEach((e, i) => es[i]!.u64(LAYOUT.DirEntry.ino, e.ino).data(LAYOUT.DirEntry.name, e.name));
  } else if (n.kind === 'file') {
    const cs = s.structList(L.modePtr, n.chunks.length, LAYOUT.FileChunk.data, LAYOUT.FileChunk.ptrs);
    n.chunks.forEach((c, i) => {
      cs[i]!.u64(LAYOUT.FileChunk.len, c.len);
      cs[i]!.struct(LAYOUT.FileChunk.blob, LAYOUT.BlobRef.data, LAYOUT.BlobRef.ptrs)
        .data(LAYOUT.BlobRef.digest, c.blob.digest).u64(LAYOUT.BlobRef.offset, c.blob.offset).bool(LAYOUT.BlobRef.compressedBit, c.blob.compressed);
    });
  }
  if (n.xattrs.length > 0 || n.symlinkTarget) {
    const a = s.struct(L.additional, LAYOUT.InodeAdditional.data, LAYOUT.InodeAdditional.ptrs);
    if (n.xattrs.length > 0) {
      const xs = a.structList(LAYOUT.InodeAdditional.xattrs, n.xattrs.length, LAYOUT.Xattr.data, LAYOUT.Xattr.ptrs);
      n.xattrs.forEach((x, i) => xs[i]!.data(LAYOUT.Xattr.key, x.key).data(LAYOUT.Xattr.val, x.val));
    }
    if (n.symlinkTarget) a.data(LAYOUT.InodeAdditional.symlinkTarget, n.symlinkTarget);
  }
}

/** Encodes a Rootfs message: layers top first, each sorted by ino (the caller sorts). */
export function encodeRootfs(layers: PuzzleInode[][], verity: VerityEntry[]): Uint8Array {
  const b = new CapnpBuilder();
  const L = LAYOUT.Rootfs;
  const root = b.initRoot(L.data, L.ptrs).u64(L.manifestVersion, MANIFEST_VERSION);
  const metas = root.structList(L.metadatas, layers.length, LAYOUT.InodeVector.data, LAYOUT.InodeVector.ptrs);
  layers.forEach((inodes, i) => {
    const list = metas[i]!.structList(LAYOUT.InodeVector.inodes, inodes.length, LAYOUT.Inode.data, LAYOUT.Inode.ptrs);
    inodes.forEach((n, k) => writeInode(list[k]!, n));
  });
  const vs = root.structList(L.fsVerityData, verity.length, LAYOUT.VerityData.data, LAYOUT.VerityData.ptrs);
  verity.forEach((v, i) => vs[i]!.data(LAYOUT.VerityData.digest, v.digest).data(LAYOUT.VerityData.verity, v.verity));
  return b.toBytes();
}
