/**
 * Spiking neurons (lib/neurons, lib/reference/spiking) in the float64 reference engine: a hand-computed LIF/ALIF
 * trajectory, and the identities of SPEC §3–4 with ψ in place of relu' (bptt has no finite differences for spikes, so
 * it is checked against rtrl, an independent forward-mode derivation of the same surrogate).
 */
import assert from 'node:assert/strict';
import type { SpikingConstants } from '../../lib/neurons/neuron';
import { referenceGradients } from '../../lib/reference/index';
import type { Data64, Model64, ReferenceRule, Result64 } from '../../lib/reference/model';
import { runSpikingSequence } from '../../lib/reference/spiking/forward';
import { assertDiffer, assertSame as assertSameGrads, randomData, randomModel, rule, zeroBlockMeans } from '../helpers';

const assertSame = (a: Result64, b: Result64, what: string): void => assertSameGrads(a, b, what, 1e-6);

const LIF: SpikingConstants = { alpha: Math.exp(-1 / 5), rho: 0, beta: 0, vth: 0.5, refractory: 1, dampening: 0.3, kappa: Math.exp(-1 / 4) };
const ALIF: SpikingConstants = { ...LIF, rho: Math.exp(-1 / 10), beta: 0.4 };

describe('spiking neurons: one unit by hand', () => {
  // α = ρ = κ = 0.5, v_th = 0.6, one refractory step, x_t = 2, Win = 1, Wout = 1.
  const k: SpikingConstants = { alpha: 0.5, rho: 0.5, beta: 0, vth: 0.6, refractory: 1, dampening: 0.3, kappa: 0.5 };
  const unit = (neuron: SpikingConstants): Model64 => ({
    nIn: 1, nRec: 1, nOut: 1, nTypes: 1, alpha: 0.5, threshold: 0, types: new Int32Array(1), win: Float64Array.of(1),
    wrec: Float64Array.of(0), wout: Float64Array.of(1), bout: Float64Array.of(0), randomFeedback: Float64Array.of(1), neuron,
  });
  const x = Float64Array.of(2, 2, 2, 2, 2);
  const close = (a: ArrayLike<number>, b: number[]): void => b.forEach((e, i) => assert.ok(Math.abs(a[i] - e) < 1e-12, `[${i}] ${a[i]} vs ${e}`));

  it('lif: integrate, spike, reset by subtraction, refractory step, triangular ψ, leaky readout', () => {
    const s = runSpikingSequence(unit(k), x, 0, 5);
    close(s.v, [1, 0.9, 1.45, 1.125, 1.5625]);
    close(s.z, [1, 0, 1, 0, 1]);
    close(s.psi, [0.5 * (1 - 0.4 / 0.6), 0, 0, 0, 0]);
    close(s.y, [1, 0.5, 1.25, 0.625, 1.3125]);
  });

  it('alif: the threshold rises with each spike and decays with ρ', () => {
    const s = runSpikingSequence(unit({ ...k, beta: 0.5 }), x, 0, 5);
    close(s.a, [0, 1, 0.5, 1.25, 0.625]);
    close(s.z, [1, 0, 1, 0, 1]);
    // t = 3: v − A = 1.45 − (0.6 + 0.25) = 0.6 = v_th, the edge of ψ's support; t = 5: 1.5625 − 0.9125 = 0.65
    close(s.psi, [0.5 * (1 - 0.4 / 0.6), 0, 0, 0, 0]);
  });
});

for (const [name, neuron] of [['lif', LIF], ['alif', ALIF]] as const) {
  for (const loss of ['xent-last', 'mse'] as const) {
    describe(`spiking identities, ${name}, ${loss}`, () => {
      const f = { seed: 70 + (loss === 'mse' ? 1 : 0), nTypes: 2, loss, nRec: 8, steps: 30 };
      const m: Model64 = { ...randomModel(f), alpha: neuron.alpha, neuron };
      const d: Data64 = randomData(m, f);
      const run = (r: Partial<ReferenceRule> & Pick<ReferenceRule, 'rule'>, model = m): Result64 => referenceGradients(model, d, rule(r));
      const bptt = run({ rule: 'bptt' });
      const eprop = run({ rule: 'eprop' });

      it('the network spikes and ψ is non-zero (the fixture exercises the pseudo-derivative)', () => {
        const s = runSpikingSequence(m, d.x, 0, d.steps);
        const spikes = s.z.reduce((a, b) => a + b, 0);
        assert.ok(spikes > 10 && spikes < 0.6 * s.z.length, `spikes ${spikes} of ${s.z.length}`);
        assert.ok(s.psi.filter((p) => p > 0).length > 20);
      });
      it('rtrl == bptt (same ψ)', () => assertSame(run({ rule: 'rtrl' }), bptt, 'rtrl'));
      it('tbptt with a window ≥ T == bptt; a short window differs', () => {
        assertSame(run({ rule: 'tbptt', window: d.steps }), bptt, 'tbptt W = T');
        assertDiffer(run({ rule: 'tbptt', window: 4 }), bptt, 'tbptt W = 4');
      });
      it('eprop online == eprop offline (symmetric and random learning signal)', () => {
        assertSame(run({ rule: 'eprop', online: true }), eprop, 'eprop online');
        assertSame(run({ rule: 'eprop', online: true, learningSignal: 'random' }), run({ rule: 'eprop', learningSignal: 'random' }), 'eprop online, random');
      });
      it('modprop with μ = 0 == eprop; with μ > 0 it differs; eprop differs from bptt', () => {
        assertSame(run({ rule: 'modprop', mu: 0 }), eprop, 'modprop μ = 0');
        assertDiffer(run({ rule: 'modprop', mu: 0.25 }), eprop, 'modprop μ = 0.25');
        assertDiffer(eprop, bptt, 'eprop vs bptt');
      });
      it('modprop with cell feedback and ψ in place of μ == bptt', () => {
        assertSame(run({ rule: 'modprop', feedback: 'cell', exactDerivative: true }), bptt, 'modprop exact');
      });
      it('mdgl with Wfb = 0 (type blocks of mean 0) == eprop; mdgl with cell feedback differs from eprop', () => {
        const balanced = zeroBlockMeans(m);
        assertSame(run({ rule: 'mdgl', feedback: 'type' }, balanced), run({ rule: 'eprop' }, balanced), 'mdgl Wfb = 0');
        assertDiffer(run({ rule: 'mdgl', feedback: 'cell' }), eprop, 'mdgl');
      });
      if (name === 'lif') {
        it('modprop online == modprop offline (type feedback; C = 2 and C = 3)', () => {
          assertSame(run({ rule: 'modprop', online: true, mu: 0.3 }), run({ rule: 'modprop', mu: 0.3 }), 'modprop online');
          assertDiffer(run({ rule: 'modprop', online: true, mu: 0.3 }), eprop, 'modprop online vs eprop');
          const m3: Model64 = { ...m, nTypes: 3, types: Int32Array.from({ length: m.nRec }, (_, i) => i % 3) };
          assertSame(run({ rule: 'modprop', online: true, learningSignal: 'random' }, m3), run({ rule: 'modprop', learningSignal: 'random' }, m3), 'modprop online, C = 3');
        });
      }
      if (name === 'alif') {
        it('the adaptation matters: alif eprop differs from the same weights with β = 0', () => {
          assertDiffer(eprop, run({ rule: 'eprop' }, { ...m, neuron: { ...neuron, beta: 0 } }), 'β = 0');
        });
      }
    });
  }
}
