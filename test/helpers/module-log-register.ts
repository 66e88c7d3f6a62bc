// The file `node --import` loads to log a process's modules (see module-log.ts): registers module-log-hooks.ts.

import { register } from 'node:module';

register('./module-log-hooks.js', import.meta.url);
