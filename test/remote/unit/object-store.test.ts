// The remote composefs object store without a mount: redirects that would leave the prefix (lexically, or by an
// HTTP redirect of the server) are refused; redirects within it are followed; objects are looked up once. The
// server is a small HTTP server on 127.0.0.1 in this process that redirects as each path says.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BytesPending } from '../../../src/erofs/bytesource.js';
import { beneathPrefix } from '../../../src/remote/http-object.js';
import { RemoteObjectStore, objectUrl } from '../../../src/remote/object-store.js';
import { Errno, ERRNO } from '../../../src/protocol/errno.js';

const BODY = Buffer.from('object bytes\n');
const SECRET = Buffer.from('outside the store\n');

function startServer(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const p = req.url ?? '/';
    hits.push(p);
    const to = (location: string): void => void res.writeHead(302, { location }).end();
    if (p === '/store/aa/inside') return to('/store/bb/target');
    if (p === '/store/aa/outside') return to('/secret');
    if (p === '/store/aa/other-host') return to('http://localhost:1/store/bb/target');
    if (p === '/store/aa/encoded') return to('/store/%2e%2e/secret');
    if (p === '/store/aa/slash') return to('/store/bb%2f..%2f..%2fsecret');
    if (p === '/store/aa/loop') return to('/store/aa/loop');
    const body = p === '/store/bb/target' || p === '/store/aa/plain' ? BODY : p === '/secret' ? SECRET : undefined;
    if (!body) return void res.writeHead(404).end();
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      res.writeHead(206, { 'content-length': b - a + 1, 'content-range': `bytes ${a}-${b}/${body.length}`, etag: '"x"' });
      return void res.end(req.method === 'HEAD' ? undefined : body.subarray(a, b + 1));
    }
    res.writeHead(200, { 'content-length': body.length, etag: '"x"' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({ url, hits, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** Opens an object, waiting out BytesPending as the mount's rerun does; the bytes, or the error's message. */
async function openAndRead(store: RemoteObjectStore, redirect: string): Promise<{ bytes?: Buffer; error?: string; errno?: number }> {
  for (let i = 0; i < 50; i++) {
    try {
      const o = store.openObject(redirect);
      const src = o.bytes!;
      const buf = Buffer.alloc(src.size);
      for (;;) {
        try {
          src.readInto(buf, 0, 0, src.size);
          return { bytes: buf };
        } catch (e) {
          if (!(e instanceof BytesPending)) throw e;
          await e.ready;
        }
      }
    } catch (e) {
      if (e instanceof BytesPending) {
        try {
          await e.ready;
        } catch (err) {
          return { error: (err as Error).message, errno: (err as Errno).errno };
        }
        continue;
      }
      return { error: (e as Error).message, errno: (e as Errno).errno };
    }
  }
  throw new Error('never settled');
}

test('beneathPrefix: same origin and a path below the prefix, no encoded separators', () => {
  assert.ok(beneathPrefix('http://h:1/store/aa/b', 'http://h:1/store'));
  assert.ok(beneathPrefix('http://h:1/store/aa/b', 'http://h:1/store/'));
  assert.not.ok(beneathPrefix('http://h:1/storex/aa', 'http://h:1/store'));
  assert.not.ok(beneathPrefix('http://h:1/store', 'http://h:1/store'));
  assert.not.ok(beneathPrefix('http://h:1/store/../x', 'http://h:1/store'));
  assert.not.ok(beneathPrefix('http://h:1/store/%2e%2e/x', 'http://h:1/store'));
  assert.not.ok(beneathPrefix('http://h:1/store/a%2F..%2F..%2Fx', 'http://h:1/store'));
  assert.not.ok(beneathPrefix('https://h:1/store/a', 'http://h:1/store'));
  assert.not.ok(beneathPrefix('http://h:2/store/a', 'http://h:1/store'));
  assert.is(objectUrl('http://h/store/', 'aa/b c#?'), 'http://h/store/aa/b%20c%23%3F');
});

test('remote object store: lexical escapes are refused before any request', async () => {
  const s = await startServer();
  try {
    const store = new RemoteObjectStore(`${s.url}/store`, { cacheDir: null, attempts: 1 });
    for (const [redirect, errno] of [['../secret', ERRNO.EXDEV], ['aa/../../secret', ERRNO.EXDEV], ['aa//b', ERRNO.EINVAL], ['a\0b', ERRNO.EINVAL], ['..', ERRNO.EXDEV]] as const) {
      const r = await openAndRead(store, redirect);
      assert.is(r.errno, errno, `${JSON.stringify(redirect)}: ${r.error}`);
    }
    assert.equal(s.hits, [], 'no request was made');
    assert.throws(() => new RemoteObjectStore('/local/dir'), (e: unknown) => e instanceof Errno && e.errno === ERRNO.EINVAL);
  } finally {
    await s.close();
  }
});

test('remote object store: HTTP redirects are followed beneath the prefix and refused outside it', async () => {
  const s = await startServer();
  try {
    const store = new RemoteObjectStore(`${s.url}/store`, { cacheDir: null, attempts: 1 });
    assert.equal((await openAndRead(store, '/aa/plain')).bytes, BODY);
    assert.equal((await openAndRead(store, 'aa/inside')).bytes, BODY);
    for (const name of ['outside', 'other-host', 'encoded', 'slash', 'loop']) {
      const r = await openAndRead(store, `aa/${name}`);
      assert.is(r.bytes, undefined, `${name} gave bytes`);
      assert.match(r.error ?? '', name === 'loop' ? /more than 5 redirects/ : /outside/, `${name}: ${r.error}`);
    }
    const missing = await openAndRead(store, 'aa/missing');
    assert.is(missing.errno, ERRNO.ENOENT, missing.error);
    assert.not.ok(s.hits.includes('/secret'), `the store never asked for /secret (${s.hits.join(' ')})`);
    // an object is looked up once: opening it again makes no request
    const before = s.hits.length;
    assert.equal((await openAndRead(store, 'aa/plain')).bytes, BODY);
    assert.is(s.hits.length, before);
  } finally {
    await s.close();
  }
});

test.run();
