// Little-endian field access on Uint8Arrays. 64-bit fields become plain numbers only when they are exactly
// representable; anything above 2^53 cannot describe a real image, so it is reported as corruption.

import { corrupt } from './errors.js';
import { encodeName } from '../../protocol/names.js';

export function u8(b: Uint8Array, i: number): number {
  return b[i]!;
}

export function le16(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}

export function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** High and low 32-bit halves of a little-endian u64. */
export function le64Parts(b: Uint8Array, i: number): [hi: number, lo: number] {
  return [le32(b, i + 4), le32(b, i)];
}

/** An unsigned 64-bit field that must fit in a JS number; `what` names it in the corruption report. */
export function le64Safe(b: Uint8Array, i: number, what: string): number {
  const [hi, lo] = le64Parts(b, i);
  if (hi >= 0x200000) corrupt(`${what} is too large (0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')})`);
  return hi * 0x1_0000_0000 + lo;
}

/** A signed 64-bit field (timestamps) that must fit in a JS number. */
export function le64SignedSafe(b: Uint8Array, i: number, what: string): number {
  const [hi, lo] = le64Parts(b, i);
  const shi = hi | 0; // reinterpret as signed
  if (shi >= 0x200000 || shi < -0x200000) corrupt(`${what} is out of range`);
  return shi * 0x1_0000_0000 + lo;
}

export function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** memcmp-then-length ordering: the order EROFS sorts dirents in. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

export function roundDown(x: number, to: number): number {
  return Math.floor(x / to) * to;
}

/** Names arrive as strings from decodeName (invalid UTF-8 bytes escaped): back to the exact bytes. */
export function toBytes(s: string | Uint8Array): Uint8Array {
  return typeof s === 'string' ? encodeName(s) : s;
}
