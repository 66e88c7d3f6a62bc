// dumpTree: a canonical text dump of a directory tree, for comparing a tsfuse mount with the kernel's EROFS
// mount of the same image (or with the source tree).
//
// One line per entry, sorted by (escaped) path, then one line per xattr of that entry:
//   /path TYPE mode=0644 uid=0 gid=0 nlink=1 mtime=SEC.NNNNNNNNN [size=N] [rdev=MAJ:MIN] [target=ESC] [sha256=HEX]
//   /path  xattr NAME=0xHEX            (values longer than 128 bytes: NAME=#LEN:sha256:HEX)
// TYPE is reg, dir, lnk, chr, blk, fifo or sock. Paths, names and targets are escaped byte-wise (bytes.ts).
// Directory sizes, atime and ctime are left out (they differ legitimately between filesystems). An error
// while reading an entry becomes a line `/path !error CODE` so that it shows up in a diff.
//
// dumpTree() does synchronous I/O and runs getfattr synchronously: never call it in a thread that serves a
// FUSE mount. Use dumpTreeInChild(), which runs this module as a CLI in a child process:
//   node dumptree.js ROOT ['{"mtime":false,...}']

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BPath, bJoin, escapeBytes, fsPath } from './bytes.js';
import { run } from '../../helpers/proc.js';
import { readTreeXattrs } from './xattrs.js';

export interface DumpOptions {
  /** Include mtimes (default true). */
  mtime?: boolean;
  /** Include sha256 of regular files (default true). */
  content?: boolean;
  /** Include xattr lines (default true). */
  xattrs?: boolean;
  /** Include nlink (default true). */
  nlink?: boolean;
  /** Include nlink of directories (default true). */
  dirNlink?: boolean;
  /** Include uid/gid (default true). */
  owner?: boolean;
  /** A RegExp source: xattr names matching it are left out (e.g. "^security\\.selinux$"). */
  excludeXattrs?: string;
  /** Escaped paths as they appear in the dump ("/bigdir"): these entries and their subtrees are left out. */
  excludePaths?: string[];
}

const XATTR_INLINE_MAX = 128;

function typeName(st: fs.BigIntStats): string {
  if (st.isFile()) return 'reg';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'lnk';
  if (st.isCharacterDevice()) return 'chr';
  if (st.isBlockDevice()) return 'blk';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'sock';
  return 'unknown';
}

/** major:minor of a Linux dev_t as glibc encodes it. */
export function devParts(rdev: bigint): [number, number] {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return [Number(major), Number(minor)];
}

export function formatMtime(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  // floor division so that the nanoseconds part is always 0..999999999
  let sec = a / 1_000_000_000n;
  let rem = a % 1_000_000_000n;
  if (neg && rem !== 0n) {
    sec = sec + 1n;
    rem = 1_000_000_000n - rem;
  }
  return `${neg ? '-' : ''}${sec}.${rem.toString().padStart(9, '0')}`;
}

function errCode(e: unknown): string {
  const c = (e as { code?: string }).code;
  return c ?? String((e as Error).message ?? e).slice(0, 60);
}

function sha256File(p: Buffer): string {
  const h = createHash('sha256');
  const fd = fs.openSync(p, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

function xattrValue(v: Buffer): string {
  if (v.length <= XATTR_INLINE_MAX) return `0x${v.toString('hex')}`;
  return `#${v.length}:sha256:${createHash('sha256').update(v).digest('hex')}`;
}

/** Dumps the tree under root (synchronously; see the header comment). */
export function dumpTree(root: string, opts: DumpOptions = {}): string {
  const o = { mtime: true, content: true, xattrs: true, nlink: true, dirNlink: true, owner: true, ...opts };
  const exclude = new Set(o.excludePaths ?? []);
  const xattrRe = o.excludeXattrs ? new RegExp(o.excludeXattrs) : undefined;
  const entries: Array<{ key: string; line: string; rel: BPath }> = [];

  const visit = (rel: BPath): void => {
    const key = '/' + escapeBytes(rel);
    if (exclude.has(key)) return;
    const p = fsPath(root, rel);
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(p, { bigint: true });
    } catch (e) {
      entries.push({ key, rel, line: `${key} !error lstat ${errCode(e)}` });
      return;
    }
    const type = typeName(st);
    const f: string[] = [key, type, `mode=${(Number(st.mode) & 0o7777).toString(8).padStart(4, '0')}`];
    if (o.owner) f.push(`uid=${st.uid}`, `gid=${st.gid}`);
    if (o.nlink && (type !== 'dir' || o.dirNlink)) f.push(`nlink=${st.nlink}`);
    if (o.mtime) f.push(`mtime=${formatMtime(st.mtimeNs)}`);
    if (type === 'reg' || type === 'lnk') f.push(`size=${st.size}`);
    if (type === 'chr' || type === 'blk') f.push(`rdev=${devParts(st.rdev).join(':')}`);
    if (type === 'lnk') {
      try {
        f.push(`target=${escapeBytes(fs.readlinkSync(p, { encoding: 'buffer' }))}`);
      } catch (e) {
        f.push(`target=!error:${errCode(e)}`);
      }
    }
    if (type === 'reg' && o.content) {
      try {
        f.push(`sha256=${sha256File(p)}`);
      } catch (e) {
        f.push(`sha256=!error:${errCode(e)}`);
      }
    }
    entries.push({ key, rel, line: f.join(' ') });
    if (type === 'dir') {
      let names: Buffer[];
      try {
        names = fs.readdirSync(p, { encoding: 'buffer' });
      } catch (e) {
        entries.push({ key, rel, line: `${key} !error readdir ${errCode(e)}` });
        return;
      }
      for (const n of names) visit(bJoin(rel, n.toString('latin1')));
    }
  };
  visit('');
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const out: string[] = [];
  if (o.xattrs) {
    const xa = readTreeXattrs(root);
    for (const e of entries) {
      out.push(e.line);
      if (e.line.includes(' !error ')) continue;
      for (const [name, value] of xa.byPath.get(e.rel) ?? []) {
        if (xattrRe?.test(name)) continue;
        out.push(`${e.key}  xattr ${escapeBytes(Buffer.from(name, 'latin1'))}=${xattrValue(value)}`);
      }
    }
    for (const err of xa.errors) out.push(`!getfattr ${err.replace(root, 'ROOT')}`);
  } else {
    for (const e of entries) out.push(e.line);
  }
  return out.join('\n') + '\n';
}

const THIS_FILE = fileURLToPath(import.meta.url);

/**
 * Runs dumpTree in a child process (`node dumptree.js ROOT OPTS`), without blocking this thread. Rejects
 * on a non-zero exit or after timeoutMs (the child is SIGKILLed; a child stuck on a hung FUSE mount stays
 * until the connection is aborted).
 */
export async function dumpTreeInChild(root: string, timeoutMs = 60_000, opts: DumpOptions = {}): Promise<string> {
  const r = await run(process.execPath, [THIS_FILE, root, JSON.stringify(opts)], { timeoutMs });
  return r.stdout.toString('utf8');
}

interface Group {
  key: string;
  lines: string[];
}

function groups(dump: string): Group[] {
  const out: Group[] = [];
  for (const line of dump.split('\n')) {
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    const last = out[out.length - 1];
    if (last && last.key === key) last.lines.push(line);
    else out.push({ key, lines: [line] });
  }
  return out;
}

/**
 * The differences between two dumps ('' when they are equal): up to `max` differing entries, each as
 * "- line" (only in / as in A) and "+ line" (B), then a count of all differing entries.
 */
export function diffDumps(a: string, b: string, max = 20, labels: [string, string] = ['a', 'b']): string {
  if (a === b) return '';
  const ga = groups(a);
  const gb = groups(b);
  const out: string[] = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  let i = 0;
  let j = 0;
  let diffs = 0;
  const emit = (lines: string[]): void => {
    if (diffs <= max) out.push(...lines);
  };
  while (i < ga.length || j < gb.length) {
    const x = ga[i];
    const y = gb[j];
    if (x && y && x.key === y.key) {
      if (x.lines.join('\n') !== y.lines.join('\n')) {
        diffs++;
        const setB = new Set(y.lines);
        const setA = new Set(x.lines);
        emit([...x.lines.filter((l) => !setB.has(l)).map((l) => `- ${l}`), ...y.lines.filter((l) => !setA.has(l)).map((l) => `+ ${l}`)]);
      }
      i++;
      j++;
    } else if (x && (!y || x.key < y.key)) {
      diffs++;
      emit(x.lines.map((l) => `- ${l}`));
      i++;
    } else {
      diffs++;
      emit(y!.lines.map((l) => `+ ${l}`));
      j++;
    }
  }
  if (diffs > max) out.push(`... ${diffs - max} more differing entries`);
  out.push(`${diffs} differing entries (${ga.length} in ${labels[0]}, ${gb.length} in ${labels[1]})`);
  const text = out.map((l) => (l.length > 400 ? l.slice(0, 397) + '...' : l)).join('\n');
  return text;
}

// CLI: node dumptree.js ROOT [OPTIONS_JSON]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.argv[2];
  if (!root) {
    process.stderr.write('usage: node dumptree.js ROOT [OPTIONS_JSON]\n');
    process.exit(2);
  }
  const opts = process.argv[3] ? (JSON.parse(process.argv[3]) as DumpOptions) : {};
  process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));
  process.stdout.write(dumpTree(root, opts));
}
