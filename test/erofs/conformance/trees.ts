// Small trees of our own, where the kit's trees (1500+ entries, 20+ MiB) are more than a test needs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Prng, setXattrs } from '../kit/index.js';

/**
 * `entries` regular files in one directory plus a little of everything: nested dirs, inline/one-block/
 * multi-block files, symlinks (short and long), a hardlink, a fifo, a char device, user.* and trusted.*
 * xattrs (a long value, and one shared by several files). About 30 + entries inodes, under 1 MiB.
 */
export function tinyTree(dir: string, entries = 10, seed = 1): string {
  const rng = new Prng(`tiny:${seed}`);
  fs.mkdirSync(dir, { recursive: true });
  const root = path.resolve(dir);
  const w = (rel: string, data: string | Buffer): void => fs.writeFileSync(path.join(root, rel), data);
  fs.mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  fs.mkdirSync(path.join(root, 'many'));
  fs.mkdirSync(path.join(root, 'empty'));
  w('hello', 'hello, erofs\n');
  w('empty-file', '');
  w('a/one-block', Buffer.alloc(4096, 'x'));
  w('a/b/tail', rng.text(5000));
  w('a/b/c/random', rng.bytes(70_000));
  w('a/text', rng.text(20_000));
  fs.symlinkSync('hello', path.join(root, 'link'));
  fs.symlinkSync('/' + 'L'.repeat(300), path.join(root, 'a/long-link'));
  fs.linkSync(path.join(root, 'hello'), path.join(root, 'a/hardlink'));
  fs.chmodSync(path.join(root, 'a/b/tail'), 0o4755);
  fs.chownSync(path.join(root, 'a/text'), 1000, 1000);
  for (let i = 0; i < entries; i++) w(`many/entry-${String(i).padStart(4, '0')}-${'n'.repeat(i % 40)}`, `entry ${i}\n`.repeat(i % 7));
  const items: Array<{ path: string; xattrs: Array<[string, Buffer]> }> = [
    { path: '', xattrs: [['user.root', Buffer.from('root xattr')]] },
    { path: 'hello', xattrs: [['user.comment', Buffer.from('a file')], ['trusted.t', Buffer.from([0, 1, 2])]] },
    { path: 'a/b', xattrs: [['user.long', Buffer.from(rng.text(600))]] },
  ];
  for (let i = 0; i < Math.min(entries, 6); i++) {
    items.push({ path: `many/entry-${String(i).padStart(4, '0')}-${'n'.repeat(i % 40)}`, xattrs: [['user.shared', Buffer.from('the same value on several files')]] });
  }
  setXattrs(root, items);
  return root;
}
