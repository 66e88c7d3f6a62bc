// memfs with uncached names but cached attributes (entryTimeout 0, attrTimeout > 0), mounted for real with
// default_permissions: every change memfs makes to an inode's attributes must reach what the kernel shows.
// memfs changes only through the mount, so the kernel's attribute cache stays right only if the kernel
// invalidates or refreshes it after each mutating request (fs/fuse/dir.c, file.c, xattr.c); these checks hold
// it to that, operation by operation.
//
// The probe: a path lookup always refreshes attributes (entry timeout 0 means a LOOKUP per component, and its
// reply carries them), so a stale cache shows only where no lookup happens: fstat of an open fd, and the root.
// The checks hold O_PATH fds on every inode involved and compare fstat (the kernel's cached view) with
// statx(AT_STATX_FORCE_SYNC) (a GETATTR: memfs's own answer) after every operation. The attribute timeout is 60 s,
// far longer than a run, so a missed invalidation shows instead of expiring.
// Every check runs in a separate process (python3): the test's own thread serves the mount.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount, type MountedTest } from '../helpers/mount.js';
import { dedent, inPython } from '../helpers/python.js';
import { rootCtx, wrapFs } from '../helpers/fs-wrappers.js';
import { createMemFs, type MemFs } from '../../src/fs/memfs.js';

const ATTR_TIMEOUT = 60;
const NOBODY = 65534;

const t = suite('memfs: names uncached, attributes cached');

const mounted = <T>(fn: (m: MountedTest & { memfs: MemFs }) => Promise<T>, memfs = createMemFs({ entryTimeout: 0, attrTimeout: ATTR_TIMEOUT })): Promise<T> =>
  // allow_other: the permission checks below run as another user
  withMount(memfs, { workers: 1, fsname: 'memfs', subtype: 'memfs', options: ['allow_other'], timeoutMs: 60_000 }, (m) => fn({ ...m, memfs }));

/**
 * Python helpers: fresh(fd) is statx(fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC), cached(fd) is fstat(fd), both
 * as {ino, mode, nlink, uid, gid, size, blocks, atime, mtime, ctime} (times in ns); hold(name, path) keeps an
 * O_PATH fd; check(op) compares cached and fresh on every held fd and records each difference in bad.
 */
const PROBE = String.raw`
AT_EMPTY_PATH = 0x1000
AT_STATX_FORCE_SYNC = 0x2000
STATX_BASIC_STATS = 0x7ff
_sx = ctypes.create_string_buffer(256)
def fresh(fd):
    if _libc.statx(fd, b'', AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, _sx) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    b = _sx.raw
    u16 = lambda o: int.from_bytes(b[o:o + 2], 'little')
    u32 = lambda o: int.from_bytes(b[o:o + 4], 'little')
    u64 = lambda o: int.from_bytes(b[o:o + 8], 'little')
    ts = lambda o: int.from_bytes(b[o:o + 8], 'little', signed=True) * 1000000000 + u32(o + 8)
    return {'ino': u64(32), 'mode': u16(28), 'nlink': u32(16), 'uid': u32(20), 'gid': u32(24), 'size': u64(40),
            'blocks': u64(48), 'atime': ts(64), 'ctime': ts(96), 'mtime': ts(112)}
def cached(fd):
    s = os.fstat(fd)
    return {'ino': s.st_ino, 'mode': s.st_mode, 'nlink': s.st_nlink, 'uid': s.st_uid, 'gid': s.st_gid, 'size': s.st_size,
            'blocks': s.st_blocks, 'atime': s.st_atime_ns, 'ctime': s.st_ctime_ns, 'mtime': s.st_mtime_ns}
held = {}
bad = []
seen = {}
def hold(name, path):
    held[name] = os.open(path, os.O_PATH | os.O_NOFOLLOW)
def check(op):
    for name, fd in held.items():
        c = cached(fd)
        f = fresh(fd)
        for k in c:
            if c[k] != f[k]:
                bad.append([op, name, k, c[k], f[k]])
        seen.setdefault(op, {})[name] = f
    # every check ends with a fresh cache (fresh() refreshed it), so each op is judged on its own
`;

/** A check with the PROBE helpers in scope. */
const probed = (body: string): string => PROBE + '\n' + dedent(body);

t('stat stays right across every mutating operation (fstat of held fds vs a forced GETATTR)', async () => {
  await mounted(async ({ mnt }) => {
    const r = await inPython<{ bad: unknown[][]; ops: string[]; seen: Record<string, Record<string, Record<string, number>>> }>(mnt, probed(String.raw`
os.mkdir(P('d1'))
os.mkdir(P('d2'))
with open(P('d1', 'f'), 'wb') as fh:
    fh.write(b'hello')
hold('root', mnt)
hold('d1', P('d1'))
hold('d2', P('d2'))
hold('f', P('d1', 'f'))
check('setup')
ops = []
def op(name, fn):
    try:
        fn()
    except OSError as e:
        raise OSError(e.errno, '%s: %s' % (name, e.strerror))
    ops.append(name)
    check(name)

def create():
    os.close(os.open(P('d1', 'new'), os.O_CREAT | os.O_WRONLY, 0o644))
    hold('new', P('d1', 'new'))
op('create', create)
def write():
    fd = os.open(P('d1', 'f'), os.O_WRONLY)
    os.pwrite(fd, b'x' * 10000, 3)
    os.close(fd)
op('write', write)
def read():
    fd = os.open(P('d1', 'f'), os.O_RDONLY)
    os.read(fd, 100)
    os.close(fd)
op('read', read)
def append():
    with open(P('d1', 'f'), 'ab') as fh:
        fh.write(b'tail')
op('append', append)
def ftruncate():
    fd = os.open(P('d1', 'f'), os.O_WRONLY)
    os.ftruncate(fd, 200000)
    os.close(fd)
op('ftruncate', ftruncate)
op('truncate', lambda: os.truncate(P('d1', 'f'), 7000))
op('open O_TRUNC', lambda: os.close(os.open(P('d1', 'f'), os.O_WRONLY | os.O_TRUNC)))
def write_again():
    with open(P('d1', 'f'), 'r+b') as fh:
        fh.write(b'y' * 5000)
op('write again', write_again)
def mmap_write():
    import mmap
    fd = os.open(P('d1', 'f'), os.O_RDWR)
    m = mmap.mmap(fd, 4096)
    m[0:4] = b'mmap'
    m.flush()
    m.close()
    os.close(fd)
op('mmap write + msync', mmap_write)
def fallocate():
    fd = os.open(P('d1', 'f'), os.O_WRONLY)
    os.posix_fallocate(fd, 0, 300000)
    os.close(fd)
op('fallocate', fallocate)
def punch():
    fd = os.open(P('d1', 'f'), os.O_WRONLY)
    # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    if _libc.fallocate(fd, 3, ctypes.c_long(0), ctypes.c_long(4096)) != 0:
        raise OSError(ctypes.get_errno(), 'fallocate punch')
    os.close(fd)
op('punch hole', punch)
def copy_range():
    src = os.open(P('d1', 'f'), os.O_RDONLY)
    dst = os.open(P('d1', 'new'), os.O_WRONLY)
    os.copy_file_range(src, dst, 5000, 0, 100)
    os.close(src)
    os.close(dst)
op('copy_file_range', copy_range)
op('chmod', lambda: os.chmod(P('d1', 'f'), 0o640))
op('chown', lambda: os.chown(P('d1', 'f'), 65534, 65534))
op('utimens set', lambda: os.utime(P('d1', 'f'), ns=(1000000000123, 2000000000456)))
op('utimens now', lambda: os.utime(P('d1', 'f')))
op('setxattr', lambda: os.setxattr(P('d1', 'f'), 'user.k', b'v'))
op('removexattr', lambda: os.removexattr(P('d1', 'f'), 'user.k'))
op('link', lambda: os.link(P('d1', 'f'), P('d2', 'f2')))
op('unlink other name', lambda: os.unlink(P('d2', 'f2')))
op('rename across dirs', lambda: os.rename(P('d1', 'f'), P('d2', 'g')))
def rename_over():
    with open(P('d2', 'victim'), 'wb') as fh:
        fh.write(b'v')
    hold('victim', P('d2', 'victim'))
    check('victim made')
    os.rename(P('d2', 'g'), P('d2', 'victim'))
op('rename over a file', rename_over)
op('rename in place', lambda: os.rename(P('d2', 'victim'), P('d2', 'f')))
def mkdir():
    os.mkdir(P('d1', 'sub'))
    hold('sub', P('d1', 'sub'))
op('mkdir', mkdir)
op('rename dir across', lambda: os.rename(P('d1', 'sub'), P('d2', 'sub')))
def exchange():
    os.mkdir(P('d1', 'x'))
    hold('x', P('d1', 'x'))
    check('x made')
    renameat2(P('d1', 'x'), P('d2', 'f'), RENAME_EXCHANGE)
op('rename exchange (dir and file)', exchange)
op('rename noreplace', lambda: renameat2(P('d1', 'x'), P('d1', 'f3'), RENAME_NOREPLACE))
op('rmdir', lambda: os.rmdir(P('d2', 'sub')))
def symlink():
    os.symlink('f3', P('d1', 'l'))
    hold('l', P('d1', 'l'))
op('symlink', symlink)
op('readlink', lambda: os.readlink(P('d1', 'l')))
op('readdir', lambda: os.listdir(P('d1')))
op('mknod fifo', lambda: os.mkfifo(P('d1', 'p'), 0o600))
op('chmod dir', lambda: os.chmod(P('d2'), 0o711))
op('utimens dir', lambda: os.utime(P('d2'), ns=(3000000000000, 4000000000000)))
op('mkdir in root', lambda: os.mkdir(P('top')))
op('chmod root', lambda: os.chmod(mnt, 0o775))
op('rmdir in root', lambda: os.rmdir(P('top')))
def tmpfile_link():
    fd = os.open(P('d1'), os.O_TMPFILE | os.O_WRONLY, 0o600)
    os.write(fd, b'anon')
    # linkat(AT_SYMLINK_FOLLOW) of the /proc fd link (os.link would call link(), which does not follow it)
    if _libc.linkat(AT_FDCWD, b'/proc/self/fd/%d' % fd, AT_FDCWD, os.fsencode(P('d1', 'named')), 0x400) != 0:
        raise OSError(ctypes.get_errno(), 'linkat')
    os.close(fd)
    hold('named', P('d1', 'named'))
op('O_TMPFILE + link', tmpfile_link)
op('unlink while held', lambda: os.unlink(P('d1', 'named')))
op('unlink last name of f', lambda: os.unlink(P('d1', 'f3')))
return {'bad': bad, 'ops': ops, 'seen': seen}
`));
    assert.equal(r.bad, [], `cached attributes differ from memfs's: ${JSON.stringify(r.bad.slice(0, 8))}`);
    assert.is(r.ops.length, 40);
    // the operations did what they say (so a clean comparison means something)
    const s = r.seen;
    assert.is(s['write']!['f']!['size'], 10003);
    assert.is(s['link']!['f']!['nlink'], 2);
    assert.is(s['unlink other name']!['f']!['nlink'], 1);
    assert.is(s['rename over a file']!['victim']!['nlink'], 0);
    assert.is(s['mkdir']!['d1']!['nlink'], 3);
    assert.is(s['rename dir across']!['d1']!['nlink'], 2);
    assert.is(s['rename dir across']!['d2']!['nlink'], 3);
    assert.is(s['rmdir']!['sub']!['nlink'], 0);
    assert.is(s['chmod root']!['root']!['mode'] & 0o7777, 0o775);
    assert.is(s['unlink while held']!['named']!['nlink'], 0);
    assert.ok(s['read']!['f']!['atime']! > s['write']!['f']!['atime']!, 'read moved atime (relatime)');
    assert.ok(s['create']!['d1']!['mtime']! > s['setup']!['d1']!['mtime']!, 'create moved the parent mtime');
    assert.ok(s['mmap write + msync']!['f']!['mtime']! > s['write again']!['f']!['mtime']!, 'the mmap write reached memfs');
  });
});

t('the cache is real: a change behind the kernel shows in fstat only after the forced GETATTR', async () => {
  // the negative control for the check above: without attribute caching it would pass trivially
  await mounted(async ({ mnt, memfs }) => {
    const before = await inPython<number>(mnt, `return os.stat(mnt).st_mode & 0o7777`);
    // memfs changed directly (not through the mount): the kernel cannot know
    memfs.setattr(rootCtx(), 1, { mode: 0o700 });
    const r = await inPython<[number, number, number]>(mnt, probed(`
      hold('root', mnt)
      c = cached(held['root'])['mode'] & 0o7777
      f = fresh(held['root'])['mode'] & 0o7777
      return [c, f, os.stat(mnt).st_mode & 0o7777]
    `));
    assert.is(before, 0o755);
    assert.equal(r, [0o755, 0o700, 0o700]);
  });
});

t('an lstat loop LOOKUPs every component and needs no GETATTR', async () => {
  const { fs, calls } = wrapFs(createMemFs({ entryTimeout: 0, attrTimeout: ATTR_TIMEOUT }));
  await withMount(fs, { workers: 1, timeoutMs: 60_000 }, async ({ mnt }) => {
    await inPython(mnt, `
      os.makedirs(P('a', 'b', 'c'))
      open(P('a', 'b', 'c', 'f'), 'w').close()
      os.stat(mnt)
    `);
    const lookups0 = calls.lookup ?? 0;
    const getattrs0 = calls.getattr ?? 0;
    await inPython(mnt, `
      for i in range(50):
          os.lstat(P('a', 'b', 'c', 'f'))
    `);
    // 4 components per lstat, each looked up again (names stay uncached)
    assert.is((calls.lookup ?? 0) - lookups0, 200);
    // the attributes each LOOKUP returned serve the permission checks and the stat itself
    assert.is((calls.getattr ?? 0) - getattrs0, 0);
  });
});

t('permission changes apply at once to other users (default_permissions on cached attributes)', async () => {
  await mounted(async ({ mnt }) => {
    await inPython(mnt, `
      os.mkdir(P('d'), 0o755)
      with open(P('d', 'f'), 'wb') as fh:
          fh.write(b'secret')
      os.chmod(P('d', 'f'), 0o600)
    `);
    const asNobody = (): Promise<[string, string]> =>
      inPython<[string, string]>(mnt, `return [errname(os.listdir, P('d')), errname(lambda: open(P('d', 'f'), 'rb').read())]`, { uid: NOBODY });
    assert.equal(await asNobody(), ['OK', 'EACCES']);
    await inPython(mnt, `os.chmod(P('d'), 0o700)`);
    assert.equal(await asNobody(), ['EACCES', 'EACCES']);
    await inPython(mnt, `
      os.chmod(P('d'), 0o755)
      os.chown(P('d', 'f'), ${NOBODY}, ${NOBODY})
    `);
    assert.equal(await asNobody(), ['OK', 'OK']);
    await inPython(mnt, `os.chown(P('d', 'f'), 0, 0)`);
    assert.equal(await asNobody(), ['OK', 'EACCES']);
  });
});

t("another user's write drops the setuid bit, and stat shows it at once", async () => {
  await mounted(async ({ mnt }) => {
    await inPython(mnt, `
      with open(P('s'), 'wb') as fh:
          fh.write(b'#!/bin/sh\\n')
      os.chmod(P('s'), 0o4777)
    `);
    const r = await inPython<[number, number, number]>(mnt, probed(`
      hold('s', P('s'))
      before = cached(held['s'])['mode'] & 0o7777
      fd = os.open(P('s'), os.O_WRONLY | os.O_APPEND)
      os.write(fd, b'echo hi\\n')
      os.close(fd)
      return [before, cached(held['s'])['mode'] & 0o7777, fresh(held['s'])['mode'] & 0o7777]
    `), { uid: NOBODY });
    assert.equal(r, [0o4777, 0o777, 0o777]);
  });
});

t.run();
