// A registry that demands bearer tokens, for real: Debian's docker-registry with `auth: token`, whose realm is a
// token server the test starts on 127.0.0.1 (servers/token-server.ts) issuing JWTs signed with a key made by
// openssl here; the registry trusts that key's certificate (rootcertbundle) and checks every signature itself.
// An EROFS image is pushed with a token, then mounted as docker://... with TSFUSE_REGISTRY_AUTH=user:password
// (our client answers the registry's 401 challenge at the realm); the kernel's mount of the image file is the
// oracle. A wrong password fails at mount time with one line; a token signed by another key is refused by the
// registry. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage, generateTree } from '../erofs/kit/index.js';
import { withErofsMount } from '../erofs/conformance/mount.js';
import { assertSameDump, assertSubstantial, kernelDump, tsfuseDump } from '../erofs/conformance/oracle.js';
import { run } from '../helpers/client.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { registryToken } from './servers/jwt.js';
import {
  makeSigningKey, pushImage, startRegistry, startTokenServer, tempDir, TOKEN_ISSUER, TOKEN_SERVICE, tokenAuthConfig, type RunningServer,
} from './servers/index.js';

const work = tempDir('tsfuse-remote-tok-');
const image = path.join(work, 'image.erofs');
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const USER = 'tsfuse';
const PASSWORD = randomBytes(9).toString('base64url');
const REPO = 'tsfuse/private';
let registry: RunningServer;
let tokens: Awaited<ReturnType<typeof startTokenServer>>;
let ref: string;
let savedAuth: string | undefined;

test.before(async () => {
  const tree = path.join(work, 'tree');
  generateTree(tree, { scale: 'small', seed: 'token' });
  fs.writeFileSync(path.join(tree, 'random'), randomBytes(2 << 20));
  await buildImage(tree, image);
  const key = await makeSigningKey(work, 'token-issuer');
  tokens = await startTokenServer(key, USER, PASSWORD);
  registry = await startRegistry(path.join(work, 'registry'), undefined, tokenAuthConfig(tokens.url, key.cert));
  ref = `docker://${registry.url.replace(/^http:\/\//, '')}/${REPO}:v1`;
  // Push as any client would: ask the realm for a push token with the credentials.
  const t = await fetch(`${tokens.url}/token?service=${TOKEN_SERVICE}&scope=repository:${REPO}:pull,push`, {
    headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
  });
  assert.is(t.status, 200);
  const { token } = (await t.json()) as { token: string };
  await pushImage(registry.url, REPO, 'v1', image, 'application/vnd.erofs.layer.v1', { authorization: `Bearer ${token}` });
  savedAuth = process.env.TSFUSE_REGISTRY_AUTH;
});

test.after(async () => {
  if (savedAuth === undefined) delete process.env.TSFUSE_REGISTRY_AUTH;
  else process.env.TSFUSE_REGISTRY_AUTH = savedAuth;
  await registry?.stop();
  await tokens?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('the registry demands a token and checks its signature: anonymous and forged requests are refused', async () => {
  const anon = await fetch(`${registry.url}/v2/${REPO}/manifests/v1`);
  assert.is(anon.status, 401);
  assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token"/);
  const other = await makeSigningKey(work, 'forger');
  const forged = registryToken({
    keyPem: fs.readFileSync(other.key, 'utf8'), certPem: fs.readFileSync(other.cert, 'utf8'), issuer: TOKEN_ISSUER, service: TOKEN_SERVICE,
    subject: USER, access: [{ type: 'repository', name: REPO, actions: ['pull'] }],
  });
  const f = await fetch(`${registry.url}/v2/${REPO}/manifests/v1`, { headers: { authorization: `Bearer ${forged}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.is(f.status, 401, 'a token signed by a key the registry does not trust');
});

test('mount with credentials (TSFUSE_REGISTRY_AUTH): the tree dump equals the kernel mount of the layer', async () => {
  const kernel = await kernelDump(image);
  assertSubstantial(kernel, 30, 'kernel');
  process.env.TSFUSE_REGISTRY_AUTH = `${USER}:${PASSWORD}`;
  const cacheDir = tempDir('tsfuse-cache-');
  const before = (await tokens.stats()).issued;
  try {
    const t = await tsfuseDump(ref, { workers: 2, remote: { cacheDir } });
    assertSameDump(kernel, t.dump, ref);
  } finally {
    delete process.env.TSFUSE_REGISTRY_AUTH;
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
  assert.ok((await tokens.stats()).issued > before, 'the mount got its tokens from the realm');
});

test('a wrong password or none: a one-line error at mount time', async () => {
  const mnt = tempDir('tsfuse-tok-mnt-');
  try {
    for (const auth of [`${USER}:wrong`, undefined]) {
      const env = { ...process.env };
      if (auth === undefined) delete env.TSFUSE_REGISTRY_AUTH;
      else env.TSFUSE_REGISTRY_AUTH = auth;
      const r = await run(process.execPath, [CLI, 'erofs', 'mount', ref, mnt, '--no-cache'], { env, timeoutMs: 60_000 });
      assert.is(r.code, 1, r.stderr);
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /token request answered HTTP 401/);
    }
    // the same through the library: the mount is refused before anything is mounted
    process.env.TSFUSE_REGISTRY_AUTH = `${USER}:wrong`;
    let err: Error | undefined;
    try {
      await withErofsMount({ image: ref, workers: 1, remote: { cacheDir: null } }, async () => undefined);
    } catch (e) {
      err = e as Error;
    } finally {
      delete process.env.TSFUSE_REGISTRY_AUTH;
    }
    assert.match(String(err?.message), /401/);
  } finally {
    fs.rmdirSync(mnt);
  }
});

test.run();
