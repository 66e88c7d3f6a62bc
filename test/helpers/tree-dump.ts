// The one tree-dump format of the tests: a canonical text dump of a directory tree, for comparing a tsfuse
// mount, the reader API or the Filesystem API with the kernel's mount of the same image (or with the source
// tree, or with what a composefs dumpfile describes). Every walker produces DumpEntry records and formatDump()
// alone turns them into text, so two dumps differ only where the trees do.
//
// One line per entry, sorted by (escaped) path, then one line per xattr of that entry:
//   /path TYPE mode=0644 uid=0 gid=0 nlink=1 mtime=SEC.NNNNNNNNN [size=N] [rdev=MAJ:MIN] [target=ESC] [sha256=HEX]
//   /path  xattr NAME=0xHEX            (values longer than 128 bytes: NAME=#LEN:sha256:HEX)
// TYPE is reg, dir, lnk, chr, blk, fifo or sock. Paths, names and targets are escaped byte-wise (bytes.ts).
// Directory sizes (unless dirSize), atime and ctime are left out (they differ legitimately between
// filesystems). An error while reading an entry becomes a line `/path !error OP CODE` so that it shows up in
// a diff.
//
// dumpTree() does synchronous I/O and runs getfattr synchronously: never call it in a thread that serves a
// FUSE mount. Use dumpTreeInChild(), which runs this module as a CLI in a child process:
//   node tree-dump.js ROOT ['{"mtime":false,...}']

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BPath, bJoin, escapeBytes, fsPath } from './bytes.js';
import { run } from './proc.js';
import { type Xattr, readTreeXattrs } from './xattrs.js';

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
  /** Include the size of directories (default false: it differs between filesystems, not between two views of one image). */
  dirSize?: boolean;
  /** A RegExp source: xattr names matching it are left out (e.g. "^security\\.selinux$"). */
  excludeXattrs?: string;
  /** Escaped paths as they appear in the dump ("/bigdir"): these entries and their subtrees are left out. */
  excludePaths?: string[];
}

/** What one entry of a tree looks like, however it was read. */
export interface DumpEntry {
  /** Relative byte path ('' = the root). */
  path: BPath;
  /** st_mode: type and permission bits. */
  mode: number;
  uid: number | bigint;
  gid: number | bigint;
  nlink: number | bigint;
  mtimeNs: bigint;
  size: number | bigint;
  /** st_rdev as glibc encodes it (what Node's stat reports); printed for devices only. */
  rdev?: number | bigint;
  /** Symlink target (bytes), or the error code reading it gave. */
  target?: Uint8Array | { error: string };
  /** Hex sha256 of a regular file's content, or the error code reading it gave. */
  sha256?: string | { error: string };
  /** Name (byte string) and value of each xattr; order does not matter. */
  xattrs?: Xattr[];
  /** Lines `!error OP CODE` that follow the entry (e.g. "readdir EIO"). */
  errors?: string[];
}

/** An entry that could not even be stat'ed: `/path !error lstat CODE`. */
export interface FailedEntry {
  path: BPath;
  lstatError: string;
}

export type DumpItem = DumpEntry | FailedEntry;

const XATTR_INLINE_MAX = 128;

const TYPES: Record<number, string> = {
  0o100000: 'reg', 0o040000: 'dir', 0o120000: 'lnk', 0o020000: 'chr', 0o060000: 'blk', 0o010000: 'fifo', 0o140000: 'sock',
};

/** The dump's name for the file type in `mode`. */
export function typeName(mode: number): string {
  return TYPES[mode & 0o170000] ?? 'unknown';
}

/** major:minor of a Linux dev_t as glibc encodes it. */
export function devParts(rdev: bigint): [number, number] {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return [Number(major), Number(minor)];
}

/** A kernel dev_t (new_encode_dev, what EROFS stores) as glibc encodes it (what stat reports). */
export function kernelDevToGlibc(raw: number): bigint {
  const major = BigInt((raw & 0xfff00) >>> 8);
  const minor = BigInt((raw & 0xff) | ((raw >>> 12) & 0xfff00));
  return ((major & 0xfffn) << 8n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n) | ((major & ~0xfffn) << 32n);
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

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function xattrValue(v: Uint8Array): string {
  if (v.length <= XATTR_INLINE_MAX) return `0x${Buffer.from(v).toString('hex')}`;
  return `#${v.length}:sha256:${sha256Hex(v)}`;
}

function keyOf(path: BPath): string {
  return '/' + escapeBytes(path);
}

function entryLine(e: DumpEntry, key: string, o: Required<Omit<DumpOptions, 'excludeXattrs' | 'excludePaths'>>): string {
  const type = typeName(e.mode);
  const f: string[] = [key, type, `mode=${(e.mode & 0o7777).toString(8).padStart(4, '0')}`];
  if (o.owner) f.push(`uid=${e.uid}`, `gid=${e.gid}`);
  if (o.nlink && (type !== 'dir' || o.dirNlink)) f.push(`nlink=${e.nlink}`);
  if (o.mtime) f.push(`mtime=${formatMtime(e.mtimeNs)}`);
  if (type === 'reg' || type === 'lnk' || (type === 'dir' && o.dirSize)) f.push(`size=${e.size}`);
  if (type === 'chr' || type === 'blk') f.push(`rdev=${devParts(BigInt(e.rdev ?? 0)).join(':')}`);
  if (type === 'lnk' && e.target) {
    const t = e.target;
    f.push(`target=${t instanceof Uint8Array ? escapeBytes(Buffer.from(t)) : `!error:${t.error}`}`);
  }
  if (type === 'reg' && o.content && e.sha256 !== undefined) {
    f.push(`sha256=${typeof e.sha256 === 'string' ? e.sha256 : `!error:${e.sha256.error}`}`);
  }
  return f.join(' ');
}

/**
 * The dump text of `items` (any order; subtrees under excludePaths are dropped), followed by `trailer` lines
 * (e.g. getfattr's complaints).
 */
export function formatDump(items: readonly DumpItem[], opts: DumpOptions = {}, trailer: readonly string[] = []): string {
  const o = { mtime: true, content: true, xattrs: true, nlink: true, dirNlink: true, owner: true, dirSize: false, ...opts };
  const exclude = o.excludePaths ?? [];
  const xattrRe = o.excludeXattrs ? new RegExp(o.excludeXattrs) : undefined;
  const keyed = items
    .map((e) => ({ e, key: keyOf(e.path) }))
    .filter(({ key }) => !exclude.some((x) => key === x || key.startsWith(x + '/')));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: string[] = [];
  for (const { e, key } of keyed) {
    if ('lstatError' in e) {
      out.push(`${key} !error lstat ${e.lstatError}`);
      continue;
    }
    out.push(entryLine(e, key, o));
    if (o.xattrs) {
      const xs = [...(e.xattrs ?? [])].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [name, value] of xs) {
        if (xattrRe?.test(name)) continue;
        out.push(`${key}  xattr ${escapeBytes(name)}=${xattrValue(value)}`);
      }
    }
    for (const err of e.errors ?? []) out.push(`${key} !error ${err}`);
  }
  out.push(...trailer);
  return out.join('\n') + '\n';
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

/** The entries of the tree under `root` as the kernel (or a FUSE mount) shows them, synchronously. */
export function walkTree(root: string, opts: DumpOptions = {}): { items: DumpItem[]; trailer: string[] } {
  const content = opts.content ?? true;
  const exclude = new Set(opts.excludePaths ?? []);
  const items: DumpItem[] = [];
  const visit = (rel: BPath): void => {
    if (exclude.has(keyOf(rel))) return;
    const p = fsPath(root, rel);
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(p, { bigint: true });
    } catch (e) {
      items.push({ path: rel, lstatError: errCode(e) });
      return;
    }
    const mode = Number(st.mode);
    const e: DumpEntry = { path: rel, mode, uid: st.uid, gid: st.gid, nlink: st.nlink, mtimeNs: st.mtimeNs, size: st.size, rdev: st.rdev };
    items.push(e);
    const type = typeName(mode);
    if (type === 'lnk') {
      try {
        e.target = fs.readlinkSync(p, { encoding: 'buffer' });
      } catch (err) {
        e.target = { error: errCode(err) };
      }
    }
    if (type === 'reg' && content) {
      try {
        e.sha256 = sha256File(p);
      } catch (err) {
        e.sha256 = { error: errCode(err) };
      }
    }
    if (type === 'dir') {
      let names: Buffer[];
      try {
        names = fs.readdirSync(p, { encoding: 'buffer' });
      } catch (err) {
        e.errors = [`readdir ${errCode(err)}`];
        return;
      }
      for (const n of names) visit(bJoin(rel, n.toString('latin1')));
    }
  };
  visit('');
  const trailer: string[] = [];
  if (opts.xattrs ?? true) {
    const xa = readTreeXattrs(root);
    for (const e of items) if (!('lstatError' in e)) e.xattrs = xa.byPath.get(e.path) ?? [];
    for (const err of xa.errors) trailer.push(`!getfattr ${err.replace(root, 'ROOT')}`);
  }
  return { items, trailer };
}

/** Dumps the tree under root (synchronously; see the header comment). */
export function dumpTree(root: string, opts: DumpOptions = {}): string {
  const { items, trailer } = walkTree(root, opts);
  return formatDump(items, opts, trailer);
}

/** formatDump of both, diffed: '' when the trees are the same under `opts`. */
export function diffTrees(a: readonly DumpItem[], b: readonly DumpItem[], opts: DumpOptions = {}, labels?: [string, string]): string {
  return diffDumps(formatDump(a, opts), formatDump(b, opts), 20, labels);
}

const THIS_FILE = fileURLToPath(import.meta.url);

/**
 * Runs dumpTree in a child process (`node tree-dump.js ROOT OPTS`), without blocking this thread. Rejects
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

// CLI: node tree-dump.js ROOT [OPTIONS_JSON]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.argv[2];
  if (!root) {
    process.stderr.write('usage: node tree-dump.js ROOT [OPTIONS_JSON]\n');
    process.exit(2);
  }
  const opts = process.argv[3] ? (JSON.parse(process.argv[3]) as DumpOptions) : {};
  process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));
  process.stdout.write(dumpTree(root, opts));
}
