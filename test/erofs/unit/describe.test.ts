// `erofs info`: the description names the format, block size, features and counts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { describeImage, imageInfo, openImage } from '../../../src/erofs/index.js';
import { FIXTURES } from './tree.js';

test('plain image: geometry, features, counts', () => {
  const r = openImage(path.join(FIXTURES, 'plain.erofs'));
  const i = imageInfo(r);
  assert.is(i.blockSize, 4096);
  assert.is(i.blocks, 201);
  assert.equal(i.compatFeatures, ['sb_csum', 'mtime', 'xattr_filter']);
  assert.equal(i.incompatFeatures, []);
  assert.is(i.counts!.directories, 11);
  assert.is(i.counts!.regularFiles, 129);
  assert.is(i.counts!.extraLinks, 1);
  assert.equal(i.errors, []);
  const text = describeImage(r);
  assert.match(text, /block size:\s+4096/);
  assert.match(text, /uuid:\s+00000000-0000-0000-0000-000000000001/);
  assert.ok(text.endsWith('\n'));
});

test('metabox, fragments, compression and composefs are named', () => {
  const m = imageInfo(openImage(path.join(FIXTURES, 'metazip.erofs')));
  assert.ok(m.incompatFeatures.includes('metabox') && m.incompatFeatures.includes('48bit'));
  assert.is(m.rootNid, 'metabox:0');
  assert.is(m.metaboxNid, '38');
  const f = imageInfo(openImage(path.join(FIXTURES, 'lz4-ztailpacking-fragments.erofs')));
  assert.ok(f.packedNid !== undefined);
  assert.ok(f.incompatFeatures.includes('ztailpacking'));
  const d = describeImage(openImage(path.join(FIXTURES, 'deflate.erofs')));
  assert.match(d, /deflate \(window 2\^15\)/);
  const z = describeImage(openImage(path.join(FIXTURES, 'lzma.erofs')));
  assert.match(z, /lzma \(MicroLZMA, dictionary \d+ bytes\)/);
  assert.not.match(z, /not decodable/);
  const c = describeImage(openImage(path.join(FIXTURES, 'composefs/image.cfs')));
  assert.match(c, /composefs image/);
  const p = describeImage(openImage(path.join(FIXTURES, 'xattr-prefix.erofs')));
  assert.match(p, /long xattr prefixes: "user\.sh"/);
});

test('without the walk, info is O(1)', () => {
  const i = imageInfo(openImage(path.join(FIXTURES, 'plain.erofs')), { walk: false });
  assert.is(i.counts, undefined);
});

test.run();
