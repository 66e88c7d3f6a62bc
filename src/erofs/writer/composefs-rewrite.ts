// The changes libcomposefs makes to a tree before writing it (lcfs-writer-erofs.c rewrite_tree_for_erofs and
// lcfs-writer.c lcfs_write_update_version), in the same order, because the order decides the bytes:
//  1. the format version goes up to 1 (if allowed) when the tree holds a whiteout;
//  2. depth first, each node: its trusted.overlay.X xattrs escaped to trusted.overlay.overlay.X; regular
//     files with external content get trusted.overlay.metacopy (digest) and trusted.overlay.redirect (object
//     path); whiteouts (char 0:0) become empty regular files marked ...overlay.whiteout, their directory
//     marked ...whiteouts (and, from version 1, opaque "x"); directories get "." and "..";
//  3. the root gets trusted.overlay.opaque=y and the real whiteouts 00..ff that hide the lower layers.

import * as F from '../reader/format.js';
import {
  OVERLAY_ESCAPED_WHITEOUT,
  OVERLAY_ESCAPED_WHITEOUTS,
  OVERLAY_ESCAPE_PREFIX,
  OVERLAY_METACOPY,
  OVERLAY_PREFIX,
  OVERLAY_REDIRECT,
  OVERLAY_USERXATTR_WHITEOUT,
  OVERLAY_USERXATTR_WHITEOUTS,
  OVERLAY_USER_PREFIX,
} from '../composefs.js';
import { DumpfileError, setExternalXattr } from './dumpfile.js';
import { MAX_STUB_CHUNKS, chunkCount, stubChunkBits } from './layout.js';
import { WNode, bytes, concatBytes, startsWith } from './node.js';

const PREFIX = bytes(OVERLAY_PREFIX);
const ESCAPE_PREFIX = bytes(OVERLAY_ESCAPE_PREFIX);
const METACOPY = bytes(OVERLAY_METACOPY);
const REDIRECT = bytes(OVERLAY_REDIRECT);
const ESCAPED_WHITEOUT = bytes(OVERLAY_ESCAPED_WHITEOUT);
const USER_WHITEOUT = bytes(OVERLAY_USERXATTR_WHITEOUT);
const ESCAPED_WHITEOUTS = bytes(OVERLAY_ESCAPED_WHITEOUTS);
const USER_WHITEOUTS = bytes(OVERLAY_USERXATTR_WHITEOUTS);
const ESCAPED_OPAQUE = bytes(`${OVERLAY_ESCAPE_PREFIX}opaque`);
const USER_OPAQUE = bytes(`${OVERLAY_USER_PREFIX}opaque`);
const OPAQUE = bytes(`${OVERLAY_PREFIX}opaque`);
const SELINUX = bytes('security.selinux');
const DOT = bytes('.');
const DOTDOT = bytes('..');
const EMPTY = new Uint8Array(0);
const FS_VERITY_HASH_ALG_SHA256 = 1;
/** Highest composefs format version this writer knows (LCFS_VERSION_MAX). */
export const COMPOSEFS_VERSION_MAX = 1;

function isWhiteout(n: WNode): boolean {
  return n.type === F.S_IFCHR && n.rdev === 0;
}

/** lcfs_write_update_version: a whiteout anywhere (hardlinks aside) asks for version 1 when allowed. */
export function effectiveVersion(root: WNode, min: number, max: number): number {
  if (min >= 1 || max < 1) return min;
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (isWhiteout(n)) return 1;
    for (const c of n.children) if (!c.linkTo) stack.push(c);
  }
  return min;
}

function addOverlayXattrs(n: WNode, version: number): void {
  for (const x of n.xattrs) {
    if (startsWith(x.key, PREFIX)) x.key = concatBytes(ESCAPE_PREFIX, x.key.subarray(PREFIX.length));
  }
  const where = n.origin;
  if (n.type === F.S_IFREG && n.size > 0 && n.data?.kind !== 'content') {
    let meta = EMPTY;
    if (n.digest) {
      meta = new Uint8Array(4 + 32);
      meta[1] = meta.length;
      meta[3] = FS_VERITY_HASH_ALG_SHA256;
      meta.set(n.digest, 4);
    }
    setExternalXattr(n, METACOPY, meta, where);
    if (n.payload && n.payload.length > 0) {
      // maybe_join_path("/", payload): always one more slash in front, even before an absolute payload
      const path = concatBytes(bytes('/'), n.payload);
      setExternalXattr(n, REDIRECT, path, where);
    }
  }
  if (isWhiteout(n)) {
    const parent = n.parent!;
    n.size = 0;
    n.data = undefined;
    n.mode = F.S_IFREG | (n.mode & ~F.S_IFMT);
    setExternalXattr(n, ESCAPED_WHITEOUT, EMPTY, where);
    setExternalXattr(n, USER_WHITEOUT, EMPTY, where);
    setExternalXattr(parent, ESCAPED_WHITEOUTS, EMPTY, parent.origin);
    setExternalXattr(parent, USER_WHITEOUTS, EMPTY, parent.origin);
    if (version >= 1) {
      setExternalXattr(parent, ESCAPED_OPAQUE, bytes('x'), parent.origin);
      setExternalXattr(parent, USER_OPAQUE, bytes('x'), parent.origin);
    }
  }
}

function link(target: WNode): WNode {
  const l = new WNode();
  l.linkTo = target;
  l.origin = target.origin;
  return l;
}

function rewriteNode(n: WNode, parent: WNode, version: number): void {
  if (n.type === F.S_IFREG && n.size > 0 && n.data?.kind !== 'content') {
    if (chunkCount(n.size, stubChunkBits(n.size, 12)) > MAX_STUB_CHUNKS) throw new DumpfileError(`${n.origin}: file too large`);
    n.data = { kind: 'stub' };
  }
  addOverlayXattrs(n, version);
  if (!n.isDir()) return;
  if (!n.lookup(DOT)) n.addChild(DOT, link(n));
  if (!n.lookup(DOTDOT)) n.addChild(DOTDOT, link(parent));
  for (const c of n.children) if (!c.linkTo) rewriteNode(c, n, version);
}

/** Rewrites the tree in place for a composefs image of format `version`. */
export function rewriteForComposefs(root: WNode, version: number): void {
  rewriteNode(root, root, version);
  setExternalXattr(root, OPAQUE, bytes('y'), root.origin);
  const selinux = root.getXattr(SELINUX);
  const hex = '0123456789abcdef';
  for (let i = 0; i < 256; i++) {
    const name = bytes(hex[i >> 4]! + hex[i & 15]!);
    if (root.lookup(name)) continue;
    const w = new WNode();
    w.mode = F.S_IFCHR | 0o644;
    w.uid = root.uid;
    w.gid = root.gid;
    w.mtimeSec = root.mtimeSec;
    w.mtimeNsec = root.mtimeNsec;
    w.origin = `/${hex[i >> 4]}${hex[i & 15]}`;
    if (selinux) w.setXattr(SELINUX, selinux);
    root.addChild(name, w);
  }
}
