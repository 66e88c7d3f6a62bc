// Names on Linux are bytes, not text. tsfuse hands them to filesystems as strings: valid UTF-8 decodes as
// usual, and every byte of an invalid sequence becomes a lone surrogate U+DC80..U+DCFF (Python's
// "surrogateescape"), so any name survives the round trip decodeName -> encodeName byte for byte.

const REPLACEMENT = 0xfffd;
const ESCAPED = /[\uDC80-\uDCFF]/;

/** Decodes buf[start, end) as a name. */
export function decodeName(buf: Buffer, start: number, end: number): string {
  const s = buf.toString('utf8', start, end);
  // U+FFFD means either a literal replacement character or invalid bytes: only the latter needs escaping.
  if (s.indexOf('\uFFFD') < 0) return s;
  if (Buffer.byteLength(s) === end - start && buf.compare(Buffer.from(s), 0, end - start, start, end) === 0) return s;
  return decodeEscaped(buf, start, end);
}

/** Decodes bytes that hold invalid UTF-8, escaping each byte that is not part of a valid sequence. */
function decodeEscaped(buf: Uint8Array, start: number, end: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const b = buf[i];
    let len = 0;
    let cp = 0;
    if (b < 0x80) {
      len = 1;
      cp = b;
    } else if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      cp = b & 0x07;
    }
    let ok = len > 0 && i + len <= end;
    for (let k = 1; ok && k < len; k++) {
      const c = buf[i + k];
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    // reject overlongs, surrogates and values past U+10FFFF
    if (ok && ((len === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len === 4 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
    if (ok) {
      out += String.fromCodePoint(cp);
      i += len;
    } else {
      out += String.fromCharCode(0xdc00 | b);
      i += 1;
    }
  }
  return out;
}

/** True when `s` carries escaped bytes (it came from a name that is not valid UTF-8). */
export function hasEscapedBytes(s: string): boolean {
  return ESCAPED.test(s);
}

/** The bytes of a name decoded by decodeName. */
export function encodeName(s: string): Buffer {
  if (!ESCAPED.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff) {
      // a lone low surrogate (not preceded by a high one) is an escaped byte
      const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
      if (prev >= 0xd800 && prev <= 0xdbff) continue;
      if (i > run) parts.push(Buffer.from(s.slice(run, i), 'utf8'));
      parts.push(Buffer.of(c & 0xff));
      run = i + 1;
    }
  }
  if (run < s.length) parts.push(Buffer.from(s.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/** Byte length of encodeName(s). */
export function nameByteLength(s: string): number {
  return ESCAPED.test(s) ? encodeName(s).length : Buffer.byteLength(s, 'utf8');
}

export { REPLACEMENT };
