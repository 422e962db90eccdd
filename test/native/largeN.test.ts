/**
 * Issue 13 goal 2 at the sizes where Wrec leaves the caches (N = 512, 1024; small B and T so this runs in seconds):
 * every rule of the native engine, at 1 and 2 threads, against the float64 reference (1e-4 relative norm, as
 * test/native/parity.test.ts at small N), and bptt's gradient against a central finite difference of the reference
 * loss along a random direction (the gradient itself non-trivial).
 */
import assert from 'node:assert/strict';
import { Network, gradients, type Params } from '../../lib/index';
import { Random } from '../../lib/random';
import { LAYOUTS, MATRICES, NATIVE_RULES, describeNative, label, makeBatch, makeNet, norm, relNormError } from './common';

const TOL = 1e-4;

describeNative('native engine at large N (issue 13 goal 2)', () => {
  for (const nRec of [512, 1024]) {
    describe(`N = ${nRec}, B = 2, T = 8`, function () {
      this.timeout(300000);
      const net = makeNet({ nIn: 3, nRec, nOut: 2, seed: nRec, tau: 10, layout: LAYOUTS[1], scaled: { wrecScale: 1.3, winScale: 2 } });
      for (const loss of ['mse', 'xent-last'] as const) {
        const batch = makeBatch(net, 2, 8, loss, nRec + 1);
        for (const rule of NATIVE_RULES) {
          it(`${label(rule)}, ${loss}: native (1 and 2 threads) = reference to ${TOL}`, () => {
            const ref = gradients(net, batch, rule, { backend: 'reference', loss });
            for (const threads of [1, 2]) {
              const nat = gradients(net, batch, rule, { backend: 'native', loss, threads });
              assert.ok(Math.abs(nat.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `${threads} threads: loss ${nat.loss} vs ${ref.loss}`);
              for (const k of MATRICES) {
                const nr = norm(ref.grads[k]);
                assert.ok(nr > 0 && Number.isFinite(nr), `${k}: reference gradient trivial (${nr})`);
                const err = relNormError(nat.grads[k], ref.grads[k]);
                assert.ok(err <= TOL, `${threads} threads, ${k}: relative error ${err.toExponential(3)}`);
              }
            }
          });
        }
      }

      // The reference's gradient: g·d cancels heavily, so float32's error (bounded above relative to ‖g‖) would
      // dominate it; the native gradient is tied to the reference by the cases above.
      it('bptt (reference, float64) = a central finite difference of the loss along a random direction', () => {
        const batch = makeBatch(net, 2, 8, 'mse', nRec + 2);
        const g = gradients(net, batch, { rule: 'bptt' }, { backend: 'reference', loss: 'mse' });
        const rng = new Random(nRec, 77);
        // Small enough that few units cross the ReLU kink, large enough for float32 parameters.
        const eps = 1e-5;
        // Relative steps w·(1 ± ε·r) keep the zero diagonal and Dale's signs; bout has neither.
        const plus = {} as Params;
        for (const k of MATRICES) plus[k] = net.params[k].map((w) => (k === 'bout' ? w + eps * rng.normal() : w * (1 + eps * rng.normal())));
        const minus = {} as Params;
        for (const k of MATRICES) minus[k] = net.params[k].map((w, i) => w - (plus[k][i] - w));
        const lossAt = (p: Params): number => {
          const n = Network.fromParams(net.config, p);
          return gradients(n, batch, { rule: 'bptt' }, { backend: 'reference', loss: 'mse' }).loss;
        };
        const fd = lossAt(plus) - lossAt(minus);
        let dot = 0;
        for (const k of MATRICES) for (let i = 0; i < g.grads[k].length; i++) dot += g.grads[k][i] * (plus[k][i] - minus[k][i]);
        assert.ok(Math.abs(dot) > 1e-6, `directional derivative trivial: ${dot}`);
        assert.ok(Math.abs(fd - dot) <= 2e-3 * Math.abs(dot), `finite difference ${fd} vs gradient·direction ${dot}`);
      });
    });
  }
});
