// The ABI tables of src/protocol/abi.ts against the kernel header itself: a C program compiled against
// reference/fuse_kernel.h prints sizeof/offsetof of every LAYOUT struct and field, every opcode,
// notify code, INIT/FOPEN/FATTR/... flag bit, scalar constant and device ioctl number, and each is compared
// with the TypeScript value. The header is also parsed the other way round, so a struct, field, opcode or flag
// the header has and abi.ts lacks is caught too.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as abi from '../../src/protocol/abi.js';
import {
  FATTR, FOPEN, FopenFlags, InitFlags, LAYOUT, NotifyCode, Opcode, SetattrValid,
} from '../../src/protocol/abi.js';
import type { FlagSpec } from '../../src/protocol/flags.js';
import { headerText, lit, runC } from './cc.js';

const H = headerText();

/** LAYOUT key -> C member: keys ending in `_` name the member without it (`size_` -> `size`). */
function member(key: string): string {
  return key.endsWith('_') ? key.slice(0, -1) : key;
}

/** Every flag family of abi.ts and the C prefix of its #defines. */
const FAMILIES: { spec: FlagSpec<string>; prefix: string; rename?: Record<string, string> }[] = [
  { spec: InitFlags, prefix: 'FUSE_' },
  { spec: FopenFlags, prefix: 'FOPEN_' },
  { spec: SetattrValid, prefix: 'FATTR_' },
  { spec: abi.ReleaseFlags, prefix: 'FUSE_RELEASE_' },
  { spec: abi.GetattrFlags, prefix: 'FUSE_GETATTR_' },
  { spec: abi.LkFlags, prefix: 'FUSE_LK_' },
  { spec: abi.WriteFlags, prefix: 'FUSE_WRITE_' },
  { spec: abi.ReadFlags, prefix: 'FUSE_READ_' },
  { spec: abi.IoctlFlags, prefix: 'FUSE_IOCTL_', rename: { BIT32: '32BIT' } },
  { spec: abi.PollFlags, prefix: 'FUSE_POLL_' },
  { spec: abi.FsyncFlags, prefix: 'FUSE_FSYNC_' },
  { spec: abi.AttrFlags, prefix: 'FUSE_ATTR_' },
  { spec: abi.OpenInFlags, prefix: 'FUSE_OPEN_' },
  { spec: abi.SetxattrFlags, prefix: 'FUSE_SETXATTR_' },
  { spec: abi.InvalEntryFlags, prefix: 'FUSE_' },
];

function cFlag(f: (typeof FAMILIES)[number], name: string): string {
  return f.prefix + (f.rename?.[name] ?? name);
}

/** abi.ts exports named FUSE_* that are plain numbers, with the C expression each stands for. */
function scalarConstants(): [string, number, string][] {
  const out: [string, number, string][] = [];
  for (const [k, v] of Object.entries(abi)) {
    if (!k.startsWith('FUSE_') || typeof v !== 'number') continue;
    const expr = k === 'FUSE_UNIQUE_RESEND_HI' ? '(FUSE_UNIQUE_RESEND >> 32)' : k;
    out.push([k, v, expr]);
  }
  return out;
}

let measured: Map<string, bigint> | undefined;
/** Compiles and runs the probe once; keys: size.S, off.S.f, opcode.N, notify.N, flag.spec.N, const.N, extra.* */
function probe(): Map<string, bigint> {
  if (measured) return measured;
  const lines: string[] = [];
  for (const [s, fields] of Object.entries(LAYOUT)) {
    lines.push(`U(${lit(`size.${s}`)}, sizeof(struct ${s}));`);
    for (const k of Object.keys(fields)) {
      if (k === 'size') continue;
      lines.push(`U(${lit(`off.${s}.${k}`)}, offsetof(struct ${s}, ${member(k)}));`);
    }
  }
  for (const k of Object.keys(Opcode)) lines.push(`P(${lit(`opcode.${k}`)}, ${k === 'CUSE_INIT' ? k : `FUSE_${k}`});`);
  for (const k of Object.keys(NotifyCode)) lines.push(`P(${lit(`notify.${k}`)}, FUSE_NOTIFY_${k});`);
  for (const f of FAMILIES) {
    for (const k of Object.keys(f.spec.bits)) lines.push(`U(${lit(`flag.${f.spec.name}.${k}`)}, ${cFlag(f, k)});`);
  }
  for (const [k, , expr] of scalarConstants()) lines.push(`U(${lit(`const.${k}`)}, ${expr});`);
  lines.push(
    `U("extra.FUSE_NAME_OFFSET", FUSE_NAME_OFFSET);`,
    `U("extra.FUSE_NAME_OFFSET_DIRENTPLUS", FUSE_NAME_OFFSET_DIRENTPLUS);`,
    `U("extra.supp_groups.groups", offsetof(struct fuse_supp_groups, groups));`,
    `U("extra.FUSE_COMPAT_ENTRY_OUT_SIZE", FUSE_COMPAT_ENTRY_OUT_SIZE);`,
    `U("extra.FUSE_COMPAT_ATTR_OUT_SIZE", FUSE_COMPAT_ATTR_OUT_SIZE);`,
    `U("extra.FUSE_COMPAT_SETXATTR_IN_SIZE", FUSE_COMPAT_SETXATTR_IN_SIZE);`,
    `U("extra.FUSE_COMPAT_WRITE_IN_SIZE", FUSE_COMPAT_WRITE_IN_SIZE);`,
    `U("extra.FUSE_COMPAT_INIT_OUT_SIZE", FUSE_COMPAT_INIT_OUT_SIZE);`,
    `U("extra.FUSE_COMPAT_22_INIT_OUT_SIZE", FUSE_COMPAT_22_INIT_OUT_SIZE);`,
    `U("extra.init_in.flags2", offsetof(struct fuse_init_in, flags2));`,
    `U("extra.FUSE_DEV_IOC_MAGIC", FUSE_DEV_IOC_MAGIC);`,
    `U("extra._IOC_READ", _IOC_READ);`,
    `U("extra._IOC_WRITE", _IOC_WRITE);`,
  );
  measured = runC(['sys/ioctl.h'], lines.join('\n'));
  return measured;
}

function get(key: string): bigint {
  const v = probe().get(key);
  if (v === undefined) throw new Error(`probe printed no ${key}`);
  return v;
}

// ---- header parsing (for the reverse direction) ----

function stripComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}
const CODE = stripComments(H);

/** struct name -> member names, in order, with array-ness. */
function headerStructs(): Map<string, { name: string; flex: boolean }[]> {
  const out = new Map<string, { name: string; flex: boolean }[]>();
  for (const m of CODE.matchAll(/struct\s+(\w+)\s*\{([^}]*)\}\s*;/g)) {
    const fields: { name: string; flex: boolean }[] = [];
    for (const decl of m[2].split(';')) {
      const d = decl.trim();
      if (!d) continue;
      const f = /(\w+)\s*(\[\s*(\w*)\s*\])?$/.exec(d);
      if (!f) throw new Error(`cannot parse member "${d}" of ${m[1]}`);
      fields.push({ name: f[1], flex: f[2] !== undefined && f[3] === '' });
    }
    out.set(m[1], fields);
  }
  return out;
}

const PADDING = /^(padding|dummy\d*|unused\d*|spare\d*|reserved|__\w+)$/;

function enumBody(name: string): [string, number][] {
  const m = new RegExp(`enum\\s+${name}\\s*\\{([^}]*)\\}`).exec(CODE);
  if (!m) throw new Error(`enum ${name} not in header`);
  return [...m[1].matchAll(/(\w+)\s*=\s*(\d+)/g)].map((x) => [x[1], Number(x[2])]);
}

/** #define NAME (1 << n) / (1ULL << n) with the given prefix, within [from, to) of the header text. */
function bitDefines(prefix: string, text = CODE): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`#define\\s+${prefix}(\\w+)\\s+\\(1(?:ULL|ull)?\\s*<<\\s*(\\d+)\\)`, 'g');
  for (const m of text.matchAll(re)) out.set(m[1], Number(m[2]));
  return out;
}

/** The INIT capability block: from FUSE_ASYNC_READ to the CUSE flags that follow it. */
function initBlock(): string {
  const a = CODE.indexOf('#define FUSE_ASYNC_READ');
  const b = CODE.indexOf('CUSE_UNRESTRICTED_IOCTL', a);
  assert.ok(a >= 0 && b > a, 'INIT flag block found in header');
  return CODE.slice(a, b);
}

// ---- the checks ----

test('header: the C probe compiles against fuse_kernel.h 7.45', () => {
  assert.match(H, /#define FUSE_KERNEL_MINOR_VERSION 45/);
  assert.ok(probe().size > 300, `probe printed ${probe().size} values`);
});

test('layout: sizeof every LAYOUT struct matches C', () => {
  const bad: string[] = [];
  for (const [s, f] of Object.entries(LAYOUT)) {
    const c = get(`size.${s}`);
    if (BigInt(f.size) !== c) bad.push(`sizeof(${s}) ts=${f.size} c=${c}`);
  }
  assert.equal(bad, []);
});

test('layout: offsetof every LAYOUT field matches C (incl. nested structs)', () => {
  const bad: string[] = [];
  let n = 0;
  for (const [s, fields] of Object.entries(LAYOUT)) {
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'size') continue;
      n++;
      const c = get(`off.${s}.${k}`);
      if (BigInt(v) !== c) bad.push(`offsetof(${s}, ${member(k)}) ts=${v} c=${c}`);
    }
  }
  assert.equal(bad, []);
  assert.ok(n > 200, `${n} fields checked`);
});

test('layout: every named (non-padding) member of a LAYOUT struct is in LAYOUT', () => {
  const structs = headerStructs();
  const missing: string[] = [];
  for (const [s, fields] of Object.entries(LAYOUT)) {
    const members = structs.get(s);
    if (!members) {
      missing.push(`struct ${s} not in header`);
      continue;
    }
    const keys = new Set(Object.keys(fields).filter((k) => k !== 'size').map(member));
    for (const m of members) {
      if (m.flex || PADDING.test(m.name)) continue;
      if (!keys.has(m.name)) missing.push(`${s}.${m.name}`);
    }
  }
  assert.equal(missing, []);
});

test('layout: header structs absent from LAYOUT are exactly the known ones', () => {
  const absent = [...headerStructs().keys()].filter((s) => !(s in LAYOUT)).sort();
  // fuse_statfs_out only wraps fuse_kstatfs; CUSE, ioctl iovecs (FUSE_IOCTL_RETRY) and io_uring are not
  // implemented by the protocol layer.
  assert.equal(absent, [
    'cuse_init_in', 'cuse_init_out', 'fuse_ioctl_iovec', 'fuse_statfs_out', 'fuse_uring_cmd_req',
    'fuse_uring_ent_in_out', 'fuse_uring_req_header',
  ]);
});

test('layout: flexible name arrays start right after the fixed part (FUSE_NAME_OFFSET)', () => {
  assert.is(get('extra.FUSE_NAME_OFFSET'), BigInt(LAYOUT.fuse_dirent.size));
  assert.is(get('extra.FUSE_NAME_OFFSET_DIRENTPLUS'), BigInt(LAYOUT.fuse_direntplus.size));
  assert.is(LAYOUT.fuse_direntplus.size, LAYOUT.fuse_entry_out.size + LAYOUT.fuse_dirent.size);
  assert.is(get('extra.supp_groups.groups'), BigInt(LAYOUT.fuse_supp_groups.size));
});

test('layout: header sizes IN_HEADER_SIZE/OUT_HEADER_SIZE and INIT_IN_COMPAT_SIZE', () => {
  assert.is(BigInt(abi.IN_HEADER_SIZE), get('size.fuse_in_header'));
  assert.is(BigInt(abi.OUT_HEADER_SIZE), get('size.fuse_out_header'));
  // a pre-7.36 kernel sends init_in up to (not including) flags2
  assert.is(BigInt(abi.INIT_IN_COMPAT_SIZE), get('extra.init_in.flags2'));
});

test('layout: compat sizes of the header (entry/attr out, setxattr/write in, init out)', () => {
  // the protocol layer negotiates >= 7.12 and always uses full-size entry/attr replies
  assert.is(get('extra.FUSE_COMPAT_ENTRY_OUT_SIZE'), 120n);
  assert.is(get('extra.FUSE_COMPAT_ATTR_OUT_SIZE'), 96n);
  assert.is(get('extra.FUSE_COMPAT_SETXATTR_IN_SIZE'), 8n); // decodeSetxattr without ext reads 8 bytes
  assert.is(get('extra.FUSE_COMPAT_WRITE_IN_SIZE'), 24n);
  assert.is(get('extra.FUSE_COMPAT_INIT_OUT_SIZE'), 8n); // negotiateInit 'version' reply size
  assert.is(get('extra.FUSE_COMPAT_22_INIT_OUT_SIZE'), 24n); // negotiateInit size for minor < 23
});

test('opcodes: every Opcode value equals the header enum', () => {
  const bad: string[] = [];
  for (const [k, v] of Object.entries(Opcode)) {
    const c = get(`opcode.${k}`);
    if (BigInt(v) !== c) bad.push(`${k} ts=${v} c=${c}`);
  }
  assert.equal(bad, []);
});

test('opcodes: every header opcode is in Opcode (except the BSWAP sentinels)', () => {
  const fromHeader = enumBody('fuse_opcode')
    .filter(([k]) => !k.endsWith('_BSWAP_RESERVED'))
    .map(([k, v]) => [k.startsWith('FUSE_') ? k.slice(5) : k, v] as const);
  assert.equal(Object.fromEntries(fromHeader), { ...Opcode });
  assert.is(abi.MAX_OPCODE, Math.max(...fromHeader.filter(([k]) => k !== 'CUSE_INIT').map(([, v]) => v)));
});

test('notify codes: NotifyCode equals enum fuse_notify_code both ways', () => {
  for (const [k, v] of Object.entries(NotifyCode)) assert.is(get(`notify.${k}`), BigInt(v), k);
  const fromHeader = enumBody('fuse_notify_code').map(([k, v]) => [k.replace(/^FUSE_NOTIFY_/, ''), v]);
  assert.equal(Object.fromEntries(fromHeader), { ...NotifyCode });
});

test('flags: every bit of every flag family equals its #define (INIT bits up to 42 via 1ULL)', () => {
  const bad: string[] = [];
  for (const f of FAMILIES) {
    for (const [k, bit] of Object.entries(f.spec.bits)) {
      // (1 << 31) is a negative int in C that sign-extends when widened: bits below 32 live in a u32 field
      let c = get(`flag.${f.spec.name}.${k}`);
      if (bit < 32) c &= 0xffffffffn;
      if (c !== 1n << BigInt(bit)) bad.push(`${cFlag(f, k)} ts=bit${bit} c=${c}`);
      if (BigInt(f.spec.value(k)) !== c) bad.push(`${f.spec.name}.value(${k})=${f.spec.value(k)} c=${c}`);
    }
  }
  assert.equal(bad, []);
});

test('flags: INIT flags of the header all exist in InitFlags (bits 0..63)', () => {
  const defs = bitDefines('FUSE_', initBlock());
  assert.ok(defs.size >= 43, `${defs.size} INIT flags parsed`);
  assert.equal(Object.fromEntries(defs), { ...InitFlags.bits });
});

test('flags: FOPEN_* and FATTR_* both ways, and the FOPEN/FATTR value tables agree with the specs', () => {
  assert.equal(Object.fromEntries(bitDefines('FOPEN_')), { ...FopenFlags.bits });
  assert.equal(Object.fromEntries(bitDefines('FATTR_')), { ...SetattrValid.bits });
  for (const [k, v] of Object.entries(FOPEN)) {
    assert.is(BigInt(v), get(`flag.fopen.${k}`), `FOPEN.${k}`);
    assert.is(FopenFlags.value(k as keyof typeof FOPEN), v);
  }
  for (const [k, v] of Object.entries(FATTR)) {
    assert.is(BigInt(v), get(`flag.fattr.${k}`), `FATTR.${k}`);
    assert.is(SetattrValid.value(k as keyof typeof FATTR), v);
  }
  assert.equal(Object.keys(FOPEN), Object.keys(FopenFlags.bits));
  assert.equal(Object.keys(FATTR), Object.keys(SetattrValid.bits));
});

test('flags: the small families (release, getattr, lk, write, read, ioctl, poll, fsync, attr, open, setxattr, inval_entry) are complete', () => {
  const init = new Set(bitDefines('FUSE_', initBlock()).keys());
  for (const f of FAMILIES.slice(3)) {
    if (f.prefix === 'FUSE_') continue; // inval_entry: checked by value above (FUSE_EXPIRE_ONLY)
    const defs = new Map([...bitDefines(f.prefix)].filter(([k]) => !init.has(f.prefix.slice(5) + k)));
    const inv = Object.fromEntries(Object.entries(f.rename ?? {}).map(([a, b]) => [b, a]));
    const named = Object.fromEntries([...defs].map(([k, v]) => [inv[k] ?? k, v]));
    assert.equal(named, { ...f.spec.bits }, f.spec.name);
  }
});

test('constants: every FUSE_* number of abi.ts equals the header (versions, root id, ioctl numbers, resend bit)', () => {
  const bad: string[] = [];
  const names: string[] = [];
  for (const [k, v, expr] of scalarConstants()) {
    names.push(k);
    const c = get(`const.${k}`);
    if (BigInt(v) !== c) bad.push(`${k} ts=${v} c(${expr})=${c}`);
  }
  assert.equal(bad, []);
  for (const k of [
    'FUSE_KERNEL_VERSION', 'FUSE_KERNEL_MINOR_VERSION', 'FUSE_ROOT_ID', 'FUSE_MIN_READ_BUFFER', 'FUSE_IOCTL_MAX_IOV',
    'FUSE_UNIQUE_RESEND_HI', 'FUSE_INVALID_UIDGID', 'FUSE_EXT_GROUPS', 'FUSE_EXPIRE_ONLY',
  ]) assert.ok(names.includes(k), `${k} checked`);
});

test('ioctls: FUSE_DEV_IOC_CLONE/BACKING_OPEN/BACKING_CLOSE/SYNC_INIT computed by C _IOR/_IOW/_IO', () => {
  assert.is(get('const.FUSE_DEV_IOC_CLONE'), BigInt(abi.FUSE_DEV_IOC_CLONE));
  assert.is(get('const.FUSE_DEV_IOC_BACKING_OPEN'), BigInt(abi.FUSE_DEV_IOC_BACKING_OPEN));
  assert.is(get('const.FUSE_DEV_IOC_BACKING_CLOSE'), BigInt(abi.FUSE_DEV_IOC_BACKING_CLOSE));
  assert.is(get('const.FUSE_DEV_IOC_SYNC_INIT'), BigInt(abi.FUSE_DEV_IOC_SYNC_INIT));
  // and the formula: dir << 30 | size << 16 | magic << 8 | nr
  const magic = Number(get('extra.FUSE_DEV_IOC_MAGIC'));
  const ioc = (dir: bigint, nr: number, size: number) => Number((dir << 30n) | (BigInt(size) << 16n) | (BigInt(magic) << 8n) | BigInt(nr));
  assert.is(abi.FUSE_DEV_IOC_CLONE, ioc(get('extra._IOC_READ'), 0, 4));
  assert.is(abi.FUSE_DEV_IOC_BACKING_OPEN, ioc(get('extra._IOC_WRITE'), 1, LAYOUT.fuse_backing_map.size));
  assert.is(abi.FUSE_DEV_IOC_BACKING_CLOSE, ioc(get('extra._IOC_WRITE'), 2, 4));
  assert.is(abi.FUSE_DEV_IOC_SYNC_INIT, ioc(0n, 3, 0));
});

test('constants: every #define of the header with a plain number is either in abi.ts or known-absent', () => {
  const plain = [...CODE.matchAll(/#define\s+(\w+)\s+(\d+)\s*$/gm)].map((m) => m[1]);
  const ours = new Set(scalarConstants().map(([k]) => k));
  const absent = plain.filter((k) => !ours.has(k)).sort();
  // compat sizes and io_uring/CUSE sizes are used as literals or not implemented
  assert.equal(absent, [
    'CUSE_INIT_INFO_MAX', 'FUSE_COMPAT_22_INIT_OUT_SIZE', 'FUSE_COMPAT_ATTR_OUT_SIZE', 'FUSE_COMPAT_ENTRY_OUT_SIZE',
    'FUSE_COMPAT_INIT_OUT_SIZE', 'FUSE_COMPAT_MKNOD_IN_SIZE', 'FUSE_COMPAT_SETXATTR_IN_SIZE',
    'FUSE_COMPAT_STATFS_SIZE', 'FUSE_COMPAT_WRITE_IN_SIZE', 'FUSE_DEV_IOC_MAGIC', 'FUSE_URING_IN_OUT_HEADER_SZ',
    'FUSE_URING_OP_IN_OUT_SZ',
  ]);
});

test.run();
