/**
 * What a TrainResult records about its run: the metadata of lib/metadata.ts, every resolved setting, a network
 * config that recreates the initial network, and — when training fails — the curve up to the failure.
 */
import assert from 'node:assert/strict';
import { Network, ModpropError, tasks, train, type NetworkConfig, type TrainCallOptions, type TrainResult } from '../../lib/index';

const task = tasks.delayedXor({ cueSteps: 10, delaySteps: 20 });
const BASE: TrainCallOptions = { rule: 'modprop', iterations: 20, batchSize: 8, evalEvery: 5, lr: 3e-3, seed: 2 };
const CONFIG: NetworkConfig = { nIn: 2, nRec: 24, nOut: 2, seed: 9, tau: 20, threshold: 0.05 };

function bits(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('TrainResult: metadata and settings', () => {
  it('carries run metadata and the defaults nobody passed', async () => {
    const run = await train(Network.create(CONFIG), task, BASE);
    const m = run.metadata;
    assert.ok(m.engine === 'native' || m.engine === 'reference');
    assert.ok(Number.isInteger(m.threads) && m.threads >= 1);
    assert.equal(m.node, process.versions.node);
    assert.ok(Math.abs(Date.parse(m.date) - Date.now()) < 120_000, m.date);
    // The documented defaults (TrainOptions, RuleConfig).
    const c = run.config;
    assert.deepEqual([c.optimizer, c.lrDecay, c.lrDecayEvery, c.l2, c.mu, c.feedback, c.evalBatchSize], ['adam', 0.8, 300, 5e-4, 0.25, 'type', 8]);
    assert.equal(JSON.parse(JSON.stringify(run)).metadata.engine, m.engine, 'plain JSON');
  });

  it('records a network config that recreates the initial network bit for bit', async () => {
    const initial = Network.create(CONFIG);
    const net = initial.clone();
    const run = await train(net, task, BASE);
    const again = Network.create(JSON.parse(JSON.stringify(run.config.network)) as NetworkConfig);
    for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(bits(again.params[k]).equals(bits(initial.params[k])), k);
    assert.ok(!bits(net.params.wrec).equals(bits(initial.params.wrec)), 'training moved the weights');
    const custom = Network.create({ nIn: 2, nRec: 6, nOut: 2, cellTypes: [0, 1, 2, 2, 1, 0], typeSigns: [1, -1, 1], seed: 4 });
    const record = (await train(custom.clone(), task, { ...BASE, iterations: 1, rule: 'bptt' })).config.network as NetworkConfig;
    const rebuilt = Network.create(JSON.parse(JSON.stringify(record)) as NetworkConfig);
    assert.deepEqual(Array.from(rebuilt.types), [0, 1, 2, 2, 1, 0]);
    assert.ok(bits(rebuilt.params.wrec).equals(bits(custom.params.wrec)));
  });

  it('an unstable filter mid-run rejects with the curve so far in error.result', async () => {
    const net = Network.create({ ...CONFIG, seed: 6 });
    let err: (ModpropError & { result?: TrainResult }) | undefined;
    try {
      await train(net, task, {
        ...BASE, mu: 0.25,
        onProgress: (p) => {
          if (p.iteration !== 10) return;
          const n = net.nRec;
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && net.types[i] === 1) net.params.wrec[i * n + j] += 2;
        },
      });
    } catch (e) {
      err = e as typeof err;
    }
    assert.ok(err instanceof ModpropError, String(err));
    assert.match(err.message, /spectral radius .* \(at iteration 11;/);
    assert.deepEqual(err.result!.curve.map((p) => p.iteration), [0, 5, 10]);
    assert.equal(err.result!.final.iteration, 10);
    assert.equal(err.result!.config.mu, 0.25);
    assert.ok(err.result!.metadata.date);
  });

  it('an unstable filter at the start rejects with an empty curve; bad options carry no result', async () => {
    const unstable = await train(Network.create(CONFIG), task, { ...BASE, mu: 5000 }).catch((e: ModpropError & { result?: TrainResult }) => e);
    assert.ok(unstable instanceof ModpropError);
    assert.deepEqual((unstable as { result?: TrainResult }).result!.curve, []);
    const bad = await train(Network.create(CONFIG), task, { ...BASE, lr: -1 }).catch((e: Error) => e);
    assert.ok(bad instanceof ModpropError && !('result' in bad));
  });
});
