// Redirects come from the image and are untrusted: whatever they say, nothing outside the object store may
// be opened ('..' never above the store, no symlinks at any level, no FIFOs or directories, no escaping via the
// basedir), with the errnos overlayfs answers for a data-only layer.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { ObjectStore, validateRedirect } from '../../../src/erofs/object-store.js';
import { createErofsFilesystem } from '../../../src/erofs/filesystem.js';
import { ctx, readAll } from './fsapi.js';
import { haveMkfs, mkfs, setXattr, tempDir } from './mkfs.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

test('validateRedirect accepts store paths and refuses everything that could leave the store', () => {
  assert.is(validateRedirect('/12/abcdef'), '12/abcdef');
  assert.is(validateRedirect('12/abcdef'), '12/abcdef');
  assert.is(validateRedirect('/a/./b'), 'a/b');
  assert.is(validateRedirect('/ab/../cd/x'), 'cd/x');
  for (const bad of ['/../etc/passwd', 'a/../../b', '..', '/ab/../..']) {
    assert.is(code(() => validateRedirect(bad)), 'EXDEV', JSON.stringify(bad));
  }
  for (const bad of ['', '/', '//', '///x', 'a//b', 'a/', '/.', 'a\0b', 'x'.repeat(5000)]) {
    assert.is(code(() => validateRedirect(bad)), 'EINVAL', JSON.stringify(bad.slice(0, 40)));
  }
});

function makeStore(): { root: string; store: string; outside: string } {
  const root = tempDir('store');
  const store = path.join(root, 'objects');
  const outside = path.join(root, 'secret');
  fs.mkdirSync(path.join(store, 'ab'), { recursive: true });
  fs.writeFileSync(path.join(store, 'ab', 'good-object'), 'object content\n'.repeat(400));
  fs.writeFileSync(outside, 'top secret\n');
  fs.symlinkSync(outside, path.join(store, 'ab', 'link'));
  fs.mkdirSync(path.join(root, 'elsewhere'));
  fs.writeFileSync(path.join(root, 'elsewhere', 'obj'), 'not in the store\n');
  fs.symlinkSync(path.join(root, 'elsewhere'), path.join(store, 'cd'));
  fs.mkdirSync(path.join(store, 'ef', 'dir'), { recursive: true });
  execFileSync('mkfifo', [path.join(store, 'ab', 'fifo')]); // node has no mkfifo
  return { root, store, outside };
}

test('ObjectStore.open: regular objects open; symlinks, symlinked dirs, FIFOs, dirs and escapes are refused', () => {
  const { root, store } = makeStore();
  try {
    const s = new ObjectStore(store);
    const fd = s.open('/ab/good-object');
    assert.is(fs.readFileSync(fd, 'utf8').slice(0, 15), 'object content\n');
    fs.closeSync(fd);
    assert.is(code(() => s.open('/ab/link')), 'ENOENT', 'final symlink');
    assert.is(code(() => s.open('/cd/obj')), 'ELOOP', 'symlinked directory');
    assert.is(code(() => s.open('/cd/../ab/good-object')), 'ELOOP', 'a symlinked directory left again by ..');
    assert.is(code(() => s.open('/ab/fifo')), 'ENOENT', 'fifo (and no hang)');
    assert.is(code(() => s.open('/ef/dir')), 'ENOENT', 'directory');
    assert.is(code(() => s.open('/ef/..')), 'ENOENT', 'the store itself');
    assert.is(code(() => s.open('/../secret')), 'EXDEV', 'dot-dot');
    assert.is(code(() => s.open('/ab/../../secret')), 'EXDEV', 'dot-dot after a real directory');
    fs.closeSync(s.open('/ef/../ab/./good-object'));
    assert.is(code(() => s.open('/ab/missing')), 'ENOENT', 'missing object');
    assert.is(code(() => s.open(path.join(root, 'secret'))), 'ENOENT', 'absolute path stays inside the store');
    // the basedir itself may be a symlink: it is resolved once
    fs.symlinkSync(store, path.join(root, 'store-link'));
    const s2 = new ObjectStore(path.join(root, 'store-link'));
    fs.closeSync(s2.open('ab/good-object'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('through the Filesystem: a hostile redirect in an image is refused, a good one is served', async () => {
  if (!haveMkfs() || process.getuid?.() !== 0) return console.log('  (skipped: needs mkfs.erofs and root for trusted.* xattrs)');
  const { root, store } = makeStore();
  try {
    const src = path.join(root, 'src');
    fs.mkdirSync(src);
    const metacopy = Buffer.concat([Buffer.from([0, 36, 0, 1]), Buffer.alloc(32, 7)]);
    const files: Record<string, string> = {
      evil: '/../secret',
      evil2: '/ab/link',
      evil3: '/cd/obj',
      evil4: '/ab/fifo',
      good: '/ab/good-object',
    };
    for (const [name, redirect] of Object.entries(files)) {
      const p = path.join(src, name);
      fs.writeFileSync(p, '');
      fs.truncateSync(p, 6000); // a hole: the image has no data of its own for it
      setXattr(p, 'trusted.overlay.redirect', redirect);
      setXattr(p, 'trusted.overlay.metacopy', metacopy);
    }
    const image = mkfs(root, 'redirects.erofs', src, ['--chunksize=4096', '-Eforce-chunk-indexes']);
    const logs: string[] = [];
    // redirect checks only: the digest is a placeholder, so fs-verity checking is off (test/erofs/verity.test.ts)
    const f = createErofsFilesystem({ image, basedir: store, composefs: true, verity: 'off', log: (m) => logs.push(m) });
    for (const name of ['evil', 'evil2', 'evil3', 'evil4']) {
      const e = f.lookup(ctx, 1, name);
      assert.ok(e.ino > 0);
      const c = code(() => f.open(ctx, e.ino, 0));
      assert.ok(['EXDEV', 'ENOENT', 'ELOOP'].includes(c ?? ''), `${name}: ${c}`);
    }
    assert.is(logs.length, 4, logs.join('\n'));
    assert.ok(!logs.some((l) => l.includes('top secret')));
    const g = f.lookup(ctx, 1, 'good');
    const data = Buffer.from(await readAll(f, g.ino, g.attr.size));
    assert.is(data.length, 6000, 'the image size wins over the object size');
    assert.is(data.toString().slice(0, 15), 'object content\n');
    // overlay mode never opens objects, even hostile ones
    const o = createErofsFilesystem({ image, basedir: store, composefs: true, mode: 'overlay' });
    const ev = o.lookup(ctx, 1, 'evil');
    const fh = o.open(ctx, ev.ino, 0).fh ?? 0;
    assert.ok(o.read(ctx, ev.ino, fh, 0, 100).every((b) => b === 0));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test.run();
