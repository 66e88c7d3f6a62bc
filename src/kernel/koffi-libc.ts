// libc functions a worker calls between requests (poll-in.ts, read-ahead.ts), through koffi: ~150 ns a call
// here, where ffi-rs's 3-12 µs would be felt. Each is loaded on its first call; without koffi for this
// platform it is undefined, and its caller does without (no idle work, no read-ahead hints).

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter for the libc function `signature` (koffi's C prototype syntax), loaded once, at its first use. */
export function lazyLibcFunction<F>(signature: string): () => F | undefined {
  let fn: F | null | undefined;
  return () => {
    if (fn === undefined) {
      fn = null;
      try {
        const koffi = require('koffi') as typeof import('koffi');
        fn = koffi.load('libc.so.6').func(signature) as F;
      } catch {
        // no koffi (or no such function) here
      }
    }
    return fn ?? undefined;
  };
}
