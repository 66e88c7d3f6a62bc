// The callback machinery of tsfuse/fuse-native (src/fuse-native/calls.ts) on its own: a handler that calls back
// before returning gives a plain value (no Promise, no deadline); one that answers later gives a Promise with a
// deadline from the shared timer; a second callback and a callback after the deadline are ignored; a shorter
// per-op timeout that arrives after a longer one still expires first; answered calls leave the deadline lists.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Caller } from '../../src/fuse-native/calls.js';
import { errnoOf } from '../../src/protocol/errno.js';

type Cb = (...a: unknown[]) => void;
const value = (a: unknown, b: unknown): unknown => {
  if (a) throw new Error(`status ${String(a)}`);
  return b;
};

test('a synchronous answer is a plain value; a throw before answering propagates; after answering it does not', () => {
  const self = { tag: 'ops' };
  const caller = new Caller(self, () => 1000);
  let seenThis: unknown;
  const r = caller.run('getattr', function (this: unknown, path: unknown, cb: Cb) {
    seenThis = this;
    cb(0, `attr of ${String(path)}`);
    cb(0, 'second answer, ignored');
  }, value, 1, '/a');
  assert.is(r, 'attr of /a');
  assert.is(seenThis, self);
  assert.is(caller.deadlines.size, 0);
  assert.throws(() => caller.run('open', () => {
    throw new Error('bug');
  }, value, 0), /bug/);
  assert.is(caller.run('open', (cb: Cb) => {
    cb(0, 7);
    throw new Error('after the answer');
  }, value, 0), 7);
  // the callback comes right after the last argument, whatever the count
  const args: unknown[][] = [];
  for (let n = 0; n <= 5; n++) caller.run('x', (...a: unknown[]) => (args.push(a.slice(0, -1)), (a[a.length - 1] as Cb)(0, n)), value, n, 1, 2, 3, 4, 5);
  assert.equal(args, [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5]]);
});

test('late answers: a Promise, the first callback wins, deadlines leave the list', async () => {
  const caller = new Caller({}, () => 5000);
  let later: Cb | undefined;
  const p = caller.run('read', (cb: Cb) => (later = cb), value, 0);
  assert.instance(p, Promise);
  assert.is(caller.deadlines.size, 1);
  later!(0, 'late');
  later!(0, 'later still');
  assert.is(await p, 'late');
  assert.is(caller.deadlines.size, 0);
  const q = caller.run('read', (cb: Cb) => void setImmediate(cb, -5), (a) => {
    throw new Error(`errno ${String(a)}`);
  }, 0);
  await q.then(() => assert.unreachable(), (e: Error) => assert.is(e.message, 'errno -5'));
  assert.is(caller.deadlines.size, 0);
});

test('deadlines: ETIMEDOUT, a shorter timeout that comes later expires first, late callbacks ignored', async () => {
  const timeouts: Record<string, number> = { slow: 400, quick: 60, never: 0 };
  const caller = new Caller({}, (op) => timeouts[op]!);
  const order: string[] = [];
  const cbs: Cb[] = [];
  const run = (op: string): Promise<unknown> =>
    (caller.run(op, (cb: Cb) => void cbs.push(cb), value, 0) as Promise<unknown>).then(
      () => order.push(`${op} answered`),
      (e) => order.push(`${op} ${errnoOf(e) === 110 ? 'ETIMEDOUT' : String(e)}`),
    );
  const slow = run('slow');
  const quick = run('quick');
  const never = run('never'); // timeout 0: no deadline
  assert.is(caller.deadlines.size, 2);
  await Promise.all([slow, quick]);
  assert.equal(order, ['quick ETIMEDOUT', 'slow ETIMEDOUT']);
  assert.is(caller.deadlines.size, 0);
  for (const cb of cbs) cb(0, 'too late');
  await never;
  assert.equal(order, ['quick ETIMEDOUT', 'slow ETIMEDOUT', 'never answered']);
});

test.run();
