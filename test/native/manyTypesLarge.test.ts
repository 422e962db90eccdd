/**
 * Many cell types beyond native/core/model.h kManyTypes (16), where the native type feedback sums per type by unit and
 * applies Ω as a matrix product, and the stability check stops at the first norm bound below 1
 * (native/core/filter_stability.h). One type per cell makes the type average Wrec itself, so type feedback must
 * equal cell feedback (SPEC §3), here up to N = 512; native equals reference for C ∈ {24, N}; an unstable filter is
 * still refused with the reference's spectral radius; the reference's online ModProp and filterTaps refuse, at once,
 * what would take minutes or gigabytes, where the native engine's modal form (native/core/modprop_modal.h) serves
 * online ModProp and equals the offline rule.
 */
import assert from 'node:assert/strict';
import { ModpropError, Network, filterTaps, gradients, type RuleConfig } from '../../lib/index';
import { filterMatrices, spectralRadius } from '../../lib/filter';
import { describeNative, netWithTypes as typedNet, norm, relNormError, twoInputBatch as batchOf } from './common';

const netWithTypes = (nRec: number, nTypes: number, seed: number): Network => typedNet(nRec, nTypes, seed, 3);

const OFFLINE: RuleConfig[] = [{ rule: 'modprop', mu: 0.3 }, { rule: 'mdgl' }];

describeNative('many cell types (C > 16)', () => {
  for (const [n, c] of [[40, 24], [40, 40]] as const) {
    const rules = [...OFFLINE, { rule: 'modprop', mu: 0.3, online: true }] as RuleConfig[];
    for (const rule of rules) {
      it(`N = ${n}, C = ${c}, ${JSON.stringify(rule)}: native equals reference, non-trivial`, () => {
        const net = netWithTypes(n, c, 30 + c);
        const batch = batchOf(3, 25, 8);
        const a = gradients(net, batch, rule, { backend: 'native' });
        const b = gradients(net, batch, rule, { backend: 'reference' });
        assert.ok(norm(b.grads.wrec) > 1e-6, 'a non-trivial gradient');
        for (const k of ['win', 'wrec'] as const) {
          assert.ok(relNormError(a.grads[k], b.grads[k]) < 1e-4, `${k}: ${relNormError(a.grads[k], b.grads[k])}`);
        }
      });
    }
  }

  it('C = N = 512: type feedback equals cell feedback (native), and the reference agrees', function () {
    this.timeout(120000);
    const net = netWithTypes(512, 512, 4);
    const batch = batchOf(2, 6, 9);
    for (const rule of OFFLINE) {
      const type = gradients(net, batch, { ...rule, feedback: 'type' }, { backend: 'native' });
      const cell = gradients(net, batch, { ...rule, feedback: 'cell' }, { backend: 'native' });
      assert.ok(norm(cell.grads.wrec) > 1e-6);
      assert.ok(relNormError(type.grads.wrec, cell.grads.wrec) < 1e-5, `${JSON.stringify(rule)}: ${relNormError(type.grads.wrec, cell.grads.wrec)}`);
      const reference = gradients(net, batch, { ...rule, feedback: 'type' }, { backend: 'reference' });
      assert.ok(relNormError(type.grads.wrec, reference.grads.wrec) < 1e-4);
    }
  });

  it('an unstable filter with C = N = 64 is refused by both engines with the same spectral radius', () => {
    const net = netWithTypes(64, 64, 5);
    const mu = 40;
    const f = filterMatrices(net.params.wrec, net.types, net.nTypes, net.alpha, mu);
    const rho = spectralRadius(f.phi, f.nTypes);
    assert.ok(rho > 1, `the test needs an unstable filter (ρ = ${rho})`);
    for (const backend of ['native', 'reference'] as const) {
      assert.throws(() => gradients(net, batchOf(1, 3, 1), { rule: 'modprop', mu }, { backend }), (e: unknown) => {
        const m = e instanceof ModpropError && /spectral radius ([\d.e+-]+); lower mu/.exec(e.message);
        return !!m && Math.abs(Number(m[1]) / rho - 1) < 1e-5;
      });
    }
  });

  it('a stable filter just below ρ = 1 is accepted (the early bound never refuses a stable one)', () => {
    const net = netWithTypes(48, 48, 6);
    // ρ(Φ) is increasing in μ here; bisect for a μ with ρ just below 1.
    const rhoOf = (mu: number): number => { const f = filterMatrices(net.params.wrec, net.types, net.nTypes, net.alpha, mu); return spectralRadius(f.phi, f.nTypes); };
    let lo = 0;
    let hi = 100;
    for (let i = 0; i < 60; i++) { const mid = (lo + hi) / 2; if (rhoOf(mid) < 0.999) lo = mid; else hi = mid; }
    assert.ok(rhoOf(lo) < 0.999 && rhoOf(lo) > 0.99, `${rhoOf(lo)}`);
    const g = gradients(net, batchOf(2, 5, 2), { rule: 'modprop', mu: lo }, { backend: 'native' });
    assert.ok(norm(g.grads.wrec) > 0);
  });

  it('online ModProp: the reference refuses its total cost (T counts), naming the offline rule; the native engine serves it', () => {
    const net = netWithTypes(64, 64, 7);
    const long = batchOf(8, 4000, 3);  // 8 · 66 · 4000 · 64³ ≈ 5.5e11 > 2^38 for the direct form
    assert.throws(() => gradients(net, long, { rule: 'modprop', mu: 0.1, online: true }, { backend: 'reference' }),
      (e: unknown) => e instanceof ModpropError && /for net\.nTypes but received 64; use the offline rule \(online: false/.test(e.message));
    const online = gradients(net, long, { rule: 'modprop', mu: 0.1, online: true }, { backend: 'native' });
    const offline = gradients(net, long, { rule: 'modprop', mu: 0.1 }, { backend: 'native' });
    assert.ok(norm(offline.grads.wrec) > 1e-6);
    assert.ok(relNormError(online.grads.wrec, offline.grads.wrec) < 1e-4, `${relNormError(online.grads.wrec, offline.grads.wrec)}`);
  });

  it('C = N = 512 at B = 1, T = 1: the reference refuses 540 MB of direct filter state; the native engine serves it (a Dale network: Φ ill-conditioned, double states)', function () {
    this.timeout(60000);
    const net = netWithTypes(512, 512, 8);
    const one = batchOf(1, 1, 3);
    assert.throws(() => gradients(net, one, { rule: 'modprop', mu: 0.1, online: true }, { backend: 'reference' }),
      (e: unknown) => e instanceof ModpropError && /^Expected at most \d+ cell types .* for net\.nTypes but received 512; use the offline rule/.test(e.message));
    const few = batchOf(2, 8, 3);
    const online = gradients(net, few, { rule: 'modprop', mu: 0.1, online: true }, { backend: 'native' });
    const offline = gradients(net, few, { rule: 'modprop', mu: 0.1 }, { backend: 'native' });
    const plain = gradients(net, few, { rule: 'modprop', mu: 0, online: true }, { backend: 'native' });
    assert.ok(norm(offline.grads.wrec) > 1e-6 && relNormError(plain.grads.wrec, offline.grads.wrec) > 1e-3, 'non-trivial, the filter contributes');
    assert.ok(relNormError(online.grads.wrec, offline.grads.wrec) < 1e-4, `${relNormError(online.grads.wrec, offline.grads.wrec)}`);
  });
});

describe('filterTaps with many cell types', () => {
  it('C = N = 512 refuses 1000 taps at once (a gigabyte), naming options.length, and serves a few', () => {
    const net = netWithTypes(512, 512, 9);
    assert.throws(() => filterTaps(net, { mu: 0.1, length: 1000 }),
      (e: unknown) => e instanceof ModpropError && /^Expected at most \d+ taps for a network with 512 cell types .* for options\.length but received 1000; ask for fewer taps$/.test(e.message));
    const taps = filterTaps(net, { mu: 0.1, length: 2 });
    assert.equal(taps.length, 2 * 512 * 512);
    assert.ok(taps.some((v) => v !== 0));
  });
});
