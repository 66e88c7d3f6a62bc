// `tsfuse erofs mount`. A background mount of a local image is the command's hot path (the shell waits until
// the mount answers, bench/startup.ts): what it needs until it answers is imported statically here, and the
// bundle's entry for it (erofs-mount-entry.ts) loads it as one file; the foreground server's own modules are
// imported where it starts.

import { parseArgs, splitMountOptions, type Parsed } from './args.js';
import { launchInBackground } from './daemon.js';
import { adoptedConnection, mountThenHandOver } from './hand-over.js';
import { existingDir, existingFile, fail, MOUNT_FLAGS, mountCommand, SCRIPT, workersOf } from './mount-command.js';
import { REMOTE_FLAGS, remoteOptionsOf } from './remote-flags.js';
import { erofsMountSpec } from '../erofs/mount-spec.js';
import { VERITY_MODES, type VerityMode } from '../erofs/verity-check.js';
import { isRemoteName } from '../remote/names.js';

async function cacheSizeOf(p: Parsed): Promise<number | undefined> {
  const s = p.flags['cache-size'] as string | undefined;
  if (s === undefined) return undefined;
  const { MIN_CACHE_BYTES, parseSize } = await import('../erofs/reader/cache-budget.js');
  const n = parseSize(s);
  if (n === undefined || n < MIN_CACHE_BYTES) fail(`--cache-size needs a size of at least 1M (like 64M or 1G), got '${s}'`);
  return n;
}

/** A mount command to serve in the background (backgroundMount): the server's argv and its --log file. */
type Background = { argv: string[]; logFile: string | undefined };

/** `erofs mount IMAGE MOUNTPOINT`: `argv` is what follows the two command words. */
export async function cmdErofsMount(argv: string[], background: Background | undefined): Promise<number> {
  const p = parseArgs(argv, {
    ...MOUNT_FLAGS, basedir: { kind: 'string' }, passthrough: { kind: 'bool' }, overlay: { kind: 'string' },
    upperdir: { kind: 'string' }, workdir: { kind: 'string' }, 'cache-size': { kind: 'string' }, ...REMOTE_FLAGS,
    verity: { kind: 'string' }, 'no-warm-up': { kind: 'bool' },
  }, { min: 2, max: 2, names: 'IMAGE MOUNTPOINT' });
  const warmUp = !p.flags['no-warm-up'];
  const verity = (p.flags.verity ?? 'check') as VerityMode;
  if (!VERITY_MODES.includes(verity)) fail(`--verity takes off, check or require (not ${JSON.stringify(p.flags.verity)})`);
  const remoteBasedir = p.flags.basedir !== undefined && isRemoteName(p.flags.basedir as string);
  const remote = isRemoteName(p.positional[0]!) || remoteBasedir ? remoteOptionsOf(p) : undefined;
  const image = isRemoteName(p.positional[0]!) ? p.positional[0]! : existingFile(p.positional[0], 'image');
  const mnt = existingDir(p.positional[1], 'mountpoint');
  const basedir = remoteBasedir ? (p.flags.basedir as string) : p.flags.basedir !== undefined ? existingDir(p.flags.basedir as string, '--basedir') : undefined;
  if (remoteBasedir && (p.flags.passthrough || p.flags.overlay !== undefined)) fail('--passthrough and --overlay need a local --basedir');
  const overlay = p.flags.overlay !== undefined ? existingDir(p.flags.overlay as string, '--overlay') : undefined;
  const upperdir = p.flags.upperdir !== undefined ? existingDir(p.flags.upperdir as string, '--upperdir') : undefined;
  const workdir = p.flags.workdir !== undefined ? existingDir(p.flags.workdir as string, '--workdir') : undefined;
  if ((upperdir === undefined) !== (workdir === undefined)) fail('--upperdir and --workdir go together');
  if (upperdir && !overlay) fail('--upperdir/--workdir need --overlay');
  if (p.flags.passthrough && !basedir) fail('--passthrough needs --basedir');
  if (overlay && !basedir) fail('--overlay needs --basedir (the object store)');
  if (overlay && p.flags.passthrough) fail('--overlay and --passthrough exclude each other (overlay mode never opens content)');
  const workers = workersOf(p);
  const cacheSize = await cacheSizeOf(p);
  const options = splitMountOptions(p.flags.o as string[] | undefined);
  if (background) {
    // A local image without an overlay on top: this process mounts and serves until the server takes over
    // (hand-over.ts). Anything else starts the server and waits, as the other mount commands do.
    const handOver = !remote && !overlay && process.getuid?.() === 0 && !options.some((o) => o.startsWith('io_uring'));
    if (!handOver) return launchInBackground(SCRIPT, background.argv, background.logFile);
    const spec = erofsMountSpec({
      image, mountpoint: mnt, basedir, passthrough: !!p.flags.passthrough, workers, options, debug: !!p.flags.debug, cacheSize, verity, warmUp,
    });
    return mountThenHandOver(SCRIPT, background.argv, background.logFile, spec.module, spec.session);
  }
  const adopt = adoptedConnection();
  return mountCommand(async () => {
    const { mountErofs } = await import('../erofs/mount.js');
    // This process is the image server: its memory settings, before any worker exists (server-process.ts).
    (await import('../erofs/server-process.js')).tuneImageServerProcess();
    const m = await mountErofs({
      image, mountpoint: mnt, basedir, passthrough: !!p.flags.passthrough, overlay, upperdir, workdir,
      workers, options, debug: !!p.flags.debug, cacheSize, remote, verity, warmUp,
      // handed over by the launching process, which served first
      adopt, serveFirst: adopt ? false : undefined,
    });
    const stats = m.remoteStats;
    if (stats) process.on('SIGUSR1', () => process.stderr.write(`tsfuse remote: ${image}: ${stats()}\n`));
    return m;
  });
}
