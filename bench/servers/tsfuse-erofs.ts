// A tsfuse EROFS server for the bench, as a separate process: `mountErofs` itself (the image server's own
// cache timeouts) unless --timeout is given, then the same worker-mode session with that entry/attr timeout
// (0 = every stat reaches the server): what mountErofs negotiates (READDIRPLUS mode, no OPEN/OPENDIR on a
// read-only mount) comes from its spec; the reader keeps its own default cache per worker, so the uncached
// stat loop over the tree measures the request path rather than the cache's size. Unmounts on SIGINT/SIGTERM.
//
// --uring asks for FUSE over io_uring (prints the transport the session got on stderr, the log file).
//
//   node tsfuse-erofs.js --image IMG --mnt DIR [--workers N] [--timeout S] [--basedir OBJ --passthrough] [--debug] [--cache-size SIZE] [--uring]

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { mountErofs } from '../../src/erofs/mount.js';
import { erofsMountSpec } from '../../src/erofs/mount-spec.js';
import { Session } from '../../src/server/session.js';
import { need, parseFlags, serveUntilSignal } from './args.js';
import { parseSize } from '../../src/erofs/reader/cache-budget.js';

const f = parseFlags(process.argv.slice(2));
const image = need(f, 'image');
const mountpoint = need(f, 'mnt');
const workers = typeof f.workers === 'string' ? Number(f.workers) : undefined;
const basedir = typeof f.basedir === 'string' ? f.basedir : undefined;
const passthrough = f.passthrough === true;
const debug = f.debug === true;
const cacheSize = typeof f['cache-size'] === 'string' ? parseSize(f['cache-size']) : undefined;
const ioUring = f.uring === true;

if (typeof f.timeout === 'string') {
  const timeout = Number(f.timeout);
  const negotiated = erofsMountSpec({ image, mountpoint }).session;
  const FS_MODULE = fileURLToPath(new URL('../../src/erofs/filesystem.js', import.meta.url));
  const session = await Session.mount(
    { module: FS_MODULE, export: 'createFilesystem', options: { image, basedir, mode: 'plain', passthrough, timeout, cacheSize: cacheSize !== undefined ? Math.floor(cacheSize / (workers ?? availableParallelism())) : undefined } },
    {
      mountpoint, fsname: image, subtype: 'erofs', options: ['ro'], workers, passthrough,
      entryTimeout: timeout, attrTimeout: timeout, debug,
      // as mountErofs negotiates: only the timeouts differ from the image server
      readdirplus: negotiated.readdirplus, want: negotiated.want, warmUp: negotiated.warmUp,
      ioUring,
    },
  );
  process.stderr.write(`transport ${session.transport}\n`);
  serveUntilSignal(session);
} else {
  const m = await mountErofs({ image, mountpoint, basedir, passthrough, workers, debug, cacheSize, options: ioUring ? ['io_uring'] : undefined });
  process.stderr.write(`transport ${m.session.transport}\n`);
  serveUntilSignal(m);
}
