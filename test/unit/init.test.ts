/**
 * The `liu2022` initialisation (lib/init.ts), `recurrentRadius` and `subtypes`: each step of the recipe is redone
 * here independently (float64 arithmetic written out, eigenvalues with ml-matrix) and compared with the library.
 */
process.env.MODPROP_BACKEND = 'reference';

import assert from 'node:assert/strict';
import { Network, ModpropError, type NetworkConfig } from '../../lib/index';
import { liu2022Matrix } from '../../lib/init';
import { Random, STREAMS } from '../../lib/random';
import { sameBits, spectralRadius } from '../helpers';

/** The recipe's steps 1–4 written out from its description, on the same draws. */
function recipeByHand(seed: number, stream: number, signs: number[]): { steps: Float64Array[]; rho: number } {
  const n = signs.length;
  const rng = new Random(seed, stream);
  const w1 = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) w1[k] = signs[Math.floor(k / n)] * Math.abs(rng.normal());
  const totalE = w1.filter((v) => v > 0).reduce((s, v) => s + v, 0);
  const totalI = -w1.filter((v) => v < 0).reduce((s, v) => s + v, 0);
  const w2 = w1.map((v) => (v < 0 ? (v * totalE) / totalI : v));
  const w3 = w2.slice();
  for (let j = 0; j < n; j++) {
    const col = Array.from({ length: n }, (_, p) => w2[p * n + j]);
    const s = col.reduce((a, b) => a + b, 0);
    const nE = col.filter((v) => v > 0).length;
    const nI = col.filter((v) => v < 0).length;
    for (let p = 0; p < n; p++) {
      if (s < 0 && col[p] > 0) w3[p * n + j] = col[p] + Math.abs(s) / nE;
      if (s >= 0 && col[p] < 0) w3[p * n + j] = col[p] - Math.abs(s) / nI;
    }
  }
  const rho = spectralRadius(w3, n);
  return { steps: [w1, w2, w3, w3.map((v) => v / rho)], rho };
}

const XOR: NetworkConfig = { nIn: 2, nRec: 120, nOut: 2 };

describe("init: 'liu2022' (the public ModProp code's recipe)", () => {
  for (const seed of [1, 7]) {
    const net = Network.create({ ...XOR, seed, init: 'liu2022' });
    const n = net.nRec;
    const signs = Array.from(net.types, (t) => net.config.typeSigns![t]);
    const hand = recipeByHand(seed, STREAMS.wrec, signs);
    const [w1, w2, w3, w4] = hand.steps;

    it(`seed ${seed}: step 2 makes total inhibition equal total excitation`, () => {
      const pos = (w: Float64Array): number => w.filter((v) => v > 0).reduce((s, v) => s + v, 0);
      const neg = (w: Float64Array): number => -w.filter((v) => v < 0).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(pos(w1) - neg(w1)) > 0.1 * pos(w1), 'the raw draw is not balanced (96 E vs 24 I rows)');
      assert.ok(Math.abs(pos(w2) - neg(w2)) <= 1e-9 * pos(w2));
    });

    it(`seed ${seed}: step 3 shifts one sign per column so every column sums to 0`, () => {
      let shiftedE = 0;
      let shiftedI = 0;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < n; p++) s += w3[p * n + j];
        assert.ok(Math.abs(s) < 1e-9, `column ${j} sums to ${s}`);
        const d = (p: number): number => w3[p * n + j] - w2[p * n + j];
        const changedE = signs.some((sg, p) => sg > 0 && d(p) !== 0);
        const changedI = signs.some((sg, p) => sg < 0 && d(p) !== 0);
        assert.ok(!(changedE && changedI), `column ${j}: only one sign is shifted`);
        if (changedE) shiftedE++;
        if (changedI) shiftedI++;
      }
      assert.ok(shiftedE + shiftedI === n && shiftedE > 0 && shiftedI > 0, `both branches occur (${shiftedE} E, ${shiftedI} I)`);
    });

    it(`seed ${seed}: the pre-mask matrix has spectral radius 1 and is what the library computes`, () => {
      const lib = liu2022Matrix(new Random(seed, STREAMS.wrec), signs);
      assert.ok(Math.abs(spectralRadius(lib, n) - 1) < 1e-9);
      let maxErr = 0;
      for (let k = 0; k < n * n; k++) maxErr = Math.max(maxErr, Math.abs(lib[k] - w4[k]));
      assert.ok(maxErr < 1e-12, `max |library − by hand| = ${maxErr}`);
    });

    it(`seed ${seed}: Wrec is the pre-mask matrix with its diagonal zeroed, so ρ(Wrec) > 1`, () => {
      const w = net.params.wrec;
      for (let p = 0; p < n; p++) {
        for (let j = 0; j < n; j++) {
          const expected = p === j ? 0 : Math.fround(w4[p * n + j]);
          assert.equal(w[p * n + j], expected, `wrec[${p}][${j}]`);
          assert.ok(w[p * n + j] * signs[p] >= 0, 'Dale signs');
        }
      }
      const rho = spectralRadius(w, n);
      assert.ok(rho > 1.05 && rho < 2, `ρ(Wrec) = ${rho}`);
    });

    it(`seed ${seed}: Wout is the first K columns of the same recipe on an independent draw`, () => {
      const full = recipeByHand(seed, STREAMS.wout, signs).steps[3];
      const k = net.nOut;
      for (let p = 0; p < n; p++) for (let o = 0; o < k; o++) assert.equal(net.params.wout[p * k + o], Math.fround(full[p * n + o]));
      for (let o = 0; o < k; o++) {
        let s = 0;
        let abs = 0;
        for (let p = 0; p < n; p++) {
          s += net.params.wout[p * k + o];
          abs += Math.abs(net.params.wout[p * k + o]);
        }
        assert.ok(Math.abs(s) < 1e-5 * abs, `Wout column ${o} sums to 0`);
      }
      // Not a copy of Wrec's draw, and drawn the same whatever Wrec becomes.
      assert.notEqual(net.params.wout[0], Math.fround(w4[0]));
      const rescaled = Network.create({ ...XOR, seed, init: 'liu2022', recurrentRadius: 0.5 });
      assert.ok(sameBits(rescaled.params.wout, net.params.wout));
    });
  }

  it('is deterministic per seed and differs between seeds; Win and bout are those of the default recipe', () => {
    const a = Network.create({ ...XOR, seed: 3, init: 'liu2022' });
    const b = Network.create({ ...XOR, seed: 3, init: 'liu2022' });
    const c = Network.create({ ...XOR, seed: 4, init: 'liu2022' });
    const d = Network.create({ ...XOR, seed: 3 });
    for (const key of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(sameBits(a.params[key], b.params[key]), key);
    assert.ok(!sameBits(a.params.wrec, c.params.wrec) && !sameBits(a.params.wout, c.params.wout));
    assert.ok(sameBits(a.params.win, d.params.win) && sameBits(a.params.bout, d.params.bout));
    assert.ok(!sameBits(a.params.wrec, d.params.wrec));
    assert.equal(a.config.init, 'liu2022');
  });

  it('rejects networks it cannot build, naming the option', () => {
    assert.throws(() => Network.create({ ...XOR, init: 'liu2022', dale: false }), ModpropError);
    assert.throws(() => Network.create({ nIn: 2, nRec: 10, nOut: 11, init: 'liu2022' }), /^ModpropError: Expected nOut ≤ nRec \(10\) for init liu2022 .* for config\.nOut but received 11$/);
    assert.throws(() => Network.create({ ...XOR, init: 'glorot' as 'balanced' }), /for config\.init but received 'glorot'/);
  });
});

describe('recurrentRadius', () => {
  it('rescales the zero-diagonal Wrec of either recipe to the given spectral radius, nothing else', () => {
    for (const init of ['balanced', 'liu2022'] as const) {
      const base = Network.create({ ...XOR, seed: 2, init });
      const r = Network.create({ ...XOR, seed: 2, init, recurrentRadius: 1.5 });
      const n = r.nRec;
      assert.ok(Math.abs(spectralRadius(r.params.wrec, n) - 1.5) < 1e-4, init);
      const ratio = r.params.wrec[1] / base.params.wrec[1];
      for (let k = 0; k < n * n; k++) {
        if (k % (n + 1) === 0) assert.equal(r.params.wrec[k], 0);
        else assert.ok(Math.abs(r.params.wrec[k] - ratio * base.params.wrec[k]) <= 1e-6 * Math.abs(base.params.wrec[k]) + 1e-9);
      }
      assert.ok(sameBits(r.params.win, base.params.win) && sameBits(r.params.wout, base.params.wout));
      assert.equal(r.config.recurrentRadius, 1.5);
    }
  });

  it("without it, 'balanced' is the default and bit-identical to it", () => {
    const a = Network.create({ ...XOR, seed: 5 });
    const b = Network.create({ ...XOR, seed: 5, init: 'balanced' });
    for (const key of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(sameBits(a.params[key], b.params[key]), key);
    assert.equal(a.config.init, 'balanced');
    assert.equal(a.config.recurrentRadius, null);
  });

  it('must be a positive number', () => {
    assert.throws(() => Network.create({ ...XOR, recurrentRadius: 0 }), /^ModpropError: Expected a positive finite number for config\.recurrentRadius but received 0$/);
  });
});

describe('subtypes', () => {
  it('splits E and I each into k random subtypes of equal size, seeded, with the class sign', () => {
    const net = Network.create({ ...XOR, seed: 1, subtypes: 4 });
    assert.equal(net.nTypes, 8);
    assert.deepEqual(Array.from(net.config.typeSigns!), [-1, -1, -1, -1, 1, 1, 1, 1]);
    const counts = new Array<number>(8).fill(0);
    net.types.forEach((t, i) => {
      counts[t]++;
      assert.equal(t < 4, i < 24, `unit ${i} (type ${t}) keeps its class`);
    });
    assert.deepEqual(counts, [6, 6, 6, 6, 24, 24, 24, 24]);
    // Random, not blocks: consecutive excitatory units are not all in one subtype.
    assert.ok(new Set(Array.from(net.types.slice(24, 30))).size > 1);
    const again = Network.create({ ...XOR, seed: 1, subtypes: 4 });
    const other = Network.create({ ...XOR, seed: 2, subtypes: 4 });
    assert.deepEqual(Array.from(again.types), Array.from(net.types));
    assert.notDeepEqual(Array.from(other.types), Array.from(net.types));
  });

  it('changes only the types: the weights are those of the network without subtypes', () => {
    const a = Network.create({ ...XOR, seed: 1, init: 'liu2022', subtypes: 8 });
    const b = Network.create({ ...XOR, seed: 1, init: 'liu2022' });
    for (const key of ['win', 'wrec', 'wout'] as const) assert.ok(sameBits(a.params[key], b.params[key]), key);
    assert.deepEqual(Array.from(Network.create({ ...XOR, subtypes: 1 }).types), Array.from(Network.create(XOR).types));
  });

  it('rejects more subtypes than units of a class, and subtypes with cellTypes', () => {
    assert.throws(() => Network.create({ ...XOR, subtypes: 25 }), /^ModpropError: Expected an integer between 1 and 24 .* for config\.subtypes but received 25$/);
    assert.throws(() => Network.create({ nIn: 1, nRec: 2, nOut: 1, cellTypes: [0, 1], typeSigns: [-1, 1], subtypes: 2 }), /for config\.subtypes/);
  });
});
