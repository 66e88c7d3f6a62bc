// The persistent block cache of remote images: one file per (object, block), shared by every worker of a mount
// and by later mounts of the same object. Crash-safe without fsync ordering games: a block is written to a
// temporary name and renamed into place (a torn write never has the final name), and every block file ends
// with a trailer (CRC-32 and length) that is checked on each read from disk, so a file damaged later is refetched
// rather than served. Bounded by `maxBytes`: the oldest blocks (by last write or use in this process, by mtime
// for blocks found at start) are removed first.
//
// Layout: DIR/blocks/<object key>/<block size>-<index>, and DIR/refs/<ref key>.json for what a name (a URL, a
// tag) resolved to last time, so a mount can start from the cache when the server is gone.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';

const TRAILER = 8;

export interface BlockCacheOptions {
  dir: string;
  /** Upper bound of the block files' bytes (default 1 GiB). */
  maxBytes?: number;
}

interface Held {
  file: string;
  bytes: number;
}

export class BlockCache {
  readonly dir: string;
  readonly maxBytes: number;
  /** Block files this process knows, oldest first (a Map keeps insertion order; a use re-inserts). */
  private readonly held = new Map<string, Held>();
  private total = 0;
  readonly stats = { hits: 0, misses: 0, writes: 0, evictions: 0, corrupt: 0 };

  constructor(options: BlockCacheOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? 1 << 30;
    fs.mkdirSync(path.join(this.dir, 'blocks'), { recursive: true });
    fs.mkdirSync(path.join(this.dir, 'refs'), { recursive: true });
    this.scan();
  }

  /** Learns what earlier runs left, oldest first, and trims it to the bound. */
  private scan(): void {
    const found: Array<{ id: string; file: string; bytes: number; mtime: number }> = [];
    const root = path.join(this.dir, 'blocks');
    for (const key of fs.readdirSync(root)) {
      const kdir = path.join(root, key);
      let names: string[];
      try {
        names = fs.readdirSync(kdir);
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(kdir, name);
        if (name.endsWith('.tmp')) {
          // A writer that died before its rename; no reader ever sees these names.
          fs.rmSync(file, { force: true });
          continue;
        }
        try {
          const st = fs.statSync(file);
          found.push({ id: `${key}/${name}`, file, bytes: st.size, mtime: st.mtimeMs });
        } catch {
          // removed meanwhile by another process
        }
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.remember(f.id, f.file, f.bytes);
    this.trim();
  }

  private remember(id: string, file: string, bytes: number): void {
    const old = this.held.get(id);
    if (old) {
      this.total -= old.bytes;
      this.held.delete(id);
    }
    this.held.set(id, { file, bytes });
    this.total += bytes;
  }

  private trim(): void {
    for (const [id, h] of this.held) {
      if (this.total <= this.maxBytes) break;
      this.held.delete(id);
      this.total -= h.bytes;
      this.stats.evictions++;
      fs.rmSync(h.file, { force: true });
    }
  }

  private blockFile(key: string, blockSize: number, index: number): { id: string; file: string } {
    const name = `${blockSize}-${index}`;
    return { id: `${key}/${name}`, file: path.join(this.dir, 'blocks', key, name) };
  }

  /** The block's bytes, or undefined when it is not cached (or its file fails the check: then it is removed). */
  get(key: string, blockSize: number, index: number): Uint8Array | undefined {
    const { id, file } = this.blockFile(key, blockSize, index);
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      this.stats.misses++;
      return undefined;
    }
    const n = data.length - TRAILER;
    if (n < 0 || data.readUInt32LE(n + 4) !== n || crc32(data.subarray(0, n)) !== data.readUInt32LE(n)) {
      this.stats.corrupt++;
      this.stats.misses++;
      fs.rmSync(file, { force: true });
      return undefined;
    }
    this.stats.hits++;
    const h = this.held.get(id);
    if (h) this.remember(id, file, h.bytes);
    return data.subarray(0, n);
  }

  /** Whether the block has a file (not checked: get() checks). */
  has(key: string, blockSize: number, index: number): boolean {
    return fs.existsSync(this.blockFile(key, blockSize, index).file);
  }

  /** Stores a block (atomically: temporary name, then rename). Errors (disk full, read-only) only skip caching. */
  put(key: string, blockSize: number, index: number, bytes: Uint8Array): void {
    const { id, file } = this.blockFile(key, blockSize, index);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const trailer = Buffer.alloc(TRAILER);
    trailer.writeUInt32LE(crc32(bytes), 0);
    trailer.writeUInt32LE(bytes.length, 4);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const fd = fs.openSync(tmp, 'w', 0o600);
      try {
        fs.writeSync(fd, bytes);
        fs.writeSync(fd, trailer);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch {
      fs.rmSync(tmp, { force: true });
      return;
    }
    this.stats.writes++;
    this.remember(id, file, bytes.length + TRAILER);
    this.trim();
  }

  /** What `ref` resolved to when last opened (a URL's size and ETag, a tag's manifest), if recorded. */
  getRef<T>(ref: string): T | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, 'refs', `${ref}.json`), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  putRef(ref: string, value: unknown): void {
    const file = path.join(this.dir, 'refs', `${ref}.json`);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(value));
      fs.renameSync(tmp, file);
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Bytes of block files this process accounts for. */
  get bytes(): number {
    return this.total;
  }
}

/** The default cache directory: $XDG_CACHE_HOME/tsfuse, else ~/.cache/tsfuse. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || '/root', '.cache');
  return path.join(base, 'tsfuse');
}
