// Checks written in Python, run in a separate process (like inChild): Python reaches syscalls that Node does
// not offer (renameat2 via ctypes, statvfs, posix_fallocate, xattrs, st_mtime_ns, signals around a blocking
// read). /usr/bin/python3 is used, not a pyenv shim under /root, so it also runs as an unprivileged uid.
//
// `body` is the body of a Python function `main()` (any indentation; it is dedented); what it returns comes
// back through JSON. In scope: os, sys, json, errno, ctypes, signal, stat, time, mnt, P(*parts) (a path under
// mnt), errname(fn, *args) ('OK' or the errno name fn raised), renameat2(old, new, flags).

import { spawn } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

const PRELUDE = String.raw`
import os, sys, json, errno, ctypes, signal, stat, time, textwrap
mnt = json.loads(sys.argv[1])
def P(*parts):
    return os.path.join(mnt, *parts)
def errname(fn, *args, **kw):
    try:
        fn(*args, **kw)
        return 'OK'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
_libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
def renameat2(old, new, flags):
    r = _libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), ctypes.c_uint(flags))
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), old)
_src = json.loads(sys.argv[2])
_ns = dict(globals())
exec("def main():\n" + textwrap.indent(textwrap.dedent(_src).strip("\n"), "    ") + "\n    pass\n", _ns)
try:
    _out = {"ok": _ns["main"]()}
except OSError as e:
    _out = {"err": {"code": errno.errorcode.get(e.errno), "message": repr(e)}}
except BaseException as e:
    _out = {"err": {"code": None, "message": type(e).__name__ + ": " + str(e)}}
sys.stdout.write(json.dumps(_out))
sys.stdout.flush()
`;

export interface PyOptions {
  timeoutMs?: number;
  uid?: number;
  gid?: number;
}

export interface PyProcess<T> {
  pid: number;
  /** The function's result; rejects with an Error carrying .code (errno name) when it raised. */
  result: Promise<T>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts the check and returns at once (for tests that signal the child while it is blocked). */
export function startPython<T = unknown>(mnt: string, body: string, opts: PyOptions = {}): PyProcess<T> {
  const args = ['-c', PRELUDE, JSON.stringify(mnt), JSON.stringify(body)];
  let cmd = PYTHON;
  let argv = args;
  if (opts.uid !== undefined) {
    cmd = 'setpriv';
    argv = [`--reuid=${opts.uid}`, `--regid=${opts.gid ?? opts.uid}`, '--clear-groups', PYTHON, ...args];
  }
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const result = new Promise<T>((resolve, reject) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let parsed: { ok?: T; err?: { code?: string | null; message: string } };
      try {
        parsed = JSON.parse(stdout);
      } catch {
        reject(new Error(`python child failed (exit ${code}${signal ? `, ${signal}` : ''}): ${stderr || stdout}`));
        return;
      }
      if (parsed.err) {
        const e = new Error(parsed.err.message) as Error & { code?: string };
        if (parsed.err.code) e.code = parsed.err.code;
        reject(e);
      } else resolve(parsed.ok as T);
    });
  });
  return { pid: child.pid!, result, kill: (s = 'SIGKILL') => void child.kill(s) };
}

/** `s` without its common leading indentation (to join Python snippets written at different depths). */
export function dedent(s: string): string {
  const lines = s.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n');
  const ind = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(ind)).join('\n');
}

/** Runs the check in a fresh python3 process and returns what it returns. */
export function inPython<T = unknown>(mnt: string, body: string, opts: PyOptions = {}): Promise<T> {
  return startPython<T>(mnt, body, opts).result;
}
