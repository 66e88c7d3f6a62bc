// The reader's preallocated caches: the extent ring (decoded extents a READ cut) and the metadata page
// slots. Both are checked against a model (a Map of what was stored): whatever they still find holds exactly
// the bytes stored under that key, never another entry's, and what was claimed but never published (a
// decode that failed) is never found.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExtentRing, extentKey } from '../../../src/erofs/reader/extent-ring.js';
import { PageSlots } from '../../../src/erofs/reader/page-slots.js';
import { rng } from './mutate.js';

/** Bytes that differ per key and per position (so a stale or shifted slot shows). */
function pattern(key: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (key * 131 + i * 7 + (i >> 8)) & 0xff;
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

test('extent ring: random sizes, wraps and failed decodes never show another extent\'s bytes', () => {
  const r = rng(7);
  const cap = 64 * 1024;
  const ring = new ExtentRing(cap);
  const model = new Map<number, Uint8Array>();
  // Each key has a length; now and then it changes (as when a mapping is read again differently).
  const lenOf = new Map<number, number>();
  let lastKey = -1;
  let hits = 0;
  for (let step = 0; step < 20000; step++) {
    const key = Math.floor(r() * 400);
    if (!lenOf.has(key) || r() < 0.05) lenOf.set(key, 1 + Math.floor(r() * r() * 20000));
    const len = lenOf.get(key)!;
    const at = ring.lookup(key, len);
    if (at >= 0) {
      hits++;
      const want = model.get(key);
      assert.ok(want && want.length === len, `key ${key} found with no such extent stored`);
      assert.ok(equal(ring.bytes.subarray(at, at + len), want!), `key ${key}: bytes differ`);
      continue;
    }
    const claim = ring.claim(len);
    assert.ok(claim >= 0, `claim(${len})`);
    const slot = ring.offsetOf(claim);
    assert.ok(slot >= 0 && slot + len <= cap, `claim(${len}) at ${slot}`);
    if (r() < 0.1) {
      // A decode that fails half way: garbage in the claim, never published.
      ring.bytes.fill(0xee, slot, slot + Math.floor(len / 2));
      model.delete(key);
      assert.is(ring.lookup(key, len), -1, 'an unpublished claim is not found');
      continue;
    }
    ring.bytes.set(pattern(key, len), slot);
    ring.commit(key, claim);
    model.set(key, pattern(key, len));
    lastKey = key;
    assert.ok(ring.lookup(key, len) === slot, 'the extent just published is found');
    assert.ok(ring.weight <= cap, `weight ${ring.weight} within ${cap}`);
  }
  // Everything still found is intact, and some of it was found again.
  let found = 0;
  for (const [key, want] of model) {
    const at = ring.lookup(key, want.length);
    if (at < 0) continue;
    found++;
    assert.ok(equal(ring.bytes.subarray(at, at + want.length), want), `key ${key}: bytes differ at the end`);
  }
  assert.ok(found > 0 && lastKey >= 0 && hits > 100, `found ${found}, hits ${hits}`);
});

test('extent ring: an extent larger than the ring is refused; a new length for a key replaces it', () => {
  const ring = new ExtentRing(1000);
  assert.is(ring.claim(1001), -1);
  const a = ring.claim(600);
  ring.bytes.set(pattern(1, 600), ring.offsetOf(a));
  ring.commit(1, a);
  // Same key, another length (the mapping says the extent is now longer): the old one is not returned.
  assert.is(ring.lookup(1, 700), -1);
  const b = ring.claim(700);
  const bAt = ring.offsetOf(b);
  ring.bytes.set(pattern(1, 700), bAt);
  ring.commit(1, b);
  assert.is(ring.lookup(1, 600), -1);
  assert.is(ring.lookup(1, 700), bAt);
  assert.ok(equal(ring.bytes.subarray(bAt, bAt + 700), pattern(1, 700)));
  assert.is(ring.weight, 700);
  ring.clear();
  assert.is(ring.lookup(1, 700), -1);
  assert.is(ring.weight, 0);
});

test('extent ring: a claim overwritten before its commit is not published', () => {
  const ring = new ExtentRing(1000);
  const a = ring.claim(800);
  // Another claim (a nested read) takes the same space before the first one commits.
  const b = ring.claim(800);
  assert.is(ring.offsetOf(b), ring.offsetOf(a));
  ring.bytes.set(pattern(2, 800), ring.offsetOf(b));
  ring.commit(2, b);
  ring.commit(1, a);
  assert.is(ring.lookup(1, 800), -1);
  assert.is(ring.lookup(2, 800), ring.offsetOf(b));
});

test('extent keys: numbers while exact, strings past that, never equal for different extents', () => {
  assert.is(typeof extentKey(5, 4096), 'number');
  assert.is.not(extentKey(1, 0), extentKey(0, 2 ** 32 - 1));
  assert.is(typeof extentKey(2 ** 21, 0), 'string');
  assert.is(typeof extentKey(3, 2 ** 40), 'string');
  assert.is.not(extentKey(3, 2 ** 40), extentKey(3, 2 ** 40 + 1));
});

test('page slots: CLOCK over fixed slots, every page found holds its own bytes', () => {
  const r = rng(11);
  const slots = new PageSlots(512, 8);
  const stored = new Map<number, Uint8Array>();
  for (let step = 0; step < 5000; step++) {
    const page = Math.floor(r() * 30);
    const s = slots.lookup(page);
    if (s >= 0) {
      assert.ok(equal(slots.view(s), stored.get(page)!), `page ${page}: bytes differ`);
      continue;
    }
    const len = r() < 0.1 ? 1 + Math.floor(r() * 511) : 512;
    const c = slots.claim();
    if (r() < 0.1) {
      // The read failed: the slot stays free and the page unknown.
      slots.bytes.fill(0xee, c * 512, c * 512 + 100);
      assert.is(slots.lookup(page), -1);
      continue;
    }
    const data = pattern(page, len);
    slots.bytes.set(data, c * 512);
    slots.publish(c, page, len);
    stored.set(page, data);
    assert.ok(slots.weight <= 8 * 512);
  }
  let found = 0;
  for (const [page, want] of stored) {
    const s = slots.lookup(page);
    if (s < 0) continue;
    found++;
    assert.ok(equal(slots.view(s), want), `page ${page}: bytes differ at the end`);
  }
  assert.ok(found > 0 && found === slots.weight / 512, `${found} pages found, ${slots.weight} bytes held`);
});

test('page slots: a page referenced since the hand passed survives one eviction', () => {
  const slots = new PageSlots(16, 3);
  for (const p of [10, 11, 12]) {
    const c = slots.claim();
    slots.publish(c, p, 16);
  }
  slots.lookup(10);
  slots.lookup(12);
  const c = slots.claim();
  slots.publish(c, 13, 16);
  assert.is(slots.lookup(11), -1, 'the one page not referenced went');
  assert.ok(slots.lookup(10) >= 0 && slots.lookup(12) >= 0 && slots.lookup(13) >= 0);
});

test.run();
