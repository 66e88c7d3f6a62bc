// Entry point of embedded mode's reader threads: nothing but the ring filler, so that a reader boots in about
// the time of an empty worker (the dispatcher and the protocol codecs stay in the owning thread).

import { parentPort, workerData } from 'node:worker_threads';
import { runReader } from './fill-ring.js';
import type { ReaderWorkerData, WorkerMessage } from './worker.js';

const data: ReaderWorkerData = workerData;
parentPort!.postMessage({ type: 'ready' } satisfies WorkerMessage);
runReader(data.fd, data.ring, new Int32Array(data.doorbell));
