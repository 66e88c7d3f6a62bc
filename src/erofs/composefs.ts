// composefs conventions on top of EROFS (as libcomposefs and composefs-rs write them):
//  - regular files whose content lives in an object store carry trusted.overlay.metacopy (version, length,
//    flags, digest algorithm, fs-verity digest) and trusted.overlay.redirect ("/XX/rest": path in the store);
//  - the source tree's own trusted.overlay.X xattrs are escaped as trusted.overlay.overlay.X;
//  - the source tree's whiteouts (char 0:0) are stored as empty regular files with trusted.overlay.overlay.whiteout
//    and user.overlay.whiteout, their directory marked with ...whiteouts (and, from format 1, opaque "x");
//  - the image root holds 256 real whiteouts 00..ff (char 0:0) and trusted.overlay.opaque, for overlayfs.
//
// The composefs view is what the kernel shows for `mount -t overlay -o ro,metacopy=on,redirect_dir=on,
// lowerdir=IMAGE::OBJECTS` (fs/overlayfs, kernel 6.7+ escaping; checked against that oracle on kernel 6.18):
//  - xattrs: trusted.overlay.overlay.X is shown as trusted.overlay.X; every other trusted.overlay.* (including
//    the bare name trusted.overlay.overlay) is overlayfs' own and hidden; user.* are plain xattrs;
//  - whiteouts: a char 0:0 device, or an empty regular file with trusted.overlay.whiteout (whether or not its
//    directory is marked with trusted.overlay.whiteouts or opaque "x": measured on 6.18), does not exist
//    (lookup: ENOENT). readdir of the root leaves out the char 0:0 ones; every other listing keeps them all
//    (overlayfs filters only directories it merges, and its root);
//  - a regular file with trusted.overlay.metacopy takes its content from the object its redirect names; the
//    checks overlayfs makes at lookup are in metacopyOf().
// This module turns an inode's raw xattrs into the views the filesystem serves.

import type { ErofsReader } from './reader/reader.js';
import type { ErofsInode } from './reader/inode.js';
import * as F from './reader/format.js';
import { decodeName } from '../protocol/names.js';
import { ERRNO } from '../protocol/errno.js';

export const OVERLAY_PREFIX = 'trusted.overlay.';
export const OVERLAY_ESCAPE_PREFIX = 'trusted.overlay.overlay.';
export const OVERLAY_USER_PREFIX = 'user.overlay.';
export const OVERLAY_USER_ESCAPE_PREFIX = 'user.overlay.overlay.';
export const OVERLAY_REDIRECT = 'trusted.overlay.redirect';
export const OVERLAY_METACOPY = 'trusted.overlay.metacopy';
export const OVERLAY_WHITEOUT = 'trusted.overlay.whiteout';
export const OVERLAY_WHITEOUTS = 'trusted.overlay.whiteouts';
export const OVERLAY_OPAQUE = 'trusted.overlay.opaque';
export const OVERLAY_ESCAPED_WHITEOUT = 'trusted.overlay.overlay.whiteout';
export const OVERLAY_ESCAPED_WHITEOUTS = 'trusted.overlay.overlay.whiteouts';
export const OVERLAY_USERXATTR_WHITEOUT = 'user.overlay.whiteout';
export const OVERLAY_USERXATTR_WHITEOUTS = 'user.overlay.whiteouts';
/** XATTR_NAME_MAX: a name escaped past it cannot be shown (overlayfs answers EOPNOTSUPP for it). */
const XATTR_NAME_MAX = 255;
/** struct ovl_metacopy: version, len, flags, digest_algo, digest[] (fs/overlayfs/overlayfs.h). */
const METACOPY_MIN_SIZE = 4;

/**
 * How the image is presented:
 *  - 'raw': exactly what the kernel's EROFS driver shows;
 *  - 'plain': the kernel's composefs view (overlayfs over the image with the object store as data-only layer,
 *    see the header); for a non-composefs image this equals 'raw';
 *  - 'overlay': metadata for an unprivileged overlayfs (userxattr) that then shows the kernel's composefs view:
 *    overlayfs' own trusted.overlay.X become user.overlay.X, escapes are kept as escapes in the namespace the
 *    upper overlay unescapes, contents never read from the store.
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

/**
 * The name an image xattr is shown under, or undefined when the view hides it.
 *  plain (overlayfs with trusted xattrs): trusted.overlay.overlay.X -> trusted.overlay.X, other trusted.overlay.*
 *    hidden, the rest as is;
 *  overlay (for overlayfs with userxattr on top, which passes trusted.* through and unescapes
 *    user.overlay.overlay.X): trusted.overlay.overlay.X -> trusted.overlay.X, trusted.overlay.X ->
 *    user.overlay.X (overlayfs' own, for it to act on), user.overlay.X -> user.overlay.overlay.X (so that it
 *    comes out of overlayfs as the plain xattr it is in the kernel's view).
 */
export function viewXattrName(name: string, mode: ViewMode): string | undefined {
  if (name.startsWith(OVERLAY_ESCAPE_PREFIX)) return OVERLAY_PREFIX + name.slice(OVERLAY_ESCAPE_PREFIX.length);
  if (name.startsWith(OVERLAY_PREFIX)) {
    return mode === 'overlay' ? OVERLAY_USER_PREFIX + name.slice(OVERLAY_PREFIX.length) : undefined;
  }
  if (mode === 'overlay' && name.startsWith(OVERLAY_USER_PREFIX)) {
    const escaped = OVERLAY_USER_ESCAPE_PREFIX + name.slice(OVERLAY_USER_PREFIX.length);
    return Buffer.byteLength(escaped, 'latin1') <= XATTR_NAME_MAX ? escaped : undefined;
  }
  return name;
}

/** Applies the view's renaming/hiding to a raw xattr list; the first of duplicate names wins. */
export function viewXattrs(raw: NamedXattr[], mode: ViewMode, composefs: boolean): NamedXattr[] {
  if (mode === 'raw' || (mode === 'plain' && !composefs)) return raw;
  const out: NamedXattr[] = [];
  const seen = new Set<string>();
  for (const x of raw) {
    const name = viewXattrName(x.name, mode);
    if (name === undefined || seen.has(name)) continue;
    seen.add(name);
    out.push({ name, value: x.value });
  }
  return out;
}

/** A real overlay whiteout: char device 0:0. In composefs images these are the 00..ff entries of the root. */
export function isWhiteout(inode: ErofsInode): boolean {
  return (inode.mode & F.S_IFMT) === F.S_IFCHR && inode.rdev === 0;
}

/** An overlayfs "xwhiteout": an empty regular file with trusted.overlay.whiteout. */
export function isXWhiteout(reader: ErofsReader, inode: ErofsInode): boolean {
  return (inode.mode & F.S_IFMT) === F.S_IFREG && inode.size === 0 && inode.xattrSize > 0 && reader.getXattr(inode, OVERLAY_WHITEOUT) !== undefined;
}

/** fs-verity hash algorithms (FS_VERITY_HASH_ALG_*) as overlayfs records them in the metacopy xattr. */
export const VERITY_ALG_SHA256 = 1;
export const VERITY_ALG_SHA512 = 2;

export interface Redirect {
  /** The redirect as overlayfs reads it (up to the first NUL), e.g. "/84/c779...". */
  path: string;
  /** The fs-verity digest from the metacopy xattr, when it carries one. */
  digest: Uint8Array | undefined;
  /** Its FS_VERITY_HASH_ALG_* (meaningful with a digest). */
  digestAlg: number;
}

/** Why overlayfs refuses to look a metacopy file up: the errno it answers and the reason it logs. */
export interface MetacopyError {
  errno: number;
  reason: string;
}

export type Metacopy = Redirect | MetacopyError | undefined;

export function isMetacopyError(m: Metacopy): m is MetacopyError {
  return m !== undefined && 'errno' in m;
}

/**
 * The object a regular file's content lives in, as overlayfs finds it: trusted.overlay.metacopy makes the file
 * metadata-only (whatever data the image holds for it is not used). overlayfs fails the lookup when the xattr
 * has 1 to 3 bytes (EIO), when there is no redirect (EIO: "metacopy with no lower data
 * found"), when the redirect is empty, has an empty component, or is relative with a '/' (EINVAL: "invalid
 * redirect"), and when it is relative at all (EIO: a data-only layer needs an absolute path).
 */
export function metacopyOf(reader: ErofsReader, inode: ErofsInode): Metacopy {
  if ((inode.mode & F.S_IFMT) !== F.S_IFREG || inode.xattrSize === 0) return undefined;
  const metacopy = reader.getXattr(inode, OVERLAY_METACOPY);
  if (!metacopy) return undefined;
  if (metacopy.length !== 0 && metacopy.length < METACOPY_MIN_SIZE) {
    return { errno: ERRNO.EIO, reason: `metacopy xattr of ${metacopy.length} bytes` };
  }
  const raw = reader.getXattr(inode, OVERLAY_REDIRECT);
  if (!raw) return { errno: ERRNO.EIO, reason: 'metacopy with no redirect' };
  const nul = raw.indexOf(0);
  const path = utf8.decode(nul < 0 ? raw : raw.subarray(0, nul));
  if (path === '') return { errno: ERRNO.EINVAL, reason: 'empty redirect' };
  if (path.startsWith('/')) {
    if (path.slice(1).split('/').includes('')) return { errno: ERRNO.EINVAL, reason: `invalid redirect ${JSON.stringify(path)}` };
  } else {
    if (path.includes('/')) return { errno: ERRNO.EINVAL, reason: `invalid redirect ${JSON.stringify(path)}` };
    return { errno: ERRNO.EIO, reason: `relative redirect ${JSON.stringify(path)} cannot reach the object store` };
  }
  // ovl_metacopy: len counts the 4-byte header; a digest follows it when len > 4.
  let digest: Uint8Array | undefined;
  if (metacopy.length > METACOPY_MIN_SIZE && metacopy[1]! > METACOPY_MIN_SIZE && metacopy[1]! <= metacopy.length) {
    digest = metacopy.slice(METACOPY_MIN_SIZE, metacopy[1]!);
  }
  return { path, digest, digestAlg: metacopy.length >= METACOPY_MIN_SIZE ? metacopy[3]! : 0 };
}

/** The object of a metacopy file (undefined for a file that is not one or that overlayfs refuses). */
export function redirectOf(reader: ErofsReader, inode: ErofsInode): Redirect | undefined {
  const m = metacopyOf(reader, inode);
  return isMetacopyError(m) ? undefined : m;
}
