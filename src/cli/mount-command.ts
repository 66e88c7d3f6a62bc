// What the mount commands share: the common flags, checks of paths and --workers, and running a mount in this
// process until it ends (mountCommand). Imported statically by the command and by erofs.ts, which a background
// `erofs mount` loads before it answers, so it stays small.

import { realpathSync, statSync, type Stats } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, type FlagSpec, type Parsed } from './args.js';
import { signalFailure, signalReady, signalUsageError } from './daemon.js';
import { endAfterLinger } from '../server/linger.js';

/** What a background mount runs as its server: the command's entry, which picks the bundle again. */
export const SCRIPT = fileURLToPath(new URL('./main.js', import.meta.url));

export const MOUNT_FLAGS: Record<string, FlagSpec> = {
  o: { kind: 'list', short: 'o' },
  workers: { kind: 'int' },
  foreground: { kind: 'bool', short: 'f' },
  debug: { kind: 'bool', short: 'd' },
  log: { kind: 'string' },
};

export function fail(msg: string): never {
  throw new UsageError(msg);
}

export function existingDir(p: string, what: string): string {
  return existing(p, what, (st) => st.isDirectory(), 'a directory');
}

export function existingFile(p: string, what: string): string {
  return existing(p, what, (st) => st.isFile(), 'a regular file');
}

/** The real path of `p`, which must exist and be of the kind `isKind` accepts; otherwise a usage error. */
function existing(p: string, what: string, isKind: (st: Stats) => boolean, kind: string): string {
  let st: Stats;
  try {
    st = statSync(p);
  } catch {
    fail(`${what} '${p}' does not exist`);
  }
  if (!isKind(st)) fail(`${what} '${p}' is not ${kind}`);
  return realpathSync(p);
}

export function workersOf(p: Parsed): number | undefined {
  const w = p.flags.workers as number | undefined;
  if (w !== undefined && (w < 1 || w > 256)) fail('--workers must be between 1 and 256');
  return w;
}

/**
 * Runs `serve` in this process: given --foreground, or as the detached child of a background mount (main
 * started it before parsing anything), which reports readiness to its parent.
 */
export async function mountCommand(serve: () => Promise<{ unmount(): Promise<void>; closed: Promise<void> }>): Promise<number> {
  // Signals may come while the mount is still starting: remember them and unmount as soon as it is up.
  let session: { unmount(): Promise<void>; closed: Promise<void> } | undefined;
  let stopRequested = false;
  const stop = (): void => {
    stopRequested = true;
    if (session) void session.unmount();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    session = await serve();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    signalFailure(msg);
    process.stderr.write(`tsfuse: ${msg}\n`);
    return 1;
  }
  signalReady();
  if (stopRequested) void session.unmount();
  await session.closed;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  // the mount is gone: this process ends even if a handle is left open (a background server would otherwise stay)
  endAfterLinger('the serving process', (m) => process.stderr.write(m + '\n'), () => process.exit(process.exitCode ?? 0));
  return 0;
}

/**
 * Runs a command and gives its exit code: a UsageError is one line and 2, any other error one line and 1 (as a
 * background mount's child, the waiting parent prints the message).
 */
async function exitCodeOf(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (err) {
    if (err instanceof UsageError) {
      signalUsageError(err.message);
      process.stderr.write(`tsfuse: ${err.message}\n`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    signalFailure(msg);
    process.stderr.write(`tsfuse: ${msg}\n`);
    return 1;
  }
}

/** Runs the process's command and sets its exit code. */
export function runCommand(command: () => Promise<number>): void {
  exitCodeOf(command).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`tsfuse: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
