// A source directory as mkcomposefs 1.0.8 reads it (lcfs_build + compute_digest): every entry its own inode
// (hardlinks are not detected: each name is a file with nlink 1), mode/uid/gid/rdev/size from lstat, mtimes
// unless --use-epoch, xattrs unless --skip-xattrs (only user.* with --user-xattrs), devices left out with
// --skip-devices; non-empty regular files get their fs-verity digest and the object path XX/REST as payload,
// and files of at most 64 bytes are inlined instead. Digests are computed after the walk, on several threads.

import * as os from 'node:os';
import * as F from '../reader/format.js';
import { DumpfileError, setExternalXattr } from './dumpfile.js';
import { WNode } from './node.js';
import { SourceError, mtimeOf, rdev32, readSourceTree, readSymlink, readXattrs, type SourceEntry } from './source-tree.js';
import { digestObjectPath } from '../../verity/digest.js';
import { type DigestJob, digestAll } from './digest-pool.js';
import { FileDigestError } from './file-digest.js';

const PATH_MAX = 4096;

export interface ComposefsSourceOptions {
  useEpoch?: boolean;
  skipDevices?: boolean;
  skipXattrs?: boolean;
  userXattrs?: boolean;
  /** Threads computing digests (mkcomposefs --threads). */
  threads?: number;
}

function makeNode(e: SourceEntry, o: ComposefsSourceOptions, pending: Pending[]): WNode | undefined {
  const st = e.st;
  const type = Number(st.mode) & F.S_IFMT;
  if (o.skipDevices && e.rel !== '' && (type === F.S_IFCHR || type === F.S_IFBLK)) return undefined;
  const n = new WNode();
  n.mode = Number(st.mode);
  n.uid = Number(st.uid);
  n.gid = Number(st.gid);
  n.rdev = rdev32(st);
  n.size = Number(st.size);
  n.origin = e.rel || '/';
  if (type === F.S_IFREG) {
    if (n.size > 0) {
      n.data = { kind: 'file', path: e.path };
      pending.push({ node: n, job: { path: e.path, rel: e.rel, size: n.size } });
    }
  } else if (type === F.S_IFLNK) {
    n.payload = readSymlink(e);
    if (n.payload.length >= PATH_MAX) throw new SourceError(`error accessing ${e.rel}: symlink target too long`);
    n.size = n.payload.length;
  }
  if (!o.useEpoch) [n.mtimeSec, n.mtimeNsec] = mtimeOf(st);
  if (!o.skipXattrs) {
    for (const [k, v] of readXattrs(e, o.userXattrs ? (name) => name.startsWith('user.') : undefined)) {
      try {
        setExternalXattr(n, k, v, e.rel || '/');
      } catch (err) {
        if (err instanceof DumpfileError) throw new SourceError(`error accessing ${err.message}`);
        throw err;
      }
    }
  }
  return n;
}

interface Pending {
  node: WNode;
  job: DigestJob;
}

/** Reads the tree, then digests the regular files on `threads` threads (default: one per CPU). */
export async function readComposefsSource(root: string, o: ComposefsSourceOptions): Promise<WNode> {
  const pending: Pending[] = [];
  const tree = readSourceTree(root, (e) => makeNode(e, o, pending));
  let results;
  try {
    results = await digestAll(pending.map((p) => p.job), o.threads ?? os.availableParallelism());
  } catch (e) {
    if (e instanceof FileDigestError) throw new SourceError(e.message);
    throw e;
  }
  pending.forEach(({ node }, i) => {
    const { digest, content } = results[i]!;
    node.digest = digest;
    node.payload = new TextEncoder().encode(digestObjectPath(digest));
    if (content) node.data = { kind: 'content', bytes: content };
  });
  return tree;
}
