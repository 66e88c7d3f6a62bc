// How one xattr is stored: the short name prefix index it gets (the kernel's handlers: user., the two POSIX
// ACL names, trusted., security.; anything else keeps its whole name under index 0), the entry size, the bloom
// filter bit, and the bytes of the entry itself.

import * as F from '../reader/format.js';
import { xxh32 } from '../reader/hash.js';
import { bytes, startsWith, type WXattr } from './node.js';

// The order libcomposefs tries them in (xattr_erofs_entry_index); lustre. is never used for writing.
const WRITE_PREFIXES: ReadonlyArray<[Uint8Array, number]> = [
  [bytes(F.XATTR_PREFIXES[F.XATTR_INDEX_USER]!), F.XATTR_INDEX_USER],
  [bytes(F.XATTR_PREFIXES[F.XATTR_INDEX_POSIX_ACL_ACCESS]!), F.XATTR_INDEX_POSIX_ACL_ACCESS],
  [bytes(F.XATTR_PREFIXES[F.XATTR_INDEX_POSIX_ACL_DEFAULT]!), F.XATTR_INDEX_POSIX_ACL_DEFAULT],
  [bytes(F.XATTR_PREFIXES[F.XATTR_INDEX_TRUSTED]!), F.XATTR_INDEX_TRUSTED],
  [bytes(F.XATTR_PREFIXES[F.XATTR_INDEX_SECURITY]!), F.XATTR_INDEX_SECURITY],
];

/** [e_name_index, the name bytes stored after the prefix]. */
export function xattrIndex(key: Uint8Array): [number, Uint8Array] {
  for (const [prefix, index] of WRITE_PREFIXES) {
    if (startsWith(key, prefix)) return [index, key.subarray(prefix.length)];
  }
  return [0, key];
}

/** Bytes the entry takes (header, name suffix, value, padded to 4). */
export function xattrEntrySize(x: WXattr): number {
  const [, suffix] = xattrIndex(x.key);
  return Math.ceil((F.XE_NAME + suffix.length + x.value.length) / F.XATTR_ENTRY_SIZE) * F.XATTR_ENTRY_SIZE;
}

/** The entry bytes, padded to 4. */
export function encodeXattrEntry(x: WXattr): Uint8Array {
  const [index, suffix] = xattrIndex(x.key);
  const out = new Uint8Array(xattrEntrySize(x));
  out[F.XE_NAME_LEN] = suffix.length;
  out[F.XE_NAME_INDEX] = index;
  out[F.XE_VALUE_SIZE] = x.value.length & 0xff;
  out[F.XE_VALUE_SIZE + 1] = x.value.length >>> 8;
  out.set(suffix, F.XE_NAME);
  out.set(x.value, F.XE_NAME + suffix.length);
  return out;
}

/** h_name_filter: a set bit means "no xattr whose name hashes here" (XATTR_FILTER). */
export function xattrFilter(xattrs: readonly WXattr[]): number {
  let bits = 0;
  for (const x of xattrs) {
    const [index, suffix] = xattrIndex(x.key);
    bits |= 1 << (xxh32(suffix, (F.XATTR_FILTER_SEED + index) >>> 0) & (F.XATTR_FILTER_BITS - 1));
  }
  return (F.XATTR_FILTER_DEFAULT & ~bits) >>> 0;
}

/** Size of the inline xattr body: header, shared ids, inline entries (0 when there are none). */
export function xattrBodySize(nShared: number, unsharedBytes: number): number {
  if (nShared === 0 && unsharedBytes === 0) return 0;
  return Math.ceil((F.XH_SHARED_XATTRS + nShared * F.XATTR_SLOT_SIZE + unsharedBytes) / F.XATTR_SLOT_SIZE) * F.XATTR_SLOT_SIZE;
}
