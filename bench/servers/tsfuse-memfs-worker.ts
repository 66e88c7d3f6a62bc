// A tsfuse memfs server in worker mode (one worker owns the filesystem), over /dev/fuse reads or, with
// --uring, over FUSE io_uring; entry/attr timeouts 0 and no KEEP_CACHE, so every lstat and every fresh read
// reaches the server. Prints the transport the session got on stderr (the log file).
//
//   node tsfuse-memfs-worker.js --mnt DIR [--uring] [--depth N]

import { fileURLToPath } from 'node:url';
import { Session } from '../../src/server/session.js';
import { need, parseFlags, serveUntilSignal } from './args.js';

const f = parseFlags(process.argv.slice(2));
const mountpoint = need(f, 'mnt');
const MEMFS = fileURLToPath(new URL('../../src/fs/memfs.js', import.meta.url));
const session = await Session.mount(
  { module: MEMFS, options: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, entryTimeout: 0, attrTimeout: 0, keepCache: false } },
  {
    mountpoint, fsname: 'memfs', subtype: 'memfs', workers: 1, entryTimeout: 0, attrTimeout: 0,
    ioUring: f.uring === true, ioUringDepth: typeof f.depth === 'string' ? Number(f.depth) : undefined,
  },
);
process.stderr.write(`transport ${session.transport}\n`);
serveUntilSignal(session);
