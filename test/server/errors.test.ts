// What a handler's failure turns into on the wire: a plain Error (or any non-errno value) is EIO plus one log
// line naming the opcode, and the session keeps serving; an Errno or a Node error with .code is that errno.
// Missing methods answer ENOSYS, or the kernel's default where it has one (statfs, xattrs).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withMount } from '../helpers/mount.js';
import { run } from '../helpers/client.js';
import { inPython } from '../helpers/python.js';
import { wrapFs } from '../helpers/fs-wrappers.js';
import { HelloFs } from '../../src/fs/hello.js';
import { Errno } from '../../src/protocol/errno.js';
import type { RequestContext } from '../../src/fs/types.js';
import { RecordingChannel } from '../../src/server/channel.js';
import { Dispatcher } from '../../src/server/dispatch.js';
import { InterruptTable } from '../../src/server/interrupts.js';
import { Lane } from '../../src/server/lane.js';
import { WireBuffer } from '../../src/protocol/wire.js';
import { SLOW_WORDS } from './fixtures/slow-fs.js';

const SLOW_MODULE = fileURLToPath(new URL('./fixtures/slow-fs.js', import.meta.url));

function failingFs() {
  const hello = new HelloFs({ files: { 'ok.txt': 'fine\n', 'bad-read': 'never seen\n', 'bad-read-async': 'never seen\n' } });
  const badRead = hello.lookup({} as RequestContext, 1, 'bad-read').ino;
  const badReadAsync = hello.lookup({} as RequestContext, 1, 'bad-read-async').ino;
  return wrapFs(hello, {
    lookup: (ctx: RequestContext, parent: number, name: string) => {
      switch (name) {
        case 'boom':
          throw new Error('boom: a plain error');
        case 'boom-async':
          return Promise.reject(new Error('boom: a rejected promise'));
        case 'boom-string':
          throw 'boom: not even an Error'; // eslint-disable-line no-throw-literal
        case 'eperm':
          throw new Errno('EPERM');
        case 'eperm-async':
          return new Promise((_, reject) => setTimeout(() => reject(new Errno('ENAMETOOLONG')), 5));
        case 'node-error':
          return statSync('/etc/passwd/not-a-dir'); // a real Node error: ENOTDIR
        case 'node-code':
          throw Object.assign(new Error('with a code'), { code: 'EXDEV' });
        default:
          return hello.lookup(ctx, parent, name);
      }
    },
    read: (ctx: RequestContext, ino: number, fh: number, off: number, size: number) => {
      if (ino === badRead) throw new TypeError('read exploded');
      if (ino === badReadAsync) return Promise.reject(new RangeError('async read exploded'));
      return hello.read(ctx, ino, fh, off, size);
    },
  });
}

test('a plain Error is EIO with one log line, errno-carrying errors keep their errno, serving goes on', async () => {
  const logs: string[] = [];
  const { fs } = failingFs();
  await withMount(fs, { workers: 2, log: (m) => logs.push(m), timeoutMs: 30_000 }, async ({ mnt }) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      out = {}
      for name in ['boom', 'boom', 'boom-async', 'boom-string', 'eperm', 'eperm-async', 'node-error', 'node-code', 'missing']:
          out.setdefault(name, []).append(errname(os.stat, P(name)))
      out['ok'] = open(P('ok.txt')).read()
      out['badRead'] = [errname(lambda: open(P('bad-read')).read()), errname(lambda: open(P('bad-read')).read())]
      out['badReadAsync'] = errname(lambda: open(P('bad-read-async')).read())
      out['okAfter'] = open(P('ok.txt')).read()
      out['ls'] = sorted(os.listdir(mnt))
      return out
    `);
    assert.equal(r, {
      boom: ['EIO', 'EIO'],
      'boom-async': ['EIO'],
      'boom-string': ['EIO'],
      eperm: ['EPERM'],
      'eperm-async': ['ENAMETOOLONG'],
      'node-error': ['ENOTDIR'],
      'node-code': ['EXDEV'],
      missing: ['ENOENT'],
      ok: 'fine\n',
      badRead: ['EIO', 'EIO'],
      badReadAsync: 'EIO',
      okAfter: 'fine\n',
      ls: ['bad-read', 'bad-read-async', 'ok.txt'],
    });
  });
  const failures = logs.filter((l) => l.includes('handler failed'));
  const count = (s: string) => failures.filter((l) => l.includes(s)).length;
  // the same failure twice is logged once
  assert.is(count('boom: a plain error'), 1, failures.join('\n'));
  assert.is(count('boom: a rejected promise'), 1);
  assert.is(count('boom: not even an Error'), 1);
  assert.is(count('TypeError: read exploded'), 1);
  assert.is(count('RangeError: async read exploded'), 1);
  assert.is(failures.length, 5, failures.join('\n'));
  for (const l of failures) assert.match(l, /^tsfuse: (LOOKUP|READ) handler failed, answering EIO: /);
  assert.ok(failures.find((l) => l.includes('TypeError: read exploded'))!.startsWith('tsfuse: READ '));
  // errno-carrying errors are not logged
  assert.not.ok(logs.some((l) => /EPERM|ENOTDIR|EXDEV|ENAMETOOLONG/.test(l)), logs.join('\n'));
});

test('worker mode: a plain Error is EIO and its log line reaches opts.log; an Errno keeps its errno', async () => {
  const logs: string[] = [];
  const state = new SharedArrayBuffer(SLOW_WORDS * 4);
  await withMount({ module: SLOW_MODULE, options: { state } }, { workers: 1, log: (m) => logs.push(m), timeoutMs: 30_000 }, async ({ mnt }) => {
    const r = await inPython<string[]>(mnt, `return [errname(os.stat, P('boom')), errname(os.stat, P('boom')), errname(os.stat, P('eperm')), open(P('hello.txt')).read()]`);
    assert.equal(r, ['EIO', 'EIO', 'EPERM', 'Hello, world!\n']);
  });
  const failures = logs.filter((l) => l.includes('handler failed'));
  assert.is(failures.length, 1, logs.join('\n'));
  assert.match(failures[0]!, /^\[worker 0\] tsfuse: LOOKUP handler failed, answering EIO: Error: boom in a worker/);
});

test('missing methods: ENOSYS, or the kernel default (statfs, xattrs)', async () => {
  const logs: string[] = [];
  // HelloFs has no statfs, mknod, mkdir, symlink, link, setattr, xattr methods
  await withMount(new HelloFs(), { workers: 1, log: (m) => logs.push(m), timeoutMs: 30_000 }, async ({ mnt }) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      s = os.statvfs(mnt)
      return {
        'statvfs': [s.f_bsize, s.f_frsize, s.f_blocks, s.f_bfree, s.f_files, s.f_namemax],
        'mkfifo': errname(os.mkfifo, P('fifo')),
        'mknod': errname(os.mknod, P('node'), 0o644 | stat.S_IFREG),
        'mkdir': errname(os.mkdir, P('d')),
        'symlink': errname(os.symlink, 'x', P('l')),
        'link': errname(os.link, P('hello.txt'), P('h2')),
        'chmod': errname(os.chmod, P('hello.txt'), 0o600),
        'rename': errname(os.rename, P('hello.txt'), P('h3')),
        'getxattr': errname(os.getxattr, P('hello.txt'), 'user.x'),
        'listxattr': errname(os.listxattr, P('hello.txt')),
        'setxattr': errname(os.setxattr, P('hello.txt'), 'user.x', b'1'),
        'fsync': errname(lambda: os.fsync(os.open(P('hello.txt'), os.O_RDONLY))),
        'read': open(P('hello.txt')).read(),
      }
    `);
    assert.equal(r, {
      statvfs: [512, 512, 0, 0, 0, 255],
      mkfifo: 'ENOSYS',
      mknod: 'ENOSYS',
      mkdir: 'ENOSYS',
      symlink: 'ENOSYS',
      // recent kernels answer EPERM for a filesystem without LINK, as link(2) documents
      link: 'EPERM',
      chmod: 'ENOSYS',
      rename: 'ENOSYS',
      // the kernel turns ENOSYS for xattrs into EOPNOTSUPP (95, which Python names ENOTSUP) and stops asking
      getxattr: 'ENOTSUP',
      listxattr: 'ENOTSUP',
      setxattr: 'ENOTSUP',
      // ENOSYS for FSYNC means "nothing to do" to the kernel
      fsync: 'OK',
      read: 'Hello, world!\n',
    });
    const fifo = await run('mkfifo', [join(mnt, 'fifo2')]);
    assert.is.not(fifo.code, 0);
    assert.match(fifo.stderr, /Function not implemented/);
  });
  assert.not.ok(logs.some((l) => l.includes('handler failed')), logs.join('\n'));
});

test('an opcode the table does not know is answered ENOSYS (dispatcher, no mount)', () => {
  const channel = new RecordingChannel();
  const d = new Dispatcher(new HelloFs(), { entryTimeout: 1, attrTimeout: 1, negativeTimeout: 0, debug: false, setxattrExt: false, log: () => {} }, new InterruptTable(), channel);
  const w = new WireBuffer(4096);
  w.buf.writeUInt32LE(40, 0); // len
  w.buf.writeUInt32LE(4242, 4); // opcode nobody defined
  w.buf.writeUInt32LE(77, 8); // unique
  w.buf.writeUInt32LE(1, 16); // nodeid
  const pending = d.dispatch(new Lane(4096), 9, w, 40);
  assert.is(pending, undefined);
  const [m, ...rest] = channel.take();
  assert.equal(rest, []);
  assert.is(m.fd, 9);
  assert.is(m.bytes.length, 16);
  assert.is(m.bytes.readUInt32LE(0), 16);
  assert.is(m.bytes.readInt32LE(4), -38);
  assert.is(m.bytes.readUInt32LE(8), 77);
});

test.run();
