/**
 * The column-split path of large networks (native/core/column_split.h, issue 13 goal 2; opt-in, MODPROP_COLUMN_SPLIT=1): each
 * step's recurrent products are split by output columns across the pool instead of each thread running its chunk of
 * the batch through all of Wrec. It keeps the chunks, their accumulators and every element's sum, so its results must
 * be bit-identical to the row-split path. MODPROP_COLUMN_SPLIT=1 forces it at any N, =0 forbids it; these tests
 * compare the two at sizes that are not multiples of the kernels' column blocks (16/48 floats), with Wrec read in
 * place (N < 512) and as packed panels (N ≥ 512), at 1 and 2 threads (2 chunks of an odd batch: 2 and 3 rows), for forward,
 * every native rule and both losses; and at N = 2050 (forced) against =0.
 */
import assert from 'node:assert/strict';
import { Network, gradients, type Batch, type Params, type RuleConfig } from '../../lib/index';
import { Random } from '../../lib/random';
import { LAYOUTS, NATIVE_RULES, assertBitIdentical, describeNative, label, makeBatch, makeNet, norm } from './common';

const VAR = 'MODPROP_COLUMN_SPLIT';

function withSplit<T>(value: '0' | '1' | undefined, f: () => T): T {
  const saved = process.env[VAR];
  if (value === undefined) delete process.env[VAR];
  else process.env[VAR] = value;
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env[VAR];
    else process.env[VAR] = saved;
  }
}

function assertSameArray(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}] differs: ${a[i]} vs ${b[i]}`);
}

function compareForward(net: Network, batch: Batch, threads: number, split: '1' | undefined, what: string): void {
  const rows = withSplit('0', () => net.forward(batch, { backend: 'native', threads }));
  const cols = withSplit(split, () => net.forward(batch, { backend: 'native', threads }));
  assert.ok(norm(rows.z) > 0, `${what}: z is all zero (a trivial comparison)`);
  for (const k of ['v', 'z', 'y'] as const) assertSameArray(cols[k], rows[k], `${what}, forward ${k}`);
}

function compareRule(net: Network, batch: Batch, rule: RuleConfig, loss: 'mse' | 'xent-last', threads: number,
  split: '1' | undefined, what: string): void {
  const call = () => gradients(net, batch, rule, { backend: 'native', loss, threads });
  const rows = withSplit('0', call);
  const cols = withSplit(split, call);
  assert.ok(norm(rows.grads.wrec) > 0, `${what}: dWrec is all zero (a trivial comparison)`);
  assertBitIdentical(cols, rows, what);
}

describeNative('column-split path = row-split path, bit for bit (issue 13 goal 2)', () => {
  for (const nRec of [100, 530]) {
    describe(`forced (${VAR}=1) at N = ${nRec}, B = 5, T = 9`, function () {
      this.timeout(300000);
      const net = makeNet({ nIn: 3, nRec, nOut: 2, seed: nRec + 5, tau: 10, layout: LAYOUTS[1], scaled: { wrecScale: 1.3, winScale: 2 } });
      const batches = { mse: makeBatch(net, 5, 9, 'mse', 11), 'xent-last': makeBatch(net, 5, 9, 'xent-last', 12) };
      it('forward: v, z and y at 1 and 2 threads', () => {
        for (const threads of [1, 2]) compareForward(net, batches.mse, threads, '1', `${threads} threads`);
      });
      for (const rule of NATIVE_RULES) {
        it(`${label(rule)}: both losses at 1 and 2 threads`, () => {
          for (const loss of ['mse', 'xent-last'] as const)
            for (const threads of [1, 2]) compareRule(net, batches[loss], rule, loss, threads, '1', `${loss}, ${threads} threads`);
        });
      }
    });
  }

  describe('forced at N = 2050 (B = 3, T = 5), against the row-split path', function () {
    this.timeout(300000);
    // Network.fromParams: Network.create's spectral radius at this N would cost seconds and is not under test.
    const nRec = 2050, nIn = 2, nOut = 2;
    const rng = new Random(2048, 1);
    const scale = 1.6 / Math.sqrt(nRec);
    const params: Params = {
      win: Float32Array.from({ length: nIn * nRec }, () => rng.normal()),
      wrec: Float32Array.from({ length: nRec * nRec }, (_, i) => (i % (nRec + 1) === 0 ? 0 : rng.normal() * scale)),
      wout: Float32Array.from({ length: nRec * nOut }, () => rng.normal() * 0.1),
      bout: Float32Array.from({ length: nOut }, () => rng.normal() * 0.1),
    };
    const net = Network.fromParams({ nIn, nRec, nOut, dale: false, tau: 10 }, params);
    const batch = makeBatch(net, 3, 5, 'mse', 13);
    it('forward, bptt, tbptt (window 2), eprop and online modprop at 2 threads', () => {
      compareForward(net, batch, 2, '1', 'forced');
      for (const rule of [{ rule: 'bptt' }, { rule: 'tbptt', window: 2 }, { rule: 'eprop' }, { rule: 'modprop', online: true }] as RuleConfig[])
        compareRule(net, batch, rule, 'mse', 2, '1', label(rule));
    });
  });

  it('leaves spiking networks to their own path: forcing it changes no bit of an alif network', () => {
    const net = Network.create({ nIn: 3, nRec: 60, nOut: 2, seed: 4, neuron: { model: 'alif' } });
    const rng = new Random(9, 0);
    const x = Float32Array.from({ length: 4 * 30 * 3 }, () => (rng.uniform() < 0.2 ? 1 : 0));
    const batch: Batch = { x, batchSize: 4, steps: 30, targets: Float32Array.from({ length: 4 * 30 * 2 }, () => rng.uniform() - 0.5) };
    for (const rule of [{ rule: 'bptt' }, { rule: 'eprop', online: true }] as RuleConfig[]) {
      const call = () => gradients(net, batch, rule, { backend: 'native', loss: 'mse', threads: 2 });
      const plain = withSplit('0', call);
      assert.ok(norm(plain.grads.win) > 0, `${label(rule)}: dWin is all zero (a trivial comparison)`);
      assertBitIdentical(withSplit('1', call), plain, `alif ${label(rule)}`);
    }
  });
});
