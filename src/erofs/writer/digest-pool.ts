// fs-verity digests of many files on `threads` threads (mkcomposefs --threads): the main thread takes part,
// threads - 1 workers help, each taking the next file from a shared queue; results land by index, so the
// outcome does not depend on which thread did what. The first error stops the handing out of work.

import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { FileDigestError, digestFile } from './file-digest.js';

export interface DigestJob {
  path: Buffer;
  rel: string;
  size: number;
}

export interface DigestResult {
  digest: Uint8Array;
  content: Uint8Array | undefined;
}

interface Reply {
  index: number;
  result?: DigestResult;
  error?: string;
}

/** Below this many files, threads cost more than they save. */
const MIN_FILES_FOR_THREADS = 64;

export async function digestAll(jobs: DigestJob[], threads: number): Promise<DigestResult[]> {
  const results: DigestResult[] = new Array(jobs.length);
  const helpers = jobs.length < MIN_FILES_FOR_THREADS ? 0 : Math.min(threads - 1, 16);
  if (helpers <= 0) {
    jobs.forEach((j, i) => (results[i] = digestFile(j.path, j.rel, j.size)));
    return results;
  }
  let next = 0;
  let failure: string | undefined;
  const workers: Worker[] = [];
  const done = Promise.all(
    Array.from({ length: helpers }, () =>
      new Promise<void>((resolve) => {
        const w = new Worker(fileURLToPath(import.meta.url));
        workers.push(w);
        const feed = (): void => {
          if (failure !== undefined || next >= jobs.length) {
            void w.terminate().then(() => resolve());
            return;
          }
          const index = next++;
          const j = jobs[index]!;
          w.postMessage({ index, path: j.path, rel: j.rel, size: j.size });
        };
        w.on('message', (r: Reply) => {
          if (r.error !== undefined) failure ??= r.error;
          else results[r.index] = r.result!;
          feed();
        });
        w.on('error', (e) => {
          failure ??= e.message;
          resolve();
        });
        feed();
      }),
    ),
  );
  // the main thread works through the same queue between the workers' messages
  while (next < jobs.length && failure === undefined) {
    const index = next++;
    const j = jobs[index]!;
    try {
      results[index] = digestFile(j.path, j.rel, j.size);
    } catch (e) {
      failure ??= (e as Error).message;
    }
    await new Promise<void>((r) => setImmediate(r));
  }
  await done;
  if (failure !== undefined) throw new FileDigestError(failure);
  return results;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (m: { index: number; path: Uint8Array; rel: string; size: number }) => {
    try {
      port.postMessage({ index: m.index, result: digestFile(Buffer.from(m.path), m.rel, m.size) } satisfies Reply);
    } catch (e) {
      port.postMessage({ index: m.index, error: (e as Error).message } satisfies Reply);
    }
  });
}
