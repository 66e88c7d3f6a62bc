// READ buffers in tsfuse/fuse-native: a handler that answers before returning gets a buffer the adapter reuses
// for the next read, so it must come zeroed: a handler that counts bytes it never wrote shows zeros, never the
// bytes another file's read left there. Handlers that answer later (setImmediate) get buffers of their own,
// also while synchronous reads go on; every buffer is exactly `len` bytes, as fuse-native's. Read from Python.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { inPython } from '../helpers/python.js';
import { withFuseMount } from './harness.js';

const Fuse = createRequire(import.meta.url)('../../src/fuse-native/fuse.cjs');
type Cb = (...a: unknown[]) => void;

const SIZE = 1 << 20;
const files = ['dirty', 'lazy', 'late', 'lazy2', 'short'];
const badLengths: string[] = [];

const ops = {
  getattr(p: string, cb: Cb) {
    const t = new Date();
    if (p === '/') return cb(0, { mode: 0o40755, size: 4096, mtime: t, atime: t, ctime: t });
    if (!files.includes(p.slice(1))) return cb(Fuse.ENOENT);
    cb(0, { mode: 0o100644, size: p === '/short' ? 100 : SIZE, mtime: t, atime: t, ctime: t });
  },
  readdir(_p: string, cb: Cb) {
    cb(0, files);
  },
  read(p: string, _fd: number, buf: Buffer, len: number, pos: number, cb: Cb) {
    if (buf.length !== len) badLengths.push(`${p}: buf.length ${buf.length}, len ${len}`);
    const n = Math.max(0, Math.min(len, (p === '/short' ? 100 : SIZE) - pos));
    if (p === '/dirty') buf.fill(0x58); // 'X', the whole buffer, beyond what it counts too
    if (p === '/late') {
      // answers after returning: this buffer is its own while synchronous reads use the reused one
      return setImmediate(() => {
        buf.fill(0x4c, 0, n);
        cb(n);
      });
    }
    if (p === '/short') buf.write('abc');
    cb(n); // /lazy, /lazy2 and /short count bytes they did not write
  },
};

test('reused read buffers are zeroed; late answers keep their own buffer', async () => {
  await withFuseMount('tsfuse-fnrb-', ops, {}, async (mnt) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      import threading
      def summary(name):
          with open(P(name), 'rb') as f:
              b = f.read()
          return {'len': len(b), 'bytes': sorted(set(b))}
      out = {'dirty': summary('dirty'), 'lazy': summary('lazy')}
      # late and synchronous reads at the same time, from two threads
      res = {}
      t = threading.Thread(target=lambda: res.__setitem__('late', summary('late')))
      t.start()
      res['lazy2'] = summary('lazy2')
      t.join()
      out.update(res)
      with open(P('short'), 'rb') as f:
          out['short'] = f.read()[:5].hex()
      return out
    `);
    assert.equal(r, {
      dirty: { len: SIZE, bytes: [0x58] },
      lazy: { len: SIZE, bytes: [0] },
      late: { len: SIZE, bytes: [0x4c] },
      lazy2: { len: SIZE, bytes: [0] },
      short: '6162630000',
    });
    assert.equal(badLengths, []);
  });
});

test.run();
