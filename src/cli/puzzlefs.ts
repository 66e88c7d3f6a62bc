// `tsfuse puzzlefs build|mount|dump|info`. Thin: parses arguments and calls src/puzzlefs. The mount runs
// through mountCommand (mount-command.ts: serving, readiness signalled to a waiting parent), handed in.

import { statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, splitMountOptions, UsageError, type FlagSpec, type Parsed } from './args.js';
import { isRemoteName } from '../remote/names.js';
import { REMOTE_FLAGS, remoteOptionsOf } from './remote-flags.js';

type Serve = () => Promise<{ unmount(): Promise<void>; closed: Promise<void> }>;

export interface CliMachinery {
  mountCommand(serve: Serve): Promise<number>;
  existingDir(p: string, what: string): string;
  workersOf(p: Parsed): number | undefined;
  mountFlags: Record<string, FlagSpec>;
}

/** OCI_DIR[:TAG]: an existing directory as given has no tag; otherwise the part after the last ':' is one. */
export function splitRef(ref: string, needTag: boolean): { dir: string; tag: string | undefined } {
  let isDir = false;
  try {
    isDir = statSync(ref).isDirectory();
  } catch {
    // not a directory as a whole: look for a tag
  }
  const colon = ref.lastIndexOf(':');
  if ((isDir && !needTag) || colon <= 0) {
    if (needTag) throw new UsageError(`'${ref}' needs a tag: OCI_DIR:TAG`);
    return { dir: path.resolve(ref), tag: undefined };
  }
  const tag = ref.slice(colon + 1);
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new UsageError(`'${tag}' is not a valid tag (letters, digits, '.', '_', '-'; at most 128)`);
  return { dir: path.resolve(ref.slice(0, colon)), tag };
}

/** A remote name (http(s)://, s3://, docker://) checked here, so a malformed one is a usage error (exit 2). */
async function remoteRef(spec: string): Promise<string> {
  const { parsePuzzleRemote } = await import('../remote/puzzle-store.js');
  try {
    parsePuzzleRemote(spec);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return spec;
}

function progressLine(): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 250 && done < total) return;
    last = now;
    const mib = (n: number): string => (n / 1048576).toFixed(1);
    process.stderr.write(`\rchunking ${mib(done)} / ${mib(total)} MiB${done >= total ? '\n' : ''}`);
  };
}

export async function cmdPuzzlefs(argv: string[], m: CliMachinery): Promise<number> {
  const sub = argv[0];
  const rest = argv.slice(1);
  if (sub === 'build') {
    const p = parseArgs(rest, { compression: { kind: 'string' }, base: { kind: 'string' } }, { min: 2, max: 2, names: 'SOURCE OCI_DIR:TAG' });
    const source = m.existingDir(p.positional[0]!, 'source');
    const out = splitRef(p.positional[1]!, true);
    const compression = (p.flags.compression as string | undefined) ?? 'zstd';
    if (compression !== 'zstd' && compression !== 'none') throw new UsageError(`--compression must be zstd or none, got '${compression}'`);
    const base = p.flags.base !== undefined ? splitRef(p.flags.base as string, false) : undefined;
    if (base) m.existingDir(base.dir, '--base layout');
    const { buildImage } = await import('../puzzlefs/builder.js');
    const r = await buildImage({ source, dir: out.dir, tag: out.tag!, compression, base, progress: progressLine() });
    const s = r.chunkStats;
    process.stdout.write(
      `manifest ${r.manifest.digest}\nverity   ${r.manifestVerity}\nrootfs   ${r.rootfs.digest} (${r.rootfs.size} bytes, ${r.inodes} inodes, ` +
        `${r.layerInodes} in the new layer, ${r.whiteouts} whiteouts)\nchunks   ${s.chunks} cut, ${s.reused} reused, ${r.blobs} blobs referenced, ` +
        `${s.bytesIn} bytes in, ${s.bytesStored} bytes stored\n`,
    );
    return 0;
  }
  if (sub === 'mount') {
    const p = parseArgs(rest, { ...m.mountFlags, digest: { kind: 'string' }, verity: { kind: 'bool' }, ...REMOTE_FLAGS }, { min: 2, max: 2, names: 'OCI_DIR[:TAG] MOUNTPOINT' });
    const digest = p.flags.digest as string | undefined;
    if (digest !== undefined && !/^[0-9a-fA-F]{64}$/.test(digest)) throw new UsageError('--digest needs the manifest fs-verity digest as 64 hex digits');
    const workers = m.workersOf(p);
    const remote = isRemoteName(p.positional[0]!) ? remoteOptionsOf(p) : undefined;
    const ref = remote ? { dir: await remoteRef(p.positional[0]!), tag: undefined } : splitRef(p.positional[0]!, false);
    if (!remote) m.existingDir(ref.dir, 'OCI layout');
    const mnt = m.existingDir(p.positional[1]!, 'mountpoint');
    const options = splitMountOptions(p.flags.o as string[] | undefined);
    return m.mountCommand(async () => {
      const { mountPuzzlefs } = await import('../puzzlefs/mount.js');
      const mounted = await mountPuzzlefs({
        dir: ref.dir, tag: ref.tag, mountpoint: mnt, verity: !!p.flags.verity, manifestDigest: digest, workers, options, debug: !!p.flags.debug, remote,
      });
      const stats = mounted.remoteStats;
      if (stats) process.on('SIGUSR1', () => process.stderr.write(`tsfuse remote: ${ref.dir}: ${stats()}\n`));
      return mounted;
    });
  }
  if (sub === 'dump' || sub === 'info') {
    const p = parseArgs(rest, { verity: { kind: 'bool' }, ...REMOTE_FLAGS }, { min: 1, max: 1, names: 'OCI_DIR[:TAG]' });
    const remote = isRemoteName(p.positional[0]!) ? remoteOptionsOf(p) : undefined;
    const { zstdReady } = await import('../compress/zstd.js');
    await zstdReady;
    let img: import('../puzzlefs/image.js').PuzzleImage;
    let until: import('../puzzlefs/dump.js').Until = (job) => job();
    if (remote) {
      const spec = await remoteRef(p.positional[0]!);
      const r = await import('../remote/puzzlefs-remote.js');
      // A fetch that fails ends the command with its reason as the one error line: no log line besides.
      img = await r.openRemotePuzzleImage(spec, { verity: !!p.flags.verity }, { ...remote, log: () => {} });
      until = (await import('../remote/await-bytes.js')).untilBytes;
    } else {
      const ref = splitRef(p.positional[0]!, false);
      m.existingDir(ref.dir, 'OCI layout');
      const { PuzzleImage } = await import('../puzzlefs/image.js');
      img = PuzzleImage.open(ref.dir, { tag: ref.tag, verity: !!p.flags.verity });
    }
    if (sub === 'dump') {
      const { dumpImage } = await import('../puzzlefs/dump.js');
      await dumpImage(img, (s) => process.stdout.write(s), until);
    } else {
      const { describeImage } = await import('../puzzlefs/describe.js');
      process.stdout.write(describeImage(img));
    }
    return 0;
  }
  throw new UsageError(sub === undefined ? 'missing puzzlefs subcommand (build, mount, dump or info)' : `unknown puzzlefs subcommand '${sub}'`);
}
