// "Returns once the mount is ready and keeps serving in the background": the command re-runs itself with
// --foreground in a detached child and waits until the child reports ready (or an error) on a pipe at fd 3.
// It does so before anything else (backgroundMount): the child checks the arguments, and a usage error comes
// back through the pipe, so the shell waits for this process's start-up and the server's, nothing more.

import { openSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { childProcess } from '../kernel/builtins.js';

const READY_FD_ENV = 'TSFUSE_READY_FD';

/** In the serving process: tell the waiting parent (if any) that the mount is ready. */
export function signalReady(message = 'ready'): void {
  const fd = Number(process.env[READY_FD_ENV]);
  if (!Number.isInteger(fd) || fd < 0) return;
  const s = createWriteStream('', { fd, autoClose: true });
  // A launching process that is gone (killed while it waited) leaves a broken pipe: serving goes on regardless.
  s.on('error', () => undefined);
  s.end(message + '\n');
  delete process.env[READY_FD_ENV];
}

/** In the serving process: report a start-up failure to the waiting parent. */
export function signalFailure(message: string): void {
  signalReady(`error: ${message}`);
}

/** In the serving process: report a bad argument (the parent exits 2). */
export function signalUsageError(message: string): void {
  signalReady(`usage: ${message}`);
}

/** The commands that mount, and serve in the background unless given --foreground (-f). */
const MOUNT_COMMANDS = [['memfs'], ['passthrough'], ['erofs', 'mount'], ['puzzlefs', 'mount']];

/**
 * For a mount to serve in the background: the child's argv (--foreground added after the command words, so
 * that it never lands after `--`) and the --log file, read without parsing anything else. Else undefined.
 */
export function backgroundMount(argv: string[]): { argv: string[]; logFile: string | undefined } | undefined {
  const command = MOUNT_COMMANDS.find((c) => c.every((w, i) => argv[i] === w));
  if (!command) return undefined;
  const end = argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--');
  const options = argv.slice(0, end);
  if (options.includes('--foreground') || options.includes('-f')) return undefined;
  let logFile: string | undefined;
  options.forEach((a, i) => {
    if (a === '--log') logFile = options[i + 1];
    else if (a.startsWith('--log=')) logFile = a.slice(6);
  });
  return { argv: [...command, '--foreground', ...argv.slice(command.length)], logFile };
}

/** How a detached server's start-up ended: ready, or the exit code and message for the launching process. */
export type StartOutcome = { ready: true } | { ready: false; code: number; message: string };

/** A file descriptor the server inherits (as its fd 3) and the environment that tells it what it is. */
export interface Inherited {
  fd: number;
  env: Record<string, string>;
}

/**
 * In the launching process: start argv (with --foreground) detached and wait until it reports ready on its
 * pipe (fd 3, or fd 4 when `inherit` takes fd 3), or fails.
 */
export function startDetached(script: string, argv: string[], logFile: string | undefined, inherit?: Inherited): Promise<StartOutcome> {
  return new Promise((resolve) => {
    const out = logFile ? openSync(logFile, 'a') : 'ignore';
    const pipeFd = inherit ? 4 : 3;
    const child = childProcess().spawn(process.execPath, [script, ...argv], {
      detached: true,
      stdio: inherit ? ['ignore', out, out, inherit.fd, 'pipe'] : ['ignore', out, out, 'pipe'],
      env: { ...process.env, ...inherit?.env, [READY_FD_ENV]: String(pipeFd) },
    });
    const pipe = child.stdio[pipeFd] as NodeJS.ReadableStream;
    let text = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => (text += d));
    let settled = false;
    const done = (outcome: StartOutcome): void => {
      if (settled) return;
      settled = true;
      child.unref();
      (pipe as unknown as { destroy?: () => void }).destroy?.();
      resolve(outcome);
    };
    pipe.on('end', () => {
      const line = text.trim();
      if (line === 'ready') done({ ready: true });
      else if (line.startsWith('error: ')) done({ ready: false, code: 1, message: `tsfuse: ${line.slice(7)}` });
      else if (line.startsWith('usage: ')) done({ ready: false, code: 2, message: `tsfuse: ${line.slice(7)}` });
      else done({ ready: false, code: 1, message: 'tsfuse: the serving process ended before the mount was ready' });
    });
    // The pipe's end (the child closed its end, or exited) decides; 'exit' can come before the pipe's last data.
    child.on('exit', (code) => {
      setTimeout(() => done({ ready: false, code: code === 0 ? 1 : code ?? 1, message: 'tsfuse: the serving process exited before the mount was ready' }), 2000).unref();
    });
  });
}

/** In the launching process: start argv (with --foreground) detached and wait for ready. Returns the exit code. */
export async function launchInBackground(script: string, argv: string[], logFile?: string): Promise<number> {
  const outcome = await startDetached(script, argv, logFile);
  if (outcome.ready) return 0;
  process.stderr.write(outcome.message + '\n');
  return outcome.code;
}
