// Worker mode for filesystems that await I/O: the worker keeps serving while earlier requests are pending. A
// reader thread of its own blocks on the worker's fd and fills a ring of `inFlight` slots; the worker drains it
// through the same dispatcher as embedded mode (pump-rings.ts), so async handlers overlap and each reply still
// goes out on this worker's fd. When every slot holds a pending request the reader waits for one to be freed:
// that is the back-pressure. The cost is embedded mode's hand-off per request, so this path is taken only when
// the FilesystemModule asks for it (inFlight > 1).

import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { readerScript } from './bundled.js';
import type { Dispatcher } from './dispatch.js';
import { pumpRings } from './pump-rings.js';
import { createRing } from './ring.js';
import type { ReaderWorkerData } from './worker.js';

export async function serveFdConcurrently(fd: number, dispatcher: Dispatcher, bufSize: number, inFlight: number, index: number): Promise<void> {
  const ring = createRing({ slots: inFlight, slotSize: bufSize });
  const doorbell = new SharedArrayBuffer(4);
  const data: ReaderWorkerData = { role: 'reader', index, fd, ring, doorbell };
  const reader = new Worker(readerScript(new URL('./reader-thread.js', import.meta.url)), { workerData: data });
  const exited = once(reader, 'exit');
  await once(reader, 'message');
  await pumpRings([{ fd, ring }], new Int32Array(doorbell), dispatcher);
  await exited;
}
