// Extended attributes: the inline body after each inode (header, shared ids, entries) and the shared pool,
// with names resolved through the short prefix indexes and the long prefix table.

import { bytesEqual, le16, le32, toBytes } from './bytes.js';
import type { ReaderContext } from './context.js';
import { UnsupportedFeatureError, corrupt } from './errors.js';
import * as F from './format.js';
import { xxh32 } from './hash.js';
import type { ErofsInode } from './inode.js';
import { formatNid } from './superblock.js';

export interface LongPrefix {
  baseIndex: number;
  /** Full prefix bytes: the short prefix of baseIndex plus the infix. */
  prefix: Uint8Array;
}

export interface XattrRecord {
  /** e_name_index as stored (bit 7 = long prefix). */
  index: number;
  /** The short-prefix index the name belongs to (what the kernel's handlers and the bloom filter use). */
  baseIndex: number;
  /** The full name, e.g. "user.comment"; undefined when the index has no known prefix. */
  name: Uint8Array | undefined;
  /** Name bytes stored in the entry (after the prefix). */
  suffix: Uint8Array;
  value: Uint8Array;
  shared: boolean;
}

const enc = new TextEncoder();
const SHORT_PREFIX_BYTES: Record<number, Uint8Array> = Object.fromEntries(
  Object.entries(F.XATTR_PREFIXES).map(([k, v]) => [k, enc.encode(v)]),
);

export function shortPrefix(index: number): Uint8Array | undefined {
  return SHORT_PREFIX_BYTES[index];
}

/**
 * Reads the long prefix table. Without PLAIN_XATTR_PFX it lives in the metabox, else the packed inode, else
 * plainly in the image; each record is a le16 length, base index and infix, 4-byte aligned.
 */
export function loadLongPrefixes(ctx: ReaderContext): LongPrefix[] {
  const sb = ctx.sb;
  const count = sb.xattrPrefixCount;
  if (!count) return [];
  let read: (pos: number, len: number) => Uint8Array;
  const plain = (sb.featureCompat & F.COMPAT_PLAIN_XATTR_PFX) !== 0;
  if (!plain && sb.metaboxNid !== undefined) {
    read = (pos, len) => ctx.readMeta(pos, len, true);
  } else if (!plain && sb.packedNid) {
    const packed = ctx.inode(sb.packedNid);
    read = (pos, len) => {
      if (pos + len > packed.size) corrupt('long xattr prefix runs past the packed inode');
      const out = new Uint8Array(len);
      ctx.readDataInto(packed, pos, len, out, 0);
      return out;
    };
  } else {
    read = (pos, len) => ctx.readMeta(pos, len, false);
  }
  const out: LongPrefix[] = [];
  let pos = sb.xattrPrefixStart * 4;
  for (let i = 0; i < count; i++) {
    pos = Math.ceil(pos / 4) * 4;
    const len = le16(read(pos, 2), 0);
    pos += 2;
    if (len < 1) corrupt(`long xattr prefix ${i} is empty`);
    const rec = read(pos, len);
    pos += len;
    const baseIndex = rec[F.XLP_BASE_INDEX]!;
    const base = shortPrefix(baseIndex);
    if (!base) corrupt(`long xattr prefix ${i} has unknown base index ${baseIndex}`);
    const infix = rec.subarray(F.XLP_INFIX);
    const prefix = new Uint8Array(base.length + infix.length);
    prefix.set(base, 0);
    prefix.set(infix, base.length);
    out.push({ baseIndex, prefix });
  }
  return out;
}

interface XattrHeader {
  filter: number;
  sharedIds: number[];
  /** Position and size of the inline entries. */
  inlinePos: number;
  inlineSize: number;
}

function readHeader(ctx: ReaderContext, inode: ErofsInode): XattrHeader | undefined {
  if (inode.xattrSize === 0) return undefined;
  const where = `inode ${formatNid(inode.nid)}`;
  // The kernel refuses a header-only body ("not supported yet"), so do we.
  if (inode.xattrSize === F.XATTR_IBODY_HEADER_SIZE) throw new UnsupportedFeatureError(`${where}: header-only xattr body`);
  const pos = inode.iloc + inode.inodeSize;
  const body = ctx.readMeta(pos, inode.xattrSize, inode.inMetabox);
  const sharedCount = body[F.XH_SHARED_COUNT]!;
  const headerSize = F.XH_SHARED_XATTRS + F.XATTR_SLOT_SIZE * sharedCount;
  if (headerSize > inode.xattrSize) corrupt(`${where}: ${sharedCount} shared xattrs do not fit the xattr body`);
  const sharedIds: number[] = [];
  for (let i = 0; i < sharedCount; i++) sharedIds.push(le32(body, F.XH_SHARED_XATTRS + F.XATTR_SLOT_SIZE * i));
  return { filter: le32(body, F.XH_NAME_FILTER), sharedIds, inlinePos: pos + headerSize, inlineSize: inode.xattrSize - headerSize };
}

function resolveName(index: number, suffix: Uint8Array, prefixes: LongPrefix[]): { name: Uint8Array | undefined; baseIndex: number } {
  let prefix: Uint8Array | undefined;
  let baseIndex = index;
  if (index & F.XATTR_LONG_PREFIX) {
    const lp = prefixes[index & F.XATTR_LONG_PREFIX_MASK];
    if (!lp) return { name: undefined, baseIndex: 0 };
    prefix = lp.prefix;
    baseIndex = lp.baseIndex;
  } else {
    prefix = shortPrefix(index);
  }
  if (!prefix) return { name: undefined, baseIndex };
  const name = new Uint8Array(prefix.length + suffix.length);
  name.set(prefix, 0);
  name.set(suffix, prefix.length);
  return { name, baseIndex };
}

/** Decodes one entry at `pos`; `limit` bounds it (inline entries must stay inside the xattr body). */
function readEntry(
  ctx: ReaderContext,
  pos: number,
  limit: number,
  inMetabox: boolean,
  where: string,
): { index: number; suffix: Uint8Array; value: Uint8Array; size: number } {
  if (limit < F.XATTR_ENTRY_SIZE) corrupt(`${where}: xattr entry header past the xattr area`);
  const h = ctx.readMeta(pos, F.XATTR_ENTRY_SIZE, inMetabox);
  const nameLen = h[F.XE_NAME_LEN]!;
  const index = h[F.XE_NAME_INDEX]!;
  const valueSize = le16(h, F.XE_VALUE_SIZE);
  const size = Math.ceil((F.XE_NAME + nameLen + valueSize) / F.XATTR_ENTRY_SIZE) * F.XATTR_ENTRY_SIZE;
  if (size > limit) corrupt(`${where}: xattr entry of ${size} bytes runs past the xattr area`);
  // A copy: what readMeta returns holds only until the next metadata read, and records outlive that.
  const body = ctx.readMeta(pos + F.XE_NAME, nameLen + valueSize, inMetabox).slice();
  return { index, suffix: body.subarray(0, nameLen), value: body.subarray(nameLen), size };
}

function sharedBase(ctx: ReaderContext): { pos: number; inMetabox: boolean; limit: number } {
  const sb = ctx.sb;
  const inMetabox = (sb.featureCompat & F.COMPAT_SHARED_EA_IN_METABOX) !== 0 && sb.metaboxNid !== undefined;
  const pos = sb.xattrBlkaddr * sb.blockSize;
  const limit = inMetabox ? ctx.inode(sb.metaboxNid!).size : ctx.imageSize;
  return { pos, inMetabox, limit };
}

/** Every xattr of the inode: inline entries first, then shared ones (the order the kernel lists them). */
export function readXattrs(ctx: ReaderContext, inode: ErofsInode, prefixes: LongPrefix[]): XattrRecord[] {
  const hdr = readHeader(ctx, inode);
  if (!hdr) return [];
  const where = `inode ${formatNid(inode.nid)}`;
  const out: XattrRecord[] = [];
  let pos = hdr.inlinePos;
  let remaining = hdr.inlineSize;
  while (remaining > 0) {
    const e = readEntry(ctx, pos, remaining, inode.inMetabox, where);
    const { name, baseIndex } = resolveName(e.index, e.suffix, prefixes);
    out.push({ index: e.index, baseIndex, name, suffix: e.suffix, value: e.value, shared: false });
    pos += e.size;
    remaining -= e.size;
  }
  if (hdr.sharedIds.length) {
    const base = sharedBase(ctx);
    for (const id of hdr.sharedIds) {
      const p = base.pos + id * F.XATTR_SLOT_SIZE;
      if (p >= base.limit) corrupt(`${where}: shared xattr id ${id} points past the shared area`);
      const e = readEntry(ctx, p, base.limit - p, base.inMetabox, where);
      const { name, baseIndex } = resolveName(e.index, e.suffix, prefixes);
      out.push({ index: e.index, baseIndex, name, suffix: e.suffix, value: e.value, shared: true });
    }
  }
  return out;
}

/** Splits a full xattr name into the kernel's short prefix index and the rest (for the bloom filter). */
export function splitShortPrefix(name: Uint8Array): { index: number; rest: Uint8Array } | undefined {
  for (const [k, p] of Object.entries(SHORT_PREFIX_BYTES)) {
    if (name.length >= p.length && bytesEqual(name.subarray(0, p.length), p)) {
      return { index: Number(k), rest: name.subarray(p.length) };
    }
  }
  return undefined;
}

/**
 * Looks one xattr up. The inode's bloom filter (XATTR_FILTER) answers most misses without touching the
 * entries: a set bit means no xattr of that hash exists.
 */
export function getXattr(ctx: ReaderContext, inode: ErofsInode, prefixes: LongPrefix[], nameIn: string | Uint8Array): Uint8Array | undefined {
  const hdr = readHeader(ctx, inode);
  if (!hdr) return undefined;
  const name = toBytes(nameIn);
  const sb = ctx.sb;
  if (sb.featureCompat & F.COMPAT_XATTR_FILTER && !sb.xattrFilterReserved) {
    const split = splitShortPrefix(name);
    if (split) {
      const bit = xxh32(split.rest, (F.XATTR_FILTER_SEED + split.index) >>> 0) & (F.XATTR_FILTER_BITS - 1);
      if ((hdr.filter >>> bit) & 1) return undefined;
    }
  }
  for (const x of readXattrs(ctx, inode, prefixes)) {
    if (x.name && bytesEqual(x.name, name)) return x.value;
  }
  return undefined;
}
