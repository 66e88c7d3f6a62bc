// A composefs dumpfile (composefs-dump(5), what `composefs-info dump` prints) turned into the tests' one dump
// format (test/helpers/tree-dump.ts), so that a plain-mode tsfuse mount of the image can be compared with the
// source tree the dumpfile describes. Content hashes come from the inline content, or from the object the payload names.
//
// Line format: PATH SIZE MODE NLINK UID GID RDEV MTIME PAYLOAD CONTENT DIGEST [XATTR...], fields escaped
// (\\ \n \r \t \xHH), '-' for empty; MODE with a leading '@' is a hardlink to the path in PAYLOAD. MTIME is
// SEC.NSEC with NSEC printed as a plain integer (not zero-padded).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DumpEntry, formatDump, sha256Hex, typeName } from '../../helpers/tree-dump.js';

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

/** The tree dump (test/helpers/tree-dump.ts) of the tree a composefs dumpfile describes; object content is read from `objectsDir`. */
export function dumpfileToKitDump(dumpfile: string, objectsDir: string): string {
  const entries: DumpEntry[] = [];
  const byPath = new Map<string, string[]>();
  for (const line of dumpfile.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    if (f.length < 11) throw new Error(`composefs dump: short line ${line.slice(0, 80)}`);
    let [p, size, modeS, nlink, uid, gid, rdev, mtime, payload, content, , ...xattrs] = f as [string, ...string[]];
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
    if (type === 'unknown') throw new Error(`composefs dump: mode ${mode.toString(8)}`);
    const [sec, nsec] = mtime!.split('.') as [string, string];
    const e: DumpEntry = {
      path: unescapeField(p).subarray(1).toString('latin1'),
      mode,
      uid: Number(uid),
      gid: Number(gid),
      nlink: Number(nlink),
      mtimeNs: BigInt(sec) * 1_000_000_000n + BigInt(nsec ?? '0'),
      size: Number(size),
      rdev: BigInt(rdev!),
      // NAME=VALUE: the name ends at the first '=' (composefs escapes '=' inside names)
      xattrs: xattrs.map((x) => {
        const eq = x.indexOf('=');
        return [unescapeField(x.slice(0, eq)).toString('latin1'), unescapeField(x.slice(eq + 1))];
      }),
    };
    if (type === 'lnk') e.target = optional(payload!);
    if (type === 'reg') {
      let data: Buffer;
      if (content !== '-') data = unescapeField(content!);
      else if (payload !== '-') data = fs.readFileSync(path.join(objectsDir, unescapeField(payload!).toString('utf8')));
      else data = Buffer.alloc(Number(size));
      if (data.length !== Number(size)) throw new Error(`composefs dump: ${p}: content of ${data.length} bytes, size ${size}`);
      e.sha256 = sha256Hex(data);
    }
    entries.push(e);
  }
  return formatDump(entries);
}
