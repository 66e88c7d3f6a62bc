// Checks run in a separate process: the thread that serves a mount (embedded mode: this test's main thread)
// must never make a blocking call into that mount itself.

import { execFile } from 'node:child_process';
import { run as runProcess } from './proc.js';

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command asynchronously with a timeout (SIGKILL on expiry, then code null); never rejects on the
 * exit status. The spawning itself is test/helpers/proc.ts's run().
 */
export async function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcResult> {
  const r = await runProcess(cmd, args, {
    check: false,
    timeoutMs: opts.timeoutMs ?? 60_000,
    input: opts.input ?? '',
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

/** Like run, but throws with stderr when the exit code is not 0. */
export async function sh(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Runs `body` (JavaScript, an async function body with `fs`, `path`, `mnt` and `cp` (child_process) in scope)
 * in a fresh node process and returns what it returns (JSON round trip). Errors are returned as
 * { error: code, message } when `catchErrors` so tests can assert errno.
 */
export async function inChild<T = unknown>(mnt: string, body: string, opts: { timeoutMs?: number; uid?: number; gid?: number } = {}): Promise<T> {
  const script = `
    const fs = require('node:fs'); const path = require('node:path'); const cp = require('node:child_process');
    const mnt = ${JSON.stringify(mnt)};
    (async () => { ${body} })().then(
      (v) => { process.stdout.write(JSON.stringify({ ok: v === undefined ? null : v })); },
      (e) => { process.stdout.write(JSON.stringify({ err: { code: e && e.code, message: String(e && e.stack || e) } })); });
  `;
  const args = ['-e', script];
  let cmd = process.execPath;
  let argv = args;
  if (opts.uid !== undefined) {
    // setpriv changes uid/gid before exec, so the kernel sees an unprivileged caller
    cmd = 'setpriv';
    argv = [`--reuid=${opts.uid}`, `--regid=${opts.gid ?? opts.uid}`, '--clear-groups', process.execPath, ...args];
  }
  const r = await run(cmd, argv, { timeoutMs: opts.timeoutMs ?? 60_000 });
  let parsed: { ok?: T; err?: { code?: string; message: string } };
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new Error(`child failed (exit ${r.code}): ${r.stderr || r.stdout}`);
  }
  if (parsed.err) {
    const e = new Error(parsed.err.message) as Error & { code?: string };
    e.code = parsed.err.code;
    throw e;
  }
  return parsed.ok as T;
}

export { execFile };
