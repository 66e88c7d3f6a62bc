import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LruCache } from '../../../src/erofs/reader/lru.js';

test('bounded by entries: the oldest unreferenced entry goes first', () => {
  const c = new LruCache<number, string>(3);
  c.set(1, 'a');
  c.set(2, 'b');
  c.set(3, 'c');
  assert.is(c.get(1), 'a'); // second chance for 1
  c.set(4, 'd');
  assert.is(c.size, 3);
  assert.is(c.get(2), undefined, '2 was the oldest without a hit');
  assert.is(c.get(1), 'a');
  assert.is(c.get(3), 'c');
  assert.is(c.get(4), 'd');
});

test('bounded by weight; an entry heavier than the budget is not cached', () => {
  const c = new LruCache<string, Buffer>(100, 10, (b) => b.length);
  c.set('x', Buffer.alloc(6));
  c.set('y', Buffer.alloc(6));
  assert.is(c.get('x'), undefined);
  assert.ok(c.get('y'));
  c.set('huge', Buffer.alloc(11));
  assert.is(c.get('huge'), undefined);
  assert.ok(c.get('y'));
});

test('every entry referenced: eviction still terminates and keeps the bound', () => {
  const c = new LruCache<number, number>(50);
  for (let i = 0; i < 1000; i++) {
    c.set(i, i);
    for (let j = Math.max(0, i - 60); j <= i; j++) c.get(j);
    assert.ok(c.size <= 50);
  }
  assert.is(c.get(999), 999);
});

test('replacing a key updates its value and weight', () => {
  const c = new LruCache<string, string>(10, 5, (s) => s.length);
  c.set('k', 'aaaa');
  c.set('k', 'b');
  c.set('j', 'cccc');
  assert.is(c.get('k'), 'b');
  assert.is(c.get('j'), 'cccc');
});

test.run();
