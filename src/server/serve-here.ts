// A worker-mode filesystem served from this thread alone until another process takes the connection over
// (the CLI's background mount, src/cli/hand-over.ts): this thread builds the filesystem, mounts, answers INIT
// and then requests through serve-first.ts, and its session fd is inherited by the process that takes over
// (SessionOptions.adopt). Nothing here blocks in read(2), so handOver() is exact: every request read here is
// answered here, every later one is left in the kernel's queue for the new server.

import { closeSync } from 'node:fs';
import type { FilesystemModule } from '../fs/types.js';
import { openLibc } from '../kernel/libc.js';
import { DeviceChannel } from './channel.js';
import { closeConnection, connectionInfo, openConnection, type AdoptedConnection } from './connection.js';
import { Dispatcher } from './dispatch.js';
import { InterruptTable } from './interrupts.js';
import { loadFilesystem } from './load-filesystem.js';
import { ServeFirst } from './serve-first.js';
import type { SessionOptions } from './session.js';

export interface ServedHere {
  /** The session fd and what a process that inherits it needs to serve it (SessionOptions.adopt). */
  readonly adopted: AdoptedConnection;
  /** Reads nothing more, answers what was read, then closes this process's fds; the mount stays. */
  handOver(): Promise<void>;
  /** The process that was to take over did not: unmount and close. */
  abandon(): void;
}

/** Builds `mod`'s filesystem here (a failure leaves nothing mounted), mounts it and serves it from this thread. */
export async function serveHere(mod: FilesystemModule, opts: SessionOptions): Promise<ServedHere> {
  if (opts.ioUring) throw new Error('tsfuse: a connection served here first cannot move to io_uring');
  openLibc();
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const fs = await loadFilesystem(mod);
  const channel = new DeviceChannel(log);
  const c = openConnection(opts, undefined, 1, channel, log);
  let owner: ServeFirst;
  try {
    if (fs.init) await fs.init(connectionInfo(c.conn, c.fd));
    owner = new ServeFirst(c.fd, c.bufSize, new Dispatcher(fs, { ...c.dispatch, log }, new InterruptTable(), channel));
  } catch (err) {
    closeConnection(c);
    throw err;
  }
  return {
    adopted: { fd: c.fd, init: c.init, method: c.method },
    async handOver() {
      owner.handOver();
      await owner.drained;
      if (fs.destroy) await fs.destroy();
      closeSync(c.fd);
    },
    abandon() {
      owner.handOver();
      closeConnection(c);
    },
  };
}
