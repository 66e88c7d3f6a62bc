import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeName, encodeName, hasEscapedBytes, nameByteLength } from '../../src/protocol/names.js';

const roundTrip = (bytes: number[]): string => {
  const b = Buffer.from(bytes);
  const s = decodeName(b, 0, b.length);
  assert.equal([...encodeName(s)], bytes, `round trip of ${b.toString('hex')}`);
  assert.is(nameByteLength(s), bytes.length);
  return s;
};

test('valid UTF-8 names decode as text and stay as they are', () => {
  assert.is(roundTrip([...Buffer.from('hello.txt')]), 'hello.txt');
  assert.is(roundTrip([...Buffer.from('ünïcødé 名前 🎉')]), 'ünïcødé 名前 🎉');
  assert.is(roundTrip([...Buffer.from('a\uFFFDb')]), 'a\uFFFDb', 'a literal U+FFFD is not an escape');
  assert.not.ok(hasEscapedBytes('ünïcødé'));
});

test('invalid bytes survive byte for byte as escapes', () => {
  const s = roundTrip([0x75, 0x73, 0x65, 0x72, 0x2e, 0xf9, 0x78]); // "user.\xf9x"
  assert.ok(hasEscapedBytes(s));
  assert.is(s, 'user.\uDCF9x');
  roundTrip([0xff, 0xfe, 0x80]);
  roundTrip([0xc3]); // truncated sequence
  roundTrip([0xe0, 0x80, 0x80]); // overlong
  roundTrip([0xed, 0xa0, 0x80]); // encoded surrogate
  roundTrip([0xf4, 0x90, 0x80, 0x80]); // above U+10FFFF
  roundTrip([0x61, 0xc3, 0xa9, 0xff, 0xf0, 0x9f, 0x8e, 0x89]); // mixed valid and invalid
});

test('every single byte and every pair of high bytes round-trips', () => {
  for (let a = 1; a < 256; a++) roundTrip([a]);
  for (let a = 0x80; a < 256; a += 3) for (let b = 0x80; b < 256; b += 5) roundTrip([a, b]);
});

test.run();
