// Checks that touch a tsfuse mount run in child processes with a timeout: the test's own thread hosts the
// session and must never block on the mount.

import { run } from '../kit/index.js';

/**
 * Runs `code` (the body of an async function with `fs`, `path`, `cp` and `args` in scope) in a fresh node
 * and returns what it returns (JSON). A child that does not finish in timeoutMs is killed and this rejects.
 */
export async function nodeEval<T = unknown>(code: string, args: unknown = null, timeoutMs = 30_000): Promise<T> {
  const script = `
    const fs = require('node:fs'); const path = require('node:path'); const cp = require('node:child_process');
    const args = JSON.parse(process.argv[1]);
    (async () => { ${code} })().then(
      (v) => process.stdout.write(JSON.stringify({ ok: v === undefined ? null : v })),
      (e) => process.stdout.write(JSON.stringify({ err: { code: e && e.code, message: String(e && e.stack || e) } })));
  `;
  const r = await run(process.execPath, ['-e', script, JSON.stringify(args)], { timeoutMs, check: false });
  let parsed: { ok?: T; err?: { code?: string; message: string } };
  try {
    parsed = JSON.parse(r.stdout.toString('utf8')) as typeof parsed;
  } catch {
    throw new Error(`child failed (exit ${r.status ?? r.signal}): ${r.stderr || r.stdout.toString()}`);
  }
  if (parsed.err) throw Object.assign(new Error(parsed.err.message), { code: parsed.err.code });
  return parsed.ok as T;
}

/** Reads each file (Buffer paths given as latin1 strings) in a child: {path: {data: base64} | {error: CODE}}. */
export async function readFilesInChild(paths: string[], timeoutMs = 30_000): Promise<Record<string, { data?: string; error?: string }>> {
  return nodeEval(
    `const out = {};
     for (const p of args) {
       try { out[p] = { data: fs.readFileSync(Buffer.from(p, 'latin1')).toString('base64') }; }
       catch (e) { out[p] = { error: e.code || String(e) }; }
     }
     return out;`,
    paths,
    timeoutMs,
  );
}

/** lstat inode numbers of paths (latin1 strings), in a child. */
export async function inodesInChild(paths: string[], timeoutMs = 30_000): Promise<Record<string, number>> {
  return nodeEval(
    `const out = {};
     for (const p of args) out[p] = fs.lstatSync(Buffer.from(p, 'latin1')).ino;
     return out;`,
    paths,
    timeoutMs,
  );
}
