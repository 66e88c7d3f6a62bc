// Notifications: messages the server sends unprompted (out header with unique 0 and error = notify code).
// Each encoder writes a whole message (header included) into `w` and returns its length. Field offsets come
// from LAYOUT (checked against fuse_kernel.h); padding is zeroed with the whole struct first.

import { LAYOUT as L, NotifyCode, OUT_HEADER_SIZE } from './abi.js';
import { writeOutHeader } from './replies.js';
import type { WireBuffer } from './wire.js';
import { encodeName } from './names.js';

const H = OUT_HEADER_SIZE;

function nameBytes(name: string | Uint8Array): Uint8Array {
  return typeof name === 'string' ? encodeName(name) : name;
}

/** Zeroes the struct after the header (its padding included) and returns the struct's layout. */
function body<T extends { size: number }>(w: WireBuffer, layout: T): T {
  w.zero(H, layout.size);
  return layout;
}

function finish(w: WireBuffer, len: number, code: number): number {
  writeOutHeader(w, len, code, 0, 0);
  return len;
}

export function encodeNotifyPoll(w: WireBuffer, kh: number): number {
  const o = body(w, L.fuse_notify_poll_wakeup_out);
  w.setU64(H + o.kh, kh);
  return finish(w, H + o.size, NotifyCode.POLL);
}

/** off < 0: invalidate attributes only; len <= 0: to the end of the file. */
export function encodeNotifyInvalInode(w: WireBuffer, ino: number, off: number, len: number): number {
  const o = body(w, L.fuse_notify_inval_inode_out);
  w.setU64(H + o.ino, ino);
  w.setI64(H + o.off, off);
  w.setI64(H + o.len, len);
  return finish(w, H + o.size, NotifyCode.INVAL_INODE);
}

export function encodeNotifyInvalEntry(w: WireBuffer, parent: number, name: string | Uint8Array, flags = 0): number {
  const n = nameBytes(name);
  const o = body(w, L.fuse_notify_inval_entry_out);
  w.setU64(H + o.parent, parent);
  w.setU32(H + o.namelen, n.length);
  w.setU32(H + o.flags, flags);
  const p = H + o.size;
  w.buf.set(n, p);
  w.buf[p + n.length] = 0;
  return finish(w, p + n.length + 1, NotifyCode.INVAL_ENTRY);
}

export function encodeNotifyDelete(w: WireBuffer, parent: number, child: number, name: string | Uint8Array): number {
  const n = nameBytes(name);
  const o = body(w, L.fuse_notify_delete_out);
  w.setU64(H + o.parent, parent);
  w.setU64(H + o.child, child);
  w.setU32(H + o.namelen, n.length);
  const p = H + o.size;
  w.buf.set(n, p);
  w.buf[p + n.length] = 0;
  return finish(w, p + n.length + 1, NotifyCode.DELETE);
}

export function encodeNotifyStore(w: WireBuffer, nodeid: number, offset: number, data: Uint8Array): number {
  const o = body(w, L.fuse_notify_store_out);
  w.setU64(H + o.nodeid, nodeid);
  w.setU64(H + o.offset, offset);
  w.setU32(H + o.size_, data.length);
  const p = H + o.size;
  w.buf.set(data, p);
  return finish(w, p + data.length, NotifyCode.STORE);
}

/** The kernel answers with a NOTIFY_REPLY request whose unique is notifyUnique. */
export function encodeNotifyRetrieve(w: WireBuffer, notifyUnique: number, nodeid: number, offset: number, size: number): number {
  const o = body(w, L.fuse_notify_retrieve_out);
  w.setU64(H + o.notify_unique, notifyUnique);
  w.setU64(H + o.nodeid, nodeid);
  w.setU64(H + o.offset, offset);
  w.setU32(H + o.size_, size);
  return finish(w, H + o.size, NotifyCode.RETRIEVE);
}

export function encodeNotifyResend(w: WireBuffer): number {
  return finish(w, H, NotifyCode.RESEND);
}

export function encodeNotifyIncEpoch(w: WireBuffer): number {
  return finish(w, H, NotifyCode.INC_EPOCH);
}

/** Asks the kernel to drop its references to the given inodes (FUSE_NOTIFY_PRUNE). */
export function encodeNotifyPrune(w: WireBuffer, nodeids: readonly number[]): number {
  const o = body(w, L.fuse_notify_prune_out);
  w.setU32(H + o.count, nodeids.length);
  let p = H + o.size;
  for (const id of nodeids) {
    w.setU64(p, id);
    p += 8; // the ids follow as an array of u64
  }
  return finish(w, p, NotifyCode.PRUNE);
}
