/**
 * The native float32 engine against the float64 reference engine (SPEC §7): for every rule the native engine runs,
 * both losses, C = 1, 2, 3 cell types, created and scaled networks and several seeds,
 * ‖g_native − g_ref‖ / ‖g_ref‖ ≤ 1e-4 for each of Win, Wrec, Wout, bout (T ≤ 100) and the loss to 1e-5 relative;
 * the paper-size case (B = 32, T = 900, N = 120) to 1e-3. Also forward() parity, and that rtrl is reference-only.
 */
import assert from 'node:assert/strict';
import { ModpropError, Network, gradients, tasks, type Batch, type GradientResult, type NetworkConfig, type RuleConfig } from '../../lib/index';
import {
  LAYOUTS, MATRICES, NATIVE_RULES, describeNative, label, makeBatch, makeNet, norm, relNormError, type NetSpec,
} from './common';

const TOL = 1e-4;
const LOSS_TOL = 1e-5;
const PAPER_TOL = 1e-3;

function compare(nat: GradientResult, ref: GradientResult, tol: number, what: string): void {
  assert.ok(Number.isFinite(ref.loss) && ref.loss > 0, `${what}: reference loss ${ref.loss}`);
  const lossErr = Math.abs(nat.loss - ref.loss) / Math.abs(ref.loss);
  assert.ok(lossErr <= LOSS_TOL, `${what}: loss native ${nat.loss} vs reference ${ref.loss} (relative ${lossErr})`);
  for (const k of MATRICES) {
    assert.ok(nat.grads[k] instanceof Float32Array, `${what}: native ${k} is a Float32Array`);
    assert.equal(nat.grads[k].length, ref.grads[k].length, `${what}: ${k} length`);
    const nr = norm(ref.grads[k]);
    const nn = norm(nat.grads[k]);
    assert.ok(nr > 0 && Number.isFinite(nr), `${what}: reference ${k} gradient is trivial (norm ${nr})`);
    assert.ok(nn > 0 && Number.isFinite(nn), `${what}: native ${k} gradient is trivial (norm ${nn})`);
    const err = relNormError(nat.grads[k], ref.grads[k]);
    assert.ok(err <= tol, `${what}: ${k} relative error ${err.toExponential(3)} > ${tol}`);
  }
}

/** The fixture has both active and silent (unit, step) pairs, so relu' matters. */
function assertMixedActivity(net: Network, batch: Batch, what: string): void {
  const { z } = net.forward(batch, { backend: 'reference' });
  let active = 0;
  for (let i = 0; i < z.length; i++) if (z[i] > 0) active++;
  const frac = active / z.length;
  assert.ok(frac > 0.02 && frac < 0.98, `${what}: fraction of active units ${frac} (fixture too degenerate)`);
}

interface Case {
  name: string;
  spec: NetSpec;
  batchSize: number;
  steps: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  const shapes = [
    { seed: 11, nIn: 3, nRec: 10, nOut: 2, tau: 8, batchSize: 3, steps: 20 },
    { seed: 12, nIn: 2, nRec: 24, nOut: 3, tau: 20, batchSize: 4, steps: 60 },
    { seed: 13, nIn: 4, nRec: 40, nOut: 2, tau: 30, batchSize: 4, steps: 100 },
  ];
  for (const layout of LAYOUTS) {
    for (const s of shapes) {
      for (const scaled of [undefined, { wrecScale: 1.4, winScale: 2 }]) {
        out.push({
          name: `${layout.label}, seed ${s.seed}, B=${s.batchSize} T=${s.steps} N=${s.nRec}${scaled ? ', scaled fromParams' : ''}`,
          spec: { nIn: s.nIn, nRec: s.nRec, nOut: s.nOut, seed: s.seed, tau: s.tau, layout, scaled },
          batchSize: s.batchSize,
          steps: s.steps,
        });
      }
    }
  }
  return out;
}

describeNative('native vs reference gradients (SPEC §7: 1e-4 relative norm, T ≤ 100)', () => {
  for (const c of cases()) {
    for (const loss of ['xent-last', 'mse'] as const) {
      describe(`${c.name}, ${loss}`, () => {
        let net: Network;
        let batch: Batch;
        before(() => {
          net = makeNet(c.spec);
          batch = makeBatch(net, c.batchSize, c.steps, loss, c.spec.seed + 1000);
          assertMixedActivity(net, batch, c.name);
        });
        it('every native rule matches the reference engine', () => {
          const failures: string[] = [];
          for (const r of NATIVE_RULES) {
            const what = `${label(r)}`;
            try {
              const ref = gradients(net, batch, r, { backend: 'reference', loss });
              const nat = gradients(net, batch, r, { backend: 'native', loss });
              compare(nat, ref, TOL, what);
            } catch (err) {
              failures.push((err as Error).message);
            }
          }
          assert.deepEqual(failures, [], `${failures.length} rule(s) failed:\n${failures.join('\n')}`);
        });
      });
    }
  }

  describe('other dynamics: threshold ≠ 0, dt ≠ 1, no Dale', () => {
    const variants: { name: string; config: NetworkConfig }[] = [
      { name: 'threshold 0.3', config: { nIn: 3, nRec: 20, nOut: 2, seed: 61, tau: 10, threshold: 0.3 } },
      { name: 'threshold -0.2, C=3', config: { nIn: 3, nRec: 21, nOut: 3, seed: 62, tau: 10, threshold: -0.2, cellTypes: Array.from({ length: 21 }, (_, i) => i % 3), typeSigns: [-1, 1, 1] } },
      { name: 'dt 2, tau 15', config: { nIn: 2, nRec: 16, nOut: 2, seed: 63, tau: 15, dt: 2 } },
      { name: 'C=3 with type 1 empty (ids 0 and 2 only), Dale', config: { nIn: 2, nRec: 14, nOut: 2, seed: 65, tau: 10, cellTypes: Array.from({ length: 14 }, (_, i) => (i < 4 ? 0 : 2)), typeSigns: [-1, 1, 1] } },
      { name: 'no Dale, C=3 without signs', config: { nIn: 3, nRec: 18, nOut: 2, seed: 64, tau: 12, dale: false, cellTypes: Array.from({ length: 18 }, (_, i) => (i * 7) % 3) } },
    ];
    for (const v of variants) {
      for (const loss of ['xent-last', 'mse'] as const) {
        it(`${v.name}, ${loss}: every native rule matches the reference engine`, () => {
          const created = Network.create(v.config);
          const p = created.params;
          // Scaled up for activity (positive scaling keeps the Dale signs).
          const net = Network.fromParams(v.config, { win: p.win.map((w) => 2 * w), wrec: p.wrec.map((w) => 1.3 * w), wout: p.wout, bout: Float32Array.from(p.bout, (_, i) => 0.1 * (i + 1)) });
          const batch = makeBatch(net, 3, 50, loss, v.config.seed!);
          assertMixedActivity(net, batch, v.name);
          const failures: string[] = [];
          for (const r of NATIVE_RULES) {
            try {
              compare(gradients(net, batch, r, { backend: 'native', loss }), gradients(net, batch, r, { backend: 'reference', loss }), TOL, label(r));
            } catch (err) {
              failures.push((err as Error).message);
            }
          }
          assert.deepEqual(failures, [], failures.join('\n'));
        });
      }
    }
  });

  it('the rules differ from each other on the native engine (the rule header is not ignored)', () => {
    const net = makeNet({ nIn: 3, nRec: 16, nOut: 2, seed: 5, tau: 10, layout: LAYOUTS[3], scaled: { wrecScale: 1.4, winScale: 2 } });
    const batch = makeBatch(net, 4, 40, 'mse', 5);
    const distinct: RuleConfig[] = [
      { rule: 'bptt' }, { rule: 'tbptt', window: 5 }, { rule: 'eprop' }, { rule: 'eprop', learningSignal: 'random' },
      { rule: 'mdgl' }, { rule: 'mdgl', feedback: 'cell' }, { rule: 'modprop' }, { rule: 'modprop', feedback: 'cell' },
      { rule: 'modprop', mu: 0.1 },
    ];
    const results = distinct.map((r) => gradients(net, batch, r, { backend: 'native' }).grads.wrec);
    for (let i = 0; i < results.length; i++) {
      for (let j = i + 1; j < results.length; j++) {
        const d = relNormError(results[i], results[j]);
        assert.ok(d > 1e-3, `${label(distinct[i])} and ${label(distinct[j])} give the same dWrec (relative difference ${d})`);
      }
    }
  });

  it('an unstable ModProp filter is the same ModpropError on both engines (the native engine checks it itself)', () => {
    const net = makeNet({ nIn: 2, nRec: 20, nOut: 2, seed: 1, tau: 10, layout: LAYOUTS[1] });
    const batch = makeBatch(net, 2, 10, 'xent-last', 1);
    const messageOf = (backend: 'native' | 'reference', mu: number): string => {
      try {
        gradients(net, batch, { rule: 'modprop', mu }, { backend });
      } catch (err) {
        assert.ok(err instanceof ModpropError, `${backend}: expected a ModpropError, got ${String(err)}`);
        return (err as Error).message;
      }
      return 'no error';
    };
    for (const mu of [1e4, 5e4]) {
      const ref = messageOf('reference', mu);
      assert.match(ref, new RegExp(`^Expected a stable ModProp filter \\(spectral radius of Φ < 1\\) for rule\\.mu but received mu = ${mu}, which gives spectral radius [0-9.]+; lower mu$`));
      assert.equal(messageOf('native', mu), ref);
    }
    assert.equal(messageOf('native', 0.25), 'no error');
  });

  it("rtrl on the native engine is a clear ModpropError saying it is reference-only (and works on 'reference')", () => {
    const net = makeNet({ nIn: 2, nRec: 8, nOut: 2, seed: 3, tau: 10, layout: LAYOUTS[1] });
    const batch = makeBatch(net, 2, 10, 'xent-last', 3);
    assert.throws(() => gradients(net, batch, { rule: 'rtrl' }, { backend: 'native' }), (err: unknown) => {
      assert.ok(err instanceof ModpropError, `expected a ModpropError, got ${String(err)}`);
      assert.equal((err as Error).name, 'ModpropError');
      assert.match((err as Error).message, /rtrl/);
      assert.match((err as Error).message, /reference/);
      return true;
    });
    const ref = gradients(net, batch, { rule: 'rtrl' }, { backend: 'reference' });
    const bptt = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
    compare(bptt, ref, TOL, 'native bptt vs reference rtrl');
  });

  it('tbptt with a window ≥ T equals bptt on the native engine', () => {
    const net = makeNet({ nIn: 3, nRec: 12, nOut: 2, seed: 8, tau: 10, layout: LAYOUTS[1], scaled: { wrecScale: 1.4, winScale: 2 } });
    const batch = makeBatch(net, 3, 30, 'mse', 8);
    const bptt = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
    for (const window of [30, 31, 1000]) {
      const t = gradients(net, batch, { rule: 'tbptt', window }, { backend: 'native' });
      compare(t, bptt, 1e-6, `tbptt window ${window} vs bptt`);
    }
  });
});

describeNative('native forward() vs reference forward()', () => {
  for (const layout of [LAYOUTS[0], LAYOUTS[3]]) {
    for (const seed of [21, 22]) {
      for (const scaled of [undefined, { wrecScale: 1.4, winScale: 2 }]) {
        it(`${layout.label}, seed ${seed}${scaled ? ', scaled' : ''}: v, z, y agree to 1e-5 relative norm`, () => {
          const net = makeNet({ nIn: 3, nRec: 30, nOut: 3, seed, tau: 12, layout, scaled });
          const batch = makeBatch(net, 4, 80, 'xent-last', seed);
          const nat = net.forward(batch, { backend: 'native' });
          const ref = net.forward(batch, { backend: 'reference' });
          for (const k of ['v', 'z', 'y'] as const) {
            assert.ok(nat[k] instanceof Float32Array, k);
            assert.equal(nat[k].length, ref[k].length, `${k} length`);
            assert.equal(nat[k].length, 4 * 80 * (k === 'y' ? 3 : 30), `${k} length is B·T·width`);
            assert.ok(norm(ref[k]) > 0, `${k} is non-trivial`);
            const err = relNormError(nat[k], ref[k]);
            assert.ok(err <= 1e-5, `${k}: relative error ${err}`);
          }
          // The last step of y is what the xent-last loss sees: check it entry by entry, too.
          const T = 80;
          for (let b = 0; b < 4; b++) {
            for (let k = 0; k < 3; k++) {
              const i = (b * T + T - 1) * 3 + k;
              assert.ok(Math.abs(nat.y[i] - ref.y[i]) <= 1e-4 * (1 + Math.abs(ref.y[i])), `y[${b}][T-1][${k}]`);
            }
          }
        });
      }
    }
  }
});

describeNative('paper-size parity (B = 32, T = 900, N = 120; SPEC §7: 1e-3)', () => {
  let net: Network;
  let batch: Batch;
  before(() => {
    const task = tasks.delayedXor();
    assert.equal(task.steps, 900);
    net = Network.create({ nIn: task.nIn, nRec: 120, nOut: task.nOut, seed: 7 });
    batch = task.sample(32, 7);
  });
  for (const r of [{ rule: 'bptt' }, { rule: 'modprop', online: true }] as RuleConfig[]) {
    it(`${label(r)}`, function () {
      this.timeout(120_000);
      const ref = gradients(net, batch, r, { backend: 'reference' });
      const nat = gradients(net, batch, r, { backend: 'native' });
      compare(nat, ref, PAPER_TOL, label(r));
    });
  }
});
