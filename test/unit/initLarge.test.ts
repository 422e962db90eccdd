/**
 * The fast initialisation above N = 200 (issue 13: Network.create at N = 4096 took 5–6 s): the float32-matrix Arnoldi
 * cycle is the float64 cycle on the widened matrix, bit for bit, natively and in TypeScript; the native thick-restart
 * update is the TypeScript one and keeps the basis orthonormal; `float32Radius` is `spectralRadius` up to 200 and
 * the radius of the float32-rounded matrix above; `squareNormals` is the Box–Muller stream up to 200 and the
 * ziggurat stream above, natively and in TypeScript; and Network.create still gives ρ(Wrec) = 1 with the same
 * parameters on both engines.
 */
import assert from 'node:assert/strict';
import { Network } from '../../lib/index';
import { float32Radius, spectralRadius } from '../../lib/spectralRadius';
import { krylovCycle, krylovCycleReference, krylovEngine, krylovRestart, krylovRestartReference, resetKrylovForTests } from '../../lib/krylov';
import { BOX_MULLER_MAX_SIZE, squareNormals } from '../../lib/init';
import { Random } from '../../lib/random';
import { fastNormal } from '../../lib/tasks/fastNormal';
import { loadNativeSampler } from '../../lib/tasks/nativeSampler';
import type { NativeAddon } from '../../lib/native/addon';

function sameBits(a: Float64Array | Float32Array, b: Float64Array | Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A Wrec-like matrix: 80 % positive rows of |N(0,1)|, the rest negative and twice as strong, zero diagonal. */
function wrecLike(n: number, seed: number): Float64Array {
  const rng = new Random(seed, 11);
  const w = new Float64Array(n * n);
  for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) w[p * n + j] = p === j ? 0 : (p < 0.8 * n ? 1 : -2) * Math.abs(rng.normal()) / Math.sqrt(n);
  return w;
}

function withBackend<T>(backend: string | undefined, f: () => T): T {
  const saved = process.env.MODPROP_BACKEND;
  if (backend === undefined) delete process.env.MODPROP_BACKEND;
  else process.env.MODPROP_BACKEND = backend;
  resetKrylovForTests();
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.MODPROP_BACKEND;
    else process.env.MODPROP_BACKEND = saved;
    resetKrylovForTests();
  }
}

describe('fast initialisation above N = 200', function () {
  this.timeout(120000);

  it('a cycle on a Float32Array matrix = the float64 cycle on the widened matrix, native and TypeScript, bit for bit', () => {
    const n = 301;
    const m = 24;
    const a32 = Float32Array.from(wrecLike(n, 1));
    const widened = Float64Array.from(a32);
    const start = (): { basis: Float64Array; h: Float64Array } => {
      const basis = new Float64Array((m + 1) * n);
      for (let i = 0; i < n; i++) basis[i] = Math.cos(i) / Math.sqrt(n / 2);
      return { basis, h: new Float64Array((m + 1) * m) };
    };
    const runs: { basis: Float64Array; h: Float64Array; size: number }[] = [];
    const engines: string[] = [];
    for (const backend of [undefined, 'reference']) {
      withBackend(backend, () => {
        engines.push(krylovEngine());
        for (const matrix of [a32, widened]) {
          const s = start();
          runs.push({ ...s, size: krylovCycle(matrix, n, m, 0, s.basis, s.h, 0) });
        }
      });
    }
    const s = start();
    runs.push({ ...s, size: krylovCycleReference(a32, n, m, 0, s.basis, s.h, 0) });
    for (const r of runs.slice(1)) {
      assert.equal(r.size, m);
      assert.ok(sameBits(r.basis, runs[0].basis) && sameBits(r.h, runs[0].h), `engines ${engines.join(', ')}: a run differs`);
    }
    assert.ok(runs[0].h[m * m + m - 1] > 0 && runs[0].h[0] !== 0, 'the cycle did work');
    // The float32 matrix is not the float64 one: the cycle on the unrounded matrix differs.
    const exact = start();
    krylovCycleReference(wrecLike(n, 1), n, m, 0, exact.basis, exact.h, 0);
    assert.ok(!sameBits(exact.h, runs[0].h));
  });

  it('the thick-restart update: native = TypeScript bit for bit, orthonormal rows, the residual direction kept', () => {
    const n = 257;
    const m = 12;
    const k = 5;
    // An orthonormal basis from an Arnoldi cycle, and orthonormal columns Q (Gram–Schmidt of a fixed pattern).
    const basis = new Float64Array((m + 1) * n);
    basis.fill(1 / Math.sqrt(n), 0, n);
    krylovCycleReference(wrecLike(n, 2), n, m, 0, basis, new Float64Array((m + 1) * m), 0);
    const q = new Float64Array(k * m);
    for (let c = 0; c < k; c++) {
      const col = Float64Array.from({ length: m }, (_, r) => Math.sin(1 + 3 * c + r * (c + 1)));
      for (let d = 0; d < c; d++) {
        let dot = 0;
        for (let r = 0; r < m; r++) dot += col[r] * q[d * m + r];
        for (let r = 0; r < m; r++) col[r] -= dot * q[d * m + r];
      }
      const norm = Math.hypot(...col);
      for (let r = 0; r < m; r++) q[c * m + r] = col[r] / norm;
    }
    const ref = basis.slice();
    krylovRestartReference(ref, q, n, m, k);
    const viaDispatch = withBackend(undefined, () => {
      const b = basis.slice();
      krylovRestart(b, q, n, m, k);
      return { b, engine: krylovEngine() };
    });
    assert.ok(sameBits(viaDispatch.b, ref), `${viaDispatch.engine} restart differs from the TypeScript one`);
    for (let c = 0; c < k; c++) {
      for (let d = 0; d <= c; d++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += ref[c * n + i] * ref[d * n + i];
        assert.ok(Math.abs(dot - (c === d ? 1 : 0)) < 1e-12, `rows ${c}, ${d}: ${dot}`);
      }
    }
    assert.ok(sameBits(ref.subarray(k * n, (k + 1) * n), basis.subarray(m * n, (m + 1) * n)), 'row k is the old row m');
    // Row 0 is Σ_r q[0][r]·v_r: check one entry by hand.
    let entry = 0;
    for (let r = 0; r < m; r++) entry += q[r] * basis[r * n + 7];
    assert.ok(Math.abs(ref[7] - entry) < 1e-15);
  });

  it('float32Radius: spectralRadius itself up to 200, the radius of the float32-rounded matrix above', () => {
    const small = wrecLike(200, 3);
    assert.equal(float32Radius(small, 200), spectralRadius(small, 200));
    const n = 321;
    const w = wrecLike(n, 4);
    const scratch = new Float32Array(n * n);
    const r32 = float32Radius(w, n, scratch);
    assert.ok(sameBits(scratch, Float32Array.from(w)), 'scratch holds the float32 copy');
    assert.equal(r32, spectralRadius(Float64Array.from(Float32Array.from(w)), n));
    const r64 = spectralRadius(w, n);
    assert.ok(r32 > 0.1 && Math.abs(r32 - r64) <= 1e-6 * r64, `${r32} vs ${r64}`);
    assert.notEqual(r32, r64, 'the rounding is visible: the two radii are of different matrices');
  });

  it('squareNormals: Box–Muller up to 200, the ziggurat above, the same bits natively and in TypeScript', function () {
    const n = BOX_MULLER_MAX_SIZE;
    const bm = new Random(5, 1);
    assert.ok(sameBits(squareNormals(new Random(5, 1), n), Float64Array.from({ length: n * n }, () => bm.normal())));
    const big = BOX_MULLER_MAX_SIZE + 1;
    const zig = new Random(5, 1);
    const expected = Float64Array.from({ length: big * big }, () => fastNormal(zig));
    const ts = withBackend('reference', () => squareNormals(new Random(5, 1), big));
    assert.ok(sameBits(ts, expected), 'TypeScript path');
    if (!loadNativeSampler()) this.skip();
    const native = withBackend(undefined, () => squareNormals(new Random(5, 1), big));
    assert.ok(sameBits(native, expected), 'native path');
    let mean = 0;
    let sq = 0;
    for (const v of native) { mean += v / native.length; sq += (v * v) / native.length; }
    assert.ok(Math.abs(mean) < 0.01 && Math.abs(sq - 1) < 0.02, `moments ${mean}, ${sq}`);
  });

  it('the native initialisation passes (init_wrec.cc) give the TypeScript passes\' parameters: mask, no Dale, one type, subtypes, liu2022, recurrentRadius', function () {
    // The object lib/network.ts calls (nativeSampler's cache): another file may have loaded the addon again since.
    const sampler = loadNativeSampler() as Partial<NativeAddon> | undefined;
    if (!sampler || typeof sampler.balancedWrecPasses !== 'function') this.skip();
    let calls = 0;
    const addon = sampler as Required<NativeAddon>;
    const original = addon.balancedWrecPasses;
    addon.balancedWrecPasses = (...args) => {
      calls++;
      return original(...args);
    };
    try {
      const configs = [
        { nIn: 2, nRec: 257, nOut: 2, seed: 1, connectivity: 0.3 },
        { nIn: 3, nRec: 230, nOut: 2, seed: 2, dale: false },
        { nIn: 2, nRec: 240, nOut: 2, seed: 3, excitatoryFraction: 1 },
        { nIn: 2, nRec: 260, nOut: 3, seed: 4, subtypes: 3 },
        { nIn: 2, nRec: 210, nOut: 2, seed: 5, init: 'liu2022' as const },
        { nIn: 2, nRec: 220, nOut: 2, seed: 6, recurrentRadius: 0.8, connectivity: 0.5 },
      ];
      for (const config of configs) {
        const before = calls;
        const native = withBackend(undefined, () => Network.create(config));
        assert.equal(calls, before + 1, `the native passes ran for ${JSON.stringify(config)}`);
        const reference = withBackend('reference', () => Network.create(config));
        assert.equal(calls, before + 1, 'the reference engine ran the TypeScript passes');
        for (const key of ['win', 'wrec', 'wout', 'bout'] as const) {
          assert.ok(sameBits(native.params[key], reference.params[key]), `${key} differs between engines for ${JSON.stringify(config)}`);
        }
        assert.ok(native.params.wrec.some((v) => v !== 0), 'a non-trivial Wrec');
      }
    } finally {
      addon.balancedWrecPasses = original;
    }
    // The raw binding checks what JavaScript sends.
    const w32 = new Float32Array(9), state = Uint32Array.of(1, 2, 3, 4);
    assert.throws(() => original(state, 3, null, null, new Float32Array(8)), /w32/);
    assert.throws(() => original(state, 3, null, null, new Float64Array(9) as unknown as Float32Array), /w32/);
    assert.throws(() => original(state, 3, Int8Array.of(1, -1), null, w32), /rowSigns/);
    assert.throws(() => original(state, 3, null, new Uint8Array(4), w32), /mask/);
    assert.throws(() => original(Uint32Array.of(0, 0, 0, 0), 3, null, null, w32), /state/);
    assert.ok(Number.isFinite(original(state, 3, null, null, w32)));
    assert.throws(() => addon.scaleInPlace(w32, 0), /rho/);
    assert.throws(() => addon.scaleInPlace(w32, Infinity), /rho/);
  });

  it('Network.create at N = 1024: ρ(Wrec) = 1 and the same parameters on the native and the reference engine', () => {
    const config = { nIn: 2, nRec: 1024, nOut: 2, seed: 9 };
    const native = withBackend(undefined, () => Network.create(config));
    const reference = withBackend('reference', () => Network.create(config));
    for (const key of ['win', 'wrec', 'wout', 'bout'] as const) {
      assert.ok(sameBits(native.params[key], reference.params[key]), `${key} differs between engines`);
    }
    const rho = spectralRadius(Float64Array.from(native.params.wrec), 1024);
    assert.ok(Math.abs(rho - 1) < 1e-6, String(rho));
  });
});
