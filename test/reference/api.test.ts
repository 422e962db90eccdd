/** The public gradient API on the reference engine: float32 results, async on a worker, abort, alignment, backend choice. */
import assert from 'node:assert/strict';
process.env.MODPROP_BACKEND = 'reference';
import { Network, alignment, backend, gradients, gradientsAsync, tasks, type Batch, type RuleConfig } from '../../lib/index';
import { resetBackendForTests } from '../../lib/backend';
import { dataOf, modelOf, referenceGradients } from '../../lib/reference/index';
import { rule as normalizedRule } from '../../lib/validate';
import { MATRICES, norm, relMaxError } from '../helpers';

const RULES: RuleConfig[] = [
  { rule: 'bptt' }, { rule: 'tbptt', window: 7 }, { rule: 'rtrl' }, { rule: 'eprop' }, { rule: 'eprop', online: true },
  { rule: 'mdgl' }, { rule: 'mdgl', feedback: 'cell' }, { rule: 'modprop' }, { rule: 'modprop', online: true },
  { rule: 'modprop', feedback: 'cell', mu: 0.5 }, { rule: 'modprop', learningSignal: 'random' },
];

function smallCase(seed: number): { net: Network; batch: Batch } {
  const task = tasks.delayedXor({ cueSteps: 5, delaySteps: 10, noise: 0.01 });
  const net = Network.create({ nIn: task.nIn, nRec: 10, nOut: task.nOut, seed, tau: 8 });
  return { net, batch: task.sample(4, seed) };
}

describe('public gradients() on the reference engine', () => {
  const { net, batch } = smallCase(1);
  for (const r of RULES) {
    it(`${JSON.stringify(r)}: float32 results equal the float64 engine, and are non-trivial`, () => {
      const out = gradients(net, batch, r);
      const ref = referenceGradients(modelOf(net), dataOf(batch, 'xent-last'), normalizedRule(r));
      assert.ok(Math.abs(out.loss - ref.loss) < 1e-12);
      for (const k of MATRICES) {
        assert.ok(out.grads[k] instanceof Float32Array);
        assert.ok(relMaxError(out.grads[k], ref.grads[k]) < 1e-6, k);
      }
      assert.ok(norm(out.grads.wrec) > 0 && norm(out.grads.win) > 0);
    });
  }

  it('the loss is chosen from the batch: mse when it has targets', () => {
    const targets = new Float32Array(batch.batchSize * batch.steps * net.nOut).fill(0.5);
    const mse = gradients(net, { x: batch.x, batchSize: batch.batchSize, steps: batch.steps, targets }, { rule: 'bptt' });
    const xent = gradients(net, batch, { rule: 'bptt' });
    assert.notEqual(mse.loss, xent.loss);
    const ref = referenceGradients(modelOf(net), dataOf({ ...batch, labels: undefined, targets }, 'mse'), normalizedRule({ rule: 'bptt' }));
    assert.ok(Math.abs(mse.loss - ref.loss) < 1e-12);
  });
});

describe('gradientsAsync', () => {
  it('gives exactly what gradients() gives', async () => {
    const { net, batch } = smallCase(2);
    for (const r of [{ rule: 'bptt' }, { rule: 'modprop', online: true }] as RuleConfig[]) {
      const sync = gradients(net, batch, r);
      const result = await gradientsAsync(net, batch, r);
      assert.equal(result.loss, sync.loss);
      for (const k of MATRICES) assert.deepEqual(result.grads[k], sync.grads[k]);
    }
  });

  it('keeps the event loop ticking and can be aborted', async () => {
    const task = tasks.delayedXor({ delaySteps: 300 });
    const net = Network.create({ nIn: 2, nRec: 60, nOut: 2, seed: 3 });
    const batch = task.sample(8, 3);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = Date.now();
    try {
      await gradientsAsync(net, batch, { rule: 'bptt' });
    } finally {
      clearInterval(timer);
    }
    const elapsed = Date.now() - started;
    assert.ok(ticks >= Math.min(10, elapsed / 20), `only ${ticks} timer ticks in ${elapsed} ms`);

    const controller = new AbortController();
    const aborted = gradientsAsync(net, batch, { rule: 'bptt' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await assert.rejects(aborted, { name: 'AbortError' });
    await assert.rejects(gradientsAsync(net, batch, { rule: 'bptt' }, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  it('rejects invalid input before starting a worker', async () => {
    const { net, batch } = smallCase(2);
    await assert.rejects(gradientsAsync(net, batch, { rule: 'nope' as 'bptt' }), { name: 'ModpropError' });
  });
});

describe('alignment()', () => {
  it('bptt aligns perfectly with itself; modprop at μ=0 aligns exactly like eprop; labels name the rules', () => {
    const { net, batch } = smallCase(5);
    const rows = alignment(net, batch, [{ rule: 'bptt' }, { rule: 'rtrl' }, { rule: 'eprop' }, { rule: 'modprop', mu: 0 }, { rule: 'modprop', mu: 0.25 }]);
    assert.deepEqual(rows.map((r) => r.label), ['bptt', 'rtrl', 'eprop', 'modprop (type, μ=0)', 'modprop (type, μ=0.25)']);
    for (const k of ['win', 'wrec', 'wout', 'all'] as const) {
      assert.ok(Math.abs(rows[0].cosine[k] - 1) < 1e-6);
      assert.ok(Math.abs(rows[1].cosine[k] - 1) < 1e-5);
      assert.equal(rows[3].cosine[k], rows[2].cosine[k]);
    }
    assert.ok(rows[2].cosine.wrec < 0.999999, 'eprop is an approximation');
    assert.ok(Math.abs(rows[2].cosine.wout - 1) < 1e-6, 'dWout is the same for every rule');
  });
});

describe('backend choice', () => {
  afterEach(() => {
    process.env.MODPROP_BACKEND = 'reference';
    resetBackendForTests();
  });
  it('reports the forced reference engine and why', () => {
    resetBackendForTests();
    assert.equal(backend.name, 'reference');
    assert.equal(backend.reason, 'forced by MODPROP_BACKEND=reference');
  });
  it('rejects an unknown MODPROP_BACKEND value', () => {
    process.env.MODPROP_BACKEND = 'gpu';
    resetBackendForTests();
    assert.throws(() => backend.name, { message: "Expected 'native' or 'reference' for the environment variable MODPROP_BACKEND but received 'gpu'" });
  });
  it('without forcing, picks native only when the addon provides kernels, and keeps the reason otherwise', () => {
    delete process.env.MODPROP_BACKEND;
    resetBackendForTests();
    if (backend.name === 'reference') {
      assert.equal(typeof backend.reason, 'string');
      assert.ok(backend.reason!.length > 10, backend.reason);
      // Forcing the unavailable native engine is a clear error, not a silent fallback.
      process.env.MODPROP_BACKEND = 'native';
      resetBackendForTests();
      assert.throws(() => backend.name, /^ModpropError: MODPROP_BACKEND=native was requested but the native engine is not available: .+/);
    } else {
      assert.equal(backend.reason, undefined);
    }
  });
});
