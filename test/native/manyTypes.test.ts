/**
 * Many cell types (issue 13 item 3, issue 11 "Hangs"): ModProp and MDGL with C ∈ {1, 2, 8, N} types. With one type
 * per cell, the type average of Wrec is Wrec itself, so type feedback must equal cell feedback (SPEC §3) — exactly
 * for MDGL and offline ModProp on the reference engine, to float32 rounding on the native engine and for the online
 * filter. Online ModProp's C×C filter costs B·(N+I)·T·C³ per call: beyond lib/filter.ts ONLINE_FILTER_WORK it is refused
 * at once with a message naming net.nTypes (it used to run for minutes to hours at C = 800).
 */
import assert from 'node:assert/strict';
import { ModpropError, Network, gradients, type RuleConfig } from '../../lib/index';
import { describeNative, netWithTypes as typedNet, norm, relNormError, twoInputBatch as batchOf } from './common';

const netWithTypes = (nRec: number, nTypes: number, seed: number): Network => typedNet(nRec, nTypes, seed);

describeNative('many cell types', () => {
  const N = 16;
  const batch = batchOf(3, 20, 5);
  for (const C of [1, 2, 8, N]) {
    for (const rule of [{ rule: 'modprop', mu: 0.3 }, { rule: 'modprop', mu: 0.3, online: true }, { rule: 'mdgl' }] as RuleConfig[]) {
      it(`C = ${C}, ${JSON.stringify(rule)}: native equals reference, finite and non-trivial`, () => {
        const net = netWithTypes(N, C, 20 + C);
        const a = gradients(net, batch, rule, { backend: 'native' });
        const b = gradients(net, batch, rule, { backend: 'reference' });
        assert.ok(norm(b.grads.wrec) > 1e-6, 'a non-trivial gradient');
        assert.ok(relNormError(a.grads.wrec, b.grads.wrec) < 1e-4, `${relNormError(a.grads.wrec, b.grads.wrec)}`);
      });
    }
  }

  for (const backend of ['native', 'reference'] as const) {
    it(`C = N: type feedback equals cell feedback (${backend})`, () => {
      const net = netWithTypes(N, N, 7);
      const tol = backend === 'reference' ? 0 : 1e-5;
      for (const rule of [{ rule: 'mdgl' }, { rule: 'modprop', mu: 0.3 }, { rule: 'modprop', mu: 0.3, online: true }] as RuleConfig[]) {
        const type = gradients(net, batch, { ...rule, feedback: 'type' }, { backend });
        const cell = gradients(net, batch, { ...rule, feedback: 'cell', online: false }, { backend });
        assert.ok(norm(cell.grads.wrec) > 1e-6);
        const online = rule.online ? 1e-5 : tol; // the online filter sums in another order than the offline rule
        assert.ok(relNormError(type.grads.wrec, cell.grads.wrec) <= online, `${JSON.stringify(rule)}: ${relNormError(type.grads.wrec, cell.grads.wrec)}`);
      }
    });
  }

  it('online ModProp with one type per cell at N = 800 is refused at once, naming net.nTypes (both engines)', function () {
    this.timeout(120000);
    const net = netWithTypes(800, 800, 3);
    const big = batchOf(4, 3, 6);
    for (const backend of ['native', 'reference'] as const) {
      assert.throws(() => gradients(net, big, { rule: 'modprop', mu: 0.1, online: true }, { backend }),
        (e: unknown) => e instanceof ModpropError && /^Expected at most \d+ cell types for online ModProp .* for net\.nTypes but received 800/.test(e.message));
    }
    // The offline rule serves the same network.
    const offline = gradients(net, big, { rule: 'modprop', mu: 0.1 }, { backend: 'native' });
    assert.ok(Number.isFinite(offline.loss) && norm(offline.grads.wrec) > 0);
  });
});
