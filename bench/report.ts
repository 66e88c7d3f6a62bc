// Re-renders bench/results/latest.{md,svg} from a results JSON (after editing it, or from an older run).
//
//   node dist/bench/report.js [RESULTS.json] [--out DIR]

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RESULTS } from './lib/paths.js';
import { writeReports, type RunResults } from './lib/report.js';

const a = process.argv.slice(2);
const oi = a.indexOf('--out');
const file = a.find((x, i) => !x.startsWith('--') && (oi < 0 || i !== oi + 1)) ?? join(RESULTS, 'latest.json');
const r = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
const files = writeReports(r, oi >= 0 ? a[oi + 1] : dirname(file));
process.stdout.write(`wrote ${files.join(', ')}\n`);
