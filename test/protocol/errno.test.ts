// The errno table against Linux (a C program printing <errno.h>, and Node's os.constants.errno), names both
// ways, the Errno error class, and errnoOf: Errno, Node system errors with .code (aliases like ENOTSUP),
// plain objects, and non-errno errors -> undefined (the server answers EIO for those).

import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync, rmdirSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ERRNO, Errno, errnoFromCode, errnoName, errnoOf } from '../../src/protocol/errno.js';
import { DecodeError } from '../../src/protocol/requests.js';
import { lit, runC } from './cc.js';

const ALIASES = { EWOULDBLOCK: 'EAGAIN', ENOTSUP: 'EOPNOTSUPP', EDEADLOCK: 'EDEADLK', ENOATTR: 'ENODATA' } as const;

test('ERRNO values equal <errno.h> (compiled C program)', () => {
  const names = [...Object.keys(ERRNO), ...Object.keys(ALIASES)];
  const body = names.map((n) => `#ifdef ${n}\nP(${lit(n)}, ${n});\n#endif`).join('\n');
  const c = runC(['errno.h'], body);
  const bad: string[] = [];
  for (const [k, v] of Object.entries(ERRNO)) {
    const cv = c.get(k);
    if (cv === undefined) bad.push(`${k} not in errno.h`);
    else if (BigInt(v) !== cv) bad.push(`${k} ts=${v} c=${cv}`);
  }
  assert.equal(bad, []);
  for (const [alias, target] of Object.entries(ALIASES)) {
    // ENOATTR is not in <errno.h> (it comes from <attr/xattr.h>, defined as ENODATA)
    const cv = c.get(alias) ?? c.get(target);
    assert.is(BigInt(errnoFromCode(alias)!), cv, alias);
  }
});

test('ERRNO values equal Node os.constants.errno', () => {
  const os = constants.errno as Record<string, number>;
  const bad = Object.entries(ERRNO).filter(([k, v]) => os[k] !== undefined && os[k] !== v);
  assert.equal(bad, []);
  assert.is(os.ENOENT, ERRNO.ENOENT);
  assert.is(os.ENOTSUP, errnoFromCode('ENOTSUP'));
});

test('errnoName / errnoFromCode are inverses; aliases resolve; unknowns', () => {
  for (const [k, v] of Object.entries(ERRNO)) {
    assert.is(errnoName(v), k);
    assert.is(errnoFromCode(k), v);
  }
  assert.is(errnoFromCode('ENOTSUP'), 95);
  assert.is(errnoFromCode('EWOULDBLOCK'), 11);
  assert.is(errnoFromCode('EDEADLOCK'), 35);
  assert.is(errnoFromCode('ENOATTR'), 61);
  assert.is(errnoFromCode('EFOO'), undefined);
  assert.is(errnoName(4095), 'E#4095');
});

test('errnoFromCode ignores Object.prototype keys (toString, constructor, __proto__)', () => {
  for (const k of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
    assert.is(errnoFromCode(k), undefined, k);
    assert.is(errnoOf({ code: k }), undefined, k);
  }
});

test('Errno: from a name or a number, with errno, code and message', () => {
  const a = new Errno('ENOENT');
  assert.ok(a instanceof Error);
  assert.is(a.errno, 2);
  assert.is(a.code, 'ENOENT');
  assert.is(a.message, 'ENOENT');
  const b = new Errno(13, 'not yours');
  assert.is(b.errno, 13);
  assert.is(b.code, 'EACCES');
  assert.is(b.message, 'EACCES: not yours');
  assert.is(errnoOf(a), 2);
  assert.is(errnoOf(b), 13);
  assert.is(errnoOf(new Errno(ERRNO.ENOSYS)), 38);
});

test('errnoOf: real Node fs errors (ENOENT, ENOTDIR, EEXIST, ENOTEMPTY)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfuse-errno-'));
  try {
    const got = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return errnoOf(e);
      }
      return 'no error';
    };
    writeFileSync(join(dir, 'f'), 'x');
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'inner'), 'x');
    assert.is(got(() => statSync(join(dir, 'missing'))), ERRNO.ENOENT);
    assert.is(got(() => readdirSync(join(dir, 'f'))), ERRNO.ENOTDIR);
    assert.is(got(() => mkdirSync(join(dir, 'd'))), ERRNO.EEXIST);
    assert.is(got(() => rmdirSync(join(dir, 'd'))), ERRNO.ENOTEMPTY);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errnoOf: objects with .code, aliases, and uv errors with only a negative errno', () => {
  assert.is(errnoOf({ code: 'ENOENT' }), 2);
  assert.is(errnoOf(Object.assign(new Error('x'), { code: 'ENOTSUP' })), 95);
  assert.is(errnoOf(Object.assign(new Error('x'), { code: 'EWOULDBLOCK' })), 11);
  // a code we do not list, but the system error carries its (negative) errno
  assert.is(errnoOf(Object.assign(new Error('x'), { code: 'ECHRNG', errno: -44 })), 44);
});

test('errnoOf: non-errno errors are undefined (the server answers EIO)', () => {
  assert.is(errnoOf(new Error('boom')), undefined);
  assert.is(errnoOf(new TypeError('bad')), undefined);
  assert.is(errnoOf(new DecodeError('short')), undefined);
  assert.is(errnoOf(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' })), undefined);
  assert.is(errnoOf({ errno: 5 }), undefined, 'errno without a code is not trusted');
  assert.is(errnoOf(Object.assign(new Error('dns'), { code: 'EAI_AGAIN', errno: -3001 })), undefined, 'getaddrinfo codes are not errnos');
  assert.is(errnoOf('ENOENT'), undefined);
  assert.is(errnoOf(2), undefined);
  assert.is(errnoOf(null), undefined);
  assert.is(errnoOf(undefined), undefined);
  assert.is(errnoOf({ code: 42 }), undefined);
});

test('errnoOf: errnos the kernel would reject (>= 512, <= 0) are undefined, so the reply becomes EIO, not a hang', () => {
  assert.is(errnoOf(new Errno(511)), 511);
  assert.is(errnoOf(new Errno(512)), undefined);
  assert.is(errnoOf(new Errno(4000)), undefined);
  assert.is(errnoOf(new Errno(0)), undefined);
  assert.is(errnoOf(new Errno(-2)), undefined);
  assert.is(errnoOf(Object.assign(new Error('x'), { code: 'EWEIRD', errno: -600 })), undefined);
});

test('Errno.shared: one frozen instance per errno, by number or name, that errnoOf reads like any other', () => {
  const a = Errno.shared(ERRNO.ENODATA);
  assert.is(Errno.shared('ENODATA'), a);
  assert.is(a.errno, ERRNO.ENODATA);
  assert.is(a.code, 'ENODATA');
  assert.is(errnoOf(a), ERRNO.ENODATA);
  assert.ok(a instanceof Errno && Object.isFrozen(a));
  assert.is.not(Errno.shared('ENOENT'), a);
  assert.is(errnoOf(Errno.shared(600)), undefined);
});

test.run();
