/**
 * Spiking LIF/ALIF networks: the native float32 engine (native/core/spiking.cc) against the float64 reference engine
 * (lib/reference/spiking), for every (rule, online) combination lib/neurons/engine.ts routes to native, both losses,
 * two seeds, C = 2 and 3 cell types (type feedback).
 *
 * Spikes first. A float32 membrane can cross the threshold at another step than the float64 one, after which the two
 * trajectories are different networks and comparing gradients means nothing. The choice here: fixtures (seeds,
 * default initialisation, inputs N(0.3, 1)) whose membranes stay away from the threshold, and that is checked rather
 * than assumed: every test first asserts that the reference's closest approach |v_t − A_t| over the steps a unit
 * could spike is at least MARGIN·v_th (far above float32 rounding of v, ~1e-7·|v|), that the native spike trains
 * equal the reference's bit for bit, and that the networks do spike (neither silent nor saturated). Only then are
 * the loss (1e-5 relative) and the four gradients (1e-4 relative norm, as for rate units) compared, each gradient
 * non-zero, and bptt's differing from eprop's by far more than the tolerance (the recurrent paths are exercised).
 */
import assert from 'node:assert/strict';
import { Network, gradients, gradientsAsync, type Batch, type GradientResult, type RuleConfig } from '../../lib/index';
import { engineFor } from '../../lib/backend';
import { NATIVE_SPIKING, nativeRuns } from '../../lib/neurons/engine';
import { modelOf } from '../../lib/reference/model';
import { runSpikingSequence } from '../../lib/reference/spiking/forward';
import { RULE_NAMES } from '../../lib/rules';
import * as validate from '../../lib/validate';
import { MATRICES, NATIVE_RULES, assertBitIdentical, describeNative, makeBatch, norm, relNormError } from './common';

const TOL = 1e-4;
const LOSS_TOL = 1e-5;
const MARGIN = 1e-4;

/** The configurations of common.ts NATIVE_RULES that the native engine runs on lif or alif neurons (NATIVE_SPIKING). */
const SPIKING_RULES: RuleConfig[] = NATIVE_RULES.filter((r) => nativeRuns({ model: 'lif' }, [validate.rule(r)]) || nativeRuns({ model: 'alif' }, [validate.rule(r)]));
const runsOn = (model: 'lif' | 'alif') => (r: RuleConfig): boolean => nativeRuns({ model }, [validate.rule(r)]);

interface Case {
  model: 'lif' | 'alif';
  loss: 'xent-last' | 'mse';
  seed: number;
  nTypes: 2 | 3;
}

const CASES: Case[] = [];
for (const model of ['lif', 'alif'] as const) {
  for (const loss of ['xent-last', 'mse'] as const) {
    for (const seed of [3, 8]) CASES.push({ model, loss, seed, nTypes: seed === 3 ? 2 : 3 });
  }
}

function fixture(c: Case): { net: Network; batch: Batch } {
  const nRec = 20;
  const types = c.nTypes === 2 ? {} : { cellTypes: Array.from({ length: nRec }, (_, i) => i % 3), typeSigns: [1, -1, 1] };
  const net = Network.create({ nIn: 3, nRec, nOut: 2, seed: c.seed, neuron: { model: c.model }, ...types });
  return { net, batch: makeBatch(net, 4, 40, c.loss, c.seed + 100) };
}

const name = (c: Case): string => `${c.model}, ${c.loss}, seed ${c.seed}, C = ${c.nTypes}`;

/** The reference's closest approach to the threshold over the steps a unit could spike, in units of v_th. */
function closestApproach(net: Network, batch: Batch): number {
  const m = modelOf(net);
  const k = m.neuron!;
  const x = Float64Array.from(batch.x);
  let closest = Infinity;
  for (let b = 0; b < batch.batchSize; b++) {
    const s = runSpikingSequence(m, x, b, batch.steps);
    for (let t = 0; t < batch.steps; t++) {
      for (let i = 0; i < m.nRec; i++) {
        const at = t * m.nRec + i;
        // A unit that was refractory at t (blocked: no spike, ψ = 0) cannot spike whatever its membrane.
        const blocked = t > 0 && isBlocked(s.z, t, i, m.nRec, k.refractory);
        if (!blocked) closest = Math.min(closest, Math.abs(s.v[at] - (k.vth + k.beta * s.a[at])) / k.vth);
      }
    }
  }
  return closest;
}

function isBlocked(z: Float64Array, t: number, i: number, n: number, refractory: number): boolean {
  for (let d = 1; d <= refractory && t - d >= 0; d++) if (z[(t - d) * n + i] === 1) return true;
  return false;
}

function compare(nat: GradientResult, ref: GradientResult, what: string): void {
  assert.ok(Number.isFinite(ref.loss) && ref.loss > 0, `${what}: reference loss ${ref.loss}`);
  const lossErr = Math.abs(nat.loss - ref.loss) / ref.loss;
  assert.ok(lossErr <= LOSS_TOL, `${what}: loss native ${nat.loss} vs reference ${ref.loss} (relative ${lossErr})`);
  for (const k of MATRICES) {
    assert.ok(nat.grads[k] instanceof Float32Array, `${what}: native ${k} is a Float32Array`);
    const nr = norm(ref.grads[k]);
    assert.ok(nr > 0 && Number.isFinite(nr), `${what}: reference ${k} gradient is trivial (norm ${nr})`);
    assert.ok(norm(nat.grads[k]) > 0, `${what}: native ${k} gradient is zero`);
    const err = relNormError(nat.grads[k], ref.grads[k]);
    assert.ok(err <= TOL, `${what}: ${k} relative error ${err.toExponential(3)} > ${TOL}`);
  }
}

describeNative('spiking networks: native engine vs reference engine', () => {
  it('the rule list covers every combination NATIVE_SPIKING routes to native, and nothing else', () => {
    for (const model of ['lif', 'alif'] as const) {
      const tested = new Set(SPIKING_RULES.filter((r) => nativeRuns({ model }, [validate.rule(r)])).map((r) => `${r.rule}${r.online ? ' online' : ''}`));
      const expected = new Set<string>();
      for (const r of RULE_NAMES) {
        if (NATIVE_SPIKING[r].offline.includes(model)) expected.add(r);
        if (NATIVE_SPIKING[r].online.includes(model)) expected.add(`${r} online`);
      }
      assert.deepEqual([...tested].sort(), [...expected].sort(), model);
    }
  });

  it('the native engine accepts exactly what lib/neurons/engine.ts routes to it (every rule, online or not, lif and alif)', () => {
    const native = engineFor('native');
    for (const model of ['lif', 'alif'] as const) {
      const { net, batch } = fixture({ model, loss: 'xent-last', seed: 3, nTypes: 2 });
      for (const rule of RULE_NAMES) {
        for (const online of [false, true]) {
          const r = { ...validate.rule({ rule, ...(rule === 'tbptt' ? { window: 7 } : {}) }), online };
          const routed = nativeRuns(net.config.neuron, [r]);
          let accepted = true;
          try {
            native.gradients(net, batch, r, 'xent-last');
          } catch (err) {
            assert.ok(err instanceof validate.ModpropError, `${model} ${rule} online=${online}: ${String(err)}`);
            accepted = false;
          }
          assert.equal(accepted, routed, `${model} ${rule} online=${online}: native accepts ${accepted}, routed ${routed}`);
        }
      }
    }
  });

  for (const c of CASES) {
    describe(name(c), () => {
      const { net, batch } = fixture(c);

      it('membranes stay away from the threshold, the networks spike, and the native spike trains are the reference\'s', () => {
        const closest = closestApproach(net, batch);
        assert.ok(closest >= MARGIN, `closest approach to threshold ${closest.toExponential(3)} v_th < ${MARGIN} v_th: choose another fixture`);
        const ref = net.forward(batch, { backend: 'reference' });
        for (const threads of [1, 2]) {
          const nat = net.forward(batch, { backend: 'native', threads });
          let spikes = 0;
          for (let i = 0; i < ref.z.length; i++) {
            if (nat.z[i] !== ref.z[i]) assert.fail(`spike ${i} differs: native ${nat.z[i]}, reference ${ref.z[i]} (threads ${threads})`);
            spikes += ref.z[i];
          }
          const rate = spikes / ref.z.length;
          assert.ok(rate > 0.005 && rate < 0.3, `firing rate ${rate}`);
          assert.ok(relNormError(nat.v, ref.v) < 1e-5, `v: ${relNormError(nat.v, ref.v)}`);
          assert.ok(relNormError(nat.y, ref.y) < 1e-5, `y: ${relNormError(nat.y, ref.y)}`);
        }
        const one = net.forward(batch, { backend: 'native', threads: 1 });
        const two = net.forward(batch, { backend: 'native', threads: 2 });
        for (const k of ['v', 'z', 'y'] as const) assert.ok(one[k].every((v, i) => Object.is(v, two[k][i])), `forward ${k}: threads 1 and 2 differ`);
      });

      for (const rule of SPIKING_RULES.filter(runsOn(c.model))) {
        if (c.nTypes === 3 && rule.feedback === 'cell') continue;
        it(JSON.stringify(rule), () => {
          const ref = gradients(net, batch, rule, { backend: 'reference', loss: c.loss });
          compare(gradients(net, batch, rule, { backend: 'native', loss: c.loss, threads: 1 }), ref, `${name(c)} ${JSON.stringify(rule)} threads 1`);
          compare(gradients(net, batch, rule, { backend: 'native', loss: c.loss, threads: 2 }), ref, `${name(c)} ${JSON.stringify(rule)} threads 2`);
        });
      }

      it('the rules differ where they should (bptt vs eprop vs modprop), by far more than the tolerance', () => {
        const run = (rule: RuleConfig): GradientResult => gradients(net, batch, rule, { backend: 'native', loss: c.loss });
        const bptt = run({ rule: 'bptt' });
        const eprop = run({ rule: 'eprop' });
        const modprop = run({ rule: 'modprop', feedback: 'cell', mu: 0.5 });
        assert.ok(relNormError(eprop.grads.wrec, bptt.grads.wrec) > 100 * TOL, 'eprop equals bptt: the recurrent credit is not exercised');
        assert.ok(relNormError(modprop.grads.wrec, eprop.grads.wrec) > 100 * TOL, 'modprop equals eprop');
        for (const k of ['wout', 'bout'] as const) assert.ok(relNormError(eprop.grads[k], bptt.grads[k]) === 0, `${k}: the readout gradient is every rule's`);
      });
    });
  }

  it('each thread count is deterministic (two runs, sync and async bit-identical); 1 and 2 threads agree to 1e-5', async () => {
    for (const model of ['lif', 'alif'] as const) {
      const { net, batch } = fixture({ model, loss: 'mse', seed: 8, nTypes: 3 });
      for (const rule of SPIKING_RULES.filter(runsOn(model))) {
        const what = `${model} ${JSON.stringify(rule)}`;
        const one = gradients(net, batch, rule, { backend: 'native', loss: 'mse', threads: 1 });
        const two = gradients(net, batch, rule, { backend: 'native', loss: 'mse', threads: 2 });
        assertBitIdentical(one, gradients(net, batch, rule, { backend: 'native', loss: 'mse', threads: 1 }), `${what} threads 1`);
        assertBitIdentical(two, await gradientsAsync(net, batch, rule, { backend: 'native', loss: 'mse', threads: 2 }), `${what} threads 2 async`);
        for (const k of MATRICES) assert.ok(relNormError(one.grads[k], two.grads[k]) <= 1e-5, `${what} ${k}: threads 1 vs 2`);
      }
    }
  });

  it('online e-prop and RFLO equal their offline forms on the native engine too (the same sums, forward in time), and online ModProp offline ModProp on LIF', () => {
    for (const model of ['lif', 'alif'] as const) {
      for (const loss of ['mse', 'xent-last'] as const) {
        const { net, batch } = fixture({ model, loss, seed: 3, nTypes: 2 });
        const eprop = gradients(net, batch, { rule: 'eprop' }, { backend: 'native', loss });
        for (const rule of [{ rule: 'eprop' }, { rule: 'rflo' }, { rule: 'rflo', learningSignal: 'symmetric' }] as RuleConfig[]) {
          const off = gradients(net, batch, rule, { backend: 'native', loss });
          const on = gradients(net, batch, { ...rule, online: true }, { backend: 'native', loss });
          for (const k of MATRICES) assert.ok(relNormError(on.grads[k], off.grads[k]) <= TOL, `${model} ${loss} ${JSON.stringify(rule)} ${k}`);
          if (rule.rule === 'rflo') assert.ok(relNormError(off.grads.wrec, eprop.grads.wrec) > 100 * TOL, `${model} ${loss}: rflo equals eprop`);
        }
      }
    }
    for (const c of [{ nTypes: 2, seed: 3 }, { nTypes: 3, seed: 8 }] as const) {
      const { net, batch } = fixture({ model: 'lif', loss: 'xent-last', ...c });
      const off = gradients(net, batch, { rule: 'modprop', mu: 0.3 }, { backend: 'native' });
      const on = gradients(net, batch, { rule: 'modprop', mu: 0.3, online: true }, { backend: 'native' });
      const eprop = gradients(net, batch, { rule: 'eprop' }, { backend: 'native' });
      for (const k of MATRICES) assert.ok(relNormError(on.grads[k], off.grads[k]) <= TOL, `modprop C = ${c.nTypes} ${k}`);
      assert.ok(relNormError(on.grads.wrec, eprop.grads.wrec) > 100 * TOL, 'online modprop equals eprop: the type filter adds nothing');
    }
  });

  it('a spiking network trains by default on the native engine where the rule runs there', () => {
    const { net, batch } = fixture({ model: 'alif', loss: 'xent-last', seed: 3, nTypes: 2 });
    const explicit = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
    if (engineFor(undefined).name === 'native') assertBitIdentical(gradients(net, batch, { rule: 'bptt' }), explicit, 'default engine');
  });
});
