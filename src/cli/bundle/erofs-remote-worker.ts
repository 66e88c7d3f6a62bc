// The bundle's entry for a worker serving a remote EROFS image (dist/bundle/erofs-remote-worker.js): as
// erofs-worker.ts, with the remote stack, which a local image's workers do not load.

import { holdModules } from '../../server/bundled.js';
import { REMOTE_EROFS } from './remote-erofs.js';

holdModules(REMOTE_EROFS);
await import('../../server/worker.js');
