/**
 * RFLO (Murray 2019) in the float64 reference engine, without finite differences: the online form equals the
 * offline recursion; both equal the per-synapse double sum written out from the paper's trace definition; with every
 * unit active (ψ ≡ 1) RFLO is e-prop with the same learning signal, and otherwise it differs from it.
 */
import assert from 'node:assert/strict';
import { referenceGradients } from '../../lib/reference/index';
import { runSequence } from '../../lib/reference/forward';
import { outputError } from '../../lib/reference/loss';
import type { Data64, Model64, ReferenceRule, Result64 } from '../../lib/reference/model';
import { MATRICES, norm, randomData, randomModel, relMaxError, rule, type Fixture } from '../helpers';

const TOL = 1e-10;
const run = (m: Model64, d: Data64, r: Partial<ReferenceRule> & Pick<ReferenceRule, 'rule'>): Result64 => referenceGradients(m, d, rule(r));

function maxError(a: Result64, b: Result64): number {
  return Math.max(...MATRICES.map((k) => relMaxError(a.grads[k], b.grads[k])), Math.abs(a.loss - b.loss) / Math.abs(b.loss));
}

/**
 * dWrec[p][j] = Σ_t L_{j,t} Σ_{s ≤ t} α^{t-s} (1-α) ψ_{j,s} z_{p,s-1} and the same for Win with x_s — the trace
 * unrolled into its sum, O(T²) per synapse, sharing no code with the rule.
 */
function unrolled(m: Model64, d: Data64, f: Float64Array): { wrec: Float64Array; win: Float64Array } {
  const { nIn, nRec: n, nOut: k, alpha } = m;
  const T = d.steps;
  const wrec = new Float64Array(n * n);
  const win = new Float64Array(nIn * n);
  const delta = new Float64Array(k);
  for (let b = 0; b < d.batchSize; b++) {
    const { v, z, y } = runSequence(m, d.x, b, T);
    const psi = (s: number, j: number): number => (v[s * n + j] - m.threshold > 0 ? 1 : 0);
    for (let t = 0; t < T; t++) {
      if (outputError(m, d, b, t, y, t * k, delta) < 0) continue;
      for (let j = 0; j < n; j++) {
        let signal = 0;
        for (let o = 0; o < k; o++) signal += delta[o] * f[j * k + o];
        for (let s = 0; s <= t; s++) {
          const w = signal * alpha ** (t - s) * (1 - alpha) * psi(s, j);
          if (w === 0) continue;
          if (s > 0) for (let p = 0; p < n; p++) wrec[p * n + j] += w * z[(s - 1) * n + p];
          for (let a = 0; a < nIn; a++) win[a * n + j] += w * d.x[(b * T + s) * nIn + a];
        }
      }
    }
  }
  for (let i = 0; i < n; i++) wrec[i * n + i] = 0;
  return { wrec, win };
}

for (const loss of ['xent-last', 'mse'] as const) {
  for (const learningSignal of ['random', 'symmetric'] as const) {
    describe(`rflo, ${loss}, ${learningSignal} signal`, () => {
      const f: Fixture = { seed: 71, loss, nRec: 9, steps: 13, batchSize: 3 };
      const m = randomModel(f);
      const d = randomData(m, f);
      const offline = run(m, d, { rule: 'rflo', learningSignal });

      it('is non-trivial and its online form equals the offline recursion', () => {
        for (const k of ['win', 'wrec'] as const) assert.ok(norm(offline.grads[k]) > 1e-6, `${k} gradient is non-trivial`);
        const err = maxError(run(m, d, { rule: 'rflo', learningSignal, online: true }), offline);
        assert.ok(err < TOL, `online vs offline: ${err}`);
      });

      it('equals the per-synapse sum of its trace definition', () => {
        const expected = unrolled(m, d, learningSignal === 'random' ? m.randomFeedback : m.wout);
        for (const k of ['win', 'wrec'] as const) {
          const err = relMaxError(offline.grads[k], expected[k]);
          assert.ok(err < TOL, `${k}: ${err}`);
        }
        // The readout gradients are every rule's exact ones.
        const bptt = run(m, d, { rule: 'bptt' });
        assert.ok(relMaxError(offline.grads.wout, bptt.grads.wout) < TOL);
      });

      it('is e-prop when every unit is active (ψ ≡ 1) and differs from it otherwise', () => {
        // A threshold far below every v (Wrec scaled down so that z = v − thr ≈ 10³ cannot drive v below it).
        const allActive = { ...m, threshold: -1e3, wrec: m.wrec.map((w) => w * 1e-4) };
        for (const online of [false, true]) {
          const err = maxError(run(allActive, d, { rule: 'rflo', learningSignal, online }), run(allActive, d, { rule: 'eprop', learningSignal }));
          assert.ok(err < TOL, `ψ ≡ 1, online ${online}: ${err}`);
        }
        const eprop = run(m, d, { rule: 'eprop', learningSignal });
        const diff = Math.max(relMaxError(offline.grads.wrec, eprop.grads.wrec), relMaxError(offline.grads.win, eprop.grads.win));
        assert.ok(diff > 1e-3, `rflo and eprop differ where units switch: ${diff}`);
      });
    });
  }
}
