// "Returns once the mount is ready and keeps serving in the background": the command re-runs itself with
// --foreground in a detached child and waits until the child reports ready (or an error) on a pipe at fd 3.
// It does so before anything else (backgroundMount): the child checks the arguments, and a usage error comes
// back through the pipe, so the shell waits for this process's start-up and the server's, nothing more.

import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createWriteStream } from 'node:fs';

const READY_FD_ENV = 'TSFUSE_READY_FD';

/** In the serving process: tell the waiting parent (if any) that the mount is ready. */
export function signalReady(message = 'ready'): void {
  const fd = Number(process.env[READY_FD_ENV]);
  if (!Number.isInteger(fd) || fd < 0) return;
  const s = createWriteStream('', { fd, autoClose: true });
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

/** In the launching process: start argv (with --foreground) detached and wait for ready. Returns the exit code. */
export function launchInBackground(script: string, argv: string[], logFile?: string): Promise<number> {
  return new Promise((resolve) => {
    const out = logFile ? openSync(logFile, 'a') : 'ignore';
    const child = spawn(process.execPath, [script, ...argv], {
      detached: true,
      stdio: ['ignore', out, out, 'pipe'],
      env: { ...process.env, [READY_FD_ENV]: '3' },
    });
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    let text = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => (text += d));
    let settled = false;
    const done = (code: number, msg?: string): void => {
      if (settled) return;
      settled = true;
      if (msg) process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
      child.unref();
      (pipe as unknown as { destroy?: () => void }).destroy?.();
      resolve(code);
    };
    pipe.on('end', () => {
      const line = text.trim();
      if (line === 'ready') done(0);
      else if (line.startsWith('error: ')) done(1, `tsfuse: ${line.slice(7)}`);
      else if (line.startsWith('usage: ')) done(2, `tsfuse: ${line.slice(7)}`);
      else done(1, 'tsfuse: the serving process ended before the mount was ready');
    });
    // The pipe's end (the child closed fd 3, or exited) decides; 'exit' can come before the pipe's last data.
    child.on('exit', (code) => {
      setTimeout(() => done(code === 0 ? 1 : code ?? 1, 'tsfuse: the serving process exited before the mount was ready'), 2000).unref();
    });
  });
}
