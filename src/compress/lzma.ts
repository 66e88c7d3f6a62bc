// LZMA (the LZMA1 range-coded format, no container) decoding into a caller-sized output buffer, plus the
// MicroLZMA framing EROFS stores in its lzma pclusters (xz-embedded's xz_dec_microlzma: the range coder's first
// byte, always 0 in LZMA, is replaced by the bitwise NOT of the lc/lp/pb properties byte; sizes are known to
// the caller, no end marker is needed).
//
// The output buffer is the dictionary (single-call decoding, as the kernel's XZ_SINGLE mode), so the only
// allocation is that buffer; probabilities live in one Uint16Array reused across calls. Every input read and
// every match copy is bounds-checked: a malformed stream throws LzmaError, never reads outside `input` and
// never writes past `outLength`. Decoding time is linear in outLength + input length, so it cannot hang.

export class LzmaError extends Error {}

const PROB_BITS = 11;
const PROB_INIT = 1 << (PROB_BITS - 1);
const MOVE_BITS = 5;
const TOP = 1 << 24;

const STATES = 12;
const POS_STATES_MAX = 16;
const LIT_STATES_MAX = 16; // lc + lp <= 4 (the LZMA2/MicroLZMA limit)
const LEN_DECODER_SIZE = 2 + 2 * POS_STATES_MAX * 8 + 256;
const MATCH_MIN_LEN = 2;
const END_POS_MODEL_INDEX = 14;
const FULL_DISTANCES = 128;
const END_MARKER = 0xffff_ffff;

// Offsets of each probability table in the one array.
const IS_MATCH = 0;
const IS_REP = IS_MATCH + STATES * POS_STATES_MAX;
const IS_REP_G0 = IS_REP + STATES;
const IS_REP_G1 = IS_REP_G0 + STATES;
const IS_REP_G2 = IS_REP_G1 + STATES;
const IS_REP0_LONG = IS_REP_G2 + STATES;
const POS_SLOT = IS_REP0_LONG + STATES * POS_STATES_MAX;
const SPEC_POS = POS_SLOT + 4 * 64;
const ALIGN = SPEC_POS + 1 + FULL_DISTANCES - END_POS_MODEL_INDEX;
const LEN = ALIGN + 16;
const REP_LEN = LEN + LEN_DECODER_SIZE;
const LITERAL = REP_LEN + LEN_DECODER_SIZE;
const PROBS_SIZE = LITERAL + 0x300 * LIT_STATES_MAX;

// Inside a length decoder.
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + POS_STATES_MAX * 8;
const LEN_HIGH = LEN_MID + POS_STATES_MAX * 8;

export interface LzmaProperties {
  lc: number;
  lp: number;
  pb: number;
}

/** Splits the properties byte (pb * 45 + lp * 9 + lc); lc + lp above 4 is refused as MicroLZMA does. */
export function parseLzmaProperties(byte: number): LzmaProperties {
  if (byte >= 9 * 5 * 5) throw new LzmaError(`lzma: properties byte ${byte} out of range`);
  const lc = byte % 9;
  const lp = Math.floor(byte / 9) % 5;
  const pb = Math.floor(byte / 45);
  if (lc + lp > 4) throw new LzmaError(`lzma: lc ${lc} + lp ${lp} is more than 4`);
  return { lc, lp, pb };
}

class LzmaDecoder {
  private readonly probs = new Uint16Array(PROBS_SIZE);
  /** Range coder state [range, code], both uint32: a typed array keeps them unboxed in optimized code. */
  private readonly rc = new Uint32Array(2);
  private input: Uint8Array = new Uint8Array(0);
  private inPos = 0;

  /** Range decoder: the next bit under probability slot `i` (normalizing first, as xz-embedded does). */
  private bit(i: number): number {
    const rc = this.rc;
    if (rc[0]! < TOP) this.shiftIn();
    const p = this.probs[i]!;
    const bound = (rc[0]! >>> PROB_BITS) * p;
    if (rc[1]! < bound) {
      rc[0] = bound;
      this.probs[i] = p + (((1 << PROB_BITS) - p) >>> MOVE_BITS);
      return 0;
    }
    rc[0] -= bound;
    rc[1] -= bound;
    this.probs[i] = p - (p >>> MOVE_BITS);
    return 1;
  }

  private shiftIn(): void {
    if (this.inPos >= this.input.length) throw new LzmaError('lzma: stream truncated (needs more input)');
    const rc = this.rc;
    rc[0] = rc[0]! << 8;
    rc[1] = (rc[1]! << 8) | this.input[this.inPos++]!;
  }

  private tree(base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(base + m);
    return m - (1 << bits);
  }

  private reverseTree(base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  }

  private direct(bits: number): number {
    const rc = this.rc;
    let r = 0;
    for (let i = 0; i < bits; i++) {
      if (rc[0]! < TOP) this.shiftIn();
      rc[0] = rc[0]! >>> 1;
      if (rc[1]! >= rc[0]!) {
        rc[1] -= rc[0]!;
        r = r * 2 + 1;
      } else {
        r = r * 2;
      }
    }
    return r;
  }

  private length(base: number, posState: number): number {
    if (!this.bit(base + LEN_CHOICE)) return this.tree(base + LEN_LOW + posState * 8, 3);
    if (!this.bit(base + LEN_CHOICE2)) return 8 + this.tree(base + LEN_MID + posState * 8, 3);
    return 16 + this.tree(base + LEN_HIGH, 8);
  }

  private distance(len: number): number {
    const lenState = len < 3 ? len : 3;
    const slot = this.tree(POS_SLOT + lenState * 64, 6);
    if (slot < 4) return slot;
    const direct = (slot >>> 1) - 1;
    let dist = (2 | (slot & 1)) * 2 ** direct;
    if (slot < END_POS_MODEL_INDEX) return dist + this.reverseTree(SPEC_POS + dist - slot, direct);
    dist += this.direct(direct - 4) * 16;
    return dist + this.reverseTree(ALIGN, 4);
  }

  /**
   * Decodes the range-coded stream input[start, end) (its 5 init bytes included) with `props` into
   * out[0, outLength) and stops there (a match running past the end is cut, as xz's MicroLZMA decoder does when
   * the size is not exact: EROFS extents may be a prefix of their pcluster). Returns the input bytes consumed.
   */
  decode(input: Uint8Array, start: number, end: number, props: LzmaProperties, dictSize: number, out: Uint8Array, outLength: number): number {
    if (end - start < 5) throw new LzmaError('lzma: stream shorter than the range coder header');
    if (outLength > out.length) throw new RangeError('lzma: output buffer smaller than outLength');
    this.input = input.subarray(0, end);
    this.inPos = start + 1; // the first init byte carries no information (0 in LZMA, ~props in MicroLZMA)
    const rc = this.rc;
    rc[0] = 0xffff_ffff;
    rc[1] = 0;
    for (let i = 0; i < 4; i++) rc[1] = (rc[1]! << 8) | this.input[this.inPos++]!;
    if (rc[1] === rc[0]) throw new LzmaError('lzma: bad range coder header');
    const probs = this.probs;
    probs.fill(PROB_INIT, 0, LITERAL + (0x300 << (props.lc + props.lp)));

    const { lc } = props;
    const pbMask = (1 << props.pb) - 1;
    const lpMask = (1 << props.lp) - 1;
    let state = 0;
    let rep0 = 0;
    let rep1 = 0;
    let rep2 = 0;
    let rep3 = 0;
    let pos = 0;
    try {
      while (pos < outLength) {
        const posState = pos & pbMask;
        if (!this.bit(IS_MATCH + state * POS_STATES_MAX + posState)) {
          const prev = pos > 0 ? out[pos - 1]! : 0;
          const base = LITERAL + 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
          let sym = 1;
          if (state >= 7) {
            let match = out[pos - rep0 - 1]!;
            do {
              const mb = (match >>> 7) & 1;
              match <<= 1;
              const b = this.bit(base + ((1 + mb) << 8) + sym);
              sym = (sym << 1) | b;
              if (mb !== b) break;
            } while (sym < 0x100);
          }
          while (sym < 0x100) sym = (sym << 1) | this.bit(base + sym);
          out[pos++] = sym;
          state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
          continue;
        }
        let len: number;
        if (!this.bit(IS_REP + state)) {
          rep3 = rep2;
          rep2 = rep1;
          rep1 = rep0;
          len = this.length(LEN, posState);
          state = state < 7 ? 7 : 10;
          rep0 = this.distance(len);
          if (rep0 === END_MARKER) throw new LzmaError(`lzma: stream ends after ${pos} of ${outLength} bytes`);
        } else {
          if (pos === 0) throw new LzmaError('lzma: repeated match before any output');
          if (!this.bit(IS_REP_G0 + state)) {
            if (!this.bit(IS_REP0_LONG + state * POS_STATES_MAX + posState)) {
              state = state < 7 ? 9 : 11;
              out[pos] = out[pos - rep0 - 1]!;
              pos++;
              continue;
            }
          } else {
            let d: number;
            if (!this.bit(IS_REP_G1 + state)) {
              d = rep1;
            } else {
              if (!this.bit(IS_REP_G2 + state)) {
                d = rep2;
              } else {
                d = rep3;
                rep3 = rep2;
              }
              rep2 = rep1;
            }
            rep1 = rep0;
            rep0 = d;
          }
          len = this.length(REP_LEN, posState);
          state = state < 7 ? 8 : 11;
        }
        if (rep0 >= pos || rep0 >= dictSize) {
          throw new LzmaError(`lzma: match distance ${rep0 + 1} at output ${pos} reaches before the ${pos < dictSize ? 'output' : 'dictionary'} start`);
        }
        const n = Math.min(len + MATCH_MIN_LEN, outLength - pos);
        // Byte by byte on purpose: a match may overlap its own output (distance < length).
        for (let from = pos - rep0 - 1, stop = pos + n; pos < stop; ) out[pos++] = out[from++]!;
      }
      return this.inPos - start;
    } finally {
      this.input = EMPTY;
    }
  }
}

const EMPTY = new Uint8Array(0);
let shared: LzmaDecoder | undefined;

/** Decodes a raw LZMA stream (as `xz --format=raw --lzma1=...` writes, without its properties) into `outLength` bytes. */
export function lzmaDecompressRaw(input: Uint8Array, props: LzmaProperties, dictSize: number, outLength: number): Uint8Array {
  const out = new Uint8Array(outLength);
  (shared ??= new LzmaDecoder()).decode(input, 0, input.length, props, dictSize, out, outLength);
  return out;
}

/**
 * Decodes one MicroLZMA stream, input[start, end), into the first `outLength` bytes of `out` (a prefix of
 * what the stream holds is fine). Throws LzmaError on malformed or truncated data.
 */
export function microLzmaDecodeInto(input: Uint8Array, start: number, end: number, out: Uint8Array, outLength: number, dictSize: number): void {
  if (end <= start) throw new LzmaError('lzma: empty stream');
  const props = parseLzmaProperties(~input[start]! & 0xff);
  (shared ??= new LzmaDecoder()).decode(input, start, end, props, dictSize, out, outLength);
}

/** MicroLZMA stream in `input` -> a fresh array of `outLength` bytes. */
export function microLzmaDecompress(input: Uint8Array, outLength: number, dictSize: number): Uint8Array {
  const out = new Uint8Array(outLength);
  microLzmaDecodeInto(input, 0, input.length, out, outLength, dictSize);
  return out;
}
