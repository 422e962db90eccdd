/**
 * RFLO on spiking LIF/ALIF networks (lib/reference/spiking/rflo.ts) in the float64 reference engine: a two-unit
 * network worked by hand (LIF and ALIF), the per-synapse double sum written out from the definitions (no code shared
 * with the rule's recursions), online == offline, and the one identity with e-prop that holds (α = 0 on LIF).
 */
import assert from 'node:assert/strict';
import type { SpikingConstants } from '../../lib/neurons/neuron';
import { referenceGradients } from '../../lib/reference/index';
import { outputError } from '../../lib/reference/loss';
import { feedbackOf, type Data64, type Model64, type ReferenceRule, type Result64 } from '../../lib/reference/model';
import { runSpikingSequence } from '../../lib/reference/spiking/forward';
import { MATRICES, assertDiffer, assertSame, norm, randomData, randomModel, relMaxError, rule } from '../helpers';

const run = (m: Model64, d: Data64, r: Partial<ReferenceRule> & Pick<ReferenceRule, 'rule'>): Result64 => referenceGradients(m, d, rule(r));

describe('spiking rflo: two units by hand', () => {
  // α = κ = 0.5, v_th = γ_pd = 1 (ψ = max(0, 1 − |v − A|)), no refractory step, mse against 0 (δ_t = y_t / 3).
  // Win = [2, 1], Wrec 0 → 1 and 1 → 0 of weight 1, Wout = [1, 2], x = (1.6, 0.8, 0); symmetric signal F = Wout.
  //   v_1 = (1.6, 0.8)  z_1 = (1, 0)  ψ_1 = (0.4, 0.8)    ẑ_1 = (1, 0)       y_1 = 1
  //   v_2 = (0.6, 1.3)  z_2 = (0, 1)  ψ_2 = (0.6, 0.7)    ẑ_2 = (0.5, 1)     y_2 = 2.5
  //   v_3 = (0.8, −.35) z_3 = (0, 0)  ψ_3 = (0.8, 0)      ẑ_3 = (0.25, 0.5)  y_3 = 1.25
  //   δ = (1/3, 5/6, 5/12), u = κ u_{t+1} + δ_t = (41/48, 25/24, 5/12), L̄_{j,t} = u_t F_j
  //   q_{01} = (0, 0.5·0.7·1, 0.175) → dWrec[0][1] = 0.35·2·25/24 + 0.175·2·5/12 = 7/8
  //   q_{10} = (0, 0, 0.5·0.8·1)     → dWrec[1][0] = 0.4·5/12 = 1/6
  //   q^in_0 = (0.32, 0.4, 0.2)      → dWin[0][0] = 0.32·41/48 + 0.4·25/24 + 0.2·5/12 = 58/75
  //   q^in_1 = (0.64, 0.6, 0.3)      → dWin[0][1] = 2·(0.64·41/48 + 0.6·25/24 + 0.3·5/12) = 389/150
  // ALIF (ρ = β = 0.5): a_2 = (1, 0), a_3 = (0.5, 1) raise the thresholds to A_2 = (1.5, 1), A_3 = (1.25, 1.5): the same
  // spikes, but ψ_2 = (0.1, 0.7), ψ_3 = (0.55, 0), so q_{10,3} = 0.275 → dWrec[1][0] = 11/96, q^in_0 = (0.32, 0.2, 0.1)
  // → dWin[0][0] = 157/300; the rest as LIF (RFLO has no adaptation path: a enters only through ψ).
  // Readout (every rule): dWout = Σ_t ẑ_t δ_t = (41/48, 25/24), dbout = 19/12, loss = Σ_t y_t² / 6 = 47/32.
  const lif: SpikingConstants = { alpha: 0.5, rho: 0, beta: 0, vth: 1, refractory: 0, dampening: 1, kappa: 0.5 };
  const net = (neuron: SpikingConstants): Model64 => ({
    nIn: 1, nRec: 2, nOut: 1, nTypes: 1, alpha: 0.5, threshold: 0, types: new Int32Array(2), win: Float64Array.of(2, 1),
    wrec: Float64Array.of(0, 1, 1, 0), wout: Float64Array.of(1, 2), bout: Float64Array.of(0), randomFeedback: Float64Array.of(7, 7), neuron,
  });
  const d: Data64 = { batchSize: 1, steps: 3, loss: 'mse', x: Float64Array.of(1.6, 0.8, 0), targets: new Float64Array(3) };
  const close = (a: ArrayLike<number>, b: number[], what: string): void =>
    b.forEach((e, i) => assert.ok(Math.abs(a[i] - e) < 1e-12, `${what}[${i}]: ${a[i]} vs ${e}`));
  const expected = {
    lif: { wrec: [0, 7 / 8, 1 / 6, 0], win: [58 / 75, 389 / 150] },
    alif: { wrec: [0, 7 / 8, 11 / 96, 0], win: [157 / 300, 389 / 150] },
  };

  for (const [name, neuron] of [['lif', lif], ['alif', { ...lif, rho: 0.5, beta: 0.5 }]] as const) {
    for (const online of [false, true]) {
      it(`${name}, ${online ? 'online' : 'offline'}`, () => {
        const m = net(neuron);
        const s = runSpikingSequence(m, d.x, 0, 3);
        close(s.z, [1, 0, 0, 1, 0, 0], 'z');
        const g = run(m, d, { rule: 'rflo', learningSignal: 'symmetric', online });
        close([g.loss], [47 / 32], 'loss');
        close(g.grads.wrec, expected[name].wrec, 'wrec');
        close(g.grads.win, expected[name].win, 'win');
        close(g.grads.wout, [41 / 48, 25 / 24], 'wout');
        close(g.grads.bout, [19 / 12], 'bout');
      });
    }
  }
});

/**
 * dW[p][j] = Σ_t q_{pj,t} L̄_{j,t} with q_{pj,t} = Σ_{r ≤ t} α^{t-r} (1-α) ψ_{j,r} pre_{p,r} and
 * L̄_{j,t} = Σ_{s ≥ t} κ^{s-t} (δ_s @ Fᵀ)_j — both unrolled, O(T²) per synapse, from the forward trajectory only.
 */
function directSum(m: Model64, d: Data64, r: ReferenceRule): { win: Float64Array; wrec: Float64Array } {
  const { nIn, nRec: n, nOut: k, alpha } = m;
  const kappa = m.neuron!.kappa;
  const T = d.steps;
  const f = feedbackOf(m, r);
  const wrec = new Float64Array(n * n);
  const win = new Float64Array(nIn * n);
  const delta = new Float64Array(T * k);
  for (let b = 0; b < d.batchSize; b++) {
    const s = runSpikingSequence(m, d.x, b, T);
    delta.fill(0);
    for (let t = 0; t < T; t++) outputError(m, d, b, t, s.y, t * k, delta.subarray(t * k, (t + 1) * k));
    const pre = (p: number, t: number, rec: boolean): number => (rec ? (t > 0 ? s.z[(t - 1) * n + p] : 0) : d.x[(b * T + t) * nIn + p]);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < n; j++) {
        let signal = 0;
        for (let u = t; u < T; u++) for (let o = 0; o < k; o++) signal += kappa ** (u - t) * delta[u * k + o] * f[j * k + o];
        for (const [rec, out, rows] of [[true, wrec, n], [false, win, nIn]] as const) {
          for (let p = 0; p < rows; p++) {
            let q = 0;
            for (let r0 = 0; r0 <= t; r0++) q += alpha ** (t - r0) * (1 - alpha) * s.psi[r0 * n + j] * pre(p, r0, rec);
            out[p * n + j] += q * signal;
          }
        }
      }
    }
  }
  for (let i = 0; i < n; i++) wrec[i * n + i] = 0;
  return { win, wrec };
}

const LIF: SpikingConstants = { alpha: Math.exp(-1 / 5), rho: 0, beta: 0, vth: 0.5, refractory: 1, dampening: 0.3, kappa: Math.exp(-1 / 4) };
const ALIF: SpikingConstants = { ...LIF, rho: Math.exp(-1 / 10), beta: 0.4 };

for (const [name, neuron] of [['lif', LIF], ['alif', ALIF]] as const) {
  for (const loss of ['xent-last', 'mse'] as const) {
    describe(`spiking rflo, ${name}, ${loss}`, () => {
      const f = { seed: 80 + (loss === 'mse' ? 1 : 0), nTypes: 2, loss, nRec: 8, steps: 25 };
      const m: Model64 = { ...randomModel(f), alpha: neuron.alpha, neuron };
      const d: Data64 = randomData(m, f);

      it('the fixture spikes and ψ is non-zero at many unit-steps', () => {
        const s = runSpikingSequence(m, d.x, 0, d.steps);
        const spikes = s.z.reduce((a, b) => a + b, 0);
        assert.ok(spikes > 10 && spikes < 0.6 * s.z.length, `spikes ${spikes} of ${s.z.length}`);
        assert.ok(s.psi.filter((p) => p > 0).length > 20);
      });

      for (const learningSignal of ['random', 'symmetric'] as const) {
        it(`offline and online equal the unrolled double sum (${learningSignal} signal)`, () => {
          const r = rule({ rule: 'rflo', learningSignal });
          const want = directSum(m, d, r);
          const offline = referenceGradients(m, d, r);
          const online = referenceGradients(m, d, { ...r, online: true });
          for (const [what, g] of [['offline', offline], ['online', online]] as const) {
            for (const key of ['win', 'wrec'] as const) {
              assert.ok(norm(want[key]) > 1e-6, `${key}: the direct sum is non-trivial`);
              const err = relMaxError(g.grads[key], want[key]);
              assert.ok(err < 1e-10, `${what} ${key}: max relative error ${err}`);
            }
          }
          assertSame(online, offline, 'online vs offline');
          const eprop = run(m, d, { rule: 'eprop', learningSignal });
          for (const key of MATRICES.slice(2)) assert.equal(relMaxError(offline.grads[key], eprop.grads[key]), 0, `${key}: the readout gradient is every rule's`);
          assert.equal(offline.loss, eprop.loss);
        });
      }

      it('differs from e-prop (ψ inside the trace, signal unmasked) and from bptt', () => {
        assertDiffer(run(m, d, { rule: 'rflo', learningSignal: 'symmetric' }), run(m, d, { rule: 'eprop' }), 'rflo vs eprop');
        assertDiffer(run(m, d, { rule: 'rflo', learningSignal: 'symmetric' }), run(m, d, { rule: 'bptt' }), 'rflo vs bptt');
      });

      // α = 0: q_t = ψ_t pre_t is e-prop's e_t for LIF and G_t = L̄_t, so g_t = ψ_t ⊙ L̄_t = e-prop's g^v_t. For ALIF
      // e-prop keeps the adaptation path (ε^a, g^a) that RFLO drops, so they still differ.
      it(name === 'lif' ? 'with α = 0 equals e-prop (both signals, offline and online)' : 'with α = 0 still differs from e-prop: RFLO drops the adaptation path', () => {
        const instant: Model64 = { ...m, alpha: 0, neuron: { ...neuron, alpha: 0 } };
        let active = 0;
        for (let b = 0; b < d.batchSize; b++) active += runSpikingSequence(instant, d.x, b, d.steps).psi.filter((p) => p > 0).length;
        assert.ok(active > 20, `the α = 0 network has non-zero ψ at ${active} unit-steps`);
        for (const learningSignal of ['random', 'symmetric'] as const) {
          const eprop = run(instant, d, { rule: 'eprop', learningSignal });
          for (const online of [false, true]) {
            const r = run(instant, d, { rule: 'rflo', learningSignal, online });
            if (name === 'lif') assertSame(r, eprop, `α = 0, ${learningSignal}, online ${online}`);
            else assertDiffer(r, eprop, `α = 0, ${learningSignal}, online ${online}`);
          }
        }
      });
    });
  }
}
