// What a `/proc/self/fd/N` path costs the kernel against the same call on the fd: the passthrough's chmod,
// chown, utimens, O_PATH open and mkdir, each as node:fs through the magic link (what passthrough did before)
// and as the *at call through koffi (src/fs/passthrough/sys.ts: AT_EMPTY_PATH on the O_PATH fd, or one name
// in the directory fd). mitata, on a scratch directory under /var/tmp (ext4 here).
//
//   node dist/bench/micro/proc-paths.js

import fs from 'node:fs';
import { bench, group, run, summary } from 'mitata';
import { O_NOFOLLOW, O_PATH } from '../../src/protocol/posix.js';
import * as sys from '../../src/fs/passthrough/sys.js';

const dir = fs.mkdtempSync('/var/tmp/tsfuse-procpaths-');
fs.writeFileSync(`${dir}/f`, '');
const dirfd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
const pathFd = fs.openSync(`${dir}/f`, O_PATH);
const magic = `/proc/self/fd/${pathFd}`;
const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

function ok(r: number): void {
  if (r < 0) throw new Error(`errno ${-r}`);
}

try {
  group('chmod', () => {
    summary(() => {
      bench('fs.chmodSync(/proc/self/fd/N)', () => fs.chmodSync(magic, 0o600));
      bench('fchmodat2(fd, "", AT_EMPTY_PATH)', () => ok(sys.chmodFd(pathFd, 0o600)));
    });
  });
  group('chown', () => {
    summary(() => {
      bench('fs.chownSync(/proc/self/fd/N)', () => fs.chownSync(magic, uid, gid));
      bench('fchownat(fd, "", AT_EMPTY_PATH)', () => ok(sys.chownFd(pathFd, uid, gid)));
    });
  });
  group('utimens', () => {
    summary(() => {
      bench('fs.utimesSync(/proc/self/fd/N)', () => fs.utimesSync(magic, 1000, 2000));
      bench('utimensat(fd, "", AT_EMPTY_PATH)', () => ok(sys.utimensFd(pathFd, 1000, 0, 2000, 0)));
    });
  });
  group('O_PATH open + close', () => {
    summary(() => {
      bench('fs.openSync(/proc/self/fd/D/name)', () => fs.closeSync(fs.openSync(`/proc/self/fd/${dirfd}/f`, O_PATH | O_NOFOLLOW)));
      bench('openat(D, name)', () => fs.closeSync(sys.openAt(dirfd, 'f', O_PATH | O_NOFOLLOW, 0)));
    });
  });
  group('mkdir + rmdir', () => {
    summary(() => {
      bench('fs.mkdirSync(/proc/self/fd/D/name)', () => {
        fs.mkdirSync(`/proc/self/fd/${dirfd}/d`);
        ok(sys.unlinkAt(dirfd, 'd', true));
      });
      bench('mkdirat(D, name)', () => {
        ok(sys.mkdirAt(dirfd, 'd', 0o755));
        ok(sys.unlinkAt(dirfd, 'd', true));
      });
    });
  });
  await run();
} finally {
  fs.closeSync(pathFd);
  fs.closeSync(dirfd);
  fs.rmSync(dir, { recursive: true, force: true });
}
