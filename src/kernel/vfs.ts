// mount(2) and umount2(2), which Node does not offer. Used to mount FUSE as root, fusectl, and by the EROFS
// conformance tests (mount -t erofs / overlay). Setup calls only.

import { Errno } from '../protocol/errno.js';
import { callLibcRaw, cString, ffiTypes } from './libc.js';

/** mount(2) flags (include/uapi/linux/mount.h). */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  POSIXACL: 1 << 16,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/** umount2(2) flags. */
export const MNT = {
  FORCE: 1,
  /** Lazy: detach now, finish when the last user goes. Never touches the filesystem, so it cannot hang. */
  DETACH: 2,
  EXPIRE: 4,
  NOFOLLOW: 8,
} as const;

/** A `const char *` argument: a NUL-terminated Buffer, or NULL (a 0 passed as a 64-bit integer). */
function charPtr(s: string | null | undefined): { type: number; value: unknown } {
  const T = ffiTypes();
  return s == null ? { type: T.BigInt, value: 0n } : { type: T.U8Array, value: cString(s) };
}

/**
 * mount(2). `source`, `fstype` and `data` may be null (as for a bind mount or a remount). Throws an Errno whose
 * message names the target.
 */
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  const T = ffiTypes();
  const src = charPtr(source);
  const tgt = charPtr(target);
  const typ = charPtr(fstype);
  const dat = charPtr(data);
  const r = callLibcRaw(
    'mount',
    T.I32,
    [src.type, tgt.type, typ.type, T.U64, dat.type],
    [src.value, tgt.value, typ.value, flags >>> 0, dat.value],
  );
  if (r.errno !== 0) {
    throw new Errno(r.errno, `mount(${JSON.stringify(source)}, ${JSON.stringify(target)}, ${JSON.stringify(fstype)}) failed`);
  }
}

/** umount2(2). MNT.DETACH never waits for the filesystem (safe on a FUSE mount whose server is stuck). */
export function umount2(target: string, flags = 0): void {
  const T = ffiTypes();
  const r = callLibcRaw('umount2', T.I32, [T.U8Array, T.I32], [cString(target), flags]);
  if (r.errno !== 0) throw new Errno(r.errno, `umount2(${JSON.stringify(target)}) failed`);
}
