// Remote images from an S3 API server: s3rver (npm) started on 127.0.0.1 by the test, the image uploaded with
// boto3 (a real S3 client), mounted as s3://BUCKET/KEY with SigV4 through --s3-endpoint / AWS_ENDPOINT_URL and
// path-style addressing. The kernel's mount of the same image file is the oracle. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage, generateTree } from '../erofs/kit/index.js';
import { assertSameDump, assertSubstantial, kernelDump, tsfuseDump } from '../erofs/conformance/oracle.js';
import { run } from '../helpers/client.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { s3Upload, startS3, useS3Credentials, tempDir, type RunningServer } from './servers/index.js';

const work = tempDir('tsfuse-remote-s3-');
const image = path.join(work, 'image.erofs');
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const BUCKET = 'images';
let s3: RunningServer;
let restoreEnv = (): void => {};

test.before(async () => {
  const tree = path.join(work, 'tree');
  generateTree(tree, { scale: 'small' });
  fs.mkdirSync(path.join(tree, 'big'));
  fs.writeFileSync(path.join(tree, 'big', 'blob'), randomBytes(6 << 20));
  await buildImage(tree, image);
  s3 = await startS3(path.join(work, 's3'), BUCKET);
  await s3Upload(s3.url, BUCKET, 'trees/image.erofs', image);
  restoreEnv = useS3Credentials();
});

test.after(async () => {
  restoreEnv();
  await s3?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('s3 image: the tree dump equals the kernel mount of the same image (SigV4, path style)', async () => {
  const kernel = await kernelDump(image);
  assertSubstantial(kernel, 30, 'kernel');
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    const t = await tsfuseDump(`s3://${BUCKET}/trees/image.erofs`, { workers: 2, remote: { cacheDir, s3Endpoint: s3.url } });
    assertSameDump(kernel, t.dump, 's3');
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('s3 image: `tsfuse erofs info` with AWS_ENDPOINT_URL; wrong credentials and a missing key fail with one line', async () => {
  const env = { ...process.env, AWS_ENDPOINT_URL: s3.url };
  const ok = await run(process.execPath, [CLI, 'erofs', 'info', `s3://${BUCKET}/trees/image.erofs`, '--no-cache'], { env, timeoutMs: 60_000 });
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /block size/i);
  const missing = await run(process.execPath, [CLI, 'erofs', 'info', `s3://${BUCKET}/trees/none.erofs`, '--no-cache'], { env, timeoutMs: 60_000 });
  assert.is(missing.code, 1, missing.stderr);
  assert.is(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /404/);
  // s3rver checks the access key but not SigV4 signatures themselves, so the refusal tested is an unknown key.
  const denied = await run(process.execPath, [CLI, 'erofs', 'info', `s3://${BUCKET}/trees/image.erofs`, '--no-cache'], { env: { ...env, AWS_ACCESS_KEY_ID: 'NOBODY' }, timeoutMs: 60_000 });
  assert.is(denied.code, 1, denied.stderr);
  assert.match(denied.stderr, /403/);
  const nocreds = await run(process.execPath, [CLI, 'erofs', 'info', `s3://${BUCKET}/trees/image.erofs`, '--no-cache'], {
    env: { ...env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', HOME: work, AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'none') },
    timeoutMs: 60_000,
  });
  assert.is(nocreds.code, 1, nocreds.stderr);
  assert.match(nocreds.stderr, /no AWS credentials/);
});

test('s3 credentials from a profile in a credentials file', async () => {
  const credFile = path.join(work, 'credentials');
  fs.writeFileSync(credFile, '[other]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n');
  const env = { ...process.env, AWS_ENDPOINT_URL: s3.url, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'other', AWS_SHARED_CREDENTIALS_FILE: credFile };
  const r = await run(process.execPath, [CLI, 'erofs', 'info', `s3://${BUCKET}/trees/image.erofs`, '--no-cache'], { env, timeoutMs: 60_000 });
  assert.is(r.code, 0, r.stderr);
});

test.run();
