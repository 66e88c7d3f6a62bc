// The EROFS on-disk table (src/erofs/reader/ondisk.ts) against the kernel header itself: a C program compiled
// against reference/erofs_fs.h prints sizeof of every struct, offsetof and sizeof of every member in the table
// and the value of every #define/enum that src/erofs/reader/format.ts mirrors; each is compared with the
// TypeScript value. The header is also parsed the other way round (nested unions included), so a struct or a
// named member the header has and the table lacks is caught too. The program also calls the header's own
// erofs_check_ondisk_layout_definitions(), whose BUILD_BUG_ONs then run at compile time.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as F from '../../../src/erofs/reader/format.js';
import * as ondisk from '../../../src/erofs/reader/ondisk.js';
import { EROFS_LAYOUT } from '../../../src/erofs/reader/ondisk.js';
import { EROFS_FS_H } from '../../helpers/fixtures.js';
import { lit, runC } from '../../protocol/cc.js';

/** What erofs_fs.h expects from <linux/types.h> and the kernel's helpers, for a user-space compile. */
const PRELUDE = `
#include <stdbool.h>
typedef uint8_t u8;
typedef uint8_t __u8;
typedef uint32_t __u32;
typedef uint16_t __le16;
typedef uint32_t __le32;
typedef uint64_t __le64;
#define __packed __attribute__((packed))
#define __maybe_unused __attribute__((unused))
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define round_up(x, y) ((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#define le16_to_cpu(x) (x)
#define cpu_to_le64(x) (x)
#define BUILD_BUG_ON(c) ((void)sizeof(char[1 - 2 * !!(c)]))
`;

/** format.ts constant -> the header's name for it, by prefix (the first matching rule wins). */
const RENAMES: [RegExp, string][] = [
  [/^ALL_INCOMPAT$/, 'EROFS_ALL_FEATURE_INCOMPAT'],
  [/^(COMPAT|INCOMPAT)_/, 'EROFS_FEATURE_$&'],
  [/^LAYOUT_/, 'EROFS_INODE_'],
  [/^(I_|CHUNK_FORMAT_|XATTR_INDEX_|XATTR_LONG_PREFIX|XATTR_FILTER_|FT_|BLOCK_MAP_ENTRY_SIZE|NAME_LEN)/, 'EROFS_$&'],
  [/^(PCLUSTER_|LZMA_MAX_|COMPRESSION_|ADVISE_|FRAGMENT_INODE_BIT|LCLUSTER_TYPE_|LI_|EXTENT_PLEN_)/, 'Z_EROFS_$&'],
];

/** format.ts constants with no #define of their own, and the header expression each must equal. */
const DERIVED: Record<string, string> = {
  EROFS_SB_BASE_SIZE: 'offsetof(struct erofs_super_block, metabox_nid)',
  INODE_SLOT_SIZE: 'sizeof(struct erofs_inode_compact)',
  XATTR_SLOT_SIZE: '(erofs_xattr_ibody_size(2) - erofs_xattr_ibody_size(1))',
  MAP_HEADER_ALIGN: 'Z_EROFS_MAP_HEADER_START(1)',
  FULL_INDEX_GAP: '(Z_EROFS_FULL_INDEX_START(0) - Z_EROFS_MAP_HEADER_END(0))',
  NULL_ADDR: '(uint32_t)EROFS_NULL_ADDR',
};

/** format.ts constants that are not on-disk facts of erofs_fs.h (the reason is in format.ts). */
const NOT_IN_HEADER = new Set([
  'INODE_SLOT_BITS', 'COMPRESSION_SHIFTED', 'COMPRESSION_INTERLACED', 'LCFS_EROFS_MAGIC', 'LCFS_EROFS_FLAGS_HAS_ACL',
  'LCFS_EROFS_HEADER_SIZE', 'LCFS_EROFS_VERSION', 'LCFS_H_MAGIC', 'LCFS_H_VERSION', 'LCFS_H_FLAGS',
  'LCFS_H_COMPOSEFS_VERSION', 'S_IFMT', 'S_IFSOCK', 'S_IFLNK', 'S_IFREG', 'S_IFBLK', 'S_IFDIR', 'S_IFCHR', 'S_IFIFO',
]);

function cName(k: string): string | undefined {
  if (k === 'EROFS_SUPER_MAGIC_V1' || k === 'EROFS_SUPER_OFFSET' || k === 'EROFS_SB_EXTSLOT_SIZE') return k;
  for (const [re, to] of RENAMES) if (re.test(k)) return k.replace(re, to);
  return undefined;
}

/** format.ts's own numeric constants (not the offsets it re-exports from ondisk.ts). */
function scalarConstants(): [string, number][] {
  return Object.entries(F).filter(
    (e): e is [string, number] => typeof e[1] === 'number' && !(e[0] in ondisk) && !NOT_IN_HEADER.has(e[0]),
  );
}

let measured: Map<string, bigint> | undefined;
/** Compiles and runs the probe once; keys: size.S, off.S.m, len.S.m, const.N */
function probe(): Map<string, bigint> {
  if (measured) return measured;
  const lines: string[] = ['erofs_check_ondisk_layout_definitions();'];
  for (const [s, { fields }] of Object.entries(EROFS_LAYOUT)) {
    lines.push(`printf("size.${s} %zu\\n", sizeof(struct ${s}));`);
    for (const m of Object.keys(fields)) {
      lines.push(`printf("off.${s}.${m} %zu\\n", offsetof(struct ${s}, ${m}));`);
      lines.push(`printf("len.${s}.${m} %zu\\n", sizeof(((struct ${s} *)0)->${m}));`);
    }
  }
  for (const [k] of scalarConstants()) {
    const expr = DERIVED[k] ?? cName(k);
    if (expr) lines.push(`U(${lit(`const.${k}`)}, ${expr});`);
  }
  measured = runC([], lines.join('\n'), { path: EROFS_FS_H, prelude: PRELUDE });
  return measured;
}

function get(key: string): bigint {
  const v = probe().get(key);
  if (v === undefined) throw new Error(`probe printed no ${key}`);
  return v;
}

// ---- header parsing (for the reverse direction) ----

const CODE = readFileSync(EROFS_FS_H, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

interface Member {
  name: string;
  /** Nested anonymous or inline struct/union members. */
  children?: Member[];
  /** `union erofs_inode_i_u i_u;`: members of a named struct/union defined elsewhere. */
  ref?: string;
}

/** The index just past the brace that closes the one at `open`. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i + 1;
  }
  throw new Error('unbalanced braces in erofs_fs.h');
}

function parseMembers(body: string): Member[] {
  const out: Member[] = [];
  let i = 0;
  while (i < body.length) {
    const semi = body.indexOf(';', i);
    const brace = body.indexOf('{', i);
    if (semi < 0) break;
    if (brace >= 0 && brace < semi) {
      const end = closing(body, brace);
      const stop = body.indexOf(';', end);
      const name = body.slice(end, stop).replace(/__packed/g, '').trim();
      out.push({ name, children: parseMembers(body.slice(brace + 1, end - 1)) });
      i = stop + 1;
      continue;
    }
    const decl = body.slice(i, semi).trim();
    i = semi + 1;
    if (!decl) continue;
    const ref = /^(?:struct|union)\s+(\w+)\s+(\w+)$/.exec(decl);
    if (ref) {
      out.push({ name: ref[2]!, ref: ref[1]! });
      continue;
    }
    const m = /(\w+)\s*(\[[^\]]*\])?$/.exec(decl);
    if (!m) throw new Error(`cannot parse member "${decl}"`);
    out.push({ name: m[1]! });
  }
  return out;
}

/** Every struct and union the header defines, by name. */
function headerTypes(): Map<string, { kind: string; members: Member[] }> {
  const out = new Map<string, { kind: string; members: Member[] }>();
  for (const m of CODE.matchAll(/\b(struct|union)\s+(\w+)\s*\{/g)) {
    const open = m.index! + m[0].length - 1;
    out.set(m[2]!, { kind: m[1]!, members: parseMembers(CODE.slice(open + 1, closing(CODE, open) - 1)) });
  }
  return out;
}

const RESERVED = /(^|_)reserved\d*$/;

/** C access paths of every named, non-reserved member. */
function memberPaths(types: ReturnType<typeof headerTypes>, members: Member[], prefix = ''): string[] {
  const out: string[] = [];
  for (const m of members) {
    if (RESERVED.test(m.name)) continue;
    const path = m.name ? `${prefix}${m.name}` : '';
    if (m.children) out.push(...memberPaths(types, m.children, path ? `${path}.` : prefix));
    else if (m.ref) out.push(...memberPaths(types, types.get(m.ref)!.members, `${path}.`));
    else out.push(path);
  }
  return out;
}

// ---- the checks ----

test('sizeof every struct in the table matches erofs_fs.h', () => {
  const bad: string[] = [];
  for (const [s, { size }] of Object.entries(EROFS_LAYOUT)) {
    const c = get(`size.${s}`);
    if (BigInt(size) !== c) bad.push(`sizeof(${s}) ts=${size} c=${c}`);
  }
  assert.equal(bad, []);
  assert.is(F.COMPR_CFG_SIZES.length, F.COMPRESSION_MAX, 'one config record size per algorithm');
});

test('offsetof and size of every member in the table match erofs_fs.h', () => {
  const bad: string[] = [];
  let n = 0;
  for (const [s, { fields }] of Object.entries(EROFS_LAYOUT)) {
    for (const [m, [off, len]] of Object.entries(fields as Record<string, readonly [number, number]>)) {
      n++;
      const cOff = get(`off.${s}.${m}`);
      const cLen = get(`len.${s}.${m}`);
      if (BigInt(off) !== cOff) bad.push(`offsetof(${s}, ${m}) ts=${off} c=${cOff}`);
      if (BigInt(len) !== cLen) bad.push(`sizeof(${s}.${m}) ts=${len} c=${cLen}`);
    }
  }
  assert.equal(bad, []);
  assert.ok(n > 90, `${n} members checked`);
});

test('every named member of every header struct is in the table', () => {
  const types = headerTypes();
  const missing: string[] = [];
  for (const [s, t] of types) {
    // Unions appear inside the structs that hold them; erofs_fs.h has no top-level union on disk by itself.
    if (t.kind !== 'struct') continue;
    const table = (EROFS_LAYOUT as Record<string, { fields: Record<string, unknown> }>)[s];
    if (!table) {
      missing.push(`struct ${s}`);
      continue;
    }
    for (const p of memberPaths(types, t.members)) if (!(p in table.fields)) missing.push(`${s}.${p}`);
  }
  assert.equal(missing, []);
  assert.ok(types.size >= 18, `${types.size} structs and unions parsed`);
});

test('format.ts constants match the header #defines and enums', () => {
  const bad: string[] = [];
  const unmapped: string[] = [];
  let n = 0;
  for (const [k, v] of scalarConstants()) {
    if (!DERIVED[k] && !cName(k)) {
      unmapped.push(k);
      continue;
    }
    n++;
    const c = get(`const.${k}`);
    if (BigInt(v) !== c) bad.push(`${k} ts=${v} c=${c}`);
  }
  assert.equal(unmapped, [], 'every format.ts constant is either checked or listed as not in the header');
  assert.equal(bad, []);
  assert.ok(n > 70, `${n} constants checked`);
});

test.run();
