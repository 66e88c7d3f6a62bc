// Paths inside a tree are kept as "byte strings": latin1 strings with one char per byte, so that names that
// are not valid UTF-8 survive (Node's string paths are encoded as UTF-8, Buffer paths are passed as is).

import * as path from 'node:path';

/** A relative path inside a tree as a latin1 byte string ('' is the root, no leading slash). */
export type BPath = string;

/** The bytes of a UTF-8 JS string as a byte string. */
export function utf8ToB(s: string): BPath {
  return Buffer.from(s, 'utf8').toString('latin1');
}

export function bToBuffer(p: BPath): Buffer {
  return Buffer.from(p, 'latin1');
}

/** The absolute filesystem path (as a Buffer, usable with every node:fs call) of `rel` under `root`. */
export function fsPath(root: string, rel: BPath): Buffer {
  if (rel === '') return Buffer.from(root, 'utf8');
  return Buffer.concat([Buffer.from(path.resolve(root), 'utf8'), Buffer.from('/'), Buffer.from(rel, 'latin1')]);
}

export function bJoin(dir: BPath, name: BPath): BPath {
  return dir === '' ? name : `${dir}/${name}`;
}

export function bDirname(p: BPath): BPath {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export function bBasename(p: BPath): BPath {
  return p.slice(p.lastIndexOf('/') + 1);
}

/**
 * Escapes bytes for one-line output: printable ASCII other than backslash stays, everything else
 * (space, controls, '\\', bytes >= 0x7f) becomes \xHH. Unambiguous and reversible, like composefs dumps.
 */
export function escapeBytes(p: BPath | Buffer): string {
  const s = typeof p === 'string' ? p : p.toString('latin1');
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x20 && c < 0x7f && c !== 0x5c) out += s[i];
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out;
}

export function unescapeBytes(s: string): BPath {
  return s.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Compares two byte strings bytewise (latin1 chars compare like their bytes). */
export function bCompare(a: BPath, b: BPath): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
