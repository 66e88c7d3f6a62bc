// A thread or process whose serving has ended does not outlive it (src/server/linger.ts): a handle left open
// (here an interval a filesystem forgot) is named in one log line and the process ends; with none open the
// process ends at once, without waiting for the check.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/proc.js';

const LINGER = fileURLToPath(new URL('../../src/server/linger.js', import.meta.url));

/** A child that arms the check (300 ms), optionally leaving an interval open; it prints its lifetime on exit. */
function child(leaveOpen: boolean): string {
  return `
    const { endAfterLinger } = await import(${JSON.stringify(LINGER)});
    const t0 = performance.now();
    process.on('exit', () => process.stdout.write('lived ' + Math.round(performance.now() - t0) + '\\n'));
    ${leaveOpen ? 'setInterval(() => {}, 1000);' : ''}
    endAfterLinger('the test server', (m) => process.stderr.write(m + '\\n'), () => process.exit(3), 300);
  `;
}

test('a handle left open: the process ends after the linger time, and the log names what held it', async () => {
  const r = await run(process.execPath, ['--input-type=module', '-e', child(true)], { timeoutMs: 10_000, check: false });
  assert.is(r.status, 3, r.stderr);
  assert.match(r.stderr, /^tsfuse: the test server still up 300 ms after serving ended \(held by: [^)]*\); ending it$/m);
  assert.ok(Number(/lived (\d+)/.exec(r.stdout.toString())?.[1]) >= 300, r.stdout.toString());
});

test('nothing left open: the process ends at once, the unref\'d check neither fires nor holds it', async () => {
  const r = await run(process.execPath, ['--input-type=module', '-e', child(false)], { timeoutMs: 10_000, check: false });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.ok(Number(/lived (\d+)/.exec(r.stdout.toString())?.[1]) < 300, r.stdout.toString());
});

test.run();
