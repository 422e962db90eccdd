/**
 * Thread counts (issue 10 item 7, issue 11): per call (`threads` option), per worker thread (`setThreads` in one
 * worker leaves another's alone), clamped to the CPUs the process may use (CPU affinity), and a count the system
 * cannot start is a ModpropError rather than an abort (std::system_error used to escape the thread pool).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModpropError, getThreads, gradients, setThreads } from '../../lib/index';
import { loadAddon } from '../../lib/native/addon';
import { assertBitIdentical, describeNative, mediumCase } from './common';

const root = path.resolve(__dirname, '..', '..');
const tsx = JSON.stringify(require.resolve('tsx/cjs'));
const index = JSON.stringify(path.join(root, 'lib', 'index.ts'));

function node(code: string, prefix = '', withTsx = true): ReturnType<typeof spawnSync> {
  const env = { ...process.env };
  delete env.MODPROP_BACKEND;
  // The script and node's path go through "$0" / "$1", so sh quotes nothing.
  return spawnSync('sh', ['-c', `${prefix}"$0" -e "$1"`, process.execPath, withTsx ? `require(${tsx}); ${code}` : code], { encoding: 'utf8', cwd: root, env });
}

describeNative('native thread counts', () => {
  let original: number;
  before(() => { original = getThreads(); });
  after(() => setThreads(original));

  it('the threads option of a call equals setThreads with the same count, bit for bit, and changes no default', () => {
    const { net, batch } = mediumCase(41, 6);
    setThreads(1);
    const one = gradients(net, batch, { rule: 'modprop' }, { backend: 'native' });
    setThreads(2);
    const two = gradients(net, batch, { rule: 'modprop' }, { backend: 'native' });
    assertBitIdentical(gradients(net, batch, { rule: 'modprop' }, { backend: 'native', threads: 1 }), one, 'threads: 1');
    assert.equal(getThreads(), 2);
    setThreads(1);
    assertBitIdentical(gradients(net, batch, { rule: 'modprop' }, { backend: 'native', threads: 2 }), two, 'threads: 2');
    assert.equal(getThreads(), 1);
  });

  it('a bad threads option is a ModpropError naming options.threads', () => {
    const { net, batch } = mediumCase(42, 2);
    for (const v of [0, 1.5, -2, 2 ** 32 + 1, '2', NaN]) {
      assert.throws(() => gradients(net, batch, { rule: 'bptt' }, { backend: 'native', threads: v as number }),
        (e: unknown) => e instanceof ModpropError && /^Expected an integer between 1 and 1024 for options\.threads/.test(e.message));
    }
  });

  it('the default is the CPU affinity: under taskset -c 0 a process gets 1 thread', function () {
    this.timeout(60000);
    const probe = spawnSync('taskset', ['-c', '0', 'true']);
    if (probe.error || probe.status !== 0) this.skip();
    const r = node(`const m = require(${index}); console.log(m.getThreads(), require('os').availableParallelism());`, 'taskset -c 0 ');
    assert.equal(r.status, 0, String(r.stderr));
    assert.equal(String(r.stdout).trim(), '1 1');
  });

  it('setThreads above the available CPUs is clamped with one warning on stderr', function () {
    this.timeout(60000);
    const r = node(`const m = require(${index}); m.setThreads(64); m.setThreads(65); console.log(m.getThreads());`);
    assert.equal(r.status, 0, String(r.stderr));
    assert.equal(String(r.stdout).trim(), String(os.availableParallelism()));
    assert.equal((String(r.stderr).match(/MODPROP_THREADS_CLAMPED/g) ?? []).length, 1, String(r.stderr));
  });

  it('setThreads in one worker thread does not change another worker\'s default', function () {
    this.timeout(60000);
    const code = `
      const { Worker } = require('node:worker_threads');
      const worker = (n) => new Promise((resolve, reject) => {
        const w = new Worker(\`require(${tsx.replace(/"/g, '\\"')}); const m = require(${index.replace(/"/g, '\\"')});
          const { parentPort, workerData } = require('node:worker_threads');
          parentPort.once('message', () => { parentPort.postMessage(m.getThreads()); });
          if (workerData) m.setThreads(workerData);
          parentPort.postMessage('ready');\`, { eval: true, workerData: n });
        w.once('error', reject);
        w.once('message', () => { w.once('message', (t) => { resolve(t); w.terminate(); }); w.postMessage('go'); });
      });
      (async () => {
        const m = require(${index});
        m.setThreads(1);
        const [a, b] = await Promise.all([worker(2), worker(0)]);
        console.log(m.getThreads(), a, b);
      })();`;
    const r = node(code);
    assert.equal(r.status, 0, String(r.stderr));
    const cap = Math.min(2, os.availableParallelism());
    assert.equal(String(r.stdout).trim(), `1 ${cap} ${os.availableParallelism()}`);
  });

  it('a thread count the system cannot start is a ModpropError, not an abort (ulimit -v)', function () {
    this.timeout(60000);
    // The raw addon takes up to 1024 threads whatever the CPU count; 1024 × 8 MiB stacks do not fit in 6 GB. The
    // child loads the binary itself: tsx's WebAssembly does not start under that limit either.
    const loaded = loadAddon();
    assert.ok('path' in loaded);
    const r = node(`const a = require(${JSON.stringify(loaded.path)});
      try { a.setThreads(1024); console.log('started'); } catch (e) { console.log(e.code + ': ' + e.message); }`, 'ulimit -v 6000000; ', false);
    assert.equal(r.signal, null, String(r.stderr));
    assert.equal(r.status, 0, String(r.stderr));
    assert.match(String(r.stdout), /^(started|MODPROP_INVALID: Expected a thread count this system can start for threads)/);
    if (/started/.test(String(r.stdout))) this.skip(); // a machine with room for them: nothing to test
  });
});
