// `tsfuse erofs build SOURCE IMAGE [...]`: arguments checked here (usage errors exit 2), the image written by
// src/erofs/writer/build.ts.

import { parseArgs, UsageError } from './args.js';

export async function cmdErofsBuild(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    {
      compress: { kind: 'string' },
      chunksize: { kind: 'int' },
      b: { kind: 'int', short: 'b' },
      'all-root': { kind: 'bool' },
      'uid-offset': { kind: 'int' },
      'ignore-mtime': { kind: 'bool' },
    },
    { min: 2, max: 2, names: 'SOURCE IMAGE' },
  );
  const f = p.flags;
  const { CompressSpecError, parseCompressSpec } = await import('../erofs/writer/pcluster-codecs.js');
  let compress;
  try {
    compress = parseCompressSpec((f.compress as string | undefined) ?? 'none');
  } catch (e) {
    if (e instanceof CompressSpecError) throw new UsageError(e.message);
    throw e;
  }
  const blockSize = (f.b as number | undefined) ?? 4096;
  if (![512, 1024, 2048, 4096].includes(blockSize)) throw new UsageError(`-b ${blockSize}: block size must be 512, 1024, 2048 or 4096`);
  const chunkSize = f.chunksize as number | undefined;
  if (chunkSize !== undefined && (chunkSize < blockSize || (chunkSize & (chunkSize - 1)) !== 0 || chunkSize > blockSize * 2 ** 31)) {
    throw new UsageError(`--chunksize ${chunkSize} must be a power of two, at least the block size`);
  }
  if (compress && chunkSize !== undefined) throw new UsageError('--compress and --chunksize exclude each other');
  if (f['all-root'] && f['uid-offset'] !== undefined) throw new UsageError('--all-root and --uid-offset exclude each other');
  const [source, image] = p.positional as [string, string];
  const { buildErofs } = await import('../erofs/writer/build.js');
  // the zstd encoder is WebAssembly: instantiated once, before the (synchronous) build
  if (compress?.algorithm === 'zstd') await (await import('../compress/zstd.js')).zstdReady;
  buildErofs({
    source, image, blockSize, chunkSize, allRoot: !!f['all-root'], uidOffset: f['uid-offset'] as number | undefined, ignoreMtime: !!f['ignore-mtime'],
    compress,
  });
  return 0;
}
