/**
 * Terminating a worker thread while it is inside a native call (sync gradients, forward, gradientsAsync, or the
 * addon's own loading on first use) must not take the process down. It used to abort with "terminate called after
 * throwing an instance of 'Napi::Error'" (exit 134) in about 2 runs of 3: when the worker's environment is torn down,
 * every Node-API call fails and node-addon-api rethrew from a C callback (native/binding/guard.h). A single run can
 * pass by luck, so each scenario runs several times, each in its own child process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const WORKERS = 40;

function script(call: string): string {
  const code = `
require(${JSON.stringify(require.resolve('tsx/cjs'))});
const m = require(${JSON.stringify(path.join(root, 'lib', 'index.ts'))});
const net = m.Network.create({ nIn: 2, nRec: 120, nOut: 2, seed: 1 });
const batch = m.tasks.delayedXor().sample(32, 1);
require('node:worker_threads').parentPort.postMessage('running');
${call}`;
  // A worker file, not `eval: true`: Node itself asserts (node_errors.cc AppendExceptionLine) when an eval worker is
  // terminated while its script is still being evaluated, which is Node's crash, not the one tested here.
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-terminate-')), 'worker.js');
  fs.writeFileSync(file, code);
  return `
const { Worker } = require('node:worker_threads');
let done = 0;
for (let i = 0; i < ${WORKERS}; i++) {
  const w = new Worker(${JSON.stringify(file)});
  w.on('error', (e) => { console.error('worker error: ' + e.message); process.exitCode = 3; });
  // 1–7 ms: early enough to land in the first call (which loads the addon) or in a later one.
  w.on('message', () => setTimeout(() => w.terminate().then(() => { if (++done === ${WORKERS}) console.log('all terminated'); }), 1 + (i % 7)));
}`;
}

const SCENARIOS = [
  { name: 'sync gradients', runs: 2, call: "for (;;) m.gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });" },
  { name: 'forward', runs: 1, call: "for (;;) net.forward(batch, { backend: 'native' });" },
  { name: 'gradientsAsync', runs: 1, call: "(async () => { for (;;) await m.gradientsAsync(net, batch, { rule: 'bptt' }, { backend: 'native' }); })();" },
];

describe('native engine and worker threads', () => {
  for (const s of SCENARIOS) {
    it(`${WORKERS} workers terminated 1–7 ms into a ${s.name} loop leave the process alive (${s.runs} runs)`, function () {
      this.timeout(600000);
      for (let run = 0; run < s.runs; run++) {
        const r = spawnSync(process.execPath, ['-e', script(s.call)], { encoding: 'utf8', cwd: root });
        assert.equal(r.signal, null, `run ${run}: killed by ${r.signal}: ${r.stderr}`);
        assert.equal(r.status, 0, `run ${run}: exit ${r.status}: ${r.stderr}`);
        assert.match(r.stdout, /all terminated/);
      }
    });
  }
});
