// Without a mount: how remote PuzzleFS names split into a layout (or repository) and a tag, and the shared claim
// table that lets one worker fetch a block the others wait for (claim, "theirs" for a second claimant, release
// waking a waiter, a stale claim given up after its wait, collisions fetched unclaimed).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePuzzleRemote } from '../../../src/remote/puzzle-store.js';
import { keyHash, SharedInflight } from '../../../src/remote/shared-inflight.js';

test('remote PuzzleFS names: the tag follows the last ":" of the last path component, never a port', () => {
  assert.equal(parsePuzzleRemote('http://127.0.0.1:8080/layouts/img:v1'), { kind: 'layout', location: 'http://127.0.0.1:8080/layouts/img', tag: 'v1' });
  assert.equal(parsePuzzleRemote('https://example.org:443/oci'), { kind: 'layout', location: 'https://example.org:443/oci', tag: undefined });
  assert.equal(parsePuzzleRemote('https://example.org/a:b/oci/'), { kind: 'layout', location: 'https://example.org/a:b/oci', tag: undefined });
  assert.equal(parsePuzzleRemote('s3://bucket/pre/fix:latest'), { kind: 'layout', location: 's3://bucket/pre/fix', tag: 'latest' });
  assert.equal(parsePuzzleRemote('docker://127.0.0.1:5000/tsfuse/pz:v1'), { kind: 'registry', location: 'docker://127.0.0.1:5000/tsfuse/pz:v1', tag: undefined });
  for (const bad of ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/', 's3://bucket', 'https://h/oci:bad tag', 'docker://h/UPPER:v1', 'ftp://h/x']) {
    assert.throws(() => parsePuzzleRemote(bad), undefined, bad);
  }
});

test('shared claims: one claimant, a waiter woken by the release, a stale claim given up', async () => {
  const a = new SharedInflight(undefined, 200);
  const b = new SharedInflight(a.buffer, 200); // another worker's view of the same memory
  const tag = a.tag(keyHash('sha256:abc/262144'), 7);
  assert.is.not(tag, 0);
  assert.is(a.claim(tag), 'mine');
  assert.is(b.claim(tag), 'theirs');
  let woke = false;
  const waiting = b.settled(tag).then(() => (woke = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.is(woke, false, 'still claimed');
  a.release(tag);
  await waiting;
  assert.is(b.claim(tag), 'mine', 'free again after the release');
  // nobody releases: the waiter gives up after waitMs
  const t0 = Date.now();
  await a.settled(tag);
  assert.ok(Date.now() - t0 >= 150, 'waited for the stale claim');
  b.release(tag);
  // a tag whose slot holds another block's claim is not claimed (fetched without one), and releasing it is a no-op
  const slots = a.words.length;
  let other = 0;
  for (let i = 0; other === 0; i++) {
    const t = a.tag(keyHash('other'), i);
    if ((t >>> 0) % slots === (tag >>> 0) % slots && t !== tag) other = t;
  }
  assert.is(a.claim(tag), 'mine');
  assert.is(b.claim(other), 'unclaimed');
  b.release(other);
  assert.is(b.claim(tag), 'theirs', 'the first claim stands');
  a.release(tag);
});

test.run();
