/**
 * The identities of SPEC §3–4 in the float64 reference engine, to 1e-9 relative, with C = 1, 2 and 3 cell types,
 * both losses, and checks that the gradients are non-trivial and that rules which should differ do differ.
 */
import assert from 'node:assert/strict';
import { referenceGradients } from '../../lib/reference/index';
import { runSequence } from '../../lib/reference/forward';
import type { Model64, ReferenceRule, Result64 } from '../../lib/reference/model';
import { assertDiffer, assertSame, norm, randomData, randomModel, relMaxError, rule, zeroBlockMeans, type Fixture } from '../helpers';

const run = (m: Model64, d: ReturnType<typeof randomData>, r: Partial<ReferenceRule> & Pick<ReferenceRule, 'rule'>): Result64 =>
  referenceGradients(m, d, rule(r));

for (const nTypes of [1, 2, 3]) {
  for (const loss of ['xent-last', 'mse'] as const) {
    describe(`SPEC §3–4 identities, C = ${nTypes}, ${loss}`, () => {
      const f: Fixture = { seed: 40 + nTypes, nTypes, loss, nRec: 8, steps: 14 };
      const m = randomModel(f);
      const d = randomData(m, f);
      const bptt = run(m, d, { rule: 'bptt' });
      const eprop = run(m, d, { rule: 'eprop' });

      it('rtrl == bptt', () => assertSame(run(m, d, { rule: 'rtrl' }), bptt, 'rtrl'));
      it('modprop with μ = 0 == eprop, and modprop with μ > 0 differs from eprop', () => {
        assertSame(run(m, d, { rule: 'modprop', mu: 0 }), eprop, 'modprop μ=0');
        assertSame(run(m, d, { rule: 'modprop', mu: 0, feedback: 'cell' }), eprop, 'modprop μ=0 cell');
        assertDiffer(run(m, d, { rule: 'modprop', mu: 0.3 }), eprop, 'modprop μ=0.3 vs eprop');
      });
      it('mdgl and modprop with zero feedback weights == eprop', () => {
        const mz = zeroBlockMeans(m);
        const ez = run(mz, d, { rule: 'eprop' });
        assertDiffer(run(mz, d, { rule: 'bptt' }), ez, 'bptt vs eprop on the same network (the network is recurrent)');
        assertSame(run(mz, d, { rule: 'mdgl', feedback: 'type' }), ez, 'mdgl with Wab = 0');
        assertSame(run(mz, d, { rule: 'modprop', feedback: 'type', mu: 0.5 }), ez, 'modprop with Wab = 0');
        assertDiffer(run(m, d, { rule: 'mdgl', feedback: 'cell' }), eprop, 'mdgl (cell) vs eprop');
      });
      it("modprop with cell feedback and the exact relu' == bptt", () => {
        assertSame(run(m, d, { rule: 'modprop', feedback: 'cell', exactDerivative: true }), bptt, 'modprop exact');
        assertDiffer(run(m, d, { rule: 'modprop', feedback: 'cell', mu: 1 }), bptt, 'modprop with constant μ vs bptt');
      });
      it('online == offline for eprop and modprop (type feedback)', () => {
        assertSame(run(m, d, { rule: 'eprop', online: true }), eprop, 'eprop online');
        for (const mu of [0.1, 0.4]) {
          assertSame(run(m, d, { rule: 'modprop', mu, online: true }), run(m, d, { rule: 'modprop', mu }), `modprop online μ=${mu}`);
        }
        for (const signal of ['random'] as const) {
          assertSame(run(m, d, { rule: 'modprop', online: true, learningSignal: signal }),
            run(m, d, { rule: 'modprop', learningSignal: signal }), 'modprop online, random learning signal');
        }
      });
      it('tbptt with a window ≥ T == bptt; shorter windows differ', () => {
        assertSame(run(m, d, { rule: 'tbptt', window: d.steps }), bptt, 'tbptt W=T');
        assertSame(run(m, d, { rule: 'tbptt', window: d.steps + 5 }), bptt, 'tbptt W>T');
        assertDiffer(run(m, d, { rule: 'tbptt', window: 3 }), bptt, 'tbptt W=3 vs bptt');
      });
      it('the random learning signal changes the approximate rules but not dWout', () => {
        const r = run(m, d, { rule: 'eprop', learningSignal: 'random' });
        assertDiffer(r, eprop, 'eprop random vs symmetric');
        assert.ok(relMaxError(r.grads.wout, eprop.grads.wout) < 1e-9);
      });
    });
  }
}

describe('tbptt is bptt with the state detached every W steps', () => {
  // With mse and T = 2W, tbptt's gradient is the sum of two independent pieces: bptt of the first W steps alone,
  // and the gradient of the last W steps' loss with the state at step W held constant (here by finite differences
  // of an explicit forward pass that restarts from that frozen state).
  it('equals an explicit two-segment computation', () => {
    const f: Fixture = { seed: 77, nTypes: 2, loss: 'mse', nRec: 6, steps: 10 };
    const m = randomModel(f);
    const d = randomData(m, f);
    const W = 5;
    const tb = run(m, d, { rule: 'tbptt', window: W });
    const first = { ...d, steps: W, x: sliceSteps(d.x, d, 0, W, m.nIn), targets: sliceSteps(d.targets!, d, 0, W, m.nOut) };
    const g1 = run(m, first, { rule: 'bptt' });
    const scale = W / d.steps; // the first segment alone normalises its mse by W steps, tbptt by T
    const g2 = secondSegment(m, d, W);
    for (const k of ['win', 'wrec'] as const) {
      const expected = g1.grads[k].map((g, i) => g * scale + g2[k][i]);
      assert.ok(norm(g2[k]) > 1e-6, `${k}: the second segment carries gradient`);
      const err = relMaxError(tb.grads[k], expected);
      assert.ok(err < 1e-6, `${k}: max relative error ${err}`);
    }
  });
});

function sliceSteps(a: Float64Array, d: { batchSize: number; steps: number }, from: number, to: number, width: number): Float64Array {
  const out = new Float64Array(d.batchSize * (to - from) * width);
  for (let b = 0; b < d.batchSize; b++) {
    out.set(a.subarray((b * d.steps + from) * width, (b * d.steps + to) * width), b * (to - from) * width);
  }
  return out;
}

/** d(loss of steps W+1..T)/dθ with the state at step W held constant, by central finite differences. */
function secondSegment(m: Model64, d: ReturnType<typeof randomData>, W: number): { win: Float64Array; wrec: Float64Array } {
  // Forward once to get the state at step W per sequence (the constant the second segment starts from).
  const n = m.nRec;
  const lossSecond = (mm: Model64): number => {
    let loss = 0;
    for (let b = 0; b < d.batchSize; b++) {
      const base = runSequence(m, d.x, b, d.steps); // frozen state from the unperturbed weights
      let v = base.v.slice((W - 1) * n, W * n);
      let z = base.z.slice((W - 1) * n, W * n);
      for (let t = W; t < d.steps; t++) {
        const vn = new Float64Array(n);
        const zn = new Float64Array(n);
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let i = 0; i < mm.nIn; i++) s += d.x[(b * d.steps + t) * mm.nIn + i] * mm.win[i * n + j];
          for (let p = 0; p < n; p++) s += z[p] * mm.wrec[p * n + j];
          vn[j] = mm.alpha * v[j] + (1 - mm.alpha) * s;
          zn[j] = Math.max(vn[j] - mm.threshold, 0);
        }
        v = vn;
        z = zn;
        for (let o = 0; o < mm.nOut; o++) {
          let y = mm.bout[o];
          for (let p = 0; p < n; p++) y += z[p] * mm.wout[p * mm.nOut + o];
          const e = y - d.targets![(b * d.steps + t) * mm.nOut + o];
          loss += (0.5 * e * e) / (d.batchSize * d.steps);
        }
      }
    }
    return loss;
  };
  const out = { win: new Float64Array(m.win.length), wrec: new Float64Array(m.wrec.length) };
  const h = 1e-6;
  for (const key of ['win', 'wrec'] as const) {
    const arr = m[key];
    for (let i = 0; i < arr.length; i++) {
      if (key === 'wrec' && i % (n + 1) === 0) continue;
      const o = arr[i];
      const copyPlus = { ...m, [key]: arr.slice() } as Model64;
      copyPlus[key][i] = o + h;
      const copyMinus = { ...m, [key]: arr.slice() } as Model64;
      copyMinus[key][i] = o - h;
      out[key][i] = (lossSecond(copyPlus) - lossSecond(copyMinus)) / (2 * h);
    }
  }
  return out;
}
