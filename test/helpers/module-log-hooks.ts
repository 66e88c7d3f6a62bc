// Module loader hooks (registered by module-log.ts) for tests that check which files a process runs: every
// file:// URL a process or any of its threads loads is appended, one a line, to the file TSFUSE_TEST_MODULE_LOG
// names.

import { appendFileSync } from 'node:fs';

type Next = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  const log = process.env.TSFUSE_TEST_MODULE_LOG;
  if (log && url.startsWith('file:')) appendFileSync(log, url + '\n');
  return next(url, context);
}
