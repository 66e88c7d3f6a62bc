// The composefs dumpfile (composefs-dump(5)) of an image, byte for byte what `composefs-info dump` prints:
// libcomposefs loads the image into a tree (lcfs_load_node_from_image: undoing the overlay escapes, skipping
// the 00..ff whiteouts, spotting hardlinks by nid in depth-first order) and prints it depth first.

import type { ErofsReader } from './reader/reader.js';
import type { ErofsInode } from './reader/inode.js';
import * as F from './reader/format.js';
import { bytesEqual } from './reader/bytes.js';
import { CorruptImageError } from './reader/errors.js';
import { formatNid } from './reader/superblock.js';
import {
  OVERLAY_ESCAPED_WHITEOUT,
  OVERLAY_ESCAPED_WHITEOUTS,
  OVERLAY_ESCAPE_PREFIX,
  OVERLAY_METACOPY,
  OVERLAY_PREFIX,
  OVERLAY_REDIRECT,
  OVERLAY_USERXATTR_WHITEOUT,
  OVERLAY_USERXATTR_WHITEOUTS,
} from './composefs.js';

const enc = new TextEncoder();
const DOT = enc.encode('.');
const DOTDOT = enc.encode('..');

// print_escaped() flags of composefs-info
const ESCAPE_STANDARD = 0;
const ESCAPE_EQUAL = 2;
const ESCAPE_LONE_DASH = 4;

const HEX = '0123456789abcdef';

/** How each byte prints, per escape flag set (ESCAPE_EQUAL only changes '='). */
function escapeTable(escapeEqual: boolean): string[] {
  const t: string[] = [];
  for (let c = 0; c < 256; c++) {
    if (c === 0x5c) t.push('\\\\');
    else if (c === 0x0a) t.push('\\n');
    else if (c === 0x0d) t.push('\\r');
    else if (c === 0x09) t.push('\\t');
    else if (c === 0x3d ? escapeEqual : c < 0x21 || c > 0x7e) t.push('\\x' + HEX[c >> 4] + HEX[c & 15]);
    else t.push(String.fromCharCode(c));
  }
  return t;
}
const TABLE_PLAIN = escapeTable(false);
const TABLE_EQUAL = escapeTable(true);
const latin1 = new TextDecoder('latin1');

/** composefs-info's print_escaped: C-locale isgraph() passes, \\ \n \r \t get names, the rest \xNN. */
function escape(val: Uint8Array, flags: number): string {
  if (flags & ESCAPE_LONE_DASH && val.length === 1 && val[0] === 0x2d) return '\\x2d';
  const table = flags & ESCAPE_EQUAL ? TABLE_EQUAL : TABLE_PLAIN;
  let s = '';
  let run = 0; // start of the current run of bytes that print as themselves
  for (let i = 0; i < val.length; i++) {
    const out = table[val[i]!]!;
    if (out.length === 1) continue;
    if (i > run) s += latin1.decode(val.subarray(run, i));
    s += out;
    run = i + 1;
  }
  if (run < val.length) s += run === 0 ? latin1.decode(val) : latin1.decode(val.subarray(run));
  return s;
}

/** C strings stop at the first NUL; names and payloads go through strlen() in libcomposefs. */
function cstr(b: Uint8Array): Uint8Array {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** libcomposefs' xattr prefix table (index 0 = raw full name, 5 = lustre). */
const LCFS_PREFIXES = ['', 'user.', 'system.posix_acl_access', 'system.posix_acl_default', 'trusted.', 'lustre.', 'security.'].map((p) =>
  enc.encode(p),
);

interface NodeInfo {
  mode: number;
  size: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  mtime: number;
  mtimeNsec: number;
  payload: Uint8Array | undefined;
  /** Flat regular files print their content; it is streamed from here when the line is written. */
  content: ErofsInode | undefined;
  digest: Uint8Array | undefined;
  xattrs: Array<{ name: Uint8Array; value: Uint8Array }>;
}

function nodeInfo(reader: ErofsReader, inode: ErofsInode): NodeInfo {
  const type = inode.mode & F.S_IFMT;
  const info: NodeInfo = {
    mode: inode.mode,
    size: inode.size,
    nlink: inode.nlink,
    uid: inode.uid,
    gid: inode.gid,
    rdev: type === F.S_IFCHR || type === F.S_IFBLK ? inode.rdev : 0,
    mtime: inode.mtime,
    mtimeNsec: inode.mtimeNsec,
    payload: undefined,
    content: undefined,
    digest: undefined,
    xattrs: [],
  };
  if (type === F.S_IFLNK) info.payload = cstr(reader.readlink(inode));
  else if (type === F.S_IFREG && inode.size !== 0 && (inode.layout === F.LAYOUT_FLAT_PLAIN || inode.layout === F.LAYOUT_FLAT_INLINE)) {
    // Flat content comes from the image, so it cannot be larger than the image (a hole-only flat file of
    // absurd size is damage, and would otherwise print gigabytes of \x00).
    if (inode.size > reader.imageSize) throw new CorruptImageError(`inode ${formatNid(inode.nid)}: flat file of ${inode.size} bytes in a ${reader.imageSize}-byte image`);
    info.content = inode;
  }
  const prefixes = reader.longPrefixes();
  for (const x of reader.xattrs(inode)) {
    let prefix: Uint8Array | undefined;
    if (x.index & F.XATTR_LONG_PREFIX) prefix = prefixes[x.index & F.XATTR_LONG_PREFIX_MASK]?.prefix;
    else prefix = LCFS_PREFIXES[x.index];
    if (!prefix) continue;
    const name = cstr(concat(prefix, x.suffix));
    const n = new TextDecoder('latin1').decode(name);
    const isReg = (info.mode & F.S_IFMT) === F.S_IFREG;
    if (n === OVERLAY_REDIRECT) {
      if (isReg) {
        const v = x.value.length > 1 && x.value[0] === 0x2f ? x.value.subarray(1) : x.value;
        info.payload = cstr(v);
      }
      continue;
    }
    if (n === OVERLAY_METACOPY) {
      if (isReg && x.value.length === 36) info.digest = x.value.subarray(4, 36);
      continue;
    }
    if (n === OVERLAY_ESCAPED_WHITEOUT && isReg) {
      // an escaped whiteout of the source tree: back to char 0:0
      info.mode = (info.mode & ~F.S_IFMT) | F.S_IFCHR;
      info.rdev = 0;
      info.size = 0;
      continue;
    }
    if (n === OVERLAY_ESCAPED_WHITEOUTS || n === OVERLAY_USERXATTR_WHITEOUT || n === OVERLAY_USERXATTR_WHITEOUTS) continue;
    let finalName = name;
    if (n.startsWith(OVERLAY_PREFIX)) {
      if (!n.startsWith(OVERLAY_ESCAPE_PREFIX)) continue;
      finalName = concat(enc.encode('trusted.'), name.subarray(OVERLAY_PREFIX.length));
    }
    const existing = info.xattrs.find((e) => bytesEqual(e.name, finalName));
    if (existing) existing.value = x.value;
    else info.xattrs.push({ name: finalName, value: x.value });
  }
  return info;
}

/** Writes one dump line through `emit`; file content is read and escaped in pieces, never whole. */
function writeLine(reader: ErofsReader, emit: (s: string) => void, path: Uint8Array, info: NodeInfo, hardlinkTo: Uint8Array | undefined): void {
  let s = escape(path.length ? path : enc.encode('/'), ESCAPE_STANDARD);
  s += ` ${info.size} ${hardlinkTo ? '@' : ''}${info.mode.toString(8)} ${info.nlink} ${info.uid} ${info.gid} ${info.rdev} ${info.mtime}.${info.mtimeNsec} `;
  const payload = hardlinkTo ?? info.payload;
  s += payload ? escape(payload, ESCAPE_LONE_DASH) : '-';
  s += ' ';
  if (info.content && info.size > 0) {
    emit(s);
    s = '';
    if (info.size === 1) {
      emit(escape(reader.read(info.content, 0, 1), ESCAPE_LONE_DASH));
    } else {
      // escaping is per byte (the lone-dash rule only concerns a 1-byte value), so pieces join exactly
      for (let off = 0; off < info.size; off += CONTENT_PIECE) emit(escape(reader.read(info.content, off, CONTENT_PIECE), ESCAPE_STANDARD));
    }
  } else {
    s += '-';
  }
  if (info.digest) {
    s += ' ';
    for (const b of info.digest) s += HEX[b >> 4]! + HEX[b & 15]!;
  } else {
    s += ' -';
  }
  for (const x of info.xattrs) s += ' ' + escape(cstr(x.name), ESCAPE_EQUAL) + '=' + escape(x.value, ESCAPE_EQUAL);
  emit(s + '\n');
}

const CONTENT_PIECE = 1 << 20;

/**
 * Writes the composefs dump of the image through `write` (called with chunks of text). Hardlinks (a nid seen
 * before, directories included) print as '@' lines pointing at the first path and are not descended into,
 * so even a directory cycle in a corrupt image ends.
 */
export function dumpComposefs(reader: ErofsReader, write: (chunk: string) => void): void {
  const seen = new Map<number, { path: Uint8Array; info: NodeInfo }>();
  let buf = '';
  const emit = (s: string) => {
    buf += s;
    if (buf.length >= 65536) {
      write(buf);
      buf = '';
    }
  };
  const root = reader.root();
  const visit = (inode: ErofsInode, path: Uint8Array) => {
    const info = nodeInfo(reader, inode);
    seen.set(inode.nid, { path, info });
    writeLine(reader, emit, path, info, undefined);
    if ((inode.mode & F.S_IFMT) !== F.S_IFDIR) return;
    for (const e of reader.entries(inode)) {
      if (bytesEqual(e.name, DOT) || bytesEqual(e.name, DOTDOT)) continue;
      const childPath = concat(concat(path, enc.encode('/')), cstr(e.name));
      const prev = seen.get(e.nid);
      if (prev) {
        writeLine(reader, emit, childPath, prev.info, prev.path);
        continue;
      }
      const child = reader.inode(e.nid);
      // the 00..ff overlay whiteouts (and any char 0:0) are not part of the source tree
      if ((child.mode & F.S_IFMT) === F.S_IFCHR && child.rdev === 0) continue;
      visit(child, childPath);
    }
  };
  visit(root, new Uint8Array(0));
  if (buf) write(buf);
}

/** The whole dump as one string (convenient for small images and tests). */
export function dumpComposefsToString(reader: ErofsReader): string {
  const parts: string[] = [];
  dumpComposefs(reader, (c) => parts.push(c));
  return parts.join('');
}
