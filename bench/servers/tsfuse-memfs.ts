// A tsfuse memfs server for the bench (embedded mode: the filesystem lives in this process's main thread),
// with the entry (name) timeout from --timeout (default 0) and the attribute timeout from --attr-timeout
// (default: memfs's own, attributes cached). Every Filesystem method call is counted (= requests that reached
// the filesystem, FORGETs included); on SIGUSR2 the counts are written as JSON to --counters FILE.
//
//   node tsfuse-memfs.js --mnt DIR [--workers N] [--timeout S] [--attr-timeout S] [--counters FILE]
//                        [--transport poll|threads] [--no-default-permissions] [--lib BUILD_ROOT]
//
// Names uncached, attributes cached: memfs changes only through the mount and the kernel refreshes or marks
// stale the attributes each mutating request touches (test/fs/memfs-attr-cache.test.ts), so every lstat still
// LOOKUPs each component while the permission checks (default_permissions) and the stat itself use the
// attributes those LOOKUPs returned, instead of a GETATTR per component. --attr-timeout 0 is the old setting.
//
// --lib serves with the memfs and Session of another compiled tsfuse tree (the bench's --baseline), so a
// baseline build and this one run under the same server script and flags.
//
// --no-default-permissions mounts as the fuse-native contender does (bench/servers/fuse-native.ts: libfuse's
// default, no default_permissions): the kernel then does not refresh every directory's attributes on the way
// down a path (a GETATTR per component with timeouts 0), which halves the requests of an uncached lstat. The
// mount is still private to the mounting user (no allow_other).

import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { need, parseFlags, serveUntilSignal } from './args.js';

const f = parseFlags(process.argv.slice(2));
const lib = typeof f.lib === 'string' ? f.lib : undefined;
const fromLib = (rel: string, own: string): string => (lib ? pathToFileURL(join(lib, rel)).href : own);
const { createMemFs } = (await import(fromLib('src/fs/memfs.js', '../../src/fs/memfs.js'))) as typeof import('../../src/fs/memfs.js');
const { Session } = (await import(fromLib('src/server/session.js', '../../src/server/session.js'))) as typeof import('../../src/server/session.js');
const mountpoint = need(f, 'mnt');
const workers = typeof f.workers === 'string' ? Number(f.workers) : 1;
const timeout = typeof f.timeout === 'string' ? Number(f.timeout) : 0;
// undefined: memfs's default attribute timeout
const attrTimeout = typeof f['attr-timeout'] === 'string' ? Number(f['attr-timeout']) : undefined;
const countersFile = typeof f.counters === 'string' ? f.counters : undefined;
// embedded mode's transport (SessionOptions.embeddedTransport): poll (default) or threads
const transport = f.transport === 'threads' || f.transport === 'poll' ? f.transport : undefined;
const defaultPermissions = f['no-default-permissions'] !== true;

const fs = createMemFs({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, entryTimeout: timeout, attrTimeout });
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
  mountpoint, fsname: 'memfs', subtype: 'memfs', workers, entryTimeout: timeout, attrTimeout: fs.attrTimeout, embeddedTransport: transport, defaultPermissions,
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
