/**
 * filterTaps (the closed form K_s = Σ α^{s-1-k} Ψ Φ^k) equals the impulse response of the online filter: one unit
 * presynaptic trace increment at step t0, one unit of neuromodulator from type c at step t0 + s, read the credit.
 */
import assert from 'node:assert/strict';
process.env.MODPROP_BACKEND = 'reference';
import { Network, filterTaps } from '../../lib/index';
import { filterMatrices } from '../../lib/filter';
import { ModpropFilter } from '../../lib/reference/modpropOnline';

function impulseResponse(net: Network, mu: number, s: number, c: number): Float64Array {
  const f = filterMatrices(net.params.wrec, net.types, net.nTypes, net.alpha, mu);
  const filter = new ModpropFilter(f, 1);
  const t0 = 3;
  let eps = 0; // ε_{t-1}
  for (let t = 1; t <= t0 + s; t++) {
    filter.advance([eps]);
    eps = t < t0 ? 0 : t === t0 ? 1 : net.alpha * eps; // ε_t: a unit increment at t0 that then leaks
    if (t === t0 + s) {
      const modulator = new Float64Array(net.nTypes);
      modulator[c] = 1;
      filter.credit(modulator);
    }
  }
  return filter.accumulator.slice();
}

describe('filterTaps', () => {
  const configs = [
    { nIn: 2, nRec: 20, nOut: 2, seed: 1, tau: 10 },
    { nIn: 2, nRec: 12, nOut: 2, seed: 2, tau: 10, cellTypes: Array.from({ length: 12 }, (_, i) => i % 3), typeSigns: [-1, 1, 1] },
    { nIn: 2, nRec: 10, nOut: 2, seed: 3, tau: 10, cellTypes: new Array(10).fill(0), typeSigns: [1] },
  ];
  for (const config of configs) {
    it(`equals the online filter's impulse response (C = ${config.cellTypes ? new Set(config.cellTypes).size : 2})`, () => {
      const net = Network.create(config);
      const mu = 0.3;
      const length = 25;
      const taps = filterTaps(net, { mu, length });
      const c = net.nTypes;
      assert.equal(taps.length, length * c * c);
      let largest = 0;
      for (let s = 1; s <= length; s++) {
        for (let src = 0; src < c; src++) {
          const response = impulseResponse(net, mu, s, src);
          for (let a = 0; a < c; a++) {
            const tap = taps[(s - 1) * c * c + a * c + src];
            largest = Math.max(largest, Math.abs(tap));
            assert.ok(Math.abs(tap - response[a]) <= 1e-6 * (1e-6 + Math.abs(response[a])), `K_${s}[${a}][${src}] = ${tap}, impulse response ${response[a]}`);
          }
        }
      }
      assert.ok(largest > 1e-4, 'the taps are non-trivial');
    });
  }

  it('are zero when μ = 0 and grow with μ', () => {
    const net = Network.create({ nIn: 2, nRec: 20, nOut: 2, seed: 4 });
    assert.ok(filterTaps(net, { mu: 0, length: 5 }).every((k) => k === 0));
    const small = filterTaps(net, { mu: 0.1, length: 5 });
    const large = filterTaps(net, { mu: 0.2, length: 5 });
    const total = (a: Float32Array): number => a.reduce((s, k) => s + Math.abs(k), 0);
    assert.ok(total(large) > total(small) && total(small) > 0);
  });
});
