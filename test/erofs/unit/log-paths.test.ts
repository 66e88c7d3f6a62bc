// LogPaths: the parents a log line's path is built from are remembered for a bounded number of inodes
// (MAX_PARENTS, in every worker), whatever the image size; the inodes looked up last are the ones kept.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogPaths, MAX_PARENTS } from '../../../src/erofs/log-paths.js';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { buildImage } from './builder.js';

function setUp(): { paths: LogPaths; dirIno: number; fileIno: number } {
  const image = buildImage({
    name: '', type: 'dir', mode: 0o755,
    children: [{ name: 'dir', type: 'dir', mode: 0o755, children: [{ name: 'file', type: 'file', mode: 0o644, data: new Uint8Array(10) }] }],
  }, { blkszbits: 12 });
  const reader = ErofsReader.open(image);
  const inoOf = (nid: number): number => (nid === reader.rootNid ? 1 : nid + 2);
  const nidOf = (ino: number): number => (ino === 1 ? reader.rootNid : ino - 2);
  const dir = reader.lookup(reader.root(), 'dir')!;
  const file = reader.lookup(reader.inode(dir.nid), 'file')!;
  return { paths: new LogPaths(reader, nidOf), dirIno: inoOf(dir.nid), fileIno: inoOf(file.nid) };
}

test('a looked-up inode is named by its path', () => {
  const { paths, dirIno, fileIno } = setUp();
  paths.looked(dirIno, 1);
  paths.looked(fileIno, dirIno);
  assert.is(paths.pathOf(fileIno), '/dir/file');
});

test('the remembered parents stay bounded, and the latest lookups still name their paths', () => {
  const { paths, dirIno, fileIno } = setUp();
  for (let i = 0; i < 3 * MAX_PARENTS; i++) {
    paths.looked(1_000_000 + i, 1);
    assert.ok(paths.remembered <= MAX_PARENTS, `${paths.remembered} parents after ${i + 1} lookups`);
  }
  paths.looked(dirIno, 1);
  paths.looked(fileIno, dirIno);
  assert.is(paths.pathOf(fileIno), '/dir/file');
});

test.run();
