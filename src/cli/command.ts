// The tsfuse command, as main.ts runs it from dist/src (`erofs mount` runs from the bundle instead when there is
// a fresh one: src/cli/bundle/erofs-mount.ts). Thin: parses arguments and calls the library. Bad arguments: one
// line on stderr, exit 2.

import { parseArgs, splitMountOptions, UsageError } from './args.js';
import { backgroundMount, launchInBackground } from './daemon.js';
import { existingDir, fail, MOUNT_FLAGS, mountCommand, runCommand, SCRIPT, workersOf } from './mount-command.js';
import type { InitFlag } from '../protocol/abi.js';
import type { Filesystem, FilesystemModule } from '../fs/types.js';
// Everything else is imported where a command needs it: a background mount starts its server before
// loading anything more, and each command loads only its own modules.

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

/**
 * `tsfuse passthrough`'s default --spin-us (SessionOptions.spinUs): off. With 30 µs and the back-off of
 * src/server/spin-policy.ts, the bench's rename, truncate, create and mkdir got 15-50% faster, but chmod
 * 40% slower and unlink 15% (two runs of 3 rounds: a light request that could be answered on the client's
 * own CPU is then answered from the other, busy one), and the server's CPU per operation doubled
 * (bench/results/passthrough-writes.md, round 9). Not faster on every row, so it is for those who ask.
 */
const PASSTHROUGH_SPIN_US = 0;

async function cmdPassthrough(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { ...MOUNT_FLAGS, nocache: { kind: 'bool' }, nopassthrough: { kind: 'bool' }, embedded: { kind: 'bool' }, 'no-warm-up': { kind: 'bool' }, 'spin-us': { kind: 'int' } }, { min: 2, max: 2, names: 'SOURCE MOUNTPOINT' });
  const source = existingDir(p.positional[0], 'source');
  const mnt = existingDir(p.positional[1], 'mountpoint');
  if (source === mnt) fail('source and mountpoint must differ');
  const workers = workersOf(p);
  const embedded = !!p.flags.embedded;
  // The inode table lives in the thread that serves: one worker (or this thread with --embedded).
  if (!embedded && workers !== undefined && workers > 1) fail('passthrough is served by one worker (its inode table lives in one thread): --workers must be 1');
  const options = splitMountOptions(p.flags.o as string[] | undefined);
  const nocache = !!p.flags.nocache;
  const spinUs = (p.flags['spin-us'] as number | undefined) ?? PASSTHROUGH_SPIN_US;
  if (spinUs < 0 || spinUs > 10_000) fail('--spin-us must be between 0 and 10000');
  const passthrough = !p.flags.nopassthrough;
  return mountCommand(async () => {
    const { Session } = await import('../server/session.js');
    const timeout = nocache ? 0 : 86400;
    const fsOptions = { source, nocache, passthrough };
    // Worker mode by default: the worker blocks in read(2) on its own fd and answers in the same thread, where
    // embedded mode pays an epoll wait per request; the filesystem's code is then loaded in the worker only.
    const want: InitFlag[] = ['EXPORT_SUPPORT', 'HANDLE_KILLPRIV_V2'];
    let served: Filesystem | FilesystemModule;
    if (embedded) served = (await import('../fs/passthrough/index.js')).createPassthroughFs(fsOptions);
    else {
      const { passthroughModule, PASSTHROUGH_MODULE_WANT } = await import('../fs/passthrough/module.js');
      served = passthroughModule(fsOptions);
      want.push(...PASSTHROUGH_MODULE_WANT);
    }
    return Session.mount(served, {
      mountpoint: mnt, fsname: source, subtype: 'passthrough', options, workers: embedded ? workers : 1, debug: !!p.flags.debug,
      passthrough, entryTimeout: timeout, attrTimeout: timeout, want,
      // the worker's warm-up (embedded mode has none): the twin works in a scratch directory, never in SOURCE
      warmUp: !p.flags['no-warm-up'],
      // (worker mode only; embedded mode's owner thread waits on its readers, not on the fd)
      spinUs: embedded ? 0 : spinUs,
    });
  });
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

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
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
      return await (await import('./erofs.js')).cmdErofs(rest, background);
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
}

runCommand(() => main(process.argv.slice(2)));
