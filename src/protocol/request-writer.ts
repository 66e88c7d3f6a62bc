// FUSE requests as the kernel writes them (the server's warm-up walk, src/server/warm-up/, plays the kernel's
// part with them): the in-header and the bodies of the requests a read-only tree gets, into one WireBuffer.
// Uniques start far above anything a kernel hands out in a server's first minutes, so a written request never
// looks like a real one.

import { IN_HEADER_SIZE, LAYOUT as L, Opcode } from './abi.js';
import { O_RDONLY } from './posix.js';
import { WireBuffer } from './wire.js';

const H = L.fuse_in_header;
/** unique's high word for warm-up requests (within the 53 bits decodeInHeader keeps). */
const UNIQUE_HI = 0x100000;
/** Bytes of an encoded request at most: header, a body, a name. */
const REQUEST_BYTES = 4096 + IN_HEADER_SIZE + 64;

export class RequestWriter {
  readonly wire = new WireBuffer(REQUEST_BYTES);
  private unique = 0;

  /** The header of a request to `nodeid`, with the body `bodyLen` bytes long (written by the caller after). */
  private head(opcode: number, nodeid: number, bodyLen: number): number {
    const w = this.wire;
    const len = IN_HEADER_SIZE + bodyLen;
    w.zero(0, len);
    w.setU32(H.len, len);
    w.setU32(H.opcode, opcode);
    w.setU32(H.unique, ++this.unique);
    w.setU32(H.unique + 4, UNIQUE_HI);
    w.setU64(H.nodeid, nodeid);
    w.setU32(H.pid, process.pid);
    return len;
  }

  /** A name and its NUL at `off`; returns the bytes taken. */
  private name(off: number, name: string): number {
    const n = this.wire.buf.write(name, off, 'utf8');
    this.wire.buf[off + n] = 0;
    return n + 1;
  }

  /** Each returns the request's length. */
  lookup(parent: number, name: string): number {
    const len = this.head(Opcode.LOOKUP, parent, Buffer.byteLength(name) + 1);
    this.name(IN_HEADER_SIZE, name);
    return len;
  }

  getattr(nodeid: number): number {
    return this.head(Opcode.GETATTR, nodeid, L.fuse_getattr_in.size);
  }

  open(opcode: number, nodeid: number): number {
    const len = this.head(opcode, nodeid, L.fuse_open_in.size);
    this.wire.setU32(IN_HEADER_SIZE + L.fuse_open_in.flags, O_RDONLY);
    return len;
  }

  /** READ, READDIR or READDIRPLUS. */
  read(opcode: number, nodeid: number, fh: number, offset: number, size: number): number {
    const len = this.head(opcode, nodeid, L.fuse_read_in.size);
    const R = L.fuse_read_in;
    this.wire.setU64(IN_HEADER_SIZE + R.fh, fh);
    this.wire.setU64(IN_HEADER_SIZE + R.offset, offset);
    this.wire.setU32(IN_HEADER_SIZE + R.size_, size);
    return len;
  }

  /** RELEASE or RELEASEDIR. */
  release(opcode: number, nodeid: number, fh: number): number {
    const len = this.head(opcode, nodeid, L.fuse_release_in.size);
    this.wire.setU64(IN_HEADER_SIZE + L.fuse_release_in.fh, fh);
    return len;
  }

  /** READLINK, STATFS: no body. */
  bare(opcode: number, nodeid: number): number {
    return this.head(opcode, nodeid, 0);
  }

  getxattr(nodeid: number, name: string, size: number): number {
    const len = this.head(Opcode.GETXATTR, nodeid, L.fuse_getxattr_in.size + Buffer.byteLength(name) + 1);
    this.wire.setU32(IN_HEADER_SIZE + L.fuse_getxattr_in.size_, size);
    this.name(IN_HEADER_SIZE + L.fuse_getxattr_in.size, name);
    return len;
  }

  listxattr(nodeid: number, size: number): number {
    const len = this.head(Opcode.LISTXATTR, nodeid, L.fuse_getxattr_in.size);
    this.wire.setU32(IN_HEADER_SIZE + L.fuse_getxattr_in.size_, size);
    return len;
  }
}
