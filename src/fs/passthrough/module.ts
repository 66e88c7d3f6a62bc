// The passthrough filesystem as a worker-mode module (what `tsfuse passthrough` serves by default): one worker,
// because the inode table (nodeid -> inode, fds, aliases) lives in the thread that serves; it blocks in read(2)
// on its own fd and answers in the same thread. Lock waits (SETLKW, blocking flock) are Promises that other
// clients' requests end, so the worker serves those meanwhile (serveWhileWaiting).

import type { InitFlag } from '../../protocol/abi.js';
import type { FilesystemModule } from '../types.js';
import type { PassthroughOptions } from './passthrough.js';

/** Requests served meanwhile while a lock waits. */
const SERVED_WHILE_WAITING = 16;

/**
 * INIT flags to want (SessionOptions.want) when serving passthroughModule: in worker mode the session does not
 * see the filesystem's methods, so it does not ask for server-side locks by itself (embedded mode sees setlk).
 * Without them the kernel keeps locks local to the mount, and processes using SOURCE directly never conflict.
 */
export const PASSTHROUGH_MODULE_WANT: readonly InitFlag[] = ['POSIX_LOCKS', 'FLOCK_LOCKS'];

/** `log` cannot cross into the worker: warnings there go to its console. */
export function passthroughModule(opts: Omit<PassthroughOptions, 'log'>): FilesystemModule {
  return {
    module: new URL('./index.js', import.meta.url).href,
    export: 'createPassthroughFs',
    options: opts,
    maxWorkers: 1,
    serveWhileWaiting: SERVED_WHILE_WAITING,
  };
}
