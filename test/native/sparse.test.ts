/**
 * The native sparse path (issue 13 goal 4, native/core/sparse.h): with a connectivity mask the recurrent products run
 * over the mask entries. MODPROP_SPARSE=1 forces it for every masked network and MODPROP_SPARSE=0 forces the dense
 * kernels (lib/connectivity.ts sparseKernels), so both paths run on the same masked network here and must agree to
 * float32 rounding, for every native rule, several p (down to rows and columns with no connection at all) and N not a
 * multiple of any SIMD width or tile; and each must agree with the float64 reference engine at the parity tolerance.
 * The raw addon is called too, so that "zero outside the mask" is the kernels' own result rather than the masking
 * lib/gradients.ts applies afterwards. Same seed and thread count: bit-identical; the forward pass of a row does not
 * depend on the rows next to it, so 1 and 2 threads give the same v, z, y bit for bit.
 */
import assert from 'node:assert/strict';
import { ModpropError, Network, gradients, tasks, train, type Batch, type GradientResult, type RuleConfig } from '../../lib/index';
import { GRADIENT_ARRAYS, JOB_FLOATS, JOB_INTS, LOSS_IDS, RULE_IDS } from '../../lib/contract';
import { SPARSE_CROSSOVER, SPARSE_MIN_UNITS, sparseKernels, withSparseKernels } from '../../lib/connectivity';
import { loadAddon } from '../../lib/native/addon';
import { Random } from '../../lib/random';
import { MATRICES, NATIVE_RULES, assertBitIdentical, describeNative, label, makeBatch, norm, relNormError } from './common';

const TOL = 1e-4;  // native float32 vs reference float64 (test/native/parity.test.ts)
const PATH_TOL = 1e-5;  // sparse vs dense kernels, both float32: only the order of the sums differs

const withSparse = withSparseKernels;

/** A masked network with activity: Wrec and Win scaled up (the mask keeps Wrec's zeros), a random bout. */
function sparseNet(nRec: number, p: number, seed: number): Network {
  const config = { nIn: 3, nRec, nOut: 2, seed, tau: 10, connectivity: p };
  const net = Network.create(config);
  const rng = new Random(seed, 77);
  const scale = Math.min(4, 1 / Math.sqrt(p));  // sparser masks get larger weights, so that the recurrence matters
  return Network.fromParams(config, {
    win: net.params.win.map((w) => 1.5 * w), wrec: net.params.wrec.map((w) => scale * w),
    wout: net.params.wout.slice(), bout: Float32Array.from(net.params.bout, () => 0.3 * rng.normal()),
  });
}

function emptyLines(net: Network): { rows: number; cols: number } {
  const n = net.nRec;
  let rows = 0;
  let cols = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    let c = 0;
    for (let j = 0; j < n; j++) {
      r += net.mask![i * n + j];
      c += net.mask![j * n + i];
    }
    if (r === 0) rows++;
    if (c === 0) cols++;
  }
  return { rows, cols };
}

const CASES: { nRec: number; p: number; seed: number }[] = [
  { nRec: 37, p: 0.5, seed: 1 }, { nRec: 37, p: 0.1, seed: 2 }, { nRec: 37, p: 0.03, seed: 3 }, { nRec: 70, p: 0.2, seed: 4 },
];

describeNative('native sparse path vs dense kernels vs reference', () => {
  it('the cases include rows and columns without any connection (p = 0.03 at N = 37)', () => {
    const e = emptyLines(sparseNet(37, 0.03, 3));
    assert.ok(e.rows > 3 && e.cols > 3, `${e.rows} empty rows, ${e.cols} empty columns`);
  });

  for (const c of CASES) {
    const net = sparseNet(c.nRec, c.p, c.seed);
    for (const loss of ['xent-last', 'mse'] as const) {
      const batch = makeBatch(net, 11, 23, loss, c.seed + 10);  // 11 rows: one full tile of 8 and a partial one
      for (const rule of NATIVE_RULES) {
        it(`N ${c.nRec}, p ${c.p}, ${loss}, ${label(rule)}: sparse = dense = reference`, () => {
          const sparse = withSparse('1', () => gradients(net, batch, rule, { backend: 'native', loss, threads: 1 }));
          const dense = withSparse('0', () => gradients(net, batch, rule, { backend: 'native', loss, threads: 1 }));
          const ref = gradients(net, batch, rule, { backend: 'reference', loss });
          assert.ok(Math.abs(sparse.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss ${sparse.loss} vs ${ref.loss}`);
          for (const k of MATRICES) {
            assert.ok(norm(ref.grads[k]) > 0, `${k}: the reference gradient is zero, the comparison would say nothing`);
            const e = relNormError(sparse.grads[k], dense.grads[k]);
            assert.ok(e <= PATH_TOL, `${k}: sparse vs dense relative error ${e.toExponential(3)}`);
            const r = relNormError(sparse.grads[k], ref.grads[k]);
            assert.ok(r <= TOL, `${k}: sparse vs reference relative error ${r.toExponential(3)}`);
          }
        });
      }
    }
  }

  it('the recurrent part matters in these cases: dropping Wrec changes bptt\'s dWin', () => {
    const net = sparseNet(37, 0.1, 2);
    const batch = makeBatch(net, 11, 23, 'mse', 12);
    const zero = Network.fromParams(net.config, { ...net.params, wrec: new Float32Array(net.nRec * net.nRec) });
    const a = withSparse('1', () => gradients(net, batch, { rule: 'bptt' }, { backend: 'native', loss: 'mse' }));
    const b = withSparse('1', () => gradients(zero, batch, { rule: 'bptt' }, { backend: 'native', loss: 'mse' }));
    assert.ok(relNormError(a.grads.win, b.grads.win) > 1e-2);
  });

  it('forward: sparse = dense = reference, and 1 and 2 threads give the same v, z, y bit for bit', () => {
    const net = sparseNet(70, 0.1, 5);
    const batch = makeBatch(net, 11, 30, 'mse', 6);
    const one = withSparse('1', () => net.forward(batch, { backend: 'native', threads: 1 }));
    const two = withSparse('1', () => net.forward(batch, { backend: 'native', threads: 2 }));
    const dense = withSparse('0', () => net.forward(batch, { backend: 'native', threads: 1 }));
    const ref = net.forward(batch, { backend: 'reference' });
    for (const k of ['v', 'z', 'y'] as const) {
      assert.ok(norm(ref[k]) > 0, k);
      assert.deepEqual(two[k], one[k], `${k}: 2 threads vs 1`);
      assert.ok(relNormError(one[k], dense[k]) <= PATH_TOL, `${k} vs dense`);
      assert.ok(relNormError(one[k], ref[k]) <= 1e-5, `${k} vs reference`);
    }
  });

  for (const threads of [1, 2]) {
    it(`threads ${threads}: the same call twice is bit-identical, and agrees with the other thread count to rounding`, () => {
      const net = sparseNet(37, 0.1, 7);
      const batch = makeBatch(net, 11, 23, 'mse', 8);
      for (const rule of [{ rule: 'bptt' }, { rule: 'eprop', online: true }, { rule: 'modprop', feedback: 'cell' }] as RuleConfig[]) {
        const run = (t: number): GradientResult => withSparse('1', () => gradients(net, batch, rule, { backend: 'native', loss: 'mse', threads: t }));
        const a = run(threads);
        assertBitIdentical(run(threads), a, `${label(rule)} threads ${threads}`);
        const other = run(3 - threads);
        for (const k of MATRICES) assert.ok(relNormError(a.grads[k], other.grads[k]) <= PATH_TOL, `${label(rule)} ${k}`);
      }
    });
  }
});

describeNative('native sparse path: the kernels themselves and the choice of path', () => {
  const loaded = loadAddon();
  const addon = 'addon' in loaded ? loaded.addon : undefined;

  /** The raw addon's dWrec for bptt/eprop online on a masked net, with or without the mask argument. */
  function rawWrecGradient(net: Network, batch: Batch, rule: 'bptt' | 'eprop', mask: Uint8Array | null): Float32Array {
    const ints = new Int32Array(Object.keys(JOB_INTS).length);
    Object.assign(ints, { [JOB_INTS.batch]: batch.batchSize, [JOB_INTS.steps]: batch.steps, [JOB_INTS.nIn]: net.nIn,
      [JOB_INTS.nRec]: net.nRec, [JOB_INTS.nOut]: net.nOut, [JOB_INTS.nTypes]: net.nTypes, [JOB_INTS.rule]: RULE_IDS[rule],
      [JOB_INTS.online]: rule === 'eprop' ? 1 : 0, [JOB_INTS.window]: 1, [JOB_INTS.loss]: LOSS_IDS.mse, [JOB_INTS.threads]: 1 });
    const floats = new Float64Array(Object.keys(JOB_FLOATS).length);
    floats[JOB_FLOATS.alpha] = net.alpha;
    floats[JOB_FLOATS.threshold] = net.config.threshold;
    const a: (Float32Array | Int32Array | Uint8Array | null)[] = new Array(Object.keys(GRADIENT_ARRAYS).length).fill(null);
    const grad = new Float32Array(net.nRec * net.nRec);
    Object.assign(a, { [GRADIENT_ARRAYS.win]: net.params.win, [GRADIENT_ARRAYS.wrec]: net.params.wrec, [GRADIENT_ARRAYS.wout]: net.params.wout,
      [GRADIENT_ARRAYS.bout]: net.params.bout, [GRADIENT_ARRAYS.types]: net.types, [GRADIENT_ARRAYS.x]: batch.x,
      [GRADIENT_ARRAYS.targets]: batch.targets, [GRADIENT_ARRAYS.gradWin]: new Float32Array(net.nIn * net.nRec),
      [GRADIENT_ARRAYS.gradWrec]: grad, [GRADIENT_ARRAYS.gradWout]: new Float32Array(net.nRec * net.nOut),
      [GRADIENT_ARRAYS.gradBout]: new Float32Array(net.nOut), [GRADIENT_ARRAYS.mask]: mask });
    (addon!.gradients as (...args: unknown[]) => number)(ints, floats, a);
    return grad;
  }

  for (const rule of ['bptt', 'eprop'] as const) {
    it(`raw addon, ${rule}${rule === 'eprop' ? ' online' : ''}: with the mask the kernels write exactly 0 outside it and the dense values inside`, () => {
      const net = sparseNet(37, 0.2, 9);
      const batch = makeBatch(net, 5, 17, 'mse', 9);
      const sparse = rawWrecGradient(net, batch, rule, net.mask);
      const dense = rawWrecGradient(net, batch, rule, null);
      let outsideDense = 0;
      let inside = 0;
      const n = net.nRec;
      const masked = new Float32Array(dense.length);
      for (let k = 0; k < dense.length; k++) {
        if (net.mask![k] === 0) {
          assert.equal(sparse[k], 0, `[${Math.floor(k / n)}][${k % n}] outside the mask`);
          if (dense[k] !== 0 && k % (n + 1) !== 0) outsideDense++;
        } else {
          masked[k] = dense[k];
          if (sparse[k] !== 0) inside++;
        }
      }
      // Without the mask the dense kernels give a non-zero derivative outside it: the zeros above are the kernels'.
      assert.ok(outsideDense > 100 && inside > 50, `${outsideDense} non-zero outside (dense), ${inside} inside (sparse)`);
      assert.ok(relNormError(sparse, masked) <= PATH_TOL);
    });
  }

  it('the raw addon refuses a mask with weight outside it, naming wrec', () => {
    const net = sparseNet(37, 0.2, 9);
    const batch = makeBatch(net, 2, 4, 'mse', 9);
    const mask = net.mask!.slice();
    const k = mask.findIndex((v, i) => v === 1 && i % (net.nRec + 1) !== 0);
    mask[k] = 0;
    assert.throws(() => rawWrecGradient(net, batch, 'bptt', mask),
      (e: unknown) => (e as { code?: string }).code === 'MODPROP_INVALID' && /^Expected 0 outside the connectivity mask for wrec/.test((e as Error).message));
  });

  it('the default takes the sparse path at p ≤ SPARSE_CROSSOVER and N ≥ SPARSE_MIN_UNITS only, never without a mask; MODPROP_SPARSE forces either', () => {
    const mask = new Uint8Array(4);
    const n = SPARSE_MIN_UNITS;
    withSparse('', () => {
      assert.equal(sparseKernels(mask, SPARSE_CROSSOVER, n), true);
      assert.equal(sparseKernels(mask, Math.min(1, SPARSE_CROSSOVER * 1.5), n), false);
      assert.equal(sparseKernels(mask, SPARSE_CROSSOVER, n - 1), false);
      assert.equal(sparseKernels(null, SPARSE_CROSSOVER, n), false);
    });
    withSparse('1', () => {
      assert.equal(sparseKernels(mask, 0.9, 2), true);
      assert.equal(sparseKernels(null, 0.01, n), false);
    });
    withSparse('0', () => assert.equal(sparseKernels(mask, 0.01, n), false));
  });

  it('a bad MODPROP_SPARSE is a ModpropError naming it', () => {
    withSparseKernels('yes' as '1', () => {
      const net = sparseNet(37, 0.2, 9);
      assert.throws(() => gradients(net, makeBatch(net, 2, 4, 'mse', 9), { rule: 'bptt' }, { backend: 'native', loss: 'mse' }),
        (e: unknown) => e instanceof ModpropError && e.message === "Expected '0' or '1' for the environment variable MODPROP_SPARSE but received 'yes'");
    });
  });

  it('a dense network is bit-identical whatever MODPROP_SPARSE says', () => {
    const net = Network.create({ nIn: 3, nRec: 37, nOut: 2, seed: 4 });
    const batch = makeBatch(net, 5, 17, 'mse', 4);
    const a = withSparse('1', () => gradients(net, batch, { rule: 'bptt' }, { backend: 'native', loss: 'mse' }));
    const b = withSparse('0', () => gradients(net, batch, { rule: 'bptt' }, { backend: 'native', loss: 'mse' }));
    assertBitIdentical(a, b, 'dense network');
  });

  it('training on the sparse path keeps the weights outside the mask at exactly 0 and moves those inside', async () => {
    const task = tasks.delayedXor({ cueSteps: 4, delaySteps: 10 });
    const net = Network.create({ nIn: task.nIn, nRec: 45, nOut: task.nOut, seed: 5, connectivity: 0.1 });
    const before = net.params.wrec.slice();
    const before0 = process.env.MODPROP_SPARSE;
    process.env.MODPROP_SPARSE = '1';  // for the whole run, across its awaits
    try {
      await train(net, task, { rule: 'bptt', iterations: 4, batchSize: 4, lr: 0.01, seed: 1, backend: 'native' });
    } finally {
      if (before0 === undefined) delete process.env.MODPROP_SPARSE;
      else process.env.MODPROP_SPARSE = before0;
    }
    let moved = 0;
    for (let k = 0; k < before.length; k++) {
      if (net.mask![k] === 0) assert.equal(net.params.wrec[k], 0);
      else if (net.params.wrec[k] !== before[k]) moved++;
    }
    assert.ok(moved > 0.5 * net.mask!.reduce((s, v) => s + v, 0), `${moved} weights inside the mask moved`);
  });
});
