// Fetch statistics of a remote mount, in shared memory so every worker adds to the same counters and the main
// thread can print them at any time (SIGUSR1, --debug) without asking a worker that is busy serving.

const FIELDS = ['fetches', 'fetchedKiB', 'diskHits', 'memoryHits', 'pendingReads', 'errors'] as const;
export type RemoteStatField = (typeof FIELDS)[number];

export class RemoteStats {
  readonly words: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(FIELDS.length * 4)) {
    this.words = new Int32Array(buffer);
  }
  add(field: RemoteStatField, n = 1): void {
    Atomics.add(this.words, FIELDS.indexOf(field), n);
  }
  get(field: RemoteStatField): number {
    return Atomics.load(this.words, FIELDS.indexOf(field));
  }
  /** One line: "fetches 12, fetched 3.1 MiB, disk cache hits 40, memory hits 900, reads that waited 12, errors 0". */
  format(): string {
    const mib = (this.get('fetchedKiB') / 1024).toFixed(1);
    return `fetches ${this.get('fetches')}, fetched ${mib} MiB, disk cache hits ${this.get('diskHits')}, memory hits ${this.get('memoryHits')}, reads that waited ${this.get('pendingReads')}, errors ${this.get('errors')}`;
  }
}
