/**
 * Terminating a worker thread while its native gradientsAsync call is running must not take the process down
 * (it used to abort with "terminate called after throwing an instance of 'Napi::Error'", exit 134).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const script = `
const { Worker } = require('node:worker_threads');
const code = \`
require(${JSON.stringify(require.resolve('tsx/cjs'))});
const m = require(${JSON.stringify(path.join(root, 'lib', 'index.ts'))});
if (m.backend.name !== 'native') throw new Error('native engine not in use: ' + m.backend.reason);
const task = m.tasks.delayedXor();
const net = m.Network.create({ nIn: 2, nRec: 120, nOut: 2, seed: 1 });
const batch = task.sample(32, 1);
(async () => { for (;;) await m.gradientsAsync(net, batch, { rule: 'bptt' }); })();
require('node:worker_threads').parentPort.postMessage('running');
\`;
let done = 0;
for (let i = 0; i < 3; i++) {
  const w = new Worker(code, { eval: true });
  w.on('error', (e) => { console.error('worker error: ' + e.message); process.exitCode = 3; });
  w.on('message', () => setTimeout(() => w.terminate().then(() => { if (++done === 3) console.log('all terminated'); }), 50 + 40 * i));
}
`;

describe('native engine and worker threads', () => {
  it('a worker terminated during a native gradientsAsync call leaves the process alive', function () {
    this.timeout(120000);
    // Other test files force the reference engine for this process; the child must choose for itself.
    const env = { ...process.env };
    delete env.MODPROP_BACKEND;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: root, env });
    assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /all terminated/);
  });
});
