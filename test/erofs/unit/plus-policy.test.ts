// Which READDIRPLUS records of the image server carry attributes (src/erofs/plus-policy.ts), through the
// Filesystem API: directories always; "." and ".." never (the kernel does not link them); files once the
// LOOKUPs after listings show that the entries get stat'ed, and every file past the first reply when the
// kernel asks for READDIRPLUS there under READDIRPLUS_AUTO. A record without attributes still names the
// entry with its inode number and type.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { createErofsFilesystem, type ErofsFilesystem } from '../../../src/erofs/filesystem.js';
import { InitFlags } from '../../../src/protocol/abi.js';
import { FIXTURES } from './tree.js';
import { ctx, readdirAll, readdirplusAll, type PlusItem } from './fsapi.js';

const PLAIN = path.join(FIXTURES, 'plain.erofs');
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

async function fsWith(flags: number): Promise<ErofsFilesystem> {
  const f = createErofsFilesystem({ image: PLAIN });
  await f.init({ minor: 45, flags, maxWrite: 1 << 20, maxReadahead: 0, passthrough: false });
  return f;
}

const isFile = (it: PlusItem): boolean => it.name !== '.' && it.name !== '..' && (it.entry.attr.mode & S_IFMT) !== S_IFDIR;
const bareFiles = (items: PlusItem[]): number => items.filter((it) => isFile(it) && it.entry.ino === 0).length;

test('a first listing: directories with attributes, files and "." ".." without (nodeid 0), names and types as READDIR', async () => {
  const f = await fsWith(InitFlags.mask.READDIRPLUS_AUTO);
  const plus = await readdirplusAll(f, 1);
  const plain = await readdirAll(f, 1);
  assert.equal(plus.map((it) => it.name), plain.map((e) => e.name));
  for (const [k, it] of plus.entries()) {
    // the dirent part of every record: the inode number and type READDIR gives
    assert.is(it.entry.attr.ino, plain[k]!.ino, it.name);
    assert.is(it.entry.attr.mode & S_IFMT, plain[k]!.mode & S_IFMT, it.name);
    if (it.name === '.' || it.name === '..') assert.is(it.entry.ino, 0, it.name);
    else if (!isFile(it)) assert.equal(it.entry.attr, f.getattr(ctx, it.entry.ino, undefined), it.name);
    else assert.is(it.entry.ino, 0, it.name);
  }
  assert.ok(plus.some((it) => it.name === 'etc' && it.entry.ino !== 0));
});

test('files get attributes once listed files get looked up, all but a sample; a names-only workload brings the bare records back', async () => {
  const f = await fsWith(InitFlags.mask.READDIRPLUS_AUTO);
  const many = f.lookup(ctx, 1, 'many').ino;
  const first = await readdirplusAll(f, many);
  assert.is(bareFiles(first), 120);
  // the workload stats what it lists (ls -l, du, tar): one LOOKUP per file
  for (const it of first) if (isFile(it)) f.lookup(ctx, many, it.name);
  const second = await readdirplusAll(f, many);
  const bare = bareFiles(second);
  assert.ok(bare >= 1 && bare <= 120 / 16, `a sample of the files still without attributes: ${bare}`);
  for (const it of second) if (isFile(it) && it.entry.ino !== 0) assert.equal(it.entry.attr, f.getattr(ctx, it.entry.ino, undefined), it.name);
  // listings nobody stats: the sample finds no LOOKUP, and the files go without attributes again
  let listings = 0;
  while (bareFiles(await readdirplusAll(f, many)) < 120) assert.ok(++listings < 60, 'back to records without file attributes');
});

test('READDIRPLUS past the first reply: every file with attributes under READDIRPLUS_AUTO (the kernel asks only after a lookup), not otherwise', async () => {
  for (const [flags, advised] of [[InitFlags.mask.READDIRPLUS_AUTO, true], [0, false]] as const) {
    const f = await fsWith(flags);
    const many = f.lookup(ctx, 1, 'many').ino;
    const items = await readdirplusAll(f, many, 10);
    const head = items.slice(0, 10);
    const rest = items.slice(10);
    assert.is(bareFiles(head), head.filter(isFile).length, 'the first reply: files without attributes');
    assert.is(bareFiles(rest), advised ? 0 : rest.filter(isFile).length, `later replies, auto ${advised}`);
  }
});

test.run();
