/**
 * Sparse recurrent connectivity (`Network.create({ connectivity: p })`, lib/connectivity.ts): the mask and the
 * initialisation on it, bad values, masked gradients for every rule on both engines (exactly 0 outside the mask,
 * finite differences inside, where the exact rule is concerned), native = reference on sparse networks, and the
 * mask through training, save/load and checkpoints. Dense networks (p = 1) must be bit-identical to before.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModpropError, Network, gradients, loadCheckpoint, saveCheckpoint, spectralRadius, tasks, train, type RuleConfig } from '../../lib/index';
import { dataOf, modelOf, referenceLoss } from '../../lib/reference/index';
import { maskDensity } from '../../lib/connectivity';
import { nativeUnavailable, relNormError } from '../native/common';

const task = tasks.delayedXor({ cueSteps: 4, delaySteps: 10 });
const base = { nIn: task.nIn, nRec: 40, nOut: task.nOut, seed: 3 };

function outside(net: Network, m: ArrayLike<number>): number[] {
  const bad: number[] = [];
  for (let k = 0; k < m.length; k++) if (net.mask![k] === 0 && m[k] !== 0) bad.push(k);
  return bad;
}

function insideNonZero(net: Network, m: ArrayLike<number>): number {
  let n = 0;
  for (let k = 0; k < m.length; k++) if (net.mask![k] === 1 && m[k] !== 0) n++;
  return n;
}

describe('connectivity: the mask and the initialisation', () => {
  it('p = 1 (and leaving it out) is the dense network of before, with no mask', () => {
    const a = Network.create(base);
    const b = Network.create({ ...base, connectivity: 1 });
    assert.equal(a.mask, null);
    assert.deepEqual(a.params, b.params);
    assert.equal(a.config.connectivity, 1);
  });

  for (const p of [0.5, 0.1]) {
    for (const init of ['balanced', 'liu2022'] as const) {
      it(`p = ${p}, ${init}: zero diagonal, density ≈ p, Wrec zero outside, Dale signs, the documented radius`, () => {
        const net = Network.create({ ...base, nRec: 100, connectivity: p, init });
        const n = net.nRec;
        for (let i = 0; i < n; i++) assert.equal(net.mask![i * n + i], 0);
        assert.ok(Math.abs(maskDensity(net.mask, n) - p) < 4 * Math.sqrt(p * (1 - p) / (n * (n - 1))), `${maskDensity(net.mask, n)}`);
        assert.deepEqual(outside(net, net.params.wrec), []);
        assert.ok(insideNonZero(net, net.params.wrec) > 0.9 * p * n * (n - 1));
        for (let pre = 0; pre < n; pre++) {
          const sign = net.config.typeSigns![net.types[pre]];
          for (let j = 0; j < n; j++) assert.ok(net.params.wrec[pre * n + j] * sign >= 0);
        }
        const rho = spectralRadius(Float64Array.from(net.params.wrec), n);
        if (init === 'balanced') assert.ok(Math.abs(rho - 1) < 1e-5, `${rho}`);
        else assert.ok(rho > 0.3 && rho < 2, `${rho}`);
      });
    }
  }

  it('the mask depends on the seed and p only, and differs between seeds', () => {
    const a = Network.create({ ...base, connectivity: 0.3 });
    const b = Network.create({ ...base, connectivity: 0.3, init: 'liu2022' });
    const c = Network.create({ ...base, connectivity: 0.3, seed: 4 });
    assert.deepEqual(a.mask, b.mask);
    assert.notDeepEqual(a.mask, c.mask);
  });

  for (const bad of [0, -0.1, 1.5, NaN, Infinity, '0.5', null]) {
    it(`connectivity ${String(bad)} is a ModpropError naming config.connectivity`, () => {
      assert.throws(() => Network.create({ ...base, connectivity: bad as number }),
        (e: unknown) => e instanceof ModpropError && /^Expected a connection probability p with 0 < p ≤ 1 for config\.connectivity/.test(e.message));
    });
  }

  it('fromParams refuses a Wrec with weight outside the mask, naming the entry', () => {
    const net = Network.create({ ...base, connectivity: 0.2 });
    const k = net.mask!.findIndex((v, i) => v === 0 && i % (net.nRec + 1) !== 0);
    const wrec = net.params.wrec.slice();
    wrec[k] = net.config.typeSigns![net.types[Math.floor(k / net.nRec)]] * 0.01;
    assert.throws(() => Network.fromParams(net.config, { ...net.params, wrec }),
      (e: unknown) => e instanceof ModpropError && /connectivity mask .* for params\.wrec/.test(e.message));
  });
});

const RULES: RuleConfig[] = [
  { rule: 'bptt' }, { rule: 'tbptt', window: 3 }, { rule: 'eprop' }, { rule: 'eprop', online: true }, { rule: 'mdgl' },
  { rule: 'mdgl', feedback: 'cell' }, { rule: 'modprop', mu: 0.3 }, { rule: 'modprop', mu: 0.3, online: true },
  { rule: 'modprop', mu: 0.3, feedback: 'cell' },
];

describe('connectivity: masked gradients', () => {
  const net = Network.create({ ...base, connectivity: 0.25, subtypes: 2 });
  const batch = task.sample(4, 8);
  const engines = nativeUnavailable() === undefined ? ['native', 'reference'] as const : ['reference'] as const;
  for (const backend of engines) {
    for (const rule of [...RULES, ...(backend === 'reference' ? [{ rule: 'rtrl' } as RuleConfig] : [])]) {
      it(`${backend} ${JSON.stringify(rule)}: exactly 0 outside the mask, non-trivial inside`, () => {
        const g = gradients(net, batch, rule, { backend });
        assert.deepEqual(outside(net, g.grads.wrec), []);
        const nonZero = insideNonZero(net, g.grads.wrec);
        assert.ok(nonZero > 0.1 * insideNonZero(net, net.params.wrec), `${nonZero} non-zero entries inside`);
      });
    }
  }

  if (engines.length === 2) {
    for (const rule of RULES) {
      it(`native equals reference on the sparse network: ${JSON.stringify(rule)}`, () => {
        const a = gradients(net, batch, rule, { backend: 'native' });
        const b = gradients(net, batch, rule, { backend: 'reference' });
        for (const k of ['win', 'wrec', 'wout'] as const) assert.ok(relNormError(a.grads[k], b.grads[k]) < 1e-4, `${k}`);
      });
    }
  }

  it('bptt inside the mask is the derivative of the loss (finite differences, float64); outside it is 0 where the dense derivative is not', () => {
    const small = Network.create({ ...base, nRec: 12, connectivity: 0.4 });
    const b = task.sample(2, 5);
    const g = gradients(small, b, { rule: 'bptt' }, { backend: 'reference' }).grads.wrec;
    const m = modelOf(small);
    const d = dataOf(b, 'xent-last');
    const h = 1e-6;
    let inside = 0;
    let outsideNonZero = 0;
    for (let k = 0; k < m.wrec.length; k++) {
      if (k % (small.nRec + 1) === 0) continue;
      const w = m.wrec[k];
      m.wrec[k] = w + h;
      const plus = referenceLoss(m, d);
      m.wrec[k] = w - h;
      const minus = referenceLoss(m, d);
      m.wrec[k] = w;
      const fd = (plus - minus) / (2 * h);
      if (small.mask![k]) {
        assert.ok(Math.abs(g[k] - fd) <= 1e-4 * Math.abs(fd) + 1e-7, `[${k}] ${g[k]} vs ${fd}`);
        if (Math.abs(fd) > 1e-6) inside++;
      } else {
        assert.equal(g[k], 0);
        if (Math.abs(fd) > 1e-6) outsideNonZero++;
      }
    }
    assert.ok(inside > 10 && outsideNonZero > 10, `${inside} inside, ${outsideNonZero} outside`);
  });
});

describe('connectivity: training, save/load, checkpoints', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-connectivity-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const optimizer of ['adam', 'sgd'] as const) {
    it(`training (${optimizer}, L2) keeps the weights outside the mask at exactly 0 and moves those inside`, async () => {
      const net = Network.create({ ...base, connectivity: 0.2 });
      const before = net.params.wrec.slice();
      await train(net, task, { rule: 'modprop', mu: 0.2, iterations: 4, batchSize: 4, optimizer, l2: 1e-3, lr: 0.01, seed: 1 });
      assert.deepEqual(outside(net, net.params.wrec), []);
      assert.ok(net.params.wrec.some((w, k) => w !== before[k]));
    });
  }

  it('save and load keep the mask', () => {
    const net = Network.create({ ...base, connectivity: 0.3 });
    const file = path.join(dir, 'net.npz');
    net.save(file);
    const back = Network.load(file);
    assert.deepEqual(back.mask, net.mask);
    assert.equal(back.config.connectivity, 0.3);
    assert.deepEqual(back.params.wrec, net.params.wrec);
  });

  it('a checkpoint keeps the mask; resuming keeps training inside it', async () => {
    const net = Network.create({ ...base, connectivity: 0.3 });
    const file = path.join(dir, 'run.ckpt');
    await train(net, task, { rule: 'bptt', iterations: 3, batchSize: 4, seed: 2, checkpoint: file, checkpointEvery: 1 });
    const cp = loadCheckpoint(file);
    assert.deepEqual(cp.network.mask, net.mask);
    saveCheckpoint(path.join(dir, 'copy.ckpt'), cp);
    assert.deepEqual(loadCheckpoint(path.join(dir, 'copy.ckpt')).network.mask, net.mask);
    const resumed = cp.network;
    await train(resumed, task, { rule: 'bptt', iterations: 6, batchSize: 4, seed: 2, checkpoint: file, checkpointEvery: 1 });
    assert.deepEqual(outside(resumed, resumed.params.wrec), []);
  });
});
