// Setting nanosecond mtimes. Node's utimes family rounds to microseconds (libuv), so exact times go through
// `touch -h -m -d @SEC.NNNNNNNNN`, one process per distinct time value. Paths that are not valid UTF-8 cannot
// be passed as arguments: they fall back to lutimes (microsecond precision).

import * as fs from 'node:fs';
import { type BPath, fsPath } from '../../helpers/bytes.js';
import { batches, runSync } from '../../helpers/proc.js';

/** "SEC.NNNNNNNNN" of a nanosecond timestamp (non-negative). */
export function nsToTouch(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

export function touchToNs(t: string): bigint {
  const [s, n] = t.split('.');
  return BigInt(s!) * 1_000_000_000n + BigInt((n ?? '0').padEnd(9, '0'));
}

function isUtf8(p: BPath): boolean {
  const b = Buffer.from(p, 'latin1');
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** Sets mtimes (not following symlinks) of relative byte paths under root; time as "SEC.NNNNNNNNN". */
export function setMtimes(root: string, items: Iterable<[BPath, string]>): void {
  const groups = new Map<string, string[]>();
  for (const [rel, t] of items) {
    if (!isUtf8(rel)) {
      const sec = Number(t);
      fs.lutimesSync(fsPath(root, rel), sec, sec);
      continue;
    }
    let g = groups.get(t);
    if (!g) groups.set(t, (g = []));
    g.push(rel === '' ? '.' : Buffer.from(rel, 'latin1').toString('utf8'));
  }
  for (const [t, rels] of groups) {
    for (const chunk of batches(rels)) runSync('touch', ['-h', '-m', '-d', `@${t}`, '--', ...chunk], { cwd: root });
  }
}
