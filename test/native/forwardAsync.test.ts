/**
 * Evaluation off the JS thread (issue 11 "Load"): Network.forwardAsync runs the native forward on the libuv pool,
 * equals the sync forward bit for bit, rejects (never throws) on bad input, and `train` evaluates with it — the sync
 * forward is never called during training, so a 15–37 ms evaluation no longer blocks the event loop.
 */
import assert from 'node:assert/strict';
import { ModpropError, Network, tasks, train } from '../../lib/index';
import { metricsOf } from '../../lib/evaluate';
import { deriveSeed } from '../../lib/random';
import { describeNative, makeBatch, mediumCase } from './common';

describeNative('native forwardAsync', () => {
  for (const threads of [1, 2]) {
    it(`equals the sync forward bit for bit (${threads} thread(s)), and the result is not trivial`, async () => {
      const { net, batch } = mediumCase(51, 5, 40, 24);
      const sync = net.forward(batch, { backend: 'native', threads });
      const pending = net.forwardAsync(batch, { backend: 'native', threads });
      batch.x.fill(1e6); // refilled while the call runs: the call copied it
      const got = await pending;
      for (const k of ['v', 'z', 'y'] as const) {
        assert.equal(got[k].length, sync[k].length);
        for (let i = 0; i < got[k].length; i++) if (!Object.is(got[k][i], sync[k][i])) assert.fail(`${k}[${i}]: ${got[k][i]} vs ${sync[k][i]}`);
      }
      assert.ok(sync.y.some((v) => v !== 0) && sync.z.some((v) => v !== 0));
    });
  }

  it('the event loop turns while a paper-size evaluation runs', async () => {
    const task = tasks.delayedXor();
    const net = Network.create({ nIn: 2, nRec: 120, nOut: 2, seed: 3 });
    const batch = task.sample(64, 1);
    let turns = 0;
    let settled = false;
    const spin = (): void => { if (!settled) { turns++; setImmediate(spin); } };
    setImmediate(spin);
    await net.forwardAsync(batch, { backend: 'native' });
    settled = true;
    assert.ok(turns >= 1, `the event loop did not turn during forwardAsync (${turns})`);
  });

  it('bad input rejects with a ModpropError instead of throwing', async () => {
    const { net } = mediumCase(52, 2, 10, 8);
    const bad = makeBatch(net, 2, 10, 'xent-last', 1);
    bad.x = new Float32Array(3);
    let p: Promise<unknown> | undefined;
    assert.doesNotThrow(() => { p = net.forwardAsync(bad, { backend: 'native' }); });
    await assert.rejects(p!, (e: unknown) => e instanceof ModpropError && /batch\.x/.test(e.message));
    await assert.rejects(net.forwardAsync(makeBatch(net, 2, 10, 'xent-last', 1), { threads: 0 }), (e: unknown) => e instanceof ModpropError && /options\.threads/.test(e.message));
  });

  it('train evaluates without the synchronous forward, and the curve equals the evaluation of the same weights', async () => {
    const task = tasks.delayedXor({ cueSteps: 5, delaySteps: 10 });
    const net = Network.create({ nIn: 2, nRec: 16, nOut: 2, seed: 4 });
    const original = Network.prototype.forward;
    let syncCalls = 0;
    Network.prototype.forward = function (this: Network, ...args: Parameters<Network['forward']>) {
      syncCalls++;
      return original.apply(this, args);
    };
    let run;
    try {
      run = await train(net, task, { rule: 'bptt', iterations: 3, evalEvery: 1, batchSize: 4, backend: 'native', seed: 2 });
    } finally {
      Network.prototype.forward = original;
    }
    assert.equal(syncCalls, 0, 'train called the synchronous forward');
    assert.equal(run.curve.length, 4);
    // The last point is the evaluation of the final weights on the batch of seed deriveSeed(2, 2, 3): recompute it
    // with the sync forward and compare the loss exactly.
    const batch = task.sample(4, deriveSeed(2, 2, 3));
    const m = metricsOf(net.forward(batch, { backend: 'native' }).y, batch, 2, 'xent-last');
    assert.equal(run.final.loss, m.loss);
  });
});
