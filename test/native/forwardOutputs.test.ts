/**
 * The readout-only forward pass (Engine.forwardOutputsAsync: v and z null, what train()'s evaluations run): y is the
 * full forward's y bit for bit, on every path the native forward takes (dense rate units with 1 and 2 threads, the
 * column split, sparse masks, LIF and ALIF), also when a pass on another batch ran before it (reused scratch memory),
 * and a refused half-request (v without z) is an error, not a crash.
 */
import assert from 'node:assert/strict';
import { Network, type Batch } from '../../lib/index';
import { engineFor } from '../../lib/backend';
import { loadAddon, type NativeAddon } from '../../lib/native/addon';
import { FORWARD_ARRAYS, JOB_FLOATS, JOB_INTS } from '../../lib/contract';
import { Random } from '../../lib/random';
import { describeNative } from './common';

function batch(nIn: number, batchSize: number, steps: number, seed: number): Batch {
  const r = new Random(seed);
  const x = new Float32Array(batchSize * steps * nIn);
  for (let i = 0; i < x.length; i++) x[i] = r.normal();
  return { x, batchSize, steps };
}

describeNative('native forward: the readout alone (train\'s evaluations)', () => {
  const cases: [string, () => Network, number, number][] = [
    ['rate, 1 thread', () => Network.create({ nIn: 3, nRec: 50, nOut: 2, seed: 1 }), 1, 7],
    ['rate, 2 threads, odd batch', () => Network.create({ nIn: 3, nRec: 50, nOut: 2, seed: 2 }), 2, 5],
    ['rate, sparse mask (N = 300, p = 0.05)', () => Network.create({ nIn: 3, nRec: 300, nOut: 2, seed: 3, connectivity: 0.05 }), 2, 4],
    ['lif', () => Network.create({ nIn: 3, nRec: 40, nOut: 2, seed: 4, neuron: { model: 'lif' } }), 2, 6],
    ['alif', () => Network.create({ nIn: 3, nRec: 40, nOut: 2, seed: 5, neuron: { model: 'alif' } }), 1, 6],
  ];
  for (const [label, make, threads, batchSize] of cases) {
    it(`${label}: y equals the full forward's y bit for bit`, async () => {
      const engine = engineFor('native');
      const net = make();
      const b = batch(net.nIn, batchSize, 60, 11);
      const full = await engine.forwardAsync(net, b, threads);
      const y = new Float32Array(full.y.length).fill(Number.NaN);
      const only = await engine.forwardOutputsAsync!(net, b, y, threads);
      assert.equal(only, y, 'written into the given array');
      assert.ok(full.y.some((value) => value !== full.y[0]), 'a non-trivial readout');
      assert.deepEqual(only, full.y);
      // Again after a pass on another batch: the scratch memory of the spiking and column-split paths is reused
      // between calls with stale contents, which must not reach y.
      await engine.forwardOutputsAsync!(net, batch(net.nIn, batchSize, 60, 12), new Float32Array(full.y.length), threads);
      const again = await engine.forwardOutputsAsync!(net, b, new Float32Array(full.y.length).fill(Number.NaN), threads);
      assert.deepEqual(again, full.y);
    });
  }

  it('runs the column split too (MODPROP_COLUMN_SPLIT=1)', async () => {
    const before = process.env.MODPROP_COLUMN_SPLIT;
    process.env.MODPROP_COLUMN_SPLIT = '1';
    try {
      const engine = engineFor('native');
      const net = Network.create({ nIn: 2, nRec: 256, nOut: 2, seed: 6 });
      const b = batch(2, 2, 30, 12);
      const full = await engine.forwardAsync(net, b, 2);
      const only = await engine.forwardOutputsAsync!(net, b, new Float32Array(full.y.length), 2);
      assert.deepEqual(only, full.y);
    } finally {
      if (before === undefined) delete process.env.MODPROP_COLUMN_SPLIT;
      else process.env.MODPROP_COLUMN_SPLIT = before;
    }
  });

  it('refuses v without z with an error naming them', () => {
    const addon = (loadAddon() as { addon: NativeAddon }).addon;
    const net = Network.create({ nIn: 2, nRec: 10, nOut: 2, seed: 7 });
    const b = batch(2, 1, 5, 13);
    const ints = new Int32Array(Object.keys(JOB_INTS).length);
    Object.assign(ints, { [JOB_INTS.batch]: 1, [JOB_INTS.steps]: 5, [JOB_INTS.nIn]: 2, [JOB_INTS.nRec]: 10, [JOB_INTS.nOut]: 2, [JOB_INTS.nTypes]: net.nTypes, [JOB_INTS.threads]: 1 });
    const floats = new Float64Array(Object.keys(JOB_FLOATS).length);
    floats[JOB_FLOATS.alpha] = net.alpha;
    floats[JOB_FLOATS.threshold] = net.config.threshold;
    const arrays: (Float32Array | Uint8Array | null)[] = new Array(Object.keys(FORWARD_ARRAYS).length).fill(null);
    arrays[FORWARD_ARRAYS.win] = net.params.win;
    arrays[FORWARD_ARRAYS.wrec] = net.params.wrec;
    arrays[FORWARD_ARRAYS.wout] = net.params.wout;
    arrays[FORWARD_ARRAYS.bout] = net.params.bout;
    arrays[FORWARD_ARRAYS.x] = b.x;
    arrays[FORWARD_ARRAYS.v] = new Float32Array(50);
    arrays[FORWARD_ARRAYS.y] = new Float32Array(10);
    assert.throws(() => addon.forward!(ints, floats, arrays), /Expected arrays for both v and z, or for neither/);
  });
});
