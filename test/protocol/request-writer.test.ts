// The warm-up's request writer: its uniques must decode to Smis, as the kernel's do, and never equal a real
// request's. A unique above 2^31 is a HeapNumber in V8, and one of those in any InHeader changes the field's
// representation for all of them: the serving lane's header, made before the warm-up, then met the code
// compiled during it with a deprecated map (bench/results/passthrough-writes.md round 6, metadata.md round 6).
// The kernel's requests have even uniques (FUSE_REQ_ID_STEP is 2): the writer's are odd.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Opcode } from '../../src/protocol/abi.js';
import { RequestWriter } from '../../src/protocol/request-writer.js';
import { decodeInHeader, newInHeader } from '../../src/protocol/requests.js';

test('uniques: distinct, increasing, odd (never a kernel request\'s), within 31-bit Smis', () => {
  const w = new RequestWriter();
  const h = newInHeader();
  let last = 0;
  for (let i = 0; i < 1000; i++) {
    const len = w.getattr(1 + i);
    decodeInHeader(w.wire, 0, h);
    assert.is(h.len, len);
    assert.is(h.opcode, Opcode.GETATTR);
    assert.is(h.uniqueHi, 0);
    assert.ok(h.unique > last, 'increasing');
    assert.is(h.unique % 2, 1, `unique ${h.unique} is odd`);
    assert.ok(h.unique > 0 && h.unique < 2 ** 30, `unique ${h.unique} within (0, 2^30)`);
    last = h.unique;
  }
});

test.run();
