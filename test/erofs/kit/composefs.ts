// buildComposefsImage: a composefs-style EROFS image without mkcomposefs (Debian 12 has none), made by
// rewriting a copy of the tree the way libcomposefs's writer (lcfs-writer-erofs.c) rewrites its tree, then
// running mkfs.erofs 1.5 on it:
//
// - a regular file bigger than `inlineMax` (64, like mkcomposefs) keeps its inode (mode, owner, mtime,
//   xattrs, *size*) but no data: the staged copy is a sparse file of the real size, and with --chunksize the
//   all-zero chunks are deduplicated, so the image stays small. Its content goes to OBJECTS/XX/REST, named
//   by the fs-verity digest (hex XXREST), and the inode gets
//     trusted.overlay.metacopy = 00 24 00 01 <32-byte digest>   (version 0, len 36, flags 0, sha256)
//     trusted.overlay.redirect = "/XX/REST"
//   Files of at most inlineMax bytes (and empty files) keep their data in the image.
// - every trusted.overlay.X xattr of the source is escaped to trusted.overlay.overlay.X;
// - a whiteout (char device 0:0) becomes an empty regular file with trusted.overlay.overlay.whiteout and
//   user.overlay.whiteout, and its directory gets trusted.overlay.overlay.whiteouts and user.overlay.whiteouts;
// - the root gets trusted.overlay.opaque=y and the 256 whiteouts 00..ff (char 0:0, mode 0644, the root's
//   owner and mtime) that hide the object directories when the image is an overlay's lower layer.
//
// Difference from a real mkcomposefs image: the data layout of stub files is mkfs.erofs 1.5's (chunk-based,
// deduplicated zero chunks) instead of mkcomposefs's single null chunk, and the kernel mount of the image
// itself shows zeros as their content; everything the composefs reader uses (size, xattrs) is the same.
//
// With `malicious: true` the image also has /cfs-evil/* entries whose redirects try to leave the object store
// (see MaliciousEntry); the object store gets the symlinks they need.
//
// Synchronous helpers inside (cp, getfattr, setfattr, touch, mknod): call during test setup only.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type BPath, bDirname, bJoin, escapeBytes, fsPath } from '../../helpers/bytes.js';
import { fsverityDigest, objectPath } from './fsverity.js';
import { type BuildResult, type ImageVariant, buildImage } from './images.js';
import { nsToTouch, setMtimes } from './mtimes.js';
import { runSync } from '../../helpers/proc.js';
import { type Xattr, readTreeXattrs, removeXattr, setXattrs } from '../../helpers/xattrs.js';

export const OVERLAY_PREFIX = 'trusted.overlay.';
export const OVERLAY_ESCAPE_PREFIX = 'trusted.overlay.overlay.';
export const XATTR_METACOPY = 'trusted.overlay.metacopy';
export const XATTR_REDIRECT = 'trusted.overlay.redirect';
export const XATTR_OPAQUE = 'trusted.overlay.opaque';

export interface ComposefsOptions {
  /** Files of at most this many bytes keep their data in the image (default 64, as mkcomposefs). */
  inlineMax?: number;
  /** Add /cfs-evil/* entries with escaping redirects (default false). */
  malicious?: boolean;
  /** mkfs.erofs variant (default 'chunk4k', which keeps the data-less stubs cheap). */
  variant?: ImageVariant;
  /** Keep the rewritten tree here instead of a removed temporary directory (must not exist). */
  stagingDir?: string;
}

export interface ComposefsObject {
  /** Relative byte path (latin1 string) in the tree. */
  rel: BPath;
  /** "XX/REST" under objectsDir. */
  object: string;
  size: number;
  sha256: string;
  /** fs-verity digest, hex (= object name without the slash). */
  fsverity: string;
}

export interface MaliciousEntry {
  /** Path in the image as in a dump ("/cfs-evil/dotdot"). */
  path: string;
  /** The redirect xattr value (may contain NUL). */
  redirect: Buffer;
  /** Inode size recorded in the image. */
  size: number;
  description: string;
  /**
   * What a safe server does: 'refuse' = the read must fail (EIO/ENOENT/EPERM, never data from outside the
   * store); 'short' = the object exists but is smaller than the inode size.
   */
  expect: 'refuse' | 'short';
}

export interface ComposefsManifest {
  image: string;
  objectsDir: string;
  /** Escaped dump path ("/sizes/rand-4096") -> object, for every name of every externally stored file. */
  files: Record<string, ComposefsObject>;
  /** Escaped paths of regular files kept inline (size <= inlineMax). */
  inline: string[];
  /** Escaped paths of source whiteouts, now escaped regular files. */
  escapedWhiteouts: string[];
  /** Source trusted.overlay.* xattrs that were escaped. */
  escapedXattrs: Array<{ path: string; from: string; to: string }>;
  /** Names of the whiteouts added to the root (00..ff minus existing names). */
  rootWhiteouts: string[];
  malicious: MaliciousEntry[];
  build: BuildResult;
}

interface StagedEntry {
  rel: BPath;
  st: fs.BigIntStats;
}

function walk(root: string): StagedEntry[] {
  const out: StagedEntry[] = [];
  const visit = (rel: BPath): void => {
    const st = fs.lstatSync(fsPath(root, rel), { bigint: true });
    out.push({ rel, st });
    if (st.isDirectory()) {
      for (const n of fs.readdirSync(fsPath(root, rel), { encoding: 'buffer' })) visit(bJoin(rel, n.toString('latin1')));
    }
  };
  visit('');
  return out;
}

function metacopyValue(digest: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0, 36, 0, 1]), digest]);
}

const dumpKey = (rel: BPath): string => '/' + escapeBytes(rel);

export async function buildComposefsImage(
  srcTree: string,
  outImage: string,
  objectsDir: string,
  opts: ComposefsOptions = {},
): Promise<ComposefsManifest> {
  const inlineMax = opts.inlineMax ?? 64;
  const tmp = opts.stagingDir ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-cfs-'));
  const stage = opts.stagingDir ? path.resolve(opts.stagingDir) : path.join(tmp!, 'stage');
  fs.mkdirSync(objectsDir, { recursive: true });
  try {
    runSync('cp', ['-a', '--sparse=always', '--', path.resolve(srcTree), stage]);
    const entries = walk(stage);
    const xattrs = readTreeXattrs(stage).byPath;
    const newXattrs = new Map<BPath, Xattr[]>();
    const addX = (rel: BPath, x: Xattr): void => {
      let l = newXattrs.get(rel);
      if (!l) newXattrs.set(rel, (l = []));
      l.push(x);
    };
    const restoreMtime = new Map<BPath, string>();
    const manifest: Omit<ComposefsManifest, 'build'> = {
      image: outImage,
      objectsDir,
      files: {},
      inline: [],
      escapedWhiteouts: [],
      escapedXattrs: [],
      rootWhiteouts: [],
      malicious: [],
    };

    // 1. escape the source's trusted.overlay.* xattrs
    for (const [rel, list] of xattrs) {
      for (const [name, value] of list) {
        if (!name.startsWith(OVERLAY_PREFIX)) continue;
        const to = OVERLAY_ESCAPE_PREFIX + name.slice(OVERLAY_PREFIX.length);
        removeXattr(stage, rel, name);
        addX(rel, [to, value]);
        manifest.escapedXattrs.push({ path: dumpKey(rel), from: name, to });
      }
    }

    // 2. regular files: content to the object store, a sparse stub of the same size in the image
    const done = new Map<string, ComposefsObject | null>(); // dev:ino -> object (null = inline)
    for (const { rel, st } of entries) {
      if (!st.isFile()) continue;
      const ino = `${st.dev}:${st.ino}`;
      let obj = done.get(ino);
      if (obj === undefined) {
        if (st.size <= BigInt(inlineMax)) obj = null;
        else {
          const p = fsPath(stage, rel);
          const data = fs.readFileSync(p);
          const digest = fsverityDigest(data);
          const object = objectPath(digest);
          const dest = path.join(objectsDir, object);
          if (!fs.existsSync(dest)) {
            fs.mkdirSync(path.dirname(dest), { recursive: true });
            fs.writeFileSync(dest, data, { mode: 0o644 });
          }
          fs.truncateSync(p, 0);
          fs.truncateSync(p, data.length);
          restoreMtime.set(rel, nsToTouch(st.mtimeNs));
          addX(rel, [XATTR_METACOPY, metacopyValue(digest)]);
          addX(rel, [XATTR_REDIRECT, Buffer.from('/' + object)]);
          obj = { rel, object, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), fsverity: digest.toString('hex') };
        }
        done.set(ino, obj);
      }
      if (obj === null) manifest.inline.push(dumpKey(rel));
      else manifest.files[dumpKey(rel)] = { ...obj, rel };
    }

    // 3. whiteouts in the source become escaped regular files
    const mtimeOf = new Map(entries.map((e) => [e.rel, nsToTouch(e.st.mtimeNs)]));
    for (const { rel, st } of entries) {
      if (!st.isCharacterDevice() || st.rdev !== 0n) continue;
      const p = fsPath(stage, rel);
      fs.unlinkSync(p);
      fs.writeFileSync(p, '');
      fs.lchownSync(p, Number(st.uid), Number(st.gid));
      fs.chmodSync(p, Number(st.mode) & 0o7777);
      for (const [name, value] of xattrs.get(rel) ?? []) {
        if (!name.startsWith(OVERLAY_PREFIX)) addX(rel, [name, value]);
      }
      addX(rel, [OVERLAY_ESCAPE_PREFIX + 'whiteout', Buffer.alloc(0)]);
      addX(rel, ['user.overlay.whiteout', Buffer.alloc(0)]);
      const parent = bDirname(rel);
      if (!(newXattrs.get(parent) ?? []).some(([n]) => n === OVERLAY_ESCAPE_PREFIX + 'whiteouts')) {
        addX(parent, [OVERLAY_ESCAPE_PREFIX + 'whiteouts', Buffer.alloc(0)]);
        addX(parent, ['user.overlay.whiteouts', Buffer.alloc(0)]);
      }
      restoreMtime.set(rel, mtimeOf.get(rel)!);
      restoreMtime.set(parent, mtimeOf.get(parent)!);
      manifest.escapedWhiteouts.push(dumpKey(rel));
    }

    // 4. malicious redirects
    if (opts.malicious) {
      const evil = 'cfs-evil';
      fs.mkdirSync(fsPath(stage, evil), { mode: 0o755 });
      restoreMtime.set(evil, '1700000000.000000001');
      // object-store entries that point outside the store
      fs.mkdirSync(path.join(objectsDir, 'ee'), { recursive: true });
      fs.mkdirSync(path.join(objectsDir, 'ef'), { recursive: true });
      for (const [link, target] of [['ee/escape-link', '/etc/passwd'], ['ef/escape-dir', '/etc'], ['ef/escape-rel', '../../../../../../../../etc/passwd']] as const) {
        const lp = path.join(objectsDir, link);
        fs.rmSync(lp, { force: true });
        fs.symlinkSync(target, lp);
      }
      const realObj = Object.values(manifest.files).find((o) => o.size > 1000 && o.size < 100000);
      const fake = Buffer.alloc(32, 0xee);
      const evils: Array<[string, Buffer, string, MaliciousEntry['expect'], number?]> = [
        ['dotdot', Buffer.from('/../../../../../../etc/passwd'), 'redirect climbs out of the object store with ..', 'refuse'],
        ['dotdot-inner', Buffer.from('/ab/../../etc/passwd'), '.. after a valid-looking first component', 'refuse'],
        ['absolute-outside', Buffer.from('/etc/passwd'), 'an absolute host path (must resolve inside the store, where it does not exist)', 'refuse'],
        ['double-slash', Buffer.from('//etc/passwd'), 'leading // (must still resolve inside the store)', 'refuse'],
        ['symlink-file', Buffer.from('/ee/escape-link'), 'object is a symlink to /etc/passwd', 'refuse'],
        ['symlink-dir', Buffer.from('/ef/escape-dir/passwd'), 'object path goes through a symlink to /etc', 'refuse'],
        ['symlink-relative', Buffer.from('/ef/escape-rel'), 'object is a relative symlink climbing out', 'refuse'],
        ['missing', Buffer.from('/00/' + 'f'.repeat(62)), 'object does not exist', 'refuse'],
        ['empty-redirect', Buffer.alloc(0), 'empty redirect value', 'refuse'],
        ['nul-inside', Buffer.from('/ab/cd\0/../../../etc/passwd'), 'redirect with an embedded NUL', 'refuse'],
        ['object-is-dir', Buffer.from('/ee'), 'redirect names a directory of the store', 'refuse'],
      ];
      if (realObj) {
        evils.push(['short-object', Buffer.from('/' + realObj.object), `object (${realObj.size} bytes) is smaller than the inode size`, 'short', realObj.size + 100_000]);
      }
      for (const [name, redirect, description, expect, sizeOpt] of evils) {
        const rel = `${evil}/${name}`;
        const size = sizeOpt ?? 100;
        const p = fsPath(stage, rel);
        fs.writeFileSync(p, '');
        fs.truncateSync(p, size);
        fs.chmodSync(p, 0o644);
        // the short object carries its real digest: what it tests is the size, which fs-verity checks cannot see
        addX(rel, [XATTR_METACOPY, metacopyValue(expect === 'short' && realObj ? Buffer.from(realObj.fsverity, 'hex') : fake)]);
        addX(rel, [XATTR_REDIRECT, redirect]);
        restoreMtime.set(rel, '1700000000.000000002');
        manifest.malicious.push({ path: dumpKey(rel), redirect, size, description, expect });
      }
    }

    // 5. the root: opaque, and 256 whiteouts 00..ff hiding the object directories
    const rootSt = entries[0]!.st;
    addX('', [XATTR_OPAQUE, Buffer.from('y')]);
    const existing = new Set(fs.readdirSync(stage));
    const names = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).filter((n) => !existing.has(n));
    if (names.length > 0) {
      runSync('sh', ['-c', 'for n in "$@"; do mknod -m 644 "$n" c 0 0 || exit 1; done', 'sh', ...names], { cwd: stage });
      for (const n of names) fs.lchownSync(path.join(stage, n), Number(rootSt.uid), Number(rootSt.gid));
    }
    manifest.rootWhiteouts = names;
    const rootMtime = nsToTouch(rootSt.mtimeNs);
    for (const n of names) restoreMtime.set(n, rootMtime);
    restoreMtime.set('', rootMtime);

    // 6. write the xattrs, then put back every mtime the rewrite changed
    setXattrs(stage, [...newXattrs].map(([rel, list]) => ({ path: rel, xattrs: list })));
    setMtimes(stage, restoreMtime);

    const build = await buildImage(stage, outImage, opts.variant ?? 'chunk4k');
    return { ...manifest, build };
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
