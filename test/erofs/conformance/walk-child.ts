// A bounded walk of a (possibly corrupt) tree, run as a child process: `node walk-child.js ROOT`.
// Visits every entry once (directories by inode, so a corrupt image with a directory cycle cannot loop),
// lstats it, lists directories, reads symlinks, reads file contents (up to 4 MiB each), then lists and reads
// every xattr with getfattr. Prints one JSON object (WalkResult) on stdout. Every failure is recorded as
// "op CODE" with a count, and the first ones with their path; the caller decides which codes are acceptable.
//
// `node walk-child.js --probe ROOT FAILURES_JSON` repeats given operations (op, path) under another root (the
// kernel's mount of the same image) and prints the code each gives ('ok' if it succeeds).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Failure {
  op: 'lstat' | 'readdir' | 'readlink' | 'read' | 'getfattr' | 'cycle';
  code: string;
  path: string;
}

/** getfattr's messages (strerror) as errno names. */
const MESSAGES: Record<string, string> = {
  'Input/output error': 'EIO',
  'Operation not supported': 'ENOTSUP',
  'No such file or directory': 'ENOENT',
  'No such attribute': 'ENODATA',
  'Structure needs cleaning': 'EUCLEAN',
  'Numerical result out of range': 'ERANGE',
  'Argument list too long': 'E2BIG',
  'Invalid argument': 'EINVAL',
  'Permission denied': 'EACCES',
};

export interface WalkResult {
  entries: number;
  dirs: number;
  files: number;
  bytes: number;
  xattrLines: number;
  /** "op CODE" -> count */
  errors: Record<string, number>;
  /** The first failures (up to 50), path relative to the root as a latin1 byte string. */
  failures: Failure[];
  truncated: boolean;
}

const MAX_ENTRIES = 20_000;
const MAX_DEPTH = 64;
const READ_CAP = 4 << 20;

export function walk(root: string): WalkResult {
  const res: WalkResult = { entries: 0, dirs: 0, files: 0, bytes: 0, xattrLines: 0, errors: {}, failures: [], truncated: false };
  const seenDirs = new Set<string>();
  const all: Buffer[] = [];
  const rootLen = Buffer.byteLength(root);
  const record = (op: Failure['op'], code: string, rel: string): void => {
    const k = `${op} ${code}`;
    res.errors[k] = (res.errors[k] ?? 0) + 1;
    if (res.failures.length < 50) res.failures.push({ op, code, path: rel });
  };
  const fail = (op: Failure['op'], p: Buffer, e: unknown): void => {
    record(op, (e as NodeJS.ErrnoException).code ?? String(e).slice(0, 40), p.subarray(rootLen).toString('latin1'));
  };
  const buf = Buffer.allocUnsafe(1 << 20);
  const visit = (p: Buffer, depth: number): void => {
    if (res.entries >= MAX_ENTRIES || depth > MAX_DEPTH) {
      res.truncated = true;
      return;
    }
    res.entries++;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch (e) {
      fail('lstat', p, e);
      return;
    }
    all.push(p);
    if (st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seenDirs.has(key)) {
        fail('cycle', p, { code: 'DIR_SEEN' });
        return;
      }
      seenDirs.add(key);
      res.dirs++;
      let names: Buffer[];
      try {
        names = fs.readdirSync(p, { encoding: 'buffer' });
      } catch (e) {
        fail('readdir', p, e);
        return;
      }
      for (const n of names) visit(Buffer.concat([p, Buffer.from('/'), n]), depth + 1);
    } else if (st.isSymbolicLink()) {
      try {
        fs.readlinkSync(p, { encoding: 'buffer' });
      } catch (e) {
        fail('readlink', p, e);
      }
    } else if (st.isFile()) {
      res.files++;
      let fd: number | undefined;
      try {
        fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        let total = 0;
        for (;;) {
          const n = fs.readSync(fd, buf, 0, buf.length, null);
          if (n === 0 || (total += n) >= READ_CAP) break;
        }
        res.bytes += total;
      } catch (e) {
        fail('read', p, e);
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    }
  };
  visit(Buffer.from(root), 0);
  // xattrs: getfattr in batches (names that are not valid UTF-8 pass through argv as bytes: use latin1 args
  // only for valid UTF-8 paths, and count the rest as skipped)
  const paths = all.map((p) => p.toString('utf8')).filter((s, i) => Buffer.from(s).equals(all[i]!));
  for (let i = 0; i < paths.length; i += 500) {
    const r = spawnSync('getfattr', ['--absolute-names', '-h', '-d', '-m', '-', '-e', 'hex', ...paths.slice(i, i + 500)], { encoding: 'latin1', timeout: 30_000, env: { ...process.env, LC_ALL: 'C' } });
    res.xattrLines += (r.stdout ?? '').split('\n').filter((l) => l.includes('=')).length;
    if (r.error) record('getfattr', `spawn ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`, '');
    for (const line of (r.stderr ?? '').split('\n')) {
      if (!line) continue;
      // "getfattr: /abs/path: Message" or "getfattr: /abs/path: xattr.name: Message"
      const msg = line.slice(line.lastIndexOf(': ') + 2).trim();
      const start = line.indexOf(root);
      let p = '';
      if (start >= 0) {
        const rest = line.slice(start + root.length, line.lastIndexOf(': '));
        p = Buffer.from(rest.split(': ')[0]!, 'latin1').toString('latin1');
      }
      record('getfattr', MESSAGES[msg] ?? msg, p);
    }
  }
  return res;
}

/** The code the same operation gives under `root` ('ok' when it succeeds). */
export function probe(root: string, failures: Array<Pick<Failure, 'op' | 'path'>>): string[] {
  return failures.map(({ op, path: rel }) => {
    const p = Buffer.concat([Buffer.from(root), Buffer.from(rel, 'latin1')]);
    try {
      if (op === 'lstat') fs.lstatSync(p);
      else if (op === 'readdir') fs.readdirSync(p, { encoding: 'buffer' });
      else if (op === 'readlink') fs.readlinkSync(p, { encoding: 'buffer' });
      else if (op === 'read') fs.readFileSync(p);
      else if (op === 'getfattr') {
        const r = spawnSync('getfattr', ['--absolute-names', '-h', '-d', '-m', '-', p.toString('latin1')], { encoding: 'latin1', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
        const m = /: ([^:\n]+)\n?$/.exec(r.stderr ?? '');
        if (m) return MESSAGES[m[1]!.trim()] ?? m[1]!.trim();
      } else return 'n/a';
      return 'ok';
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? String(e).slice(0, 40);
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--probe') {
    process.stdout.write(JSON.stringify(probe(path.resolve(process.argv[3]!), JSON.parse(process.argv[4]!) as Failure[])));
  } else {
    process.stdout.write(JSON.stringify(walk(path.resolve(process.argv[2] ?? '.'))));
  }
}
