// Reads a composefs dumpfile (reference/composefs-dump.md) into a writer tree, line by line from a file or
// stdin, as mkcomposefs 1.0.8's tree_from_dump does: eleven space-separated fields (\\, \n, \r, \t, \xXY
// escapes; '-' for "none"), then KEY=VALUE xattrs. Hardlinks ('@' before the mode) are resolved once every
// line is in, last line first. Where libcomposefs would silently accept nonsense (a bad integer in some
// fields, a short digest), this parser refuses the line instead.

import * as fs from 'node:fs';
import * as F from '../reader/format.js';
import { WNode } from './node.js';

export class DumpfileError extends Error {}

/** libcomposefs limits (lcfs-writer.h, lcfs-internal.h). */
export const INLINE_CONTENT_MAX = 5000;
const PATH_MAX = 4096;
const XATTR_NAME_MAX = 255;
const EXTERNAL_XATTR_MAX = 0xffff >> 1;

function hexdigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

export function unescape(field: Uint8Array): Uint8Array {
  const out = new Uint8Array(field.length);
  let o = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c !== 0x5c) {
      out[o++] = c;
      continue;
    }
    if (++i >= field.length) throw new DumpfileError('no character after escape');
    const e = field[i]!;
    if (e === 0x5c) out[o++] = 0x5c;
    else if (e === 0x6e) out[o++] = 0x0a;
    else if (e === 0x72) out[o++] = 0x0d;
    else if (e === 0x74) out[o++] = 0x09;
    else if (e === 0x78) {
      if (i + 2 >= field.length) throw new DumpfileError('no hex characters after hex escape');
      const x1 = hexdigit(field[i + 1]!);
      const x2 = hexdigit(field[i + 2]!);
      if (x1 < 0 || x2 < 0) throw new DumpfileError('invalid hex characters after hex escape');
      out[o++] = (x1 << 4) | x2;
      i += 2;
    } else throw new DumpfileError(`unsupported escape type ${String.fromCharCode(e)}`);
  }
  return out.subarray(0, o);
}

function optional(field: Uint8Array): Uint8Array | undefined {
  if (field.length === 1 && field[0] === 0x2d) return undefined;
  return unescape(field);
}

const latin1 = new TextDecoder('latin1');

function parseInt(field: Uint8Array, base: 8 | 10, what: string, signed = false): number {
  const s = latin1.decode(field);
  const re = base === 8 ? /^[0-7]+$/ : signed ? /^-?[0-9]+$/ : /^[0-9]+$/;
  if (!re.test(s)) throw new DumpfileError(`invalid ${what} '${s}'`);
  const v = base === 8 ? Number.parseInt(s, 8) : Number(s);
  if (!Number.isSafeInteger(v)) throw new DumpfileError(`${what} '${s}' is out of range`);
  return v;
}

function noNul(b: Uint8Array, what: string): Uint8Array {
  if (b.includes(0)) throw new DumpfileError(`${what} contains a NUL byte`);
  return b;
}

function validMode(mode: number): boolean {
  switch (mode & F.S_IFMT) {
    case F.S_IFREG: case F.S_IFDIR: case F.S_IFLNK: case F.S_IFBLK: case F.S_IFCHR: case F.S_IFSOCK: case F.S_IFIFO:
      return true;
    default:
      return false;
  }
}

/** Splits `path` (leading slashes dropped) into components; repeated slashes are skipped as libcomposefs does. */
function components(path: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      if (i > start) out.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

interface Fixup {
  node: WNode;
  target: Uint8Array | undefined;
}

/** Enforces libcomposefs' xattr limits for dumpfile input (lcfs_node_set_xattr_internal). */
export function setExternalXattr(node: WNode, key: Uint8Array, value: Uint8Array, where: string): void {
  if (key.length === 0 || key.length > XATTR_NAME_MAX) throw new DumpfileError(`${where}: xattr name of ${key.length} bytes`);
  if (value.length > 0xffff) throw new DumpfileError(`${where}: xattr value of ${value.length} bytes`);
  node.setXattr(key, value);
  // libcomposefs' running estimate: header once, then each entry counted with worst-case padding
  let total = F.XATTR_IBODY_HEADER_SIZE;
  for (const x of node.xattrs) total += 2 * F.XATTR_ENTRY_SIZE - 1 + x.key.length + x.value.length;
  if (total > EXTERNAL_XATTR_MAX) throw new DumpfileError(`${where}: xattrs exceed ${EXTERNAL_XATTR_MAX} bytes`);
}

export class DumpfileParser {
  root: WNode | undefined;
  private readonly fixups: Fixup[] = [];
  lineNo = 0;

  private lookupParent(path: Uint8Array): { parent: WNode; name: Uint8Array } {
    const parts = components(path);
    const name = parts.pop();
    if (!name || (path.length && path[path.length - 1] === 0x2f)) throw new DumpfileError('invalid path');
    let node = this.root!;
    for (const p of parts) {
      const c = node.lookup(p);
      if (!c) throw new DumpfileError('parent directory missing');
      node = c;
    }
    return { parent: node, name };
  }

  lookupPath(path: Uint8Array): WNode | undefined {
    let node = this.root!;
    for (const p of components(path)) {
      const c = node.lookup(p);
      if (!c) return undefined;
      node = c;
    }
    return node;
  }

  /** One line (without its newline). Throws DumpfileError saying what is wrong with it. */
  line(line: Uint8Array): void {
    this.lineNo++;
    const nul = line.indexOf(0);
    if (nul >= 0) throw new DumpfileError(`invalid embedded NUL character at position ${nul}`);
    const fields: Uint8Array[] = [];
    let pos = 0;
    for (let i = 0; i < 11; i++) {
      const sp = line.indexOf(0x20, pos);
      if (sp < 0) {
        fields.push(line.subarray(pos));
        pos = line.length;
      } else {
        fields.push(line.subarray(pos, sp));
        pos = sp + 1;
      }
    }
    const rest = line.subarray(pos);
    const path = noNul(unescape(fields[0]!), 'path');
    if (path.length === 0) throw new DumpfileError('invalid empty path');
    let modeField = fields[2]!;
    const hardlink = modeField[0] === 0x40;
    if (hardlink) modeField = modeField.subarray(1);
    const mode = parseInt(modeField, 8, 'mode');
    if (!validMode(mode) || mode > 0xffff) throw new DumpfileError(`invalid mode ${mode.toString(8)}`);
    const node = new WNode();
    node.mode = mode;
    node.origin = Buffer.from(path).toString('latin1');
    this.addNode(path, node);
    if (hardlink) {
      if (node.isDir()) throw new DumpfileError("directories can't be hardlinked");
      const t = optional(fields[8]!);
      this.fixups.push({ node, target: t && noNul(t, 'hardlink target') });
      return;
    }
    const size = parseInt(fields[1]!, 10, 'size');
    const nlink = parseInt(fields[3]!, 10, 'nlink');
    const uid = parseInt(fields[4]!, 10, 'uid');
    const gid = parseInt(fields[5]!, 10, 'gid');
    const rdev = parseInt(fields[6]!, 10, 'rdev');
    const mt = fields[7]!;
    const dot = mt.indexOf(0x2e);
    const sec = parseInt(dot < 0 ? mt : mt.subarray(0, dot), 10, 'mtime', true);
    const nsec = parseInt(dot < 0 ? new Uint8Array(0) : mt.subarray(dot + 1), 10, 'mtime nanoseconds');
    if (nsec >= 1e9) throw new DumpfileError(`mtime nanoseconds ${nsec} are not below one second`);
    if (uid > 0xffffffff || gid > 0xffffffff || nlink > 0xffffffff) throw new DumpfileError('uid, gid or nlink out of range');
    const payload = optional(fields[8]!);
    const content = optional(fields[9]!);
    if (content && content.length !== size) throw new DumpfileError(`invalid content size ${content.length}, must match size ${size}`);
    const digestField = optional(fields[10]!);
    const type = mode & F.S_IFMT;
    if (type !== F.S_IFLNK) node.size = size;
    node.nlink = nlink;
    node.uid = uid;
    node.gid = gid;
    if (type === F.S_IFCHR || type === F.S_IFBLK) {
      if (rdev > 0xffffffff) throw new DumpfileError(`rdev ${rdev} out of range`);
      node.rdev = rdev;
    }
    node.mtimeSec = sec;
    node.mtimeNsec = nsec;
    if (type === F.S_IFLNK) {
      if (!payload || payload.length === 0) throw new DumpfileError('invalid symlink: empty target');
      noNul(payload, 'symlink target');
      if (payload.length >= PATH_MAX) throw new DumpfileError(`symlink target of ${payload.length} bytes`);
      node.payload = payload;
      node.size = payload.length;
    } else {
      if (payload) {
        noNul(payload, 'payload');
        if (payload.length >= PATH_MAX) throw new DumpfileError(`payload of ${payload.length} bytes`);
        node.payload = payload;
      }
      if (content) {
        if (content.length > INLINE_CONTENT_MAX) throw new DumpfileError(`inline content size ${content.length} exceeds maximum ${INLINE_CONTENT_MAX}`);
        if (content.length) node.data = { kind: 'content', bytes: content };
        node.size = content.length;
      }
    }
    if (digestField) {
      const hex = latin1.decode(digestField);
      if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new DumpfileError(`invalid digest '${hex}'`);
      node.digest = Uint8Array.from(Buffer.from(hex, 'hex'));
    }
    if (rest.length > 0xffff) throw new DumpfileError('too many xattrs');
    if (rest.length > 0) {
      let p = 0;
      for (;;) {
        const sp = rest.indexOf(0x20, p);
        const x = sp < 0 ? rest.subarray(p) : rest.subarray(p, sp);
        const eq = x.indexOf(0x3d);
        if (eq < 0) throw new DumpfileError('missing = in xattr');
        const key = noNul(unescape(x.subarray(0, eq)), 'xattr name');
        setExternalXattr(node, key, unescape(x.subarray(eq + 1)), 'xattr');
        if (sp < 0) break;
        p = sp + 1;
      }
    }
  }

  private addNode(path: Uint8Array, node: WNode): void {
    if (path.length === 1 && path[0] === 0x2f) {
      if (!node.isDir()) throw new DumpfileError('root must be a directory');
      if (this.root) throw new DumpfileError("can't have multiple roots");
      this.root = node;
      return;
    }
    if (!this.root) throw new DumpfileError('root node not present');
    const { parent, name } = this.lookupParent(path);
    if (!parent.isDir()) throw new DumpfileError('parent must be a directory');
    if ((name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e)) {
      throw new DumpfileError('invalid . or .. in path');
    }
    if (name.length > F.NAME_LEN) throw new DumpfileError(`name longer than ${F.NAME_LEN} bytes`);
    if (!parent.addChild(name, node)) throw new DumpfileError('path already exists');
  }

  /** Resolves hardlinks (last line first, as libcomposefs' fixup list runs) and returns the root. */
  finish(): WNode {
    if (!this.root) throw new DumpfileError('no files in dump file');
    for (let i = this.fixups.length - 1; i >= 0; i--) {
      const f = this.fixups[i]!;
      const where = f.node.origin;
      if (!f.target) throw new DumpfileError(`${where}: no target path for the hardlink`);
      const target = this.lookupPath(f.target);
      if (!target) throw new DumpfileError(`${where}: no target at ${Buffer.from(f.target).toString('latin1')} for hardlink`);
      if (target === f.node) throw new DumpfileError(`${where}: self-referential hardlink`);
      f.node.linkTo = target;
      const real = target.target();
      if (real.isDir()) throw new DumpfileError(`${where}: hardlink to a directory`);
    }
    return this.root;
  }
}

/** Parses a whole dumpfile ('-' = stdin), reading it in pieces. */
export function parseDumpfile(file: string): WNode {
  const fd = file === '-' ? 0 : fs.openSync(file, 'r');
  const parser = new DumpfileParser();
  const buf = Buffer.alloc(1 << 20);
  let carry: Buffer = Buffer.alloc(0);
  const feed = (line: Uint8Array): void => {
    try {
      parser.line(line);
    } catch (e) {
      if (e instanceof DumpfileError) {
        const p = line.indexOf(0x20);
        const path = latin1.decode(line.subarray(0, p < 0 ? Math.min(line.length, 200) : Math.min(p, 200)));
        throw new DumpfileError(`${file === '-' ? 'stdin' : file}:${parser.lineNo}: ${path}: ${e.message}`);
      }
      throw e;
    }
  };
  try {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((e as NodeJS.ErrnoException).code === 'EOF') n = 0;
        else throw e;
      }
      if (n === 0) break;
      const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      let start = 0;
      for (;;) {
        const nl = data.indexOf(0x0a, start);
        if (nl < 0) break;
        feed(data.subarray(start, nl));
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
    }
    if (carry.length) feed(carry);
  } finally {
    if (fd !== 0) fs.closeSync(fd);
  }
  return parser.finish();
}
