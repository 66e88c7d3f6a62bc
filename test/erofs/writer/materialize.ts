// Turns a composefs dumpfile (plus the object store its images came with) back into the directory tree it
// describes, so that the fixtures made by the real mkcomposefs from a directory can be rebuilt from a
// directory by ours: content from the inline field or the object store, symlinks, devices, fifos, owners,
// modes, xattrs (setfattr) and nanosecond mtimes (touch). Runs as root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DumpfileParser } from '../../../src/erofs/writer/dumpfile.js';
import type { WNode } from '../../../src/erofs/writer/node.js';
import * as F from '../../../src/erofs/reader/format.js';
import { type BPath, fsPath, runSync, setMtimes, setXattrs, type Xattr } from '../kit/index.js';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

export function materializeDump(dumpFile: string, objects: string, out: string): string {
  const parser = new DumpfileParser();
  for (const line of fs.readFileSync(dumpFile).toString('latin1').split('\n')) if (line) parser.line(Buffer.from(line, 'latin1'));
  const root = parser.finish();
  fs.mkdirSync(out, { recursive: true });
  const dest = path.resolve(out);
  const xattrs: Array<{ path: BPath; xattrs: Xattr[] }> = [];
  const mtimes: Array<[BPath, string]> = [];
  const visit = (n: WNode, rel: BPath): void => {
    const p = fsPath(dest, rel);
    if (n.linkTo) {
      const t = n.target();
      fs.linkSync(fsPath(dest, relOf(t)), p);
      return;
    }
    const type = n.type;
    if (rel !== '') {
      if (type === F.S_IFDIR) fs.mkdirSync(p);
      else if (type === F.S_IFREG) {
        if (n.data?.kind === 'content') fs.writeFileSync(p, n.data.bytes);
        else if (n.payload) fs.copyFileSync(path.join(objects, latin1(n.payload)), p);
        else fs.writeFileSync(p, '');
      } else if (type === F.S_IFLNK) fs.symlinkSync(Buffer.from(n.payload!), p);
      else if (type === F.S_IFIFO) runSync('mknod', ['--', latin1(p), 'p']);
      else {
        const major = (n.rdev >>> 8) & 0xfff;
        const minor = (n.rdev & 0xff) | ((n.rdev >>> 12) & 0xfff00);
        runSync('mknod', ['--', latin1(p), type === F.S_IFCHR ? 'c' : 'b', String(major), String(minor)]);
      }
    }
    fs.lchownSync(p, n.uid, n.gid);
    if (type !== F.S_IFLNK) fs.chmodSync(p, n.mode & 0o7777);
    if (n.xattrs.length) xattrs.push({ path: rel, xattrs: n.xattrs.map((x) => [latin1(x.key), Buffer.from(x.value)] as Xattr) });
    mtimes.push([rel, `${n.mtimeSec}.${String(n.mtimeNsec).padStart(9, '0')}`]);
    for (const c of n.children) visit(c, rel ? `${rel}/${latin1(c.name!)}` : latin1(c.name!));
  };
  const relOf = (n: WNode): BPath => {
    const parts: string[] = [];
    for (let x: WNode | undefined = n; x && x !== root; x = x.parent) parts.unshift(latin1(x.name!));
    return parts.join('/');
  };
  visit(root, '');
  setXattrs(dest, xattrs);
  // deepest first, so that setting a directory's mtime is not undone by its children
  setMtimes(dest, mtimes.reverse());
  return dest;
}
