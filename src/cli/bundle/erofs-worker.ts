// The bundle's entry for a worker serving a local EROFS image (scripts/bundle.mjs builds
// dist/bundle/erofs-worker.js from it; src/server/threads.ts starts it for that module): worker.ts, holding
// the filesystem module it loads by path.

import { holdModules } from '../../server/bundled.js';
import { LOCAL_EROFS } from './local-erofs.js';

holdModules(LOCAL_EROFS);
// worker.ts starts serving as it is evaluated: after the module is held
await import('../../server/worker.js');
