#!/usr/bin/env node
// The tsfuse command's entry (package.json bin). `erofs mount` runs from its bundle, dist/bundle/erofs-mount.js
// (scripts/bundle.mjs, made by `npm run build` after tsc): one file loads in a fraction of the time of the ~76
// modules the command would load one by one before the mount answers (bench/results/startup.md, round 3).
// The bundle is a copy of dist/ as it was when it was made, so one older than this file (tsc has run since,
// rewriting all of dist/) would run old code: it is used only when it is at least as new as this file, and
// otherwise (or when there is none) the command runs from dist/src/cli/command.js, as every other command
// does. Nothing else is imported here: each module costs start-up.

import { statSync } from 'node:fs';

const argv = process.argv;
const bundle = argv[2] === 'erofs' && argv[3] === 'mount' ? new URL('../../bundle/erofs-mount.js', import.meta.url) : undefined;
const madeAt = bundle && statSync(bundle, { throwIfNoEntry: false })?.mtimeMs;
const fresh = madeAt !== undefined && madeAt >= statSync(new URL(import.meta.url)).mtimeMs;
await import(fresh ? bundle!.href : './command.js');
