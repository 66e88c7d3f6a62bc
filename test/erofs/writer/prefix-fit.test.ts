// The prefix search that fits zstd frames and DEFLATE streams to a pcluster (src/erofs/writer/prefix-fit.ts),
// against the reference decoders: each stream fits the cap, decodes to exactly the prefix it claims, covers
// more than the cap (or nothing, for data that cannot shrink, which then costs two probes), and the pcluster
// is nearly full when the input goes on.

import * as zlib from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZstdCompressor, zstdDecompress, zstdReady } from '../../../src/compress/zstd.js';
import { PrefixFitter } from '../../../src/erofs/writer/prefix-fit.js';
import { random, wordy } from './compressed-build.js';

const CAP = 4096;
const inputs: Array<[string, Buffer]> = [
  ['text', wordy(300_000, 1)],
  ['zeros', Buffer.alloc(2_000_000)],
  ['random', random(50_000, 2)],
  ['mixed', Buffer.concat([wordy(20_000, 3), random(9000, 4), Buffer.alloc(30_000, 'x'), wordy(10_000, 5)])],
];

async function codecs(): Promise<Array<[string, PrefixFitter, (b: Uint8Array, n: number) => Uint8Array]>> {
  await zstdReady;
  const z = new ZstdCompressor(3);
  return [
    ['zstd', new PrefixFitter((b) => z.compress(b)), (b, n) => zstdDecompress(b, n)],
    ['deflate', new PrefixFitter((b) => zlib.deflateRawSync(b, { level: 6 }), (o) => o[0] !== 0), (b) => zlib.inflateRawSync(b)],
  ];
}

test('every fitted stream decodes to exactly its prefix and fits the cap', async () => {
  for (const [codec, fitter, decode] of await codecs()) {
    for (const [name, data] of inputs) {
      const dst = new Uint8Array(CAP);
      let fills = 0;
      let full = 0;
      for (let off = 0; off < data.length; ) {
        const avail = Math.min(data.length - off, 1 << 20);
        const probes = fitter.probes;
        const r = fitter.fit(data.subarray(off), avail, dst, CAP);
        if (r.consumed === 0) {
          assert.is(r.written, 0, `${codec} ${name}: nothing written for a miss`);
          if (avail > CAP && name === 'random') assert.ok(fitter.probes - probes <= 2, `${codec}: ${fitter.probes - probes} probes for random data`);
          off += CAP;
          continue;
        }
        assert.ok(r.consumed > CAP && r.written <= CAP, `${codec} ${name}: ${r.consumed} bytes in ${r.written}`);
        const out = Buffer.from(decode(dst.subarray(0, r.written), r.consumed));
        assert.ok(out.equals(data.subarray(off, off + r.consumed)), `${codec} ${name} at ${off}: decodes to its prefix`);
        if (r.consumed < avail) {
          fills += r.written;
          full++;
        }
        off += r.consumed;
      }
      // pclusters cut short by the cap (not by the end of the input) are nearly full
      if (full) assert.ok(fills / full >= CAP * 0.97, `${codec} ${name}: pclusters ${((fills / full / CAP) * 100).toFixed(1)}% full`);
    }
  }
});

test.run();
