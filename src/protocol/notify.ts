// Notifications: messages the server sends unprompted (out header with unique 0 and error = notify code).
// Each encoder writes a whole message (header included) into `w` and returns its length.

import { LAYOUT as L, NotifyCode } from './abi.js';
import { writeOutHeader } from './replies.js';
import type { WireBuffer } from './wire.js';
import { encodeName } from './names.js';

const H = 16;

function nameBytes(name: string | Uint8Array): Uint8Array {
  return typeof name === 'string' ? encodeName(name) : name;
}

function finish(w: WireBuffer, len: number, code: number): number {
  writeOutHeader(w, len, code, 0, 0);
  return len;
}

export function encodeNotifyPoll(w: WireBuffer, kh: number): number {
  w.setU64(H, kh);
  return finish(w, H + L.fuse_notify_poll_wakeup_out.size, NotifyCode.POLL);
}

/** off < 0: invalidate attributes only; len <= 0: to the end of the file. */
export function encodeNotifyInvalInode(w: WireBuffer, ino: number, off: number, len: number): number {
  w.setU64(H, ino);
  w.setI64(H + 8, off);
  w.setI64(H + 16, len);
  return finish(w, H + L.fuse_notify_inval_inode_out.size, NotifyCode.INVAL_INODE);
}

export function encodeNotifyInvalEntry(w: WireBuffer, parent: number, name: string | Uint8Array, flags = 0): number {
  const n = nameBytes(name);
  w.setU64(H, parent);
  w.setU32(H + 8, n.length);
  w.setU32(H + 12, flags);
  const p = H + L.fuse_notify_inval_entry_out.size;
  w.buf.set(n, p);
  w.buf[p + n.length] = 0;
  return finish(w, p + n.length + 1, NotifyCode.INVAL_ENTRY);
}

export function encodeNotifyDelete(w: WireBuffer, parent: number, child: number, name: string | Uint8Array): number {
  const n = nameBytes(name);
  w.setU64(H, parent);
  w.setU64(H + 8, child);
  w.setU32(H + 16, n.length);
  w.setU32(H + 20, 0);
  const p = H + L.fuse_notify_delete_out.size;
  w.buf.set(n, p);
  w.buf[p + n.length] = 0;
  return finish(w, p + n.length + 1, NotifyCode.DELETE);
}

export function encodeNotifyStore(w: WireBuffer, nodeid: number, offset: number, data: Uint8Array): number {
  w.setU64(H, nodeid);
  w.setU64(H + 8, offset);
  w.setU32(H + 16, data.length);
  w.setU32(H + 20, 0);
  const p = H + L.fuse_notify_store_out.size;
  w.buf.set(data, p);
  return finish(w, p + data.length, NotifyCode.STORE);
}

/** The kernel answers with a NOTIFY_REPLY request whose unique is notifyUnique. */
export function encodeNotifyRetrieve(w: WireBuffer, notifyUnique: number, nodeid: number, offset: number, size: number): number {
  w.setU64(H, notifyUnique);
  w.setU64(H + 8, nodeid);
  w.setU64(H + 16, offset);
  w.setU32(H + 24, size);
  w.setU32(H + 28, 0);
  return finish(w, H + L.fuse_notify_retrieve_out.size, NotifyCode.RETRIEVE);
}

export function encodeNotifyResend(w: WireBuffer): number {
  return finish(w, H, NotifyCode.RESEND);
}

export function encodeNotifyIncEpoch(w: WireBuffer): number {
  return finish(w, H, NotifyCode.INC_EPOCH);
}

/** Asks the kernel to drop its references to the given inodes (FUSE_NOTIFY_PRUNE). */
export function encodeNotifyPrune(w: WireBuffer, nodeids: readonly number[]): number {
  w.setU32(H, nodeids.length);
  w.setU32(H + 4, 0);
  w.setU64(H + 8, 0);
  let p = H + L.fuse_notify_prune_out.size;
  for (const id of nodeids) {
    w.setU64(p, id);
    p += 8;
  }
  return finish(w, p, NotifyCode.PRUNE);
}
