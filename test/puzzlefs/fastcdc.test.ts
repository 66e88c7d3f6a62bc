// FastCDC 2020 cut points against the `fastcdc` crate's (3.x, src/v2020) published test vectors: its own test
// file (test/fixtures/puzzlefs/SekienAkashita.jpg) and the (hash, length) pairs its unit tests expect, for the
// sizes PuzzleFS uses and the others the crate checks; plus its all-zeros test and the first gear value.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FastCdc, gearValue, PUZZLEFS_AVG, PUZZLEFS_MAX, PUZZLEFS_MIN } from '../../src/puzzlefs/fastcdc.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const SEKIEN = readFileSync(join(FIXTURES_DIR, 'puzzlefs', 'SekienAkashita.jpg'));

function cuts(min: number, avg: number, max: number, level: number, src: Uint8Array = SEKIEN): [string, number][] {
  const c = new FastCdc({ min, avg, max, level });
  const out: [string, number][] = [];
  for (let pos = 0; pos < src.length; ) {
    const x = c.cut(src, pos, src.length);
    out.push([BigInt('0x' + x.hash).toString(), x.length]);
    pos += x.length;
  }
  return out;
}

test('the gear table is the crate\'s (MD5-derived)', () => {
  assert.is(SEKIEN.length, 109466);
  assert.is(gearValue(0), '3b5d3c7d207e37dc');
  assert.is(gearValue(255), 'aabd2b2a451504e1');
});

test('16 KiB average (test_cut_sekien_16k_chunks)', () => {
  assert.equal(cuts(4096, 16384, 65535, 1), [
    ['17968276318003433923', 21325], ['8197189939299398838', 17140], ['13019990849178155730', 28084],
    ['4509236223063678303', 18217], ['2504464741100432583', 24700],
  ]);
});

test('32 KiB average (test_cut_sekien_32k_chunks)', () => {
  assert.equal(cuts(8192, 32768, 131072, 1), [['15733367461443853673', 66549], ['6321136627705800457', 42917]]);
});

test('PuzzleFS sizes, 64 KiB average (test_cut_sekien_64k_chunks)', () => {
  assert.equal(cuts(PUZZLEFS_MIN, PUZZLEFS_AVG, PUZZLEFS_MAX, 1), [['2504464741100432583', 109466]]);
});

test('normalization levels 0 and 3 (test_cut_sekien_16k_nc_0, _nc_3)', () => {
  assert.equal(cuts(4096, 16384, 65535, 0), [
    ['443122261039895162', 6634], ['15733367461443853673', 59915], ['10460176299449652894', 25597],
    ['6197802202431009942', 5237], ['6321136627705800457', 12083],
  ]);
  assert.equal(cuts(8192, 16384, 32768, 3), [
    ['10718006254707412376', 17350], ['13104072099671895560', 19911], ['12322483109039221194', 17426],
    ['16009206469796846404', 17519], ['2473608525189754172', 19940], ['2504464741100432583', 17320],
  ]);
});

test('all zeros cut at the maximum (test_cut_all_zeros)', () => {
  const got = cuts(64, 256, 1024, 1, new Uint8Array(10240));
  assert.is(got.length, 10);
  for (const [hash, len] of got) {
    assert.is(len, 1024);
    assert.is(hash, '14169102344523991076');
  }
});

test('PuzzleFS sizes on 4 MiB of varied data: every chunk within [min, max], the last may be shorter', () => {
  const data = new Uint8Array(4 << 20);
  let x = 12345;
  for (let i = 0; i < data.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  const lens = new FastCdc({ min: PUZZLEFS_MIN, avg: PUZZLEFS_AVG, max: PUZZLEFS_MAX }).lengths(data);
  assert.is(lens.reduce((a, b) => a + b, 0), data.length);
  lens.slice(0, -1).forEach((l) => assert.ok(l >= PUZZLEFS_MIN && l <= PUZZLEFS_MAX, `chunk of ${l}`));
  assert.ok(lens.length > 16 && lens.length < 256, `${lens.length} chunks for 4 MiB`);
});

test.run();
