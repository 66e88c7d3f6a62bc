// `tsfuse mkcomposefs [OPTIONS] SOURCE IMAGE`: mkcomposefs 1.0.8's options, checked here (a bad argument is
// a usage error, exit 2); the work is src/erofs/writer/mkcomposefs.ts.

import { parseArgs, UsageError } from './args.js';

export async function cmdMkcomposefs(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    {
      'digest-store': { kind: 'string' },
      'use-epoch': { kind: 'bool' },
      'skip-devices': { kind: 'bool' },
      'skip-xattrs': { kind: 'bool' },
      'user-xattrs': { kind: 'bool' },
      'print-digest': { kind: 'bool' },
      'print-digest-only': { kind: 'bool' },
      'from-file': { kind: 'bool' },
      'min-version': { kind: 'int' },
      'max-version': { kind: 'int' },
      threads: { kind: 'int' },
    },
    { min: 1, max: 2, names: 'SOURCE IMAGE' },
  );
  const f = p.flags;
  const [source, image] = p.positional as [string, string | undefined];
  if (source === '') throw new UsageError('empty source path');
  const digestOnly = !!f['print-digest-only'];
  if (digestOnly && image !== undefined) throw new UsageError('cannot specify a destination path with --print-digest-only');
  if (!digestOnly && image === undefined) throw new UsageError('no destination path specified');
  if (f.threads !== undefined && (f.threads as number) < 1) throw new UsageError(`invalid threads count ${f.threads}`);
  if (f['skip-xattrs'] && f['user-xattrs']) throw new UsageError('--skip-xattrs and --user-xattrs exclude each other');
  const versionSet = f['min-version'] !== undefined || f['max-version'] !== undefined;
  const minVersion = (f['min-version'] as number | undefined) ?? 0;
  const maxVersion = (f['max-version'] as number | undefined) ?? (versionSet ? 0 : 1);
  if (minVersion > 1 || maxVersion > 1) throw new UsageError('format versions go from 0 to 1');
  if (image === '-' && process.stdout.isTTY) throw new UsageError('stdout is a tty, refusing to write an image to it');
  const { mkcomposefs } = await import('../erofs/writer/mkcomposefs.js');
  const digest = await mkcomposefs({
    source,
    image: digestOnly ? undefined : image,
    fromFile: !!f['from-file'],
    digestStore: f['digest-store'] as string | undefined,
    useEpoch: !!f['use-epoch'],
    skipDevices: !!f['skip-devices'],
    skipXattrs: !!f['skip-xattrs'],
    userXattrs: !!f['user-xattrs'],
    minVersion,
    maxVersion,
    digest: digestOnly || !!f['print-digest'],
    threads: f.threads as number | undefined,
  });
  if (digest) process.stdout.write(`${digest}\n`);
  return 0;
}
