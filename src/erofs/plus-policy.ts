// Which READDIRPLUS replies of the image server carry attributes for the files they list.
//
// With READDIRPLUS_AUTO the kernel asks for READDIRPLUS at offset 0 of every directory, whether or not
// anyone will stat the entries, and instantiates an inode for each record that has a nodeid. `find` (names
// and d_type only) then makes the server read every file inode of the tree and the kernel build them, where a
// plain READDIR server reads none. `ls -l`, `du` and tar, which stat every entry, want the attributes
// (otherwise one LOOKUP per file follows the listing).
//
// So: directories always go with attributes (the walk descends into them: without them every directory
// costs a LOOKUP), and files do when the workload shows it stats what it lists. The evidence is the LOOKUPs
// that follow a listing: a LOOKUP of a file in a directory whose files were just listed without attributes
// is one the attributes would have saved. A READDIRPLUS past offset 0 is the kernel saying so itself (in
// 'auto' mode it asks for one there only after an entry of the directory was looked up). While files get
// attributes no LOOKUP comes to tell whether they were used, so one file in SAMPLE_EVERY still goes
// without, to keep measuring. Per filesystem instance (per worker); each worker sees its share of the
// lookups, which THRESHOLD allows for.

/** Files get attributes while more than 1/THRESHOLD of those recently listed without them got looked up. */
const THRESHOLD = 8;
/** Weight kept by the older evidence at each listing without attributes (of 1). */
const DECAY = 7 / 8;
/** While files get attributes, every SAMPLE_EVERY-th file listed still goes without. */
const SAMPLE_EVERY = 32;
/** Directories remembered as listed without file attributes (a LOOKUP in one counts as evidence). */
const MAX_BARE_DIRS = 64;

/** Slots of PlusPolicy.evidence. */
const HITS = 0;
const OFFERED = 1;

export class PlusPolicy {
  /**
   * [HITS]: lookups of files listed without attributes, [OFFERED]: files listed without attributes, both
   * decayed. Fractional, so kept in a Float64Array: as fields that start as integers they would give the
   * object a new shape at the first decay, and the next instance made (a worker's filesystem after a warm-up
   * one) would then deoptimize the listing code compiled against the first (bench/results/metadata.md,
   * Round 5b).
   */
  private readonly evidence = new Float64Array(2);
  /** Files listed while files get attributes (for SAMPLE_EVERY). */
  private sampled = 0;
  /** The reply being written: files get attributes (sampled), or all of them (advised). Set by begin. */
  private withAttrs = false;
  private allFiles = false;
  /** Directory inodes whose files were listed without attributes, oldest first. */
  private readonly bareDirs = new Set<number>();

  /**
   * Starts a READDIRPLUS reply. `advised`: the kernel asked for READDIRPLUS past the first reply
   * (readdirplus 'auto' does so only after an entry of the directory was looked up): every file then gets
   * attributes.
   */
  begin(advised: boolean): void {
    this.allFiles = advised;
    const ev = this.evidence;
    this.withAttrs = advised || ev[HITS]! * THRESHOLD > ev[OFFERED]!;
  }

  /** Whether the next file of the reply goes without attributes (nodeid 0). */
  bareFile(): boolean {
    if (!this.withAttrs) return true;
    if (this.allFiles) return false;
    return ++this.sampled % SAMPLE_EVERY === 0;
  }

  /** A reply listed `files` non-directory entries of directory `dirIno` without attributes. */
  listedBare(dirIno: number, files: number): void {
    if (files === 0) return;
    const ev = this.evidence;
    ev[HITS] = ev[HITS]! * DECAY;
    ev[OFFERED] = ev[OFFERED]! * DECAY + files;
    const d = this.bareDirs;
    if (d.has(dirIno)) d.delete(dirIno);
    else if (d.size >= MAX_BARE_DIRS) d.delete(d.values().next().value as number);
    d.add(dirIno);
  }

  /** A LOOKUP found a non-directory in directory `parentIno`. */
  lookedUpFile(parentIno: number): void {
    const ev = this.evidence;
    if (this.bareDirs.has(parentIno) && ev[HITS]! < ev[OFFERED]!) ev[HITS] = ev[HITS]! + 1;
  }
}
