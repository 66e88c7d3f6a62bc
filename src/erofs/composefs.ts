// composefs conventions on top of EROFS (as libcomposefs and composefs-rs write them):
//  - regular files whose content lives in an object store carry trusted.overlay.metacopy (version, length,
//    flags, sha256 fs-verity digest) and trusted.overlay.redirect ("/XX/rest": path in the store);
//  - the source tree's own trusted.overlay.X xattrs are escaped as trusted.overlay.overlay.X;
//  - the source tree's whiteouts (char 0:0) are stored as regular files with trusted.overlay.overlay.whiteout
//    (and user.overlay.whiteout), their directory marked with ...whiteouts;
//  - the image root holds 256 real whiteouts 00..ff (char 0:0) and trusted.overlay.opaque, for overlayfs.
// This module turns an inode's raw xattrs into the views the filesystem serves.

import type { ErofsReader } from './reader/reader.js';
import type { ErofsInode } from './reader/inode.js';
import * as F from './reader/format.js';
import { decodeName } from '../protocol/names.js';

export const OVERLAY_PREFIX = 'trusted.overlay.';
export const OVERLAY_ESCAPE_PREFIX = 'trusted.overlay.overlay.';
export const OVERLAY_USER_PREFIX = 'user.overlay.';
export const OVERLAY_REDIRECT = 'trusted.overlay.redirect';
export const OVERLAY_METACOPY = 'trusted.overlay.metacopy';
export const OVERLAY_ESCAPED_WHITEOUT = 'trusted.overlay.overlay.whiteout';
export const OVERLAY_ESCAPED_WHITEOUTS = 'trusted.overlay.overlay.whiteouts';
export const OVERLAY_USERXATTR_WHITEOUT = 'user.overlay.whiteout';
export const OVERLAY_USERXATTR_WHITEOUTS = 'user.overlay.whiteouts';

/**
 * How the image is presented:
 *  - 'raw': exactly what the kernel's EROFS driver shows;
 *  - 'plain': the original tree of a composefs image (overlay bookkeeping hidden, escapes undone, content
 *    from the object store); for a non-composefs image this equals 'raw';
 *  - 'overlay': metadata for an unprivileged overlayfs (userxattr): trusted.overlay.X shown as
 *    user.overlay.X, contents never read from the store.
 */
export type ViewMode = 'raw' | 'plain' | 'overlay';

export interface NamedXattr {
  name: string;
  value: Uint8Array;
}

const utf8 = new TextDecoder();

/** xattr names are bytes; FUSE hands them over as strings, with the same byte-preserving codec as names. */
export function xattrNameString(b: Uint8Array): string {
  return decodeName(Buffer.from(b.buffer, b.byteOffset, b.length), 0, b.length);
}

/** The raw xattrs the kernel would list (known prefixes, lustre and index 0 left out). */
export function rawXattrs(reader: ErofsReader, inode: ErofsInode): NamedXattr[] {
  const out: NamedXattr[] = [];
  for (const x of reader.xattrs(inode)) {
    if (!x.name || x.baseIndex === F.XATTR_INDEX_LUSTRE) continue;
    out.push({ name: xattrNameString(x.name), value: x.value });
  }
  return out;
}

/** Applies the view's renaming/hiding to a raw xattr list; the first of duplicate names wins. */
export function viewXattrs(raw: NamedXattr[], mode: ViewMode, composefs: boolean): NamedXattr[] {
  if (mode === 'raw' || (mode === 'plain' && !composefs)) return raw;
  const out: NamedXattr[] = [];
  const seen = new Set<string>();
  const push = (name: string, value: Uint8Array) => {
    if (seen.has(name)) return;
    seen.add(name);
    out.push({ name, value });
  };
  for (const x of raw) {
    if (mode === 'overlay') {
      push(x.name.startsWith(OVERLAY_PREFIX) ? OVERLAY_USER_PREFIX + x.name.slice(OVERLAY_PREFIX.length) : x.name, x.value);
      continue;
    }
    // plain (composefs): what libcomposefs reconstructs as the source tree's xattrs
    if (x.name === OVERLAY_USERXATTR_WHITEOUT || x.name === OVERLAY_USERXATTR_WHITEOUTS) continue;
    if (x.name.startsWith(OVERLAY_ESCAPE_PREFIX)) {
      if (x.name === OVERLAY_ESCAPED_WHITEOUT || x.name === OVERLAY_ESCAPED_WHITEOUTS) continue;
      push('trusted.' + x.name.slice('trusted.'.length + 'overlay.'.length), x.value);
      continue;
    }
    if (x.name.startsWith(OVERLAY_PREFIX)) continue;
    push(x.name, x.value);
  }
  return out;
}

/** A real overlay whiteout: char device 0:0. In composefs images these are the 00..ff entries of the root. */
export function isWhiteout(inode: ErofsInode): boolean {
  return (inode.mode & F.S_IFMT) === F.S_IFCHR && inode.rdev === 0;
}

/** A source-tree whiteout that composefs escaped into a regular file. */
export function isEscapedWhiteout(reader: ErofsReader, inode: ErofsInode): boolean {
  return (inode.mode & F.S_IFMT) === F.S_IFREG && inode.xattrSize > 0 && reader.getXattr(inode, OVERLAY_ESCAPED_WHITEOUT) !== undefined;
}

/** Whether a directory holds escaped whiteouts (composefs marks such directories). */
export function dirHasEscapedWhiteouts(reader: ErofsReader, dir: ErofsInode): boolean {
  return dir.xattrSize > 0 && reader.getXattr(dir, OVERLAY_ESCAPED_WHITEOUTS) !== undefined;
}

export interface Redirect {
  /** Path relative to the object store, e.g. "84/c779...". */
  path: string;
  /** sha256 fs-verity digest from the metacopy xattr, when present. */
  digest: Uint8Array | undefined;
}

/**
 * The object a regular file's content lives in: it has a redirect, a metacopy and no data of its own in the
 * image (chunk-based holes, or a flat layout without blocks).
 */
export function redirectOf(reader: ErofsReader, inode: ErofsInode): Redirect | undefined {
  if ((inode.mode & F.S_IFMT) !== F.S_IFREG || inode.xattrSize === 0 || inode.size === 0) return undefined;
  if (inode.layout === F.LAYOUT_FLAT_INLINE || (inode.layout === F.LAYOUT_FLAT_PLAIN && inode.startBlk >= 0)) return undefined;
  const redirect = reader.getXattr(inode, OVERLAY_REDIRECT);
  const metacopy = reader.getXattr(inode, OVERLAY_METACOPY);
  if (!redirect || !metacopy) return undefined;
  const digest = metacopy.length === 36 ? metacopy.slice(4, 36) : undefined;
  return { path: utf8.decode(redirect), digest };
}
