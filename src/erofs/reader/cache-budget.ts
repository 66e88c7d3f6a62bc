// The reader's memory budget (`--cache-size`): one byte count split between its caches, so what a reader
// holds stays bounded whatever the image size. Image bytes themselves are not cached here: they come from
// the kernel's page cache through pread, which every worker shares, so each worker keeps only small caches
// of decoded things (metadata pages, inodes, directory blocks, decoded compressed extents).

/** Default budget of one reader (one worker), in bytes. */
export const DEFAULT_READER_CACHE_BYTES = 16 * 1024 * 1024;
/** Below this a reader could not even hold one 1 MiB decoded extent next to its metadata. */
export const MIN_CACHE_BYTES = 1024 * 1024;

/** What one cached inode costs, about (the decoded object, its fields and its map slot; an estimate). */
export const INODE_WEIGHT = 320;
/** Fixed cost of a cached directory block besides its bytes (the object, names index). */
export const DIR_BLOCK_OVERHEAD = 256;

export interface CacheSplit {
  metaBytes: number;
  extentBytes: number;
  inodeBytes: number;
  dirBytes: number;
}

/**
 * How a budget is shared: decoded extents get half (they are what a compressed image re-reads when a READ
 * ends inside one), decoded inodes a quarter (every LOOKUP and GETATTR wants one: at 16 MiB that is ~13k
 * inodes, where an eighth thrashed a 10k-entry stat loop), metadata pages and directory blocks an eighth
 * each (pages only feed inode and inline-data decoding, and an image's inodes are spread over many).
 */
export function splitBudget(total: number): CacheSplit {
  const t = Math.max(MIN_CACHE_BYTES, Math.floor(total));
  return { extentBytes: Math.floor(t / 2), metaBytes: Math.floor(t / 8), inodeBytes: Math.floor(t / 4), dirBytes: Math.floor(t / 8) };
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "64M", "512k", "1G", "1048576" (binary units, optional trailing "b"/"ib") -> bytes, or undefined if malformed. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) return undefined;
  const v = Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  return Number.isSafeInteger(v) ? v : undefined;
}
