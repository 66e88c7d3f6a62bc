// The flags every command that can read a remote image takes (http(s)://, s3://, docker:// names).

import type { FlagSpec, Parsed } from './args.js';
import { UsageError } from './args.js';
import type { RemoteOptions } from '../remote/open.js';

export const REMOTE_FLAGS: Record<string, FlagSpec> = {
  cache: { kind: 'string' },
  'no-cache': { kind: 'bool' },
  'cache-limit': { kind: 'string' },
  's3-endpoint': { kind: 'string' },
  'remote-timeout': { kind: 'int' },
};

/** "512M", "2G", "1048576" -> bytes. */
export function parseByteSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${flag} needs a size such as 512M or 2G, got '${text}'`);
  const mult = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30, T: 2 ** 40 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.floor(Number(m[1]) * mult);
}

export function remoteOptionsOf(p: Parsed): Omit<RemoteOptions, 'log'> {
  if (p.flags['no-cache'] && p.flags.cache !== undefined) throw new UsageError('--cache and --no-cache exclude each other');
  const o: Omit<RemoteOptions, 'log'> = {};
  if (p.flags['no-cache']) o.cacheDir = null;
  else if (p.flags.cache !== undefined) o.cacheDir = p.flags.cache as string;
  if (p.flags['cache-limit'] !== undefined) o.cacheSize = parseByteSize(p.flags['cache-limit'] as string, '--cache-limit');
  if (p.flags['s3-endpoint'] !== undefined) {
    const e = p.flags['s3-endpoint'] as string;
    if (!/^https?:\/\/[^/]/.test(e)) throw new UsageError(`--s3-endpoint needs an http:// or https:// URL, got '${e}'`);
    o.s3Endpoint = e;
  }
  if (p.flags['remote-timeout'] !== undefined) o.timeoutMs = (p.flags['remote-timeout'] as number) * 1000;
  return o;
}
