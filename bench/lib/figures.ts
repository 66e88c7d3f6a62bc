// What is measured: one row per figure, with its unit, which way is better, and the tsfuse contender the
// others are compared with.

export type Better = 'higher' | 'lower';

export interface Figure {
  id: string;
  label: string;
  unit: string;
  better: Better;
  group: 'metadata' | 'data' | 'start-up' | 'cpu' | 'passthrough' | 'memfs';
  /** The tsfuse contender ratios are taken against (first one present wins). */
  base: string[];
  note?: string;
}

const EROFS_BASE = ['tsfuse-erofs', 'tsfuse-erofs-1w', 'tsfuse-cfs-pt'];
const PT_BASE = ['tsfuse-pt', 'tsfuse-pt-nopt'];
const MEMFS_BASE = ['memfs-1fd', 'memfs-threads-1fd', 'memfs-2fd'];

export function figures(p: { entries: number; bigDir: number; bigFileMiB: number; memfsEntries: number }): Figure[] {
  const f: Figure[] = [
    { id: 'stat1', label: `uncached lstat of every entry (${p.entries}; memfs: ${p.memfsEntries}), 1 client`, unit: 'lstat/s', better: 'higher', group: 'metadata', base: EROFS_BASE },
    { id: 'stat2', label: `uncached lstat of every entry, 2 client processes`, unit: 'lstat/s', better: 'higher', group: 'metadata', base: EROFS_BASE },
    { id: 'readdir', label: `readdir of the ${p.bigDir}-entry directory`, unit: 'ms/pass', better: 'lower', group: 'metadata', base: EROFS_BASE },
    { id: 'find-cold', label: 'find of the whole tree, cold (drop_caches)', unit: 'ms', better: 'lower', group: 'metadata', base: EROFS_BASE },
    { id: 'req-readdir', label: `requests per readdir pass of the ${p.bigDir}-entry directory (counted by the kernel)`, unit: 'requests', better: 'lower', group: 'metadata', base: EROFS_BASE },
    { id: 'req-find', label: 'requests of one cold find (counted by the kernel)', unit: 'requests', better: 'lower', group: 'metadata', base: EROFS_BASE },
    { id: 'find-warm', label: 'find of the whole tree, warm', unit: 'ms', better: 'lower', group: 'metadata', base: EROFS_BASE },
    { id: 'seq-cold', label: `sequential 1 MiB reads of the ${p.bigFileMiB} MiB file, cold`, unit: 'MiB/s', better: 'higher', group: 'data', base: EROFS_BASE },
    { id: 'seq-warm', label: 'sequential 1 MiB reads, warm', unit: 'MiB/s', better: 'higher', group: 'data', base: EROFS_BASE },
    { id: 'rand-cold', label: '4 KiB random reads, cold', unit: 'MiB/s', better: 'higher', group: 'data', base: EROFS_BASE },
    { id: 'rand-warm', label: '4 KiB random reads, warm (same offsets again)', unit: 'MiB/s', better: 'higher', group: 'data', base: EROFS_BASE },
    { id: 'startup-small', label: 'start-up: spawn to first stat, 10-entry image', unit: 'ms', better: 'lower', group: 'start-up', base: EROFS_BASE },
    { id: 'startup-big', label: `start-up: spawn to first stat, the ${p.entries}-entry image`, unit: 'ms', better: 'lower', group: 'start-up', base: EROFS_BASE },
    { id: 'cpu-stat', label: 'server CPU per client lstat (uncached, 1 client)', unit: 'µs', better: 'lower', group: 'cpu', base: EROFS_BASE },
    { id: 'req-stat', label: 'requests per client lstat (uncached, counted by the kernel: fuse_request_send)', unit: 'requests', better: 'lower', group: 'cpu', base: EROFS_BASE },
    { id: 'cpu-req', label: 'server CPU per request (uncached lstat pass, 1 client)', unit: 'µs', better: 'lower', group: 'cpu', base: EROFS_BASE },
    { id: 'cpu-find', label: 'server CPU of one cold find', unit: 'ms', better: 'lower', group: 'cpu', base: EROFS_BASE },
    { id: 'cpu-seq', label: 'server CPU per MiB read (sequential, cold)', unit: 'µs', better: 'lower', group: 'cpu', base: EROFS_BASE },
    { id: 'cpu-rand', label: 'server CPU per client 4 KiB read (random, cold)', unit: 'µs', better: 'lower', group: 'cpu', base: EROFS_BASE },
    { id: 'pt-seq-cold', label: `passthrough fs: sequential 1 MiB reads of the ${p.bigFileMiB} MiB file, cold`, unit: 'MiB/s', better: 'higher', group: 'passthrough', base: PT_BASE },
    { id: 'pt-seq-warm', label: 'passthrough fs: sequential 1 MiB reads, warm', unit: 'MiB/s', better: 'higher', group: 'passthrough', base: PT_BASE },
    { id: 'pt-rand-cold', label: 'passthrough fs: 4 KiB random reads, cold', unit: 'MiB/s', better: 'higher', group: 'passthrough', base: PT_BASE },
    { id: 'pt-rand-warm', label: 'passthrough fs: 4 KiB random reads, warm', unit: 'MiB/s', better: 'higher', group: 'passthrough', base: PT_BASE },
    { id: 'pt-create', label: 'passthrough fs: create (open O_CREAT+close)', unit: 'ops/s', better: 'higher', group: 'passthrough', base: PT_BASE },
    { id: 'pt-stat', label: 'passthrough fs: lstat of the new files', unit: 'ops/s', better: 'higher', group: 'passthrough', base: PT_BASE },
    { id: 'pt-unlink', label: 'passthrough fs: unlink', unit: 'ops/s', better: 'higher', group: 'passthrough', base: PT_BASE },
    { id: 'pt-cpu-rand', label: 'passthrough fs: server CPU per client 4 KiB read (random, cold)', unit: 'µs', better: 'lower', group: 'passthrough', base: PT_BASE },
    { id: 'memfs-req1', label: `memfs uncached stat loop (${p.memfsEntries} entries copied from the tree): requests/s counted by the server, 1 client`, unit: 'req/s', better: 'higher', group: 'memfs', base: MEMFS_BASE },
    { id: 'memfs-req2', label: 'memfs stat loop requests/s, 2 client processes', unit: 'req/s', better: 'higher', group: 'memfs', base: MEMFS_BASE },
    { id: 'memfs-cpu', label: 'memfs server CPU per request (1 client)', unit: 'µs', better: 'lower', group: 'memfs', base: MEMFS_BASE },
  ];
  return f;
}
