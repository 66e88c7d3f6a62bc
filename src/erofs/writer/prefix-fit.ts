// "destSize" compression for codecs that only compress a whole input (zstd, DEFLATE): an EROFS pcluster must
// decode to exactly the bytes it covers, so the writer needs the longest input prefix whose compressed form
// fits the pcluster. Like erofs-utils' zstd fit loop (libzstd_compress_destsize) this searches over prefix
// lengths, each probe a complete compression: the first probe is 4 pclusters of input, later ones follow the
// ratio seen so far (regula falsi between the longest prefix known to fit and the shortest known not to),
// stopping when the output is within `slack` bytes of the cap. Only prefixes longer than the cap are of use
// (a shorter one saves nothing over storing the block), so data that does not compress costs two probes.

/**
 * Compresses a whole input into one self-contained stream (a zstd frame, a raw DEFLATE stream); the result
 * may be a view that the next call overwrites.
 */
export type WholeCompressor = (src: Uint8Array) => Uint8Array;

export interface PrefixFit {
  /** Bytes of `dst` used (the stream is at dst[0, written)). */
  written: number;
  /** Input bytes the stream decodes to; 0 when no prefix longer than the cap fits. */
  consumed: number;
}

/** Probes per pcluster at most: the search has converged well before in practice. */
const MAX_PROBES = 12;

export class PrefixFitter {
  /** Compressions run and input bytes fed to them, for the build's report. */
  probes = 0;
  probedBytes = 0;

  /**
   * `accept` may refuse an output that fits (e.g. a DEFLATE stream starting with a zero byte, which the
   * zero padding in front of it would swallow): it then counts as not fitting.
   */
  constructor(
    private readonly whole: WholeCompressor,
    private readonly accept: (out: Uint8Array) => boolean = () => true,
  ) {}

  /** Compresses the n-byte prefix; the output and whether it is usable within `cap`. */
  private probe(src: Uint8Array, n: number, cap: number): { out: Uint8Array; fits: boolean } {
    this.probes++;
    this.probedBytes += n;
    const out = this.whole(src.subarray(0, n));
    return { out, fits: out.length <= cap && this.accept(out) };
  }

  /** Fills dst[0, cap) with the stream of the longest prefix of src[0, srcLen) it finds to fit (dst may be
   * written by probes that a longer fit replaces). */
  fit(src: Uint8Array, srcLen: number, dst: Uint8Array, cap: number): PrefixFit {
    if (srcLen <= cap) return { written: 0, consumed: 0 };
    const slack = Math.max(8, cap >> 7);
    // lo: longest prefix known to fit (cap itself means "nothing useful yet"); hi: shortest known not to
    let lo = cap;
    let loLen = 0;
    let found = false;
    let hi = srcLen + 1;
    let hiLen = Infinity;
    let m = Math.min(srcLen, 4 * cap);
    for (let i = 0; i < MAX_PROBES && hi > lo + 1; i++) {
      m = Math.min(Math.max(m, lo + 1), hi - 1);
      const p = this.probe(src, m, cap);
      if (p.fits) {
        lo = m;
        loLen = p.out.length;
        dst.set(p.out);
        found = true;
        if (loLen + slack >= cap) break;
      } else {
        hi = m;
        // a refused stream that fits counts as just over the cap
        hiLen = Math.max(p.out.length, cap + 1);
      }
      if (hi > srcLen) {
        // everything probed fits: grow by the ratio seen (straight to the whole input for runs of zeros)
        m = Math.floor((lo * cap) / Math.max(1, loLen));
      } else if (found) {
        // between a fit and a miss: interpolate on the output size, never onto either end
        const t = (cap - loLen) / Math.max(1, hiLen - loLen);
        m = lo + Math.max(1, Math.floor((hi - lo) * Math.min(0.9, t)));
      } else {
        // nothing fits yet: shrink by the ratio of the miss (data that does not compress: two probes)
        m = Math.floor((hi * cap) / hiLen);
      }
    }
    return found ? { written: loLen, consumed: lo } : { written: 0, consumed: 0 };
  }
}
