/**
 * SPEC §1: the seeded initialisation recipe and the forward pass, each checked against quantities computed here
 * independently (eigenvalues with ml-matrix, a float64 forward pass written out below).
 */
process.env.MODPROP_BACKEND = 'reference';

import assert from 'node:assert/strict';
import { Network, type Batch, type NetworkConfig, type Params } from '../../lib/index';
import { relMaxError, sameBits, spectralRadius } from '../helpers';

function meanVar(a: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2;
  return { mean, variance: v / (a.length - 1) };
}


/** Checks shared by every Dale network: zero diagonal, signs by presynaptic type, spectral radius 1, finite. */
function checkDaleNetwork(net: Network, signOf: (type: number) => number): void {
  const { wrec, wout, win, bout } = net.params;
  const n = net.nRec;
  const k = net.nOut;
  for (const [name, a] of [['win', win], ['wrec', wrec], ['wout', wout], ['bout', bout]] as const) {
    assert.ok(a.every(Number.isFinite), `${name} finite`);
  }
  for (let i = 0; i < n; i++) assert.equal(wrec[i * n + i], 0, `wrec[${i}][${i}]`);
  for (let p = 0; p < n; p++) {
    const s = signOf(net.types[p]);
    for (let j = 0; j < n; j++) assert.ok(wrec[p * n + j] * s >= 0, `wrec[${p}][${j}] = ${wrec[p * n + j]} has sign ${s}`);
    for (let o = 0; o < k; o++) assert.ok(wout[p * k + o] * s >= 0, `wout[${p}][${o}] = ${wout[p * k + o]} has sign ${s}`);
    // The weights are non-trivial: |N(0,1)| magnitudes are non-zero off the diagonal.
    let nonZero = 0;
    for (let j = 0; j < n; j++) if (wrec[p * n + j] !== 0) nonZero++;
    assert.equal(nonZero, n - 1, `row ${p} has ${n - 1} non-zero weights`);
  }
  const rho = spectralRadius(wrec, n);
  assert.ok(Math.abs(rho - 1) <= 1e-4, `spectral radius ${rho}`);
  assert.ok(bout.every((b) => b === 0), 'bout = 0');
}

/** Each column of wrec sums to 0 up to float32 rounding of its entries. */
function checkBalancedColumns(net: Network): void {
  const { wrec } = net.params;
  const n = net.nRec;
  for (let j = 0; j < n; j++) {
    let sum = 0;
    let abs = 0;
    for (let p = 0; p < n; p++) {
      sum += wrec[p * n + j];
      abs += Math.abs(wrec[p * n + j]);
    }
    assert.ok(abs > 0, `column ${j} is not empty`);
    assert.ok(Math.abs(sum) <= 1e-5 * abs, `column ${j} sums to ${sum} (|w| sum ${abs})`);
  }
}

const EI_CASES: { config: NetworkConfig; what: string }[] = [
  { config: { nIn: 2, nRec: 120, nOut: 2 }, what: 'N = 120, default seed' },
  { config: { nIn: 2, nRec: 120, nOut: 2, seed: 7 }, what: 'N = 120, seed 7' },
  { config: { nIn: 50, nRec: 200, nOut: 10, seed: 3 }, what: 'N = 200, nIn = 50, seed 3' },
  { config: { nIn: 3, nRec: 37, nOut: 1, seed: 11, excitatoryFraction: 0.7 }, what: 'N = 37, 70 % excitatory, seed 11' },
];

describe('Network.create: SPEC §1 initialisation with E/I types', () => {
  for (const { config, what } of EI_CASES) {
    describe(what, () => {
      const net = Network.create(config);
      const n = config.nRec;
      const nInh = n - Math.round((config.excitatoryFraction ?? 0.8) * n);

      it('inhibitory ids first: N − round(fN) units of type 0, then type 1', () => {
        assert.ok(net.types instanceof Int32Array);
        assert.equal(net.types.length, n);
        assert.equal(net.nTypes, 2);
        for (let i = 0; i < n; i++) assert.equal(net.types[i], i < nInh ? 0 : 1, `type of unit ${i}`);
      });

      it("zero diagonal, Dale's law on wrec and wout rows, spectral radius 1, bout = 0", () => {
        checkDaleNetwork(net, (t) => (t === 0 ? -1 : 1));
      });

      it('every column sums to 0, so total inhibition equals total excitation', () => {
        checkBalancedColumns(net);
        let pos = 0;
        let neg = 0;
        for (const w of net.params.wrec) (w > 0 ? (pos += w) : (neg -= w));
        assert.ok(pos > 0 && neg > 0);
        assert.ok(Math.abs(pos - neg) <= 1e-5 * (pos + neg), `excitation ${pos} vs inhibition ${neg}`);
      });

      it('shapes of the parameters and of the random feedback matrix', () => {
        const p = net.params;
        assert.equal(p.win.length, config.nIn * n);
        assert.equal(p.wrec.length, n * n);
        assert.equal(p.wout.length, n * config.nOut);
        assert.equal(p.bout.length, config.nOut);
        assert.equal(net.randomFeedback.length, n * config.nOut);
        for (const a of [p.win, p.wrec, p.wout, p.bout, net.randomFeedback]) assert.ok(a instanceof Float32Array);
      });
    });
  }

  it('with nIn = 50, N = 200: Win ~ N(0, 2/nIn), Wout ~ |N(0,1)|/√N, random feedback ~ N(0, 1/N)', () => {
    const nIn = 50;
    const n = 200;
    const net = Network.create({ nIn, nRec: n, nOut: 10, seed: 3 });
    const win = meanVar(net.params.win); // 10 000 samples
    assert.ok(Math.abs(win.variance / (2 / nIn) - 1) < 0.1, `Win variance ${win.variance} vs ${2 / nIn}`);
    assert.ok(Math.abs(win.mean) < 4 * Math.sqrt(2 / nIn / net.params.win.length), `Win mean ${win.mean}`);
    const absOut = Array.from(net.params.wout, (w) => Math.abs(w) * Math.sqrt(n)); // 2 000 samples
    const m = meanVar(absOut);
    assert.ok(Math.abs(m.mean / Math.sqrt(2 / Math.PI) - 1) < 0.1, `mean |Wout|·√N ${m.mean} vs ${Math.sqrt(2 / Math.PI)}`);
    assert.ok(Math.abs((m.variance + m.mean ** 2) - 1) < 0.15, `mean Wout²·N ${m.variance + m.mean ** 2} vs 1`);
    const fb = meanVar(net.randomFeedback);
    assert.ok(Math.abs(fb.variance * n - 1) < 0.15, `random feedback variance·N ${fb.variance * n}`);
    assert.ok(net.randomFeedback.some((w) => w < 0) && net.randomFeedback.some((w) => w > 0), 'random feedback has both signs');
  });

  it('the same seed gives bit-identical parameters and random feedback; another seed differs', () => {
    const config = { nIn: 4, nRec: 30, nOut: 3, seed: 42 };
    const a = Network.create(config);
    const b = Network.create({ ...config });
    const c = Network.create({ ...config, seed: 43 });
    for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(sameBits(a.params[k], b.params[k]), `${k} identical`);
    assert.ok(sameBits(a.randomFeedback, b.randomFeedback), 'randomFeedback identical');
    for (const k of ['win', 'wrec', 'wout'] as const) assert.ok(!sameBits(a.params[k], c.params[k]), `${k} differs with the seed`);
    assert.ok(!sameBits(a.randomFeedback, c.randomFeedback), 'randomFeedback differs with the seed');
  });

  it('the random feedback matrix of fromParams equals that of create (it depends on the seed only)', () => {
    const config = { nIn: 2, nRec: 20, nOut: 2, seed: 5 };
    const a = Network.create(config);
    const b = Network.fromParams(config, a.params);
    assert.ok(sameBits(a.randomFeedback, b.randomFeedback));
  });

  it('alpha = exp(−dt/tau)', () => {
    assert.equal(Network.create({ nIn: 1, nRec: 5, nOut: 1 }).alpha, Math.exp(-1 / 100));
    assert.equal(Network.create({ nIn: 1, nRec: 5, nOut: 1, tau: 20, dt: 0.5 }).alpha, Math.exp(-0.5 / 20));
    assert.equal(Network.create({ nIn: 1, nRec: 5, nOut: 1, tau: 3 }).alpha, Math.exp(-1 / 3));
  });
});

describe('Network.create: other type configurations', () => {
  it('dale: false → mixed signs within rows, zero diagonal, spectral radius 1', () => {
    const n = 60;
    const net = Network.create({ nIn: 3, nRec: n, nOut: 4, seed: 2, dale: false });
    const { wrec, wout } = net.params;
    for (let i = 0; i < n; i++) assert.equal(wrec[i * n + i], 0);
    let mixedRows = 0;
    for (let p = 0; p < n; p++) {
      const row = wrec.subarray(p * n, (p + 1) * n);
      if (row.some((w) => w > 0) && row.some((w) => w < 0)) mixedRows++;
    }
    assert.ok(mixedRows > n / 2, `${mixedRows} rows of wrec have both signs`);
    assert.ok(wout.some((w) => w > 0) && wout.some((w) => w < 0), 'wout has both signs');
    assert.ok(wrec.every(Number.isFinite));
    const rho = spectralRadius(wrec, n);
    assert.ok(Math.abs(rho - 1) <= 1e-4, `spectral radius ${rho}`);
    // Wout ~ N(0, 1/N) without Dale: mean close to 0.
    const m = meanVar(wout);
    assert.ok(Math.abs(m.mean) < 4 / Math.sqrt(n * wout.length), `Wout mean ${m.mean}`);
  });

  it('custom types (C = 3, typeSigns [-1, 1, 1]) are respected by signs', () => {
    const n = 30;
    const cellTypes = Array.from({ length: n }, (_, i) => (i * 7) % 3); // interleaved types
    const net = Network.create({ nIn: 2, nRec: n, nOut: 3, seed: 9, cellTypes, typeSigns: [-1, 1, 1] });
    assert.equal(net.nTypes, 3);
    assert.deepEqual(Array.from(net.types), cellTypes);
    checkDaleNetwork(net, (t) => (t === 0 ? -1 : 1));
    checkBalancedColumns(net);
  });

  it('custom types with an excitatory type 0 (typeSigns [1, -1]) flip the signs', () => {
    const n = 24;
    const cellTypes = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const net = Network.create({ nIn: 2, nRec: n, nOut: 2, seed: 4, cellTypes, typeSigns: [1, -1] });
    checkDaleNetwork(net, (t) => (t === 0 ? 1 : -1));
    checkBalancedColumns(net);
  });

  it('C = 1, all excitatory (typeSigns [1]): no balancing possible, still finite with radius 1', () => {
    const n = 25;
    const net = Network.create({ nIn: 2, nRec: n, nOut: 2, seed: 6, cellTypes: new Array(n).fill(0), typeSigns: [1] });
    assert.equal(net.nTypes, 1);
    checkDaleNetwork(net, () => 1);
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < n; p++) sum += net.params.wrec[p * n + j];
      assert.ok(sum > 0, `column ${j} of an all-excitatory network sums to ${sum}`);
    }
  });

  it('excitatoryFraction 1 (no inhibitory unit) and 0 (no excitatory unit) stay finite with radius 1', () => {
    const allE = Network.create({ nIn: 2, nRec: 20, nOut: 2, seed: 1, excitatoryFraction: 1 });
    assert.ok(allE.types.every((t) => t === 1));
    checkDaleNetwork(allE, (t) => (t === 0 ? -1 : 1));
    const allI = Network.create({ nIn: 2, nRec: 20, nOut: 2, seed: 1, excitatoryFraction: 0 });
    assert.ok(allI.types.every((t) => t === 0));
    checkDaleNetwork(allI, (t) => (t === 0 ? -1 : 1));
  });

  it('nRec = 1: the only recurrent weight is the (zero) diagonal, no NaN', () => {
    const net = Network.create({ nIn: 2, nRec: 1, nOut: 2, seed: 1 });
    assert.deepEqual(Array.from(net.params.wrec), [0]);
    assert.ok(net.params.win.every(Number.isFinite) && net.params.wout.every(Number.isFinite));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// forward

/** SPEC §1 written out in float64: v_t = α v_{t−1} + (1−α)(x_t Win + z_{t−1} Wrec), z = relu(v − thr), y = z Wout + b. */
function forward64(p: Params, nIn: number, n: number, k: number, alpha: number, thr: number, b: Batch) {
  const { batchSize: B, steps: T, x } = b;
  const v = new Float64Array(B * T * n);
  const z = new Float64Array(B * T * n);
  const y = new Float64Array(B * T * k);
  for (let s = 0; s < B; s++) {
    let vPrev = new Float64Array(n);
    let zPrev = new Float64Array(n);
    for (let t = 0; t < T; t++) {
      const vt = new Float64Array(n);
      const zt = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let input = 0;
        for (let i = 0; i < nIn; i++) input += x[(s * T + t) * nIn + i] * p.win[i * n + j];
        for (let q = 0; q < n; q++) input += zPrev[q] * p.wrec[q * n + j];
        vt[j] = alpha * vPrev[j] + (1 - alpha) * input;
        zt[j] = Math.max(vt[j] - thr, 0);
      }
      for (let o = 0; o < k; o++) {
        let acc = p.bout[o];
        for (let q = 0; q < n; q++) acc += zt[q] * p.wout[q * k + o];
        y[(s * T + t) * k + o] = acc;
      }
      v.set(vt, (s * T + t) * n);
      z.set(zt, (s * T + t) * n);
      vPrev = vt;
      zPrev = zt;
    }
  }
  return { v, z, y };
}

function normalBatch(B: number, T: number, nIn: number, seed: number): Batch {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const x = new Float32Array(B * T * nIn);
  for (let i = 0; i < x.length; i++) x[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { x, batchSize: B, steps: T };
}

describe('Network.forward (SPEC §1)', () => {
  const cases: { config: NetworkConfig; what: string; boutValues: number[] }[] = [
    { config: { nIn: 3, nRec: 9, nOut: 2, tau: 4, seed: 3 }, what: 'E/I network, threshold 0', boutValues: [0.3, -0.7] },
    { config: { nIn: 4, nRec: 11, nOut: 3, tau: 6, dt: 1.5, threshold: 0.15, dale: false, seed: 8 }, what: 'no Dale, threshold 0.15', boutValues: [0.1, 0, -0.2] },
  ];
  for (const { config, what, boutValues } of cases) {
    it(`matches a float64 implementation: ${what}`, () => {
      const base = Network.create(config);
      // Stronger recurrent weights and a non-zero bias, so every term of the recursion matters.
      const p: Params = {
        win: base.params.win.slice(),
        wrec: base.params.wrec.map((w) => w * 2.5),
        wout: base.params.wout.slice(),
        bout: Float32Array.from(boutValues),
      };
      const net = Network.fromParams(config, p);
      const B = 3;
      const T = 17;
      const batch = normalBatch(B, T, config.nIn, 21);
      const out = net.forward(batch);
      const n = config.nRec;
      const k = config.nOut;
      assert.ok(out.v instanceof Float32Array && out.z instanceof Float32Array && out.y instanceof Float32Array);
      assert.equal(out.v.length, B * T * n);
      assert.equal(out.z.length, B * T * n);
      assert.equal(out.y.length, B * T * k);
      const thr = config.threshold ?? 0;
      const alpha = Math.exp(-(config.dt ?? 1) / (config.tau ?? 100));
      const ref = forward64(net.params, config.nIn, n, k, alpha, thr, batch);
      for (const key of ['v', 'z', 'y'] as const) {
        const err = relMaxError(out[key], ref[key]);
        assert.ok(err <= 1e-5, `${key}: relative error ${err}`);
      }
      // Non-trivial: some units are above threshold and some below.
      let active = 0;
      let silent = 0;
      for (let i = 0; i < ref.v.length; i++) (ref.v[i] > thr ? active++ : silent++);
      assert.ok(active > 0.1 * ref.v.length && silent > 0.1 * ref.v.length, `${active} active, ${silent} silent`);
      if (thr !== 0) {
        // z = v − thr where active (the threshold is subtracted, not only used as a gate)
        for (let i = 0; i < ref.v.length; i++) if (out.v[i] > thr + 1e-3) assert.ok(Math.abs(out.z[i] - (out.v[i] - thr)) < 1e-5);
      }
    });
  }

  it('sequences of a batch are independent (no state carried between them)', () => {
    const config = { nIn: 2, nRec: 10, nOut: 2, tau: 3, seed: 4 };
    const net = Network.create(config);
    const both = normalBatch(2, 8, 2, 5);
    const second: Batch = { x: both.x.slice(8 * 2), batchSize: 1, steps: 8 };
    const a = net.forward(both);
    const b = net.forward(second);
    assert.ok(sameBits(a.y.subarray(8 * 2), b.y));
  });

  it('fromParams copies: mutating the source afterwards changes nothing, and outputs agree', () => {
    const config = { nIn: 2, nRec: 12, nOut: 2, tau: 5, seed: 10 };
    const src = Network.create(config);
    const copy = Network.fromParams(config, src.params);
    for (const k of ['win', 'wrec', 'wout', 'bout'] as const) {
      assert.notEqual(copy.params[k], src.params[k], `${k} is a new array`);
      assert.ok(sameBits(copy.params[k], src.params[k]), `${k} equal`);
    }
    const batch = normalBatch(2, 10, 2, 3);
    const before = src.forward(batch);
    const fromCopy = copy.forward(batch);
    for (const k of ['v', 'z', 'y'] as const) assert.ok(sameBits(before[k], fromCopy[k]), `${k} identical`);
    const saved = copy.params.win.slice();
    src.params.win.fill(0);
    src.params.wrec[1] = 0;
    src.params.bout[0] = 5;
    assert.ok(sameBits(copy.params.win, saved), 'copy.win unchanged');
    assert.equal(copy.params.bout[0], 0);
    assert.ok(sameBits(copy.forward(batch).y, fromCopy.y), 'copy forward unchanged');
    assert.ok(!sameBits(src.forward(batch).y, fromCopy.y), 'the mutated source now differs');
  });
});

describe('Network.clone', () => {
  it('copies parameters and cell types: changing the clone leaves the original alone', () => {
    const a = Network.create({ nIn: 2, nRec: 6, nOut: 2, seed: 1 });
    const b = a.clone();
    const typesBefore = a.types.slice();
    b.types[0] = 1 - b.types[0];
    b.params.wrec[1] += 1;
    assert.deepEqual(a.types, typesBefore);
    assert.notEqual(a.params.wrec[1], b.params.wrec[1]);
  });
});
