// READDIR vs READDIRPLUS under tsfuse/fuse-native: by default a listing is plain READDIR (as libfuse 2 under
// fuse-native), so stat'ing each listed name asks getattr for it; with `readdirplus: true` the stats readdir
// gave with the names come back as READDIRPLUS attributes, so the kernel stats the names from its cache without
// asking the handler. The Fuse class runs in this process, the listing and stats in a separate Python process.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { inPython } from '../helpers/python.js';
import { withFuseMount } from './harness.js';

const Fuse = createRequire(import.meta.url)('../../src/fuse-native/fuse.cjs');
type Cb = (...a: unknown[]) => void;

const NAMES = ['a', 'b', 'c'];
const fileStat = (size: number) => ({ mode: 0o100644, size, nlink: 1, mtime: new Date(1e12), atime: new Date(1e12), ctime: new Date(1e12) });

/** Mounts with `opts`, lists the root and stats each name from Python; the getattr calls for the names and the sizes seen. */
async function listAndStat(opts: Record<string, unknown>): Promise<{ getattrs: string[]; sizes: number[] }> {
  const getattrs: string[] = [];
  const ops = {
    getattr(p: string, cb: Cb) {
      if (p === '/') return process.nextTick(cb, 0, { mode: 0o40755, size: 4096, mtime: new Date(), atime: new Date(), ctime: new Date() });
      getattrs.push(p);
      const i = NAMES.indexOf(p.slice(1));
      return i < 0 ? process.nextTick(cb, Fuse.ENOENT) : process.nextTick(cb, 0, fileStat(10 + i));
    },
    readdir(_p: string, cb: Cb) {
      cb(0, NAMES, NAMES.map((_n, i) => fileStat(10 + i)));
    },
  };
  return withFuseMount('tsfuse-fnrdp-', ops, { attrTimeout: 30, entryTimeout: 30, ...opts }, async (mnt) => {
    const sizes = await inPython<number[]>(mnt, `
      names = sorted(os.listdir(mnt))
      return [os.stat(P(n)).st_size for n in names]
    `);
    return { getattrs, sizes };
  });
}

test('default: plain READDIR, each listed name is looked up through getattr', async () => {
  const r = await listAndStat({});
  assert.equal(r.sizes, [10, 11, 12]);
  assert.equal([...new Set(r.getattrs)].sort(), ['/a', '/b', '/c']);
});

test('readdirplus: true: the stats given with the names answer the stats, no getattr', async () => {
  const r = await listAndStat({ readdirplus: true });
  assert.equal(r.sizes, [10, 11, 12]);
  assert.equal(r.getattrs, []);
});

test.run();
