// Extended attributes through the attr tools (Node has no xattr API): getfattr -R for a whole tree in one
// process, setfattr --restore for many settings in one process. Paths are byte strings (see bytes.ts).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type BPath } from './bytes.js';
import { runSync } from './proc.js';

export type Xattr = [name: string, value: Buffer];

export interface TreeXattrs {
  /** Relative byte path ('' = root) -> xattrs in name order. Entries without xattrs are absent. */
  byPath: Map<BPath, Xattr[]>;
  /** getfattr's complaints (one per line), if any: an oracle difference in themselves. */
  errors: string[];
}

/** getfattr's quoting (attr's quote.c): \ooo octal escapes, everything else raw bytes. */
function unquote(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function quote(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x5c || c === 0x7f || c === 0x3d) out += '\\' + c.toString(8).padStart(3, '0');
    else out += s[i];
  }
  return out;
}

/** Parses `getfattr -d -e hex` output (a latin1 string). Paths are returned as printed, unquoted. */
export function parseGetfattr(text: string): Map<BPath, Xattr[]> {
  const out = new Map<BPath, Xattr[]>();
  let cur: Xattr[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      let p = unquote(line.slice(8));
      if (p === '.') p = '';
      else if (p.startsWith('./')) p = p.slice(2);
      cur = [];
      out.set(p, cur);
      continue;
    }
    if (line === '' || cur === undefined) continue;
    const eq = line.indexOf('=');
    const name = unquote(eq < 0 ? line : line.slice(0, eq));
    const raw = eq < 0 ? '' : line.slice(eq + 1);
    let value: Buffer;
    if (raw === '' || raw === '0x') value = Buffer.alloc(0);
    else if (raw.startsWith('0x')) value = Buffer.from(raw.slice(2), 'hex');
    else if (raw.startsWith('0s')) value = Buffer.from(raw.slice(2), 'base64');
    else if (raw.startsWith('"')) value = Buffer.from(unquote(raw.slice(1, -1)), 'latin1');
    else throw new Error(`getfattr: unexpected value for ${name}: ${raw.slice(0, 40)}`);
    cur.push([name, value]);
  }
  for (const list of out.values()) list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out;
}

/** Every xattr of every entry under root (symlinks not followed), with one getfattr process. */
export function readTreeXattrs(root: string): TreeXattrs {
  const r = runSync('getfattr', ['-R', '-d', '-m', '-', '-e', 'hex', '-h', '.'], { cwd: root, check: false });
  const errors = r.stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.replace(/^getfattr: /, ''));
  return { byPath: parseGetfattr(r.stdout.toString('latin1')), errors };
}

/** xattrs of one entry given by an ordinary (UTF-8) path; symlinks not followed. */
export function readXattrs(file: string): Xattr[] {
  const r = runSync('getfattr', ['-d', '-m', '-', '-e', 'hex', '-h', '--absolute-names', '--', file]);
  const m = parseGetfattr(r.stdout.toString('latin1'));
  return [...m.values()][0] ?? [];
}

/**
 * Sets many xattrs with one `setfattr -h --restore` run. Paths are relative byte paths under root ('' = root).
 */
export function setXattrs(root: string, items: ReadonlyArray<{ path: BPath; xattrs: ReadonlyArray<Xattr> }>): void {
  const parts: string[] = [];
  for (const it of items) {
    if (it.xattrs.length === 0) continue;
    parts.push(`# file: ${it.path === '' ? '.' : quote(it.path)}\n`);
    for (const [name, value] of it.xattrs) parts.push(`${quote(name)}=0x${value.toString('hex')}\n`);
    parts.push('\n');
  }
  if (parts.length === 0) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-kit-xattr-'));
  try {
    const f = path.join(tmp, 'restore');
    fs.writeFileSync(f, Buffer.from(parts.join(''), 'latin1'));
    runSync('setfattr', ['-h', `--restore=${f}`], { cwd: root });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Removes xattrs (symlinks not followed). Paths must be valid UTF-8 here. */
export function removeXattr(root: string, rel: BPath, name: string): void {
  runSync('setfattr', ['-h', '-x', name, '--', rel === '' ? '.' : Buffer.from(rel, 'latin1').toString('utf8')], { cwd: root });
}
