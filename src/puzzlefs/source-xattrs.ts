// Extended attributes of a source-tree entry, for the builder. Node has no xattr API and ffi-rs passes paths
// as UTF-8 strings, which cannot spell a name that is not valid UTF-8: so the entry is opened with
// O_PATH | O_NOFOLLOW (a Buffer path, any bytes) and its xattrs are read through /proc/self/fd/N, which
// names that very inode (a symlink's own, not its target's).

import * as fs from 'node:fs';
import { getxattrRaw, listxattrRaw } from '../kernel/fsops.js';
import { ERRNO } from '../protocol/errno.js';
import type { Xattr } from './schema.js';

const O_PATH = 0o10000000;
const XATTR_SIZE_MAX = 65536;
const LIST_MAX = 65536;

const listBuf = Buffer.allocUnsafe(LIST_MAX);
const valueBuf = Buffer.allocUnsafe(XATTR_SIZE_MAX);

/** The entry's xattrs, sorted by name (bytes), values copied. */
export function readXattrs(path: Buffer): Xattr[] {
  const fd = fs.openSync(path, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    const proc = `/proc/self/fd/${fd}`;
    const n = listxattrRaw(proc, listBuf, false);
    if (n === -ERRNO.EOPNOTSUPP || n === 0) return [];
    if (n < 0) throw new Error(`listxattr ${path.toString()}: errno ${-n}`);
    const out: Xattr[] = [];
    for (const raw of listBuf.subarray(0, n).toString('utf8').split('\0')) {
      if (!raw) continue;
      const len = getxattrRaw(proc, raw, valueBuf, false);
      if (len === -ERRNO.ENODATA) continue; // removed meanwhile
      if (len < 0) throw new Error(`getxattr ${path.toString()} ${raw}: errno ${-len}`);
      out.push({ key: Buffer.from(raw), val: Buffer.from(valueBuf.subarray(0, len)) });
    }
    out.sort((a, b) => Buffer.compare(a.key, b.key));
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
