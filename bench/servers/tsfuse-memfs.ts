// A tsfuse memfs server for the bench (embedded mode: the filesystem lives in this process's main thread,
// reader threads hand requests over), with entry/attr timeouts from --timeout (default 0). Every
// Filesystem method call is counted (= requests that reached the filesystem, FORGETs included); on SIGUSR2
// the counts are written as JSON to --counters FILE.
//
//   node tsfuse-memfs.js --mnt DIR [--workers N] [--timeout S] [--counters FILE] [--transport poll|threads]

import { renameSync, writeFileSync } from 'node:fs';
import { createMemFs } from '../../src/fs/memfs.js';
import { Session } from '../../src/server/session.js';
import { need, parseFlags, serveUntilSignal } from './args.js';

const f = parseFlags(process.argv.slice(2));
const mountpoint = need(f, 'mnt');
const workers = typeof f.workers === 'string' ? Number(f.workers) : 1;
const timeout = typeof f.timeout === 'string' ? Number(f.timeout) : 0;
const countersFile = typeof f.counters === 'string' ? f.counters : undefined;
// embedded mode's transport (SessionOptions.embeddedTransport): poll (default) or threads
const transport = f.transport === 'threads' || f.transport === 'poll' ? f.transport : undefined;

const fs = createMemFs({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, entryTimeout: timeout, attrTimeout: timeout });
const counts: Record<string, number> = {};
let total = 0;
let seq = 0;
// the Filesystem interface's request methods (src/fs/types.ts); memfs's internal helpers are not requests
const REQUEST_METHODS = (
  'lookup forget getattr setattr readlink mknod mkdir unlink rmdir symlink rename link open read write flush ' +
  'release fsync create tmpfile fallocate lseek copyFileRange opendir readdir readdirplus releasedir fsyncdir ' +
  'statfs setxattr getxattr listxattr removexattr access getlk setlk bmap ioctl poll statx syncfs'
).split(' ');
const target = fs as unknown as Record<string, unknown>;
for (const name of REQUEST_METHODS) {
  const orig = target[name];
  if (typeof orig !== 'function') continue;
  counts[name] = 0;
  const bound = (orig as (...a: unknown[]) => unknown).bind(fs);
  target[name] = (...a: unknown[]): unknown => {
    counts[name]++;
    total++;
    return bound(...a);
  };
}

const session = await Session.mount(fs, {
  mountpoint, fsname: 'memfs', subtype: 'memfs', workers, entryTimeout: timeout, attrTimeout: timeout, embeddedTransport: transport,
});
if (countersFile) {
  process.on('SIGUSR2', () => {
    const byOp: Record<string, number> = {};
    for (const [k, v] of Object.entries(counts)) if (v) byOp[k] = v;
    // rename is atomic: the reader never sees half a file
    writeFileSync(countersFile + '.tmp', JSON.stringify({ seq: ++seq, total, byOp }));
    renameSync(countersFile + '.tmp', countersFile);
  });
}
serveUntilSignal(session);
