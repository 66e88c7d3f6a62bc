// A small EROFS writer for tests: uncompressed images with any block size (512..4096, which mkfs.erofs 1.5
// cannot make), compact or extended inodes, inline tails or plain blocks, inline xattrs, and optionally
// directories without their "." entry (EROFS_I_DOT_OMITTED). The kernel mounts what it writes, so images
// built here are checked against the kernel like any other.

import { crc32cRaw } from '../../../src/erofs/reader/hash.js';

export interface BNode {
  name: string;
  type: 'dir' | 'file' | 'link' | 'fifo' | 'chr' | 'blk' | 'sock';
  mode: number; // permission bits
  uid?: number;
  gid?: number;
  mtime?: number;
  nsec?: number;
  data?: Uint8Array;
  target?: string;
  rdev?: number; // raw new_encode_dev value
  xattrs?: Array<[index: number, suffix: string, value: Uint8Array | string]>;
  children?: BNode[];
  /** Another node this entry is a hardlink to (same inode). */
  linkTo?: BNode;
}

export interface BuildOptions {
  blkszbits: number;
  compact?: boolean;
  dotOmitted?: boolean;
  /** Never inline tails (FLAT_PLAIN everywhere). */
  noInline?: boolean;
  epoch?: number;
  checksum?: boolean;
}

const enc = new TextEncoder();
const TYPE_BITS: Record<BNode['type'], number> = {
  dir: 0o040000, file: 0o100000, link: 0o120000, fifo: 0o010000, chr: 0o020000, blk: 0o060000, sock: 0o140000,
};
const FT: Record<BNode['type'], number> = { file: 1, dir: 2, chr: 3, blk: 4, fifo: 5, sock: 6, link: 7 };

interface Ino {
  node: BNode;
  parent: Ino;
  nlink: number;
  content: Uint8Array; // file data, symlink target or directory blocks
  inlineLen: number; // tail bytes stored after the inode
  blocks: number; // full blocks stored in the data area
  xattrBody: Uint8Array;
  pos: number; // inode position
  startBlk: number;
  children: Array<{ name: Uint8Array; ino: Ino }>;
}

function u16(b: Uint8Array, o: number, v: number) { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; }
function u32(b: Uint8Array, o: number, v: number) { u16(b, o, v & 0xffff); u16(b, o + 2, Math.floor(v / 65536) & 0xffff); }
function u64(b: Uint8Array, o: number, v: number) { u32(b, o, v >>> 0); u32(b, o + 4, Math.floor(v / 2 ** 32)); }

function xattrBody(node: BNode): Uint8Array {
  const xs = node.xattrs ?? [];
  if (!xs.length) return new Uint8Array(0);
  const parts: number[] = new Array(12).fill(0);
  for (const [index, suffix, value] of xs) {
    const s = enc.encode(suffix);
    const v = typeof value === 'string' ? enc.encode(value) : value;
    const e = [s.length, index, v.length & 0xff, v.length >> 8, ...s, ...v];
    while (e.length % 4) e.push(0);
    parts.push(...e);
  }
  // no bloom filter (h_name_filter 0 = "may be present" for every name)
  return Uint8Array.from(parts);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function buildImage(root: BNode, opt: BuildOptions): Uint8Array {
  const bs = 2 ** opt.blkszbits;
  const isize = opt.compact ? 32 : 64;
  const epoch = opt.epoch ?? 1_600_000_000;
  const inodes: Ino[] = [];
  const byNode = new Map<BNode, Ino>();

  // 1. inodes (hardlinks share one), depth first
  const collect = (node: BNode, parent: Ino | undefined): Ino => {
    const target = node.linkTo ?? node;
    const existing = byNode.get(target);
    if (existing) {
      existing.nlink++;
      return existing;
    }
    const ino: Ino = { node: target, parent: parent!, nlink: 1, content: new Uint8Array(0), inlineLen: 0, blocks: 0, xattrBody: xattrBody(target), pos: 0, startBlk: -1, children: [] };
    if (!parent) ino.parent = ino;
    byNode.set(target, ino);
    inodes.push(ino);
    if (target.type === 'dir') {
      ino.nlink = 2;
      for (const c of target.children ?? []) {
        const ci = collect(c, ino);
        ino.children.push({ name: enc.encode(c.name), ino: ci });
        if (c.type === 'dir' && !c.linkTo) ino.nlink++;
      }
    }
    return ino;
  };
  collect(root, undefined);

  // 2. directory contents (they depend on names only; nids are patched in later)
  const dirLayout = new Map<Ino, Array<Array<{ name: Uint8Array; ino: Ino; ft: number }>>>();
  for (const ino of inodes) {
    if (ino.node.type !== 'dir') continue;
    const ents = [...ino.children.map((c) => ({ name: c.name, ino: c.ino, ft: FT[c.ino.node.type] }))];
    if (!opt.dotOmitted) ents.push({ name: enc.encode('.'), ino, ft: 2 });
    ents.push({ name: enc.encode('..'), ino: ino.parent, ft: 2 });
    ents.sort((a, b) => compareBytes(a.name, b.name));
    const blocks: (typeof ents)[] = [];
    let cur: typeof ents = [];
    let used = 0;
    for (const e of ents) {
      if (used + 12 + e.name.length > bs) {
        blocks.push(cur);
        cur = [];
        used = 0;
      }
      cur.push(e);
      used += 12 + e.name.length;
    }
    blocks.push(cur);
    dirLayout.set(ino, blocks);
    const lastLen = cur.reduce((n, e) => n + 12 + e.name.length, 0);
    ino.content = new Uint8Array((blocks.length - 1) * bs + lastLen); // filled in step 4
  }
  for (const ino of inodes) {
    if (ino.node.type === 'file') ino.content = ino.node.data ?? new Uint8Array(0);
    if (ino.node.type === 'link') ino.content = enc.encode(ino.node.target ?? '');
  }

  // 3. positions: inodes after the superblock, tails kept inside one block; then data blocks
  let pos = 1024 + 128;
  for (const ino of inodes) {
    pos = Math.ceil(pos / 32) * 32;
    const size = ino.content.length;
    const hasData = ino.node.type === 'dir' || ino.node.type === 'file' || ino.node.type === 'link';
    let tail = hasData && size > 0 && !opt.noInline ? size % bs || bs : 0;
    const meta = isize + ino.xattrBody.length;
    if (tail && meta + tail > bs) tail = 0;
    if (tail && (pos % bs) + meta + tail > bs) pos = Math.ceil(pos / bs) * bs; // start a fresh block
    ino.pos = pos;
    ino.inlineLen = tail;
    ino.blocks = hasData ? Math.ceil((size - tail) / bs) : 0;
    pos += meta + tail;
  }
  let blk = Math.ceil(pos / bs);
  for (const ino of inodes) {
    if (ino.blocks) {
      ino.startBlk = blk;
      blk += ino.blocks;
    }
  }
  const image = new Uint8Array(blk * bs);

  // 4. directory blocks, now that nids are known
  for (const [ino, blocks] of dirLayout) {
    blocks.forEach((ents, bi) => {
      const base = bi * bs;
      let nameoff = ents.length * 12;
      ents.forEach((e, i) => {
        u64(ino.content, base + i * 12, e.ino.pos / 32);
        u16(ino.content, base + i * 12 + 8, nameoff);
        ino.content[base + i * 12 + 10] = e.ft;
        ino.content.set(e.name, base + nameoff);
        nameoff += e.name.length;
      });
    });
  }

  // 5. inodes, xattrs, tails, data
  for (const ino of inodes) {
    const n = ino.node;
    const size = ino.content.length;
    const layout = ino.inlineLen ? 2 : 0;
    const b = image.subarray(ino.pos);
    const mode = TYPE_BITS[n.type] | n.mode;
    const icount = ino.xattrBody.length ? (ino.xattrBody.length - 12) / 4 + 1 : 0;
    const special = n.type === 'chr' || n.type === 'blk';
    const iu = special ? n.rdev ?? 0 : ino.startBlk >= 0 ? ino.startBlk : layout === 0 && size ? 0 : layout === 0 ? 0xffffffff : 0;
    if (opt.compact) {
      const nlink1 = n.type !== 'dir' && ino.nlink === 1;
      u16(b, 0, (layout << 1) | (nlink1 ? 1 << 4 : 0) | (n.type === 'dir' && opt.dotOmitted ? 1 << 4 : 0));
      u16(b, 2, icount);
      u16(b, 4, mode);
      u16(b, 6, nlink1 ? 0 : ino.nlink);
      u32(b, 8, size);
      u32(b, 12, (n.mtime ?? epoch) - epoch);
      u32(b, 16, iu);
      u32(b, 20, ino.pos / 32);
      u16(b, 24, n.uid ?? 0);
      u16(b, 26, n.gid ?? 0);
    } else {
      u16(b, 0, 1 | (layout << 1) | (n.type === 'dir' && opt.dotOmitted ? 1 << 4 : 0));
      u16(b, 2, icount);
      u16(b, 4, mode);
      u64(b, 8, size);
      u32(b, 16, iu);
      u32(b, 20, ino.pos / 32);
      u32(b, 24, n.uid ?? 0);
      u32(b, 28, n.gid ?? 0);
      u64(b, 32, n.mtime ?? epoch);
      u32(b, 40, n.nsec ?? 0);
      u32(b, 44, ino.nlink);
    }
    b.set(ino.xattrBody, isize);
    if (ino.blocks) image.set(ino.content.subarray(0, size - ino.inlineLen), ino.startBlk * bs);
    if (ino.inlineLen) b.set(ino.content.subarray(size - ino.inlineLen), isize + ino.xattrBody.length);
  }

  // 6. superblock
  const sb = image.subarray(1024);
  u32(sb, 0, 0xe0f5e1e2);
  u32(sb, 8, (opt.checksum ? 1 : 0) | 2);
  sb[12] = opt.blkszbits;
  u16(sb, 14, inodes[0]!.pos / 32);
  u64(sb, 16, inodes.length);
  u64(sb, 24, epoch);
  u32(sb, 36, blk);
  for (let i = 0; i < 16; i++) sb[48 + i] = i + 1;
  if (opt.checksum) {
    const len = bs > 1024 ? bs - 1024 : bs;
    u32(sb, 4, crc32cRaw(0xffffffff, image.slice(1024, 1024 + len).fill(0, 4, 8)));
  }
  return image;
}
