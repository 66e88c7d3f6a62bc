// A background mount whose filesystem module may be served by any number of instances (a local EROFS image):
// the process the shell waits on is booted already, so it mounts and answers the first requests itself
// (src/server/serve-here.ts), starts the real server detached with the session fd as the server's fd 3, and
// hands the connection over once the server's first worker serves; then it exits. The shell thus waits for
// one Node start-up before the mount answers, not for two and a worker's.
// The server learns what it inherited from TSFUSE_ADOPT (SessionOptions.adopt, read by adoptedConnection).

import { closeSync, openSync, writeSync } from 'node:fs';
import type { FilesystemModule } from '../fs/types.js';
import type { AdoptedConnection, SessionOptions } from '../server/session.js';
import { startDetached } from './daemon.js';
import { serveHere } from '../server/serve-here.js';

const ADOPT_ENV = 'TSFUSE_ADOPT';
/** Where the server finds the inherited session fd (startDetached's `inherit`). */
const INHERITED_FD = 3;

/** Mounts here, starts the server on `argv` (with --foreground) and hands over. Returns the exit code. */
export async function mountThenHandOver(
  script: string, argv: string[], logFile: string | undefined, mod: FilesystemModule, opts: SessionOptions,
): Promise<number> {
  // This process's log lines (a --debug trace of the first requests) go where the server's go: to --log or nowhere.
  const logFd = logFile !== undefined ? openSync(logFile, 'a') : undefined;
  const log = (m: string): void => {
    if (logFd !== undefined) writeSync(logFd, m.endsWith('\n') ? m : m + '\n');
  };
  // Interrupted before the hand-over: unmount, rather than leave a mount whose server may never come.
  let here: Awaited<ReturnType<typeof serveHere>> | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const interrupt = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    if (!here) return;
    here.abandon();
    process.stderr.write(`tsfuse: ${sig} before the server took over; unmounted\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    here = await serveHere(mod, { ...opts, log });
    if (interrupted) interrupt(interrupted);
    const adopt: AdoptedConnection = { ...here.adopted, fd: INHERITED_FD };
    const outcome = await startDetached(script, argv, logFile, { fd: here.adopted.fd, env: { [ADOPT_ENV]: JSON.stringify(adopt) } });
    if (!outcome.ready) {
      here.abandon();
      process.stderr.write(outcome.message + '\n');
      return outcome.code;
    }
    await here.handOver();
    return 0;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    if (logFd !== undefined) closeSync(logFd);
  }
}

/** In the server: the connection handed over by the launching process, if any (read once). */
export function adoptedConnection(): AdoptedConnection | undefined {
  const text = process.env[ADOPT_ENV];
  if (text === undefined) return undefined;
  delete process.env[ADOPT_ENV];
  const a = JSON.parse(text) as AdoptedConnection;
  if (!Number.isInteger(a.fd) || typeof a.init?.maxWrite !== 'number' || typeof a.init.flags !== 'number') {
    throw new Error(`${ADOPT_ENV} does not describe a connection: ${text}`);
  }
  return a;
}
