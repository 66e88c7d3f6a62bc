// `tsfuse erofs mount|build|dump|info`; the mount is erofs-mount.ts.

import { parseArgs } from './args.js';
import { existingFile, fail } from './mount-command.js';
import { REMOTE_FLAGS, remoteOptionsOf } from './remote-flags.js';
import { isRemoteName } from '../remote/names.js';

export async function cmdErofs(argv: string[], background: { argv: string[]; logFile: string | undefined } | undefined): Promise<number> {
  const sub = argv[0];
  const rest = argv.slice(1);
  if (sub === 'mount') return (await import('./erofs-mount.js')).cmdErofsMount(rest, background);
  if (sub === 'build') return (await import('./erofs-build.js')).cmdErofsBuild(rest);
  if (sub === 'dump' || sub === 'info') {
    const p = parseArgs(rest, REMOTE_FLAGS, { min: 1, max: 1, names: 'IMAGE' });
    const remote = isRemoteName(p.positional[0]!) ? remoteOptionsOf(p) : undefined;
    const image = remote ? p.positional[0]! : existingFile(p.positional[0], 'image');
    const { openImage, dumpComposefs, describeImage } = await import('../erofs/index.js');
    let source: import('../erofs/bytesource.js').ByteSource | string = image;
    let untilBytes = <T>(job: () => T): Promise<T> => Promise.resolve(job());
    if (remote) {
      const r = await import('../remote/index.js');
      source = await r.openRemoteImage(image, remote);
      untilBytes = r.untilBytes;
    }
    const reader = await untilBytes(() => openImage(source));
    try {
      if (sub === 'info') process.stdout.write(await untilBytes(() => describeImage(reader)));
      else {
        const chunks: string[] = [];
        let size = 0;
        const flush = (): void => {
          if (chunks.length) process.stdout.write(chunks.join(''));
          chunks.length = 0;
          size = 0;
        };
        // A remote image may need bytes halfway: the dump then starts again, so it is printed only when complete;
        // a local one streams.
        await untilBytes(() => {
          chunks.length = 0;
          size = 0;
          dumpComposefs(reader, (s: string) => {
            chunks.push(s);
            size += s.length;
            if (!remote && size > 1 << 16) flush();
          });
        });
        flush();
      }
    } finally {
      reader.close?.();
    }
    return 0;
  }
  fail(sub === undefined ? 'missing erofs subcommand (mount, build, dump or info)' : `unknown erofs subcommand '${sub}'`);
}
