// A composefs dumpfile (composefs-dump(5), what `composefs-info dump` prints) turned into the kit's dump format
// (kit/dumptree.ts), so that a plain-mode tsfuse mount of the image can be compared with the source tree the
// dumpfile describes. Content hashes come from the inline content, or from the object the payload names.
//
// Line format: PATH SIZE MODE NLINK UID GID RDEV MTIME PAYLOAD CONTENT DIGEST [XATTR...], fields escaped
// (\\ \n \r \t \xHH), '-' for empty; MODE with a leading '@' is a hardlink to the path in PAYLOAD. MTIME is
// SEC.NSEC with NSEC printed as a plain integer (not zero-padded).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeBytes, formatMtime } from '../kit/index.js';

function unescapeField(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out.push(...Buffer.from(c, 'latin1'));
      continue;
    }
    const n = s[++i];
    if (n === 'x') {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n === 'n') out.push(10);
    else if (n === 'r') out.push(13);
    else if (n === 't') out.push(9);
    else if (n === '\\') out.push(0x5c);
    else throw new Error(`composefs dump: unknown escape \\${n}`);
  }
  return Buffer.from(out);
}

const optional = (s: string): Buffer => (s === '-' ? Buffer.alloc(0) : unescapeField(s));

function typeName(mode: number): string {
  switch (mode & 0o170000) {
    case 0o100000: return 'reg';
    case 0o040000: return 'dir';
    case 0o120000: return 'lnk';
    case 0o020000: return 'chr';
    case 0o060000: return 'blk';
    case 0o010000: return 'fifo';
    case 0o140000: return 'sock';
    default: throw new Error(`composefs dump: mode ${mode.toString(8)}`);
  }
}

function xattrValue(v: Buffer): string {
  if (v.length <= 128) return `0x${v.toString('hex')}`;
  return `#${v.length}:sha256:${createHash('sha256').update(v).digest('hex')}`;
}

/** glibc's dev_t split (as kit/dumptree.ts devParts). */
function devParts(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The kit dump of the tree a composefs dumpfile describes; object content is read from `objectsDir`. */
export function dumpfileToKitDump(dumpfile: string, objectsDir: string): string {
  const entries: Array<{ key: string; lines: string[] }> = [];
  const byPath = new Map<string, string[]>();
  for (const line of dumpfile.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    if (f.length < 11) throw new Error(`composefs dump: short line ${line.slice(0, 80)}`);
    let [p, size, modeS, nlink, uid, gid, rdev, mtime, payload, content, , ...xattrs] = f as [string, ...string[]];
    const key = '/' + escapeBytes(unescapeField(p).subarray(1));
    if (modeS!.startsWith('@')) {
      // a hardlink: same inode as the entry PAYLOAD names
      const target = byPath.get(unescapeField(payload!).toString('latin1'));
      if (!target) throw new Error(`composefs dump: hardlink to unknown ${payload}`);
      [, size, modeS, nlink, uid, gid, rdev, mtime, payload, content, , ...xattrs] = target as [string, ...string[]];
    } else {
      byPath.set(unescapeField(p).toString('latin1'), f);
    }
    const mode = parseInt(modeS!, 8);
    const type = typeName(mode);
    const [sec, nsec] = mtime!.split('.') as [string, string];
    const ns = BigInt(sec) * 1_000_000_000n + BigInt(nsec ?? '0');
    const out = [key, type, `mode=${(mode & 0o7777).toString(8).padStart(4, '0')}`, `uid=${uid}`, `gid=${gid}`, `nlink=${nlink}`, `mtime=${formatMtime(ns)}`];
    if (type === 'reg' || type === 'lnk') out.push(`size=${size}`);
    if (type === 'chr' || type === 'blk') out.push(`rdev=${devParts(BigInt(rdev!))}`);
    if (type === 'lnk') out.push(`target=${escapeBytes(optional(payload!))}`);
    if (type === 'reg') {
      let data: Buffer;
      if (content !== '-') data = unescapeField(content!);
      else if (payload !== '-') data = fs.readFileSync(path.join(objectsDir, unescapeField(payload!).toString('utf8')));
      else data = Buffer.alloc(Number(size));
      if (data.length !== Number(size)) throw new Error(`composefs dump: ${p}: content of ${data.length} bytes, size ${size}`);
      out.push(`sha256=${createHash('sha256').update(data).digest('hex')}`);
    }
    const lines = [out.join(' ')];
    const xs = xattrs.map((x) => {
      // NAME=VALUE: the name ends at the first '=' (composefs escapes '=' inside names)
      const eq = x.indexOf('=');
      return { name: unescapeField(x.slice(0, eq)), value: unescapeField(x.slice(eq + 1)) };
    });
    xs.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const x of xs) lines.push(`${key}  xattr ${escapeBytes(x.name)}=${xattrValue(x.value)}`);
    entries.push({ key, lines });
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return entries.flatMap((e) => e.lines).join('\n') + '\n';
}
