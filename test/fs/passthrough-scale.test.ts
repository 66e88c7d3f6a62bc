// The passthrough filesystem under a tree of 100k files, mounted with --nocache: a client lists and lstats all
// of it. RLIMIT_NOFILE is capped at 20000 here, and the kernel ends up holding every one of those inodes, so a
// design with an fd per inode (libfuse's passthrough_hp) would run out of fds (EMFILE); this one keeps fds only
// for a bounded cache of directories. The server must stay healthy afterwards.
//
// Where the tree lives: on this machine's ext4 root disk, creating a file costs 0.2-0.7 ms of kernel time, so
// 100k files take 40-75 s just to make. The tree therefore goes to /dev/shm (tmpfs, ~4 s). That is fine here:
// the walk only stats, so no backing file is ever opened (kernel passthrough, which needs a non-tmpfs backing
// file, is turned off; the reads after the walk are served by tsfuse). Without /dev/shm, /var/tmp with 50k.
// TSFUSE_PT_SCALE_FILES sets the number of files (in 20 directories).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { sh } from '../helpers/client.js';
import { inPython, PYTHON } from '../helpers/python.js';
import { makeSource, removeSource, withPassthrough } from '../helpers/passthrough.js';

const SHM = '/dev/shm';
const onShm = (() => {
  try {
    fs.accessSync(SHM, fs.constants.W_OK);
    return fs.statfsSync(SHM).type === 0x01021994; // TMPFS_MAGIC
  } catch {
    return false;
  }
})();
const FILES = Number(process.env.TSFUSE_PT_SCALE_FILES ?? (onShm ? 100_000 : 50_000));
const DIRS = 20;
const PER_DIR = Math.ceil(FILES / DIRS);

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

function nofileLimit(): string {
  return /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.slice(1, 3).join('/') ?? '?';
}

{
  const passthrough = false;
  test(`${DIRS * PER_DIR} files, --nocache: find and a full lstat walk, no EMFILE, healthy after`, async () => {
    const src = makeSource('tsfuse-pt100k-', onShm ? SHM : undefined);
    const t0 = Date.now();
    let peak = 0;
    let sampler: NodeJS.Timeout | undefined;
    try {
      // the tree, made directly in SOURCE by one python process (empty files, a few bytes in some)
      await sh(PYTHON, ['-c', `
import os, sys
src, dirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(dirs):
    dp = os.path.join(src, 'd%02d' % d)
    os.mkdir(dp)
    for i in range(per):
        fd = os.open(os.path.join(dp, 'file-%05d' % i), os.O_CREAT | os.O_WRONLY, 0o644)
        if i % 1000 == 0:
            os.write(fd, b'%d/%d' % (d, i))
        os.close(fd)
`, src, String(DIRS), String(PER_DIR)], { timeoutMs: 120_000 });
      const made = Date.now();
      const fdsBefore = openFds();
      await withPassthrough(
        { nocache: true, passthrough },
        async (m) => {
          const mounted = Date.now();
          // how many inodes the server knows at once (the kernel gives some back with FORGET as it goes)
          sampler = setInterval(() => (peak = Math.max(peak, m.pt.stats().inodes)), 100);
          const count = await sh('sh', ['-c', `find '${m.mnt}' -type f | wc -l`], { timeoutMs: 120_000 });
          assert.is(Number(count.trim()), DIRS * PER_DIR);
          const found = Date.now();
          const walk = await inPython<{ files: number; dirs: number; bytes: number; ino: number[] }>(m.mnt, `
            # fstatat relative to each directory's fd, as find, ls -l, du and tar do: with --nocache a full path
            # would revalidate every component again (five requests per lstat instead of two)
            files = dirs = size = 0
            for root, ds, fs_, dfd in os.fwalk(mnt):
                dirs += len(ds)
                for n in fs_:
                    st = os.lstat(n, dir_fd=dfd)
                    if not stat.S_ISREG(st.st_mode): raise Exception('not a file: ' + n)
                    files += 1
                    size += st.st_size
            return {'files': files, 'dirs': dirs, 'bytes': size, 'ino': [os.lstat(P('d07', 'file-01000')).st_ino]}
          `, { timeoutMs: 300_000 });
          const walked = Date.now();
          clearInterval(sampler);
          peak = Math.max(peak, m.pt.stats().inodes);
          assert.is(walk.files, DIRS * PER_DIR);
          assert.is(walk.dirs, DIRS);
          assert.ok(walk.bytes > 0);
          assert.equal(walk.ino, [fs.lstatSync(path.join(src, 'd07', 'file-01000')).ino]);
          // no fd ran out: nothing logged, the server's own fd use stays bounded
          assert.not.ok(m.logs.some((l) => /EMFILE|ENFILE/.test(l)), m.logs.join('\n'));
          const st = m.pt.stats();
          // meaningful only if the server knew more inodes at once than it may have fds
          if (DIRS * PER_DIR > 40_000) assert.ok(peak > 20_000, `the server knew at most ${peak} inodes at once`);
          assert.ok(st.dirFds <= 1024, `${st.dirFds} cached dir fds`);
          const fdsDuring = openFds();
          assert.ok(fdsDuring - fdsBefore < 1200, `the server holds ${fdsDuring - fdsBefore} more fds than before mounting`);
          // healthy after: new files, reads, writes, a listing
          const after = await inPython<unknown[]>(m.mnt, `
            with open(P('d00', 'new'), 'w') as f: f.write('still fine')
            return [open(P('d00', 'new')).read(), open(P('d03', 'file-02000')).read(), len(os.listdir(P('d19'))),
                    os.statvfs(mnt).f_files > 0]
          `);
          assert.equal(after, ['still fine', '3/2000', PER_DIR, true]);
          assert.is(fs.readFileSync(path.join(src, 'd00', 'new'), 'utf8'), 'still fine');
          const ms = (a: number, b: number) => `${((b - a) / 1000).toFixed(1)} s`;
          console.log(
            `  ${passthrough ? 'pt' : 'nopt'}: tree ${ms(t0, made)}, mount ${ms(made, mounted)}, find ${ms(mounted, found)}, ` +
              `lstat walk ${ms(found, walked)}; inodes at most ${peak} (${st.inodes} at the end), dir fds ${st.dirFds}, ` +
              `RLIMIT_NOFILE ${nofileLimit()}, source on ${onShm ? 'tmpfs' : 'ext4'}`,
          );
        },
        { source: src, timeoutMs: 480_000 },
      );
    } finally {
      if (sampler) clearInterval(sampler);
      removeSource(src);
    }
  });
}

test.run();
