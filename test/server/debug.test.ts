// opts.debug: every request is traced by opcode name (the dispatch table's names) with its unique, and every
// reply by unique; opts.log collects the lines (in worker mode too: workers forward them to the session).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { withMount } from '../helpers/mount.js';
import { inPython } from '../helpers/python.js';
import { createMemFs } from '../../src/fs/memfs.js';
import type { Filesystem, FilesystemModule } from '../../src/fs/types.js';

const HELLO = fileURLToPath(new URL('../../src/fs/hello.js', import.meta.url));

const requestLine = /^(?:\[worker \d+\] )?tsfuse: unique (\d+) ([A-Z_0-9]+) nodeid (\d+) uid (\d+) gid (\d+) pid (\d+) /;
const replyLine = /^(?:\[worker \d+\] )? {3}unique (\d+): (ok|error [A-Z]+)/;

function parse(logs: string[]) {
  const ops = new Map<string, string>(); // unique -> opcode
  const pids = new Set<number>();
  const replies = new Map<string, string>();
  for (const l of logs) {
    let m = requestLine.exec(l);
    if (m) {
      ops.set(m[1]!, m[2]!);
      pids.add(Number(m[6]));
      continue;
    }
    m = replyLine.exec(l);
    if (m) replies.set(m[1]!, m[2]!);
  }
  return { ops, pids, replies, names: new Set(ops.values()) };
}

const cases: [string, () => Filesystem | FilesystemModule, number, string][] = [
  ['embedded memfs', () => createMemFs({ attrTimeout: 0, entryTimeout: 0 }), 2, 'rw'],
  ['worker mode hello', () => ({ module: HELLO }), 2, 'ro'],
];

for (const [name, make, workers, kind] of cases) {
  test(`${name}: debug traces name opcodes, uniques and replies through opts.log`, async () => {
    const logs: string[] = [];
    let childPid = 0;
    await withMount(make(), { workers, debug: true, log: (m) => logs.push(m), attrTimeout: 0, entryTimeout: 0, timeoutMs: 30_000 }, async ({ mnt }) => {
      childPid = await inPython<number>(mnt, `
        if ${kind === 'rw' ? 'True' : 'False'}:
            with open(P('hello.txt'), 'w') as f:
                f.write('Hello, world!\\n')
        os.listdir(mnt)
        os.stat(P('hello.txt'))
        open(P('hello.txt')).read()
        errname(os.stat, P('does-not-exist'))
        return os.getpid()
      `);
    });
    const { ops, pids, replies, names } = parse(logs);
    for (const op of ['LOOKUP', 'GETATTR', 'OPEN', 'READ', 'OPENDIR', 'RELEASE', 'RELEASEDIR']) assert.ok(names.has(op), `no ${op} in\n${logs.join('\n')}`);
    assert.ok(names.has('READDIRPLUS') || names.has('READDIR'));
    if (kind === 'rw') assert.ok(names.has('CREATE') && names.has('WRITE'), [...names].join(','));
    assert.ok(logs.some((l) => /tsfuse: INIT kernel 7\.\d+ flags /.test(l)), 'INIT traced');
    assert.ok(logs.some((l) => /tsfuse: INIT reply 7\.\d+ flags .* max_write \d+/.test(l)), 'INIT reply traced');
    assert.ok(pids.has(childPid), 'the trace names the calling pid');
    // every answered request has a reply line, and the failed lookup shows its errno
    for (const [u, op] of ops) {
      if (op === 'FORGET' || op === 'BATCH_FORGET' || op === 'INTERRUPT') continue;
      assert.ok(replies.has(u), `no reply traced for ${op} unique ${u}`);
    }
    const missing = [...ops].filter(([u, op]) => op === 'LOOKUP' && replies.get(u) === 'error ENOENT');
    assert.ok(missing.length >= 1, 'LOOKUP of does-not-exist answered ENOENT in the trace');
    assert.ok(logs.some((l) => l.includes('"name":"does-not-exist"')), 'the decoded body names the file');
    if (workers > 1 && name.startsWith('worker')) assert.ok(logs.some((l) => l.startsWith('[worker ')), 'worker lines are prefixed');
  });
}

test('without debug nothing is traced', async () => {
  const logs: string[] = [];
  await withMount(createMemFs(), { workers: 1, log: (m) => logs.push(m), timeoutMs: 30_000 }, async ({ mnt }) => {
    await inPython(mnt, `open(P('x'), 'w').write('x'); os.listdir(mnt)`);
  });
  assert.equal(logs, []);
});

test.run();
