// tsfuse mkcomposefs from a generated tree, checked by the kernel's composefs view: `mount -t erofs` of the
// image plus overlayfs (metacopy, redirect_dir, the digest store as data-only layer) must show the source
// tree. Known differences, by design of mkcomposefs: hardlinks are not detected (every name is its own inode
// with nlink 1, so nlink is not compared), and a source whiteout (char 0:0) is stored escaped, so the view
// shows it as an empty regular file carrying trusted.overlay.whiteout, its directory the matching markers.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateTree, readXattrs } from '../kit/index.js';
import { diffDumps, dumpTreeInChild } from '../../helpers/tree-dump.js';
import { tsfuse, withComposefsView } from './helpers.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-cfsview-test-'));
test.after(() => fs.rmSync(base, { recursive: true, force: true }));

const MARKERS = '^(trusted|user)\\.overlay\\.(whiteouts?|opaque)$';

test('the kernel composefs view of the image equals the source tree', async () => {
  const info = generateTree(path.join(base, 'tree'), { seed: 5, maxNameLength: 255 });
  const objects = path.join(base, 'objects');
  const image = path.join(base, 'image.cfs');
  const r = await tsfuse(['mkcomposefs', `--digest-store=${objects}`, info.root, image]);
  assert.is(r.status, 0, r.stderr);
  const opts = { nlink: false, dirNlink: true, excludePaths: [`/${info.paths.whiteout}`], excludeXattrs: MARKERS };
  const want = await dumpTreeInChild(info.root, 300_000, opts);
  await withComposefsView(image, objects, async (v) => {
    const got = await dumpTreeInChild(v, 300_000, opts);
    const d = diffDumps(want, got, 20, ['source', 'composefs view']);
    assert.ok(d === '', d);
    // the excluded pieces, checked for what they are
    const w = fs.lstatSync(path.join(v, info.paths.whiteout));
    assert.ok(w.isFile() && w.size === 0, 'escaped whiteout shows as an empty file');
    assert.ok(readXattrs(path.join(v, info.paths.whiteout)).some(([n]) => n === 'trusted.overlay.whiteout'));
    const od = readXattrs(path.join(v, info.paths.overlayXattrDir)).find(([n]) => n === 'trusted.overlay.opaque');
    assert.is(od?.[1].toString(), 'y', "the source's own trusted.overlay.opaque survives, unescaped");
  });
});

test.run();
