// The bundle's entry for `tsfuse erofs mount` (scripts/bundle.mjs builds dist/bundle/erofs-mount.js from it;
// main.ts runs it): the mount command, holding the filesystem modules this process loads by path (it answers
// the first requests itself, and as the server it serves first while its first worker boots).

import { holdModules } from '../../server/bundled.js';
import { backgroundMount } from '../daemon.js';
import { cmdErofsMount } from '../erofs-mount.js';
import { runCommand } from '../mount-command.js';
import { LOCAL_EROFS } from './local-erofs.js';

holdModules(LOCAL_EROFS);
const argv = process.argv.slice(2);
runCommand(() => cmdErofsMount(argv.slice(2), backgroundMount(argv)));
