// Open files that lose their name, through the path layer (embedded mode, checks from a Python process):
// unlink while open and rename over an open file keep the open file readable (libfuse's hide: the layer renames
// it to .fuse_hidden*, unlinks that at the last release, and readdir never shows it); with hardRemove the file
// is unlinked at once and the handle methods get path null.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount } from '../helpers/mount.js';
import { inPython } from '../helpers/python.js';
import { PathLayer } from '../../src/fs/path/index.js';
import { MemTree } from './memtree.js';

test('unlink while open (hide): still readable, not listed, hidden name gone after close', async () => {
  const tree = new MemTree();
  await withMount(new PathLayer(tree), { workers: 1, timeoutMs: 60_000 }, async ({ mnt }) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      with open(P('f'), 'w') as f: f.write('keep me')
      fd = os.open(P('f'), os.O_RDONLY)
      os.unlink(P('f'))
      listed = sorted(os.listdir(mnt))
      gone = errname(os.stat, P('f'))
      text = os.pread(fd, 100, 0).decode()
      nlink = os.fstat(fd).st_nlink
      os.close(fd)
      return {'listed': listed, 'gone': gone, 'text': text, 'nlink': nlink}
    `);
    assert.equal(r, { listed: [], gone: 'ENOENT', text: 'keep me', nlink: 0 });
    assert.equal(tree.names('/'), [], 'the hidden name is unlinked at the last release');
    assert.ok(tree.calls.some((c) => /^rename \/f \/\.fuse_hidden[0-9a-f]{16}$/.test(c)), tree.calls.join('\n'));
    assert.ok(tree.calls.some((c) => /^unlink \/\.fuse_hidden/.test(c)));
  });
});

test('rename over an open file (hide): the old file stays readable through its fd', async () => {
  const tree = new MemTree();
  await withMount(new PathLayer(tree), { workers: 1, timeoutMs: 60_000 }, async ({ mnt }) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      with open(P('a'), 'w') as f: f.write('new')
      with open(P('b'), 'w') as f: f.write('old')
      fd = os.open(P('b'), os.O_RDONLY)
      os.rename(P('a'), P('b'))
      mid = sorted(os.listdir(mnt))
      old = os.pread(fd, 100, 0).decode()
      now = open(P('b')).read()
      os.close(fd)
      return {'mid': mid, 'old': old, 'now': now, 'after': sorted(os.listdir(mnt))}
    `);
    assert.equal(r, { mid: ['b'], old: 'old', now: 'new', after: ['b'] });
    assert.equal(tree.names('/'), ['b']);
  });
});

test('hardRemove: unlinked at once, reads go by handle with path null', async () => {
  const tree = new MemTree();
  await withMount(new PathLayer(tree, { hardRemove: true }), { workers: 1, timeoutMs: 60_000 }, async ({ mnt }) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      with open(P('f'), 'w') as f: f.write('by handle')
      fd = os.open(P('f'), os.O_RDONLY)
      os.unlink(P('f'))
      text = os.pread(fd, 100, 0).decode()
      os.close(fd)
      return {'text': text, 'listed': os.listdir(mnt)}
    `);
    assert.equal(r, { text: 'by handle', listed: [] });
    assert.not.ok(tree.calls.some((c) => c.startsWith('rename')), 'no hiding');
    assert.ok(tree.calls.includes('read null'), tree.calls.join('\n'));
    assert.ok(tree.calls.includes('release null'));
  });
});

test.run();
