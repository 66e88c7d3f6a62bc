// tsfuse/fuse-native loads with require() from CommonJS and with import from ESM, from a directory that has the
// package linked into node_modules (package.json "exports": "require" -> fuse.cjs, "import" -> index.js), in
// separate node processes; both give the same class.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { sh } from '../helpers/client.js';
import { linkedDir } from './harness.js';

test('require from CommonJS and import from ESM', async () => {
  const dir = linkedDir();
  try {
    const cjs = await sh(process.execPath, ['-e', `
      const Fuse = require('tsfuse/fuse-native');
      const f = new Fuse('./mnt', {}, {});
      console.log(JSON.stringify({ type: typeof Fuse, ENOENT: Fuse.ENOENT, mnt: f.mnt, mount: typeof f.mount, unmount: typeof Fuse.unmount, isConfigured: typeof Fuse.isConfigured }));
    `], { cwd: dir });
    assert.equal(JSON.parse(cjs), { type: 'function', ENOENT: -2, mnt: dir + '/mnt', mount: 'function', unmount: 'function', isConfigured: 'function' });
    const esm = await sh(process.execPath, ['--input-type=module', '-e', `
      import Fuse from 'tsfuse/fuse-native';
      import { createRequire } from 'node:module';
      const same = Fuse === createRequire(import.meta.url)('tsfuse/fuse-native');
      console.log(JSON.stringify({ same, EACCES: Fuse.EACCES }));
    `], { cwd: dir });
    assert.equal(JSON.parse(esm), { same: true, EACCES: -13 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
