/**
 * Many cell types (issue 13 item 3, issue 11 "Hangs"): ModProp and MDGL with C ∈ {1, 2, 8, N} types. With one type
 * per cell, the type average of Wrec is Wrec itself, so type feedback must equal cell feedback (SPEC §3) — exactly
 * for MDGL and offline ModProp on the reference engine, to float32 rounding on the native engine and for the online
 * filter. Online ModProp's direct C×C filter costs B·(N+I)·T·C³ per call: beyond lib/filter.ts ONLINE_FILTER_WORK the
 * reference engine refuses it at once with a message naming net.nTypes (it used to run for minutes to hours at
 * C = 800). The native engine runs rate networks with C ≥ MODAL_MIN_TYPES in Φ's eigenbasis (modprop_modal.h), O(C)
 * per unit and step, and falls back to the direct form where Φ has no well-conditioned eigenbasis.
 */
import assert from 'node:assert/strict';
import { ModpropError, Network, gradients, type Params, type RuleConfig } from '../../lib/index';
import { describeNative, makeBatch, netWithTypes as typedNet, norm, relNormError, twoInputBatch as batchOf } from './common';

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

  it('regression targets (the filter accumulates at every step): online ModProp at C = 8 and C = N, native equals reference', () => {
    for (const C of [8, N]) {
      const net = netWithTypes(N, C, 40 + C);
      const mse = makeBatch(net, 3, 25, 'mse', 41);
      const a = gradients(net, mse, { rule: 'modprop', mu: 0.3, online: true }, { backend: 'native' });
      const b = gradients(net, mse, { rule: 'modprop', mu: 0.3, online: true }, { backend: 'reference' });
      const offline = gradients(net, mse, { rule: 'modprop', mu: 0.3 }, { backend: 'reference' });
      assert.ok(norm(b.grads.wrec) > 1e-6 && norm(b.grads.win) > 1e-6, 'a non-trivial gradient');
      // The filter's own part is non-trivial too: without it (mu = 0) the gradient differs.
      const plain = gradients(net, mse, { rule: 'modprop', mu: 0, online: true }, { backend: 'reference' });
      assert.ok(relNormError(plain.grads.wrec, b.grads.wrec) > 1e-3, `the filter moves the gradient: ${relNormError(plain.grads.wrec, b.grads.wrec)}`);
      assert.ok(relNormError(a.grads.wrec, b.grads.wrec) < 1e-4, `C = ${C} wrec ${relNormError(a.grads.wrec, b.grads.wrec)}`);
      assert.ok(relNormError(a.grads.win, b.grads.win) < 1e-4, `C = ${C} win ${relNormError(a.grads.win, b.grads.win)}`);
      assert.ok(relNormError(b.grads.wrec, offline.grads.wrec) < 1e-9, 'online equals offline on the reference');
    }
  });

  for (const C of [8, 64]) {
    it(`N = 512, C = ${C}: online ModProp, native (modal form, 1 and 2 threads) = reference (direct form), mse and xent-last`, function () {
      this.timeout(120000);
      const net = netWithTypes(512, C, 60 + C);
      for (const loss of ['mse', 'xent-last'] as const) {
        const b = makeBatch(net, 2, 8, loss, 61);
        const rule = { rule: 'modprop', mu: 0.3, online: true } as const;
        const ref = gradients(net, b, rule, { backend: 'reference', loss });
        const plain = gradients(net, b, { ...rule, mu: 0 }, { backend: 'reference', loss });
        assert.ok(norm(ref.grads.wrec) > 1e-6 && relNormError(plain.grads.wrec, ref.grads.wrec) > 1e-4, 'non-trivial, the filter contributes');
        for (const threads of [1, 2]) {
          const nat = gradients(net, b, rule, { backend: 'native', loss, threads });
          for (const k of ['win', 'wrec'] as const) {
            assert.ok(relNormError(nat.grads[k], ref.grads[k]) < 1e-4, `${loss}, ${threads} threads, ${k}: ${relNormError(nat.grads[k], ref.grads[k])}`);
          }
        }
      }
    });
  }

  it('one type per cell at N = 512: online ModProp on the native engine equals the offline rule and cell feedback', function () {
    this.timeout(120000);
    const net = netWithTypes(512, 512, 5);
    const small = batchOf(2, 12, 8);
    const rule = { rule: 'modprop', mu: 0.2 } as const;
    const online = gradients(net, small, { ...rule, online: true }, { backend: 'native' });
    const offline = gradients(net, small, rule, { backend: 'native' });
    const cell = gradients(net, small, { ...rule, feedback: 'cell' }, { backend: 'native' });
    const plain = gradients(net, small, { rule: 'modprop', mu: 0, online: true }, { backend: 'native' });
    assert.ok(norm(offline.grads.wrec) > 1e-6, 'a non-trivial gradient');
    assert.ok(relNormError(plain.grads.wrec, offline.grads.wrec) > 1e-3, 'the filter contributes');
    assert.ok(relNormError(online.grads.wrec, offline.grads.wrec) < 1e-4, `online vs offline ${relNormError(online.grads.wrec, offline.grads.wrec)}`);
    assert.ok(relNormError(online.grads.win, offline.grads.win) < 1e-4, `win ${relNormError(online.grads.win, offline.grads.win)}`);
    assert.ok(relNormError(online.grads.wrec, cell.grads.wrec) < 1e-4, `online vs cell ${relNormError(online.grads.wrec, cell.grads.wrec)}`);
  });

  /** Φ = αI + a nilpotent shift: one eigenvalue α in a single Jordan block, no eigenbasis at all. */
  function defectiveNet(nRec: number, nTypes: number): Network {
    const net = netWithTypes(nRec, nTypes, 9);
    const p = net.params;
    const wrec = new Float32Array(nRec * nRec);
    // Unit i has type (7i) mod C; a weight from each unit of type c to each of type c + 1 makes Ω a shift.
    const types = net.types;
    for (let i = 0; i < nRec; i++) for (let j = 0; j < nRec; j++) if (types[j] === types[i] + 1) wrec[i * nRec + j] = types[i] % 4 === 3 ? -0.05 : 0.05; // Dale: the sign of type i
    const params: Params = { win: p.win.slice(), wrec, wout: p.wout.slice(), bout: p.bout.slice() };
    return Network.fromParams(net.config, params);
  }

  it('a defective Φ (no eigenbasis): the native engine falls back to the direct form, equal to the reference', () => {
    const net = defectiveNet(20, 5);
    const small = batchOf(3, 15, 4);
    const a = gradients(net, small, { rule: 'modprop', mu: 0.5, online: true }, { backend: 'native' });
    const b = gradients(net, small, { rule: 'modprop', mu: 0.5, online: true }, { backend: 'reference' });
    const plain = gradients(net, small, { rule: 'modprop', mu: 0, online: true }, { backend: 'reference' });
    assert.ok(norm(b.grads.wrec) > 1e-6 && relNormError(plain.grads.wrec, b.grads.wrec) > 1e-4, 'the filter contributes');
    assert.ok(relNormError(a.grads.wrec, b.grads.wrec) < 1e-4, `${relNormError(a.grads.wrec, b.grads.wrec)}`);
  });

  it('a defective Φ with too many types for the direct form is refused, naming net.nTypes and why', () => {
    const net = defectiveNet(64, 64);
    const big = batchOf(32, 600, 4);
    assert.throws(() => gradients(net, big, { rule: 'modprop', mu: 0.5, online: true }, { backend: 'native' }),
      (e: unknown) => e instanceof ModpropError &&
        /^Expected at most \d+ cell types for online ModProp .* for net\.nTypes but received 64 \(Φ has no well-conditioned eigenbasis, condition number inf/.test(e.message));
  });

  it('online ModProp with one type per cell at N = 800: the reference refuses at once, the native engine serves it', function () {
    this.timeout(120000);
    const net = netWithTypes(800, 800, 3);
    const big = batchOf(4, 3, 6);
    assert.throws(() => gradients(net, big, { rule: 'modprop', mu: 0.1, online: true }, { backend: 'reference' }),
      (e: unknown) => e instanceof ModpropError && /^Expected at most \d+ cell types for online ModProp .* for net\.nTypes but received 800/.test(e.message));
    const online = gradients(net, big, { rule: 'modprop', mu: 0.1, online: true }, { backend: 'native' });
    const offline = gradients(net, big, { rule: 'modprop', mu: 0.1 }, { backend: 'native' });
    assert.ok(Number.isFinite(offline.loss) && norm(offline.grads.wrec) > 0);
    assert.ok(relNormError(online.grads.wrec, offline.grads.wrec) < 1e-4, `${relNormError(online.grads.wrec, offline.grads.wrec)}`);
  });

  it('beyond the modal form\'s state budget the native engine refuses at once, naming net.nTypes', () => {
    const net = netWithTypes(1024, 1024, 3);
    const big = batchOf(160, 2, 6);
    const t0 = Date.now();
    assert.throws(() => gradients(net, big, { rule: 'modprop', mu: 0.1, online: true }, { backend: 'native' }),
      (e: unknown) => e instanceof ModpropError && /^Expected at most \d+ cell types for online ModProp .* for net\.nTypes but received 1024 \(its filter keeps 2 × batch/.test(e.message));
    assert.ok(Date.now() - t0 < 5000, 'refused before any work');
  });
});
