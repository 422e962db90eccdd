/**
 * The reference engine's async path runs on a bounded worker pool (issue 11 "Load"): 32 concurrent calls start at
 * most min(availableParallelism, 4) workers, give the same bits as the synchronous call, keep abort working for
 * queued and running calls, and an idle pool never keeps the process alive.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, gradients, gradientsAsync, tasks, type GradientResult } from '../../lib/index';

const workerThreads: { Worker: new (...args: any[]) => any } = require('node:worker_threads');

function sameBits(a: GradientResult, b: GradientResult): void {
  assert.equal(a.loss, b.loss);
  for (const k of ['win', 'wrec', 'wout', 'bout'] as const) {
    assert.ok(Buffer.from(a.grads[k].buffer).equals(Buffer.from(b.grads[k].buffer)), k);
  }
}

describe('reference engine: bounded worker pool', function () {
  this.timeout(120_000);
  const net = Network.create({ nIn: 2, nRec: 12, nOut: 2, seed: 4 });
  const task = tasks.delayedXor({ cueSteps: 3, delaySteps: 5 });
  const limit = Math.min(os.availableParallelism(), 4);

  it(`32 concurrent calls start at most ${limit} workers and each gives the synchronous bits`, async () => {
    const Real = workerThreads.Worker;
    let started = 0;
    workerThreads.Worker = class extends Real {
      constructor(...args: any[]) {
        super(...args);
        started += 1;
      }
    };
    try {
      const batches = Array.from({ length: 32 }, (_, i) => task.sample(3, i));
      const expected = batches.map((b) => gradients(net, b, { rule: 'bptt' }, { backend: 'reference' }));
      const pending = batches.map((b) => gradientsAsync(net, b, { rule: 'bptt' }, { backend: 'reference' }));
      // Overwriting a batch after the call (even one still queued) changes nothing.
      for (const b of batches) b.x.fill(0);
      const got = await Promise.all(pending);
      got.forEach((g, i) => sameBits(g, expected[i]));
      assert.ok(expected[0].grads.wrec.some((v) => v !== 0), 'the gradient is non-trivial');
    } finally {
      workerThreads.Worker = Real;
    }
    assert.ok(started <= limit, `${started} workers started for 32 calls (limit ${limit})`);
  });

  it('aborting a queued call and a running call rejects both with AbortError; the pool keeps serving', async () => {
    const batch = task.sample(3, 1);
    const running = new AbortController();
    const queued = new AbortController();
    const fill = Array.from({ length: limit }, (_, i) => gradientsAsync(net, task.sample(3, 100 + i), { rule: 'bptt' }, { backend: 'reference', signal: i === 0 ? running.signal : undefined }));
    const waiting = gradientsAsync(net, batch, { rule: 'bptt' }, { backend: 'reference', signal: queued.signal });
    queued.abort();
    running.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
    await assert.rejects(fill[0], { name: 'AbortError' });
    await Promise.all(fill.slice(1));
    sameBits(await gradientsAsync(net, batch, { rule: 'bptt' }, { backend: 'reference' }), gradients(net, batch, { rule: 'bptt' }, { backend: 'reference' }));
  });

  it('a script that used the pool exits by itself, and a pending call keeps it alive until it answers', () => {
    const root = path.resolve(__dirname, '../..');
    const script = `require('tsx/cjs');
      const m = require(${JSON.stringify(path.join(root, 'lib/index.ts'))});
      const net = m.Network.create({ nIn: 2, nRec: 8, nOut: 2, seed: 1 });
      const b = m.tasks.delayedXor({ cueSteps: 2, delaySteps: 2 }).sample(2, 1);
      m.gradientsAsync(net, b, { rule: 'bptt' }, { backend: 'reference' }).then((g) => console.log('answered', Number.isFinite(g.loss)));`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, `the child was killed by ${r.signal} (it did not exit by itself): ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'answered true');
  });
});
