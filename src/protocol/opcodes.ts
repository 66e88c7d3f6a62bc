// The opcode table of the protocol layer: name and decoder per opcode. The server's dispatch table
// (src/server/dispatch.ts) adds a handler to each row; debug traces take their names from here.

import { Opcode } from './abi.js';
import * as R from './requests.js';
import type { WireBuffer } from './wire.js';

export type Decoder<T> = (w: WireBuffer, off: number, end: number, out?: T) => T;

export interface OpcodeInfo<T = unknown> {
  readonly opcode: number;
  readonly name: string;
  readonly decode: Decoder<T>;
  /** The kernel expects no reply (FORGET, BATCH_FORGET, NOTIFY_REPLY). */
  readonly noReply?: boolean;
}

function row<T>(opcode: number, name: string, decode: Decoder<T>, noReply = false): OpcodeInfo<T> {
  return { opcode, name, decode, noReply };
}

export const OPCODES: readonly OpcodeInfo[] = [
  row(Opcode.LOOKUP, 'LOOKUP', R.decodeName),
  row(Opcode.FORGET, 'FORGET', R.decodeForget, true),
  row(Opcode.GETATTR, 'GETATTR', R.decodeGetattr),
  row(Opcode.SETATTR, 'SETATTR', R.decodeSetattr),
  row(Opcode.READLINK, 'READLINK', R.decodeEmpty),
  row(Opcode.SYMLINK, 'SYMLINK', R.decodeSymlink),
  row(Opcode.MKNOD, 'MKNOD', R.decodeMknod),
  row(Opcode.MKDIR, 'MKDIR', R.decodeMkdir),
  row(Opcode.UNLINK, 'UNLINK', R.decodeName),
  row(Opcode.RMDIR, 'RMDIR', R.decodeName),
  row(Opcode.RENAME, 'RENAME', R.decodeRename),
  row(Opcode.LINK, 'LINK', R.decodeLink),
  row(Opcode.OPEN, 'OPEN', R.decodeOpen),
  row(Opcode.READ, 'READ', R.decodeRead),
  row(Opcode.WRITE, 'WRITE', R.decodeWrite),
  row(Opcode.STATFS, 'STATFS', R.decodeEmpty),
  row(Opcode.RELEASE, 'RELEASE', R.decodeRelease),
  row(Opcode.FSYNC, 'FSYNC', R.decodeFsync),
  row(Opcode.SETXATTR, 'SETXATTR', R.decodeSetxattr),
  row(Opcode.GETXATTR, 'GETXATTR', R.decodeGetxattr),
  row(Opcode.LISTXATTR, 'LISTXATTR', R.decodeListxattr),
  row(Opcode.REMOVEXATTR, 'REMOVEXATTR', R.decodeName),
  row(Opcode.FLUSH, 'FLUSH', R.decodeFlush),
  row(Opcode.INIT, 'INIT', R.decodeInit),
  row(Opcode.OPENDIR, 'OPENDIR', R.decodeOpen),
  row(Opcode.READDIR, 'READDIR', R.decodeRead),
  row(Opcode.RELEASEDIR, 'RELEASEDIR', R.decodeRelease),
  row(Opcode.FSYNCDIR, 'FSYNCDIR', R.decodeFsync),
  row(Opcode.GETLK, 'GETLK', R.decodeLk),
  row(Opcode.SETLK, 'SETLK', R.decodeLk),
  row(Opcode.SETLKW, 'SETLKW', R.decodeLk),
  row(Opcode.ACCESS, 'ACCESS', R.decodeAccess),
  row(Opcode.CREATE, 'CREATE', R.decodeCreate),
  row(Opcode.INTERRUPT, 'INTERRUPT', R.decodeInterrupt),
  row(Opcode.BMAP, 'BMAP', R.decodeBmap),
  row(Opcode.DESTROY, 'DESTROY', R.decodeEmpty),
  row(Opcode.IOCTL, 'IOCTL', R.decodeIoctl),
  row(Opcode.POLL, 'POLL', R.decodePoll),
  row(Opcode.NOTIFY_REPLY, 'NOTIFY_REPLY', R.decodeNotifyReply, true),
  row(Opcode.BATCH_FORGET, 'BATCH_FORGET', R.decodeBatchForget, true),
  row(Opcode.FALLOCATE, 'FALLOCATE', R.decodeFallocate),
  row(Opcode.READDIRPLUS, 'READDIRPLUS', R.decodeRead),
  row(Opcode.RENAME2, 'RENAME2', R.decodeRename2),
  row(Opcode.LSEEK, 'LSEEK', R.decodeLseek),
  row(Opcode.COPY_FILE_RANGE, 'COPY_FILE_RANGE', R.decodeCopyFileRange),
  row(Opcode.SETUPMAPPING, 'SETUPMAPPING', R.decodeSetupmapping),
  row(Opcode.REMOVEMAPPING, 'REMOVEMAPPING', R.decodeRemovemapping),
  row(Opcode.SYNCFS, 'SYNCFS', R.decodeEmpty),
  row(Opcode.TMPFILE, 'TMPFILE', R.decodeCreate),
  row(Opcode.STATX, 'STATX', R.decodeStatx),
  row(Opcode.COPY_FILE_RANGE_64, 'COPY_FILE_RANGE_64', R.decodeCopyFileRange),
] as OpcodeInfo[];

/** Indexed by opcode number (sparse). */
export const OPCODE_TABLE: readonly (OpcodeInfo | undefined)[] = (() => {
  const t: (OpcodeInfo | undefined)[] = [];
  for (const r of OPCODES) t[r.opcode] = r;
  return t;
})();

export function opcodeName(op: number): string {
  return OPCODE_TABLE[op]?.name ?? (op === Opcode.CUSE_INIT ? 'CUSE_INIT' : `OPCODE_${op}`);
}

/** A whole request decoded into fresh objects: for tests, tools and debug output (not the hot path). */
export interface DecodedRequest {
  header: R.InHeader;
  name: string;
  body: unknown;
}

export function decodeRequest(w: WireBuffer, len = w.length): DecodedRequest {
  if (len < 40) throw new R.DecodeError(`request shorter than fuse_in_header (${len})`);
  const header = R.decodeInHeader(w, 0, R.newInHeader());
  if (header.len > len) throw new R.DecodeError(`header length ${header.len} exceeds ${len} bytes read`);
  if (header.len < 40 || header.extLen > header.len - 40) {
    throw new R.DecodeError(`header length ${header.len} leaves no room for the header and ${header.extLen} bytes of extensions`);
  }
  const info = OPCODE_TABLE[header.opcode];
  if (!info) return { header, name: opcodeName(header.opcode), body: undefined };
  const body = info.decode(w, 40, header.len - header.extLen);
  return { header, name: info.name, body };
}
