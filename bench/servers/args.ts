// Tiny --key value / --flag parser for the bench server scripts.
export function parseFlags(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[a.slice(2)] = argv[++i];
    else out[a.slice(2)] = true;
  }
  return out;
}

export function need(f: Record<string, string | true>, k: string): string {
  const v = f[k];
  if (typeof v !== 'string') throw new Error(`--${k} is required`);
  return v;
}

/** Unmount on SIGINT/SIGTERM, exit when the session has ended. */
export function serveUntilSignal(s: { unmount(): Promise<void>; closed: Promise<void> }): void {
  const stop = (): void => {
    void s.unmount();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  void s.closed.then(() => process.exit(0));
}
