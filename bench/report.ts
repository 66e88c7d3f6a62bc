// Re-renders bench/results/latest.{md,svg} from a results JSON (after editing it, or from an older run).
//
//   node dist/bench/report.js [RESULTS.json] [--out DIR] [--findings FILE.md]
//
// --findings: markdown (profiles, bottlenecks) stored in the JSON and shown in latest.md under Findings.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RESULTS } from './lib/paths.js';
import { writeReports, type RunResults } from './lib/report.js';

const a = process.argv.slice(2);
const oi = a.indexOf('--out');
const fi = a.indexOf('--findings');
const isValue = (i: number): boolean => (oi >= 0 && i === oi + 1) || (fi >= 0 && i === fi + 1);
const file = a.find((x, i) => !x.startsWith('--') && !isValue(i)) ?? join(RESULTS, 'latest.json');
const r = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
if (fi >= 0) r.findings = readFileSync(a[fi + 1], 'utf8').trimEnd().split('\n');
const files = writeReports(r, oi >= 0 ? a[oi + 1] : dirname(file));
process.stdout.write(`wrote ${files.join(', ')}\n`);
