#!/usr/bin/env node
// The tsfuse command. Thin: parses arguments and calls the library. Bad arguments: one line on stderr, exit 2.

import { realpathSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, splitMountOptions, UsageError, type FlagSpec, type Parsed } from './args.js';
import { backgroundMount, launchInBackground, signalFailure, signalReady, signalUsageError } from './daemon.js';
import type { VerityMode } from '../erofs/verity-check.js';
// Everything else is imported where a command needs it: a background mount starts its server before
// loading anything more, and each command loads only its own modules.

const SCRIPT = fileURLToPath(import.meta.url);

const MOUNT_FLAGS: Record<string, FlagSpec> = {
  o: { kind: 'list', short: 'o' },
  workers: { kind: 'int' },
  foreground: { kind: 'bool', short: 'f' },
  debug: { kind: 'bool', short: 'd' },
  log: { kind: 'string' },
};

function fail(msg: string): never {
  throw new UsageError(msg);
}

function existingDir(p: string, what: string): string {
  let st;
  try {
    st = statSync(p);
  } catch {
    fail(`${what} '${p}' does not exist`);
  }
  if (!st.isDirectory()) fail(`${what} '${p}' is not a directory`);
  return realpathSync(p);
}

function existingFile(p: string, what: string): string {
  let st;
  try {
    st = statSync(p);
  } catch {
    fail(`${what} '${p}' does not exist`);
  }
  if (!st.isFile()) fail(`${what} '${p}' is not a regular file`);
  return realpathSync(p);
}

function workersOf(p: Parsed): number | undefined {
  const w = p.flags.workers as number | undefined;
  if (w !== undefined && (w < 1 || w > 256)) fail('--workers must be between 1 and 256');
  return w;
}

async function cacheSizeOf(p: Parsed): Promise<number | undefined> {
  const s = p.flags['cache-size'] as string | undefined;
  if (s === undefined) return undefined;
  const { MIN_CACHE_BYTES, parseSize } = await import('../erofs/reader/cache-budget.js');
  const n = parseSize(s);
  if (n === undefined || n < MIN_CACHE_BYTES) fail(`--cache-size needs a size of at least 1M (like 64M or 1G), got '${s}'`);
  return n;
}

/**
 * Runs `serve` in this process: given --foreground, or as the detached child of a background mount (main
 * started it before parsing anything), which reports readiness to its parent.
 */
async function mountCommand(serve: () => Promise<{ unmount(): Promise<void>; closed: Promise<void> }>): Promise<number> {
  // Signals may come while the mount is still starting: remember them and unmount as soon as it is up.
  let session: { unmount(): Promise<void>; closed: Promise<void> } | undefined;
  let stopRequested = false;
  const stop = (): void => {
    stopRequested = true;
    if (session) void session.unmount();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    session = await serve();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    signalFailure(msg);
    process.stderr.write(`tsfuse: ${msg}\n`);
    return 1;
  }
  signalReady();
  if (stopRequested) void session.unmount();
  await session.closed;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}

async function cmdMemfs(argv: string[]): Promise<number> {
  const p = parseArgs(argv, MOUNT_FLAGS, { min: 1, max: 1, names: 'MOUNTPOINT' });
  const mnt = existingDir(p.positional[0], 'mountpoint');
  const workers = workersOf(p);
  const options = splitMountOptions(p.flags.o as string[] | undefined);
  return mountCommand(async () => {
    const { Session } = await import('../server/session.js');
    const { createMemFs } = await import('../fs/memfs.js');
    return Session.mount(createMemFs({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }), {
      mountpoint: mnt, fsname: 'memfs', subtype: 'memfs', options, workers, debug: !!p.flags.debug,
    });
  });
}

async function cmdPassthrough(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { ...MOUNT_FLAGS, nocache: { kind: 'bool' }, nopassthrough: { kind: 'bool' } }, { min: 2, max: 2, names: 'SOURCE MOUNTPOINT' });
  const source = existingDir(p.positional[0], 'source');
  const mnt = existingDir(p.positional[1], 'mountpoint');
  if (source === mnt) fail('source and mountpoint must differ');
  const workers = workersOf(p);
  const options = splitMountOptions(p.flags.o as string[] | undefined);
  const nocache = !!p.flags.nocache;
  const passthrough = !p.flags.nopassthrough;
  return mountCommand(async () => {
    const { Session } = await import('../server/session.js');
    const { createPassthroughFs } = await import('../fs/passthrough/index.js');
    const timeout = nocache ? 0 : 86400;
    return Session.mount(createPassthroughFs({ source, nocache, passthrough }), {
      mountpoint: mnt, fsname: source, subtype: 'passthrough', options, workers, debug: !!p.flags.debug,
      passthrough, entryTimeout: timeout, attrTimeout: timeout, want: ['EXPORT_SUPPORT', 'HANDLE_KILLPRIV_V2'],
    });
  });
}

/** A mount command to serve in the background (backgroundMount): the server's argv and its --log file. */
type Background = { argv: string[]; logFile: string | undefined };

async function cmdErofs(argv: string[], background: Background | undefined): Promise<number> {
  const sub = argv[0];
  const rest = argv.slice(1);
  const { isRemoteName } = await import('../remote/names.js');
  const { REMOTE_FLAGS, remoteOptionsOf } = await import('./remote-flags.js');
  if (sub === 'mount') {
    const p = parseArgs(rest, {
      ...MOUNT_FLAGS, basedir: { kind: 'string' }, passthrough: { kind: 'bool' }, overlay: { kind: 'string' },
      upperdir: { kind: 'string' }, workdir: { kind: 'string' }, 'cache-size': { kind: 'string' }, ...REMOTE_FLAGS,
      verity: { kind: 'string' },
    }, { min: 2, max: 2, names: 'IMAGE MOUNTPOINT' });
    const { VERITY_MODES } = await import('../erofs/verity-check.js');
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
      const { erofsMountSpec } = await import('../erofs/mount-spec.js');
      const spec = erofsMountSpec({
        image, mountpoint: mnt, basedir, passthrough: !!p.flags.passthrough, workers, options, debug: !!p.flags.debug, cacheSize, verity,
      });
      return (await import('./hand-over.js')).mountThenHandOver(SCRIPT, background.argv, background.logFile, spec.module, spec.session);
    }
    const adopt = (await import('./hand-over.js')).adoptedConnection();
    return mountCommand(async () => {
      const { mountErofs } = await import('../erofs/mount.js');
      // This process is the image server: its memory settings, before any worker exists (server-process.ts).
      (await import('../erofs/server-process.js')).tuneImageServerProcess();
      const m = await mountErofs({
        image, mountpoint: mnt, basedir, passthrough: !!p.flags.passthrough, overlay, upperdir, workdir,
        workers, options, debug: !!p.flags.debug, cacheSize, remote, verity,
        // handed over by the launching process, which served first
        adopt, serveFirst: adopt ? false : undefined,
      });
      const stats = m.remoteStats;
      if (stats) process.on('SIGUSR1', () => process.stderr.write(`tsfuse remote: ${image}: ${stats()}\n`));
      return m;
    });
  }
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

async function cmdUmount(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { lazy: { kind: 'bool', short: 'z' } }, { min: 1, max: 1, names: 'MOUNTPOINT' });
  const { unmountFuse } = await import('../kernel/mount.js');
  const { findMount, readMountInfo, isFuseType } = await import('../kernel/mountinfo.js');
  const { umount2, MNT } = await import('../kernel/vfs.js');
  const { openLibc } = await import('../kernel/libc.js');
  openLibc();
  const mnt = p.positional[0];
  const mounts = readMountInfo();
  const m = findMount(mnt, undefined, mounts);
  if (!m || m.mountPoint !== findMount(mnt, undefined, mounts)?.mountPoint) fail(`'${mnt}' is not a mount point`);
  // `erofs mount --overlay DIR` stacks overlayfs on the FUSE mount: the overlay keeps the FUSE connection busy,
  // so it goes first, whichever of the two mountpoints was named.
  const firstLower = (o: { superOptions: string }): string | undefined =>
    /(?:^|,)lowerdir=([^,]*)/.exec(o.superOptions)?.[1].split(/(?<!\\):/)[0].replace(/\\(.)/g, '$1');
  if (m.fstype === 'overlay') {
    const lower = firstLower(m);
    umount2(m.mountPoint, MNT.DETACH);
    const fuse = lower ? findMount(lower, isFuseType, mounts) : undefined;
    if (fuse && fuse.mountPoint === lower && fuse.fstype === 'fuse.erofs') unmountFuse(fuse.mountPoint, { lazy: true });
    return 0;
  }
  for (const o of mounts) {
    if (o.fstype === 'overlay' && firstLower(o) === m.mountPoint) umount2(o.mountPoint, MNT.DETACH);
  }
  unmountFuse(m.mountPoint, { lazy: true });
  return 0;
}

async function cmdSample(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { keep: { kind: 'bool' }, workers: { kind: 'int' }, entries: { kind: 'int' } }, { min: 0, max: 1, names: '[DIR]' });
  const { runSample } = await import('./sample.js');
  return runSample({ dir: p.positional[0], keep: !!p.flags.keep, workers: workersOf(p), entries: p.flags.entries as number | undefined });
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    const background = backgroundMount(argv);
    // erofs mount decides once its arguments are parsed (a local image is mounted here first: cmdErofs)
    if (background && !(cmd === 'erofs' && rest[0] === 'mount')) return await launchInBackground(SCRIPT, background.argv, background.logFile);
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write((await import('./help.js')).HELP);
        return cmd === undefined ? 2 : 0;
      case '-V':
      case '--version':
        process.stdout.write(`tsfuse ${(await import('./help.js')).VERSION}\n`);
        return 0;
      case 'memfs':
        return await cmdMemfs(rest);
      case 'passthrough':
        return await cmdPassthrough(rest);
      case 'erofs':
        return await cmdErofs(rest, background);
      case 'puzzlefs':
        return await (await import('./puzzlefs.js')).cmdPuzzlefs(rest, { mountCommand, existingDir, workersOf, mountFlags: MOUNT_FLAGS });
      case 'umount':
      case 'unmount':
        return await cmdUmount(rest);
      case 'sample':
        return await cmdSample(rest);
      case 'mkcomposefs':
        return await (await import('./mkcomposefs.js')).cmdMkcomposefs(rest);
      default:
        throw new UsageError(`unknown command '${cmd}' (try tsfuse --help)`);
    }
  } catch (err) {
    // As a background mount's child, the waiting parent prints the message.
    if (err instanceof UsageError) {
      signalUsageError(err.message);
      process.stderr.write(`tsfuse: ${err.message}\n`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    signalFailure(msg);
    process.stderr.write(`tsfuse: ${msg}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`tsfuse: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
