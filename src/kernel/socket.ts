// Unix socket pieces that Node's net module cannot do: a raw socketpair (so one end can be handed to a child as
// fd 3) and receiving a file descriptor with SCM_RIGHTS. fusermount3 uses both to pass the /dev/fuse fd back.
//
// Struct layouts are for LP64 Linux (x86_64, arm64): pointers and size_t are 8 bytes.

import { Errno, ERRNO } from '../protocol/errno.js';
import { addressOf, callLibcRaw, ffiTypes } from './libc.js';

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CTRUNC = 0x8;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;

/** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0): both ends close on exec unless handed over explicitly. */
export function socketPair(): [number, number] {
  const T = ffiTypes();
  const sv = Buffer.alloc(8); // int sv[2], filled through the pointer (a U8Array is the Buffer's own memory)
  const r = callLibcRaw('socketpair', T.I32, [T.I32, T.I32, T.I32, T.U8Array], [AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv]);
  if (r.errno !== 0) throw new Errno(r.errno, 'socketpair(AF_UNIX, SOCK_STREAM) failed');
  return [sv.readInt32LE(0), sv.readInt32LE(4)];
}

// One Buffer holds every struct recvmsg needs, so a single address is taken and kept alive by the call itself:
//   0  struct msghdr  (56): name@0, namelen@8, iov@16, iovlen@24, control@32, controllen@40, flags@48
//   56 struct iovec   (16): base@0, len@8
//   72 data bytes     (16)
//   88 control buffer (CMSG_SPACE(sizeof(int)) = 24): cmsg_len@0 (size_t), level@8, type@12, fd@16
// 112 bytes + slack: over 64 bytes, so V8 keeps it off the JS heap from the start.
const MSG_OFF = 0;
const IOV_OFF = 56;
const DATA_OFF = 72;
const DATA_LEN = 16;
const CTL_OFF = 88;
const CTL_LEN = 24;
const REGION = 128;

/** What one recvmsg brought: the received fd (if any) and the count of ordinary bytes (0 means EOF). */
export interface RecvFdResult {
  fd: number | undefined;
  bytes: number;
}

/**
 * recvmsg on `sock`, taking one fd passed with SCM_RIGHTS (marked close-on-exec). `nonBlocking` uses
 * MSG_DONTWAIT: no message yet gives {fd: undefined, bytes: -1}. Retries on EINTR; throws other errors.
 */
export function recvFd(sock: number, nonBlocking = false): RecvFdResult {
  const T = ffiTypes();
  const region = Buffer.alloc(REGION);
  const base = addressOf(region);
  region.writeBigUInt64LE(base + BigInt(IOV_OFF), MSG_OFF + 16); // msg_iov
  region.writeBigUInt64LE(1n, MSG_OFF + 24); // msg_iovlen
  region.writeBigUInt64LE(base + BigInt(CTL_OFF), MSG_OFF + 32); // msg_control
  region.writeBigUInt64LE(BigInt(CTL_LEN), MSG_OFF + 40); // msg_controllen
  region.writeBigUInt64LE(base + BigInt(DATA_OFF), IOV_OFF); // iov_base
  region.writeBigUInt64LE(BigInt(DATA_LEN), IOV_OFF + 8); // iov_len
  const flags = MSG_CMSG_CLOEXEC | (nonBlocking ? MSG_DONTWAIT : 0);
  for (;;) {
    // The region goes in as the msghdr pointer: the same memory whose address was written into it.
    const r = callLibcRaw('recvmsg', T.I64, [T.I32, T.U8Array, T.I32], [sock, region, flags]);
    if (r.errno === ERRNO.EINTR) continue;
    if (r.errno === ERRNO.EAGAIN && nonBlocking) return { fd: undefined, bytes: -1 };
    if (r.errno !== 0) throw new Errno(r.errno, 'recvmsg failed');
    const controllen = Number(region.readBigUInt64LE(MSG_OFF + 40));
    const msgFlags = region.readInt32LE(MSG_OFF + 48);
    let fd: number | undefined;
    if (controllen >= 20) {
      const cmsgLen = Number(region.readBigUInt64LE(CTL_OFF));
      const level = region.readInt32LE(CTL_OFF + 8);
      const type = region.readInt32LE(CTL_OFF + 12);
      if (level === SOL_SOCKET && type === SCM_RIGHTS && cmsgLen >= 20) fd = region.readInt32LE(CTL_OFF + 16);
    }
    if (msgFlags & MSG_CTRUNC && fd === undefined) throw new Errno('EMSGSIZE', 'recvmsg: control data truncated');
    return { fd, bytes: r.value };
  }
}
