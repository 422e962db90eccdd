/**
 * spectralRadius above EXACT_MAX_SIZE at the sizes of issue 13 (n up to 2048): the native Arnoldi cycle gives the
 * TypeScript cycle's bits; radii of matrices with known spectra (block-triangular, so the eigenvalues are those of
 * the diagonal blocks, hidden by a permutation similarity) are right; numpy agrees on Wrec-like random bulks;
 * extreme, non-finite and ill-conditioned inputs give a scaled radius, Infinity or a ModpropError, never a hang;
 * and Network.create at N = 2000 (issue 11: > 60 s before) returns a Wrec of radius 1.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Network, ModpropError } from '../../lib/index';
import { spectralRadius, spectralRadiusAsync } from '../../lib/spectralRadius';
import {
  eigenDecomposition, eigenDecompositionReference, krylovCycle, krylovCycleReference, krylovEngine, resetKrylovForTests,
} from '../../lib/krylov';
import { Random } from '../../lib/random';

function gaussian(n: number, seed: number, sd = 1): Float64Array {
  const rng = new Random(seed, 5);
  return Float64Array.from({ length: n * n }, () => (rng.normal() * sd) / Math.sqrt(n));
}

/** The balanced Dale recipe of SPEC §1 in miniature: 80 % positive rows, columns summing to 0. */
function balanced(n: number, seed: number): Float64Array {
  const rng = new Random(seed, 6);
  const w = new Float64Array(n * n);
  for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) w[p * n + j] = p === j ? 0 : (p < 0.8 * n ? 1 : -1) * Math.abs(rng.normal());
  for (let j = 0; j < n; j++) {
    let pos = 0, neg = 0;
    for (let p = 0; p < n; p++) (w[p * n + j] > 0 ? (pos += w[p * n + j]) : (neg -= w[p * n + j]));
    for (let p = 0; p < n; p++) if (w[p * n + j] < 0) w[p * n + j] *= pos / neg;
  }
  return w;
}

/**
 * Block upper-triangular with 1×1 and 2×2 (rotation) diagonal blocks of moduli below 1, one planted block of
 * modulus `top` (real when angle is 0), random entries above the blocks, then P·A·Pᵀ for a random permutation P.
 */
function knownSpectrum(n: number, seed: number, top: number, angle: number): Float64Array {
  const rng = new Random(seed, 7);
  const a = new Float64Array(n * n);
  const planted = 2 * Math.floor(n / 3);
  for (let i = 0; i < n; ) {
    const pair = i + 1 < n && (i === planted ? angle !== 0 : i + 1 !== planted && rng.uniform() < 0.5);
    const r = i === planted ? top : 0.95 * rng.uniform();
    const t = i === planted ? angle : Math.PI * rng.uniform();
    if (pair) {
      a[i * n + i] = r * Math.cos(t); a[i * n + i + 1] = -r * Math.sin(t);
      a[(i + 1) * n + i] = r * Math.sin(t); a[(i + 1) * n + i + 1] = r * Math.cos(t);
    } else {
      a[i * n + i] = i === planted ? -top : r;
    }
    const end = pair ? i + 2 : i + 1;
    for (let row = i; row < end; row++) for (let j = end; j < n; j++) a[row * n + j] = (rng.normal() * 0.3) / Math.sqrt(n);
    i = end;
  }
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = rng.int(i + 1); [perm[i], perm[j]] = [perm[j], perm[i]]; }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[perm[i] * n + perm[j]] = a[i * n + j];
  return out;
}

function withReferenceCycle<T>(f: () => T): T {
  const saved = process.env.MODPROP_BACKEND;
  process.env.MODPROP_BACKEND = 'reference';
  resetKrylovForTests();
  try {
    assert.equal(krylovEngine(), 'reference');
    return f();
  } finally {
    if (saved === undefined) delete process.env.MODPROP_BACKEND;
    else process.env.MODPROP_BACKEND = saved;
    resetKrylovForTests();
  }
}

/**
 * The native cycle for one describe block, whatever MODPROP_BACKEND other test files set when mocha loaded them (they
 * set it at module load, so a check made here at load time saw 'reference' in a full run and skipped these tests).
 */
function useNativeCycle(): void {
  let saved: string | undefined;
  before(function () {
    saved = process.env.MODPROP_BACKEND;
    delete process.env.MODPROP_BACKEND;
    resetKrylovForTests();
    if (krylovEngine() !== 'native') this.skip();
  });
  after(() => {
    if (saved !== undefined) process.env.MODPROP_BACKEND = saved;
    resetKrylovForTests();
  });
}

describe('spectralRadius at large n', function () {
  this.timeout(240000);

  describe('native Arnoldi cycle = TypeScript cycle, bit for bit', () => {
    useNativeCycle();
    for (const n of [201, 517, 1024, 2048]) {
      it(`one cycle from column 0 and from column 30 at n = ${n}`, () => {
        const a = gaussian(n, n);
        const m = 60;
        for (const from of [0, 30]) {
          const basis = new Float64Array((m + 1) * n);
          const h = new Float64Array((m + 1) * m);
          // rows 0..from orthonormal: an unscaled reference cycle prepares them.
          basis.fill(1 / Math.sqrt(n), 0, n);
          if (from > 0) {
            krylovCycleReference(a, n, from, 0, basis.subarray(0, (from + 1) * n), new Float64Array((from + 1) * from), 0);
          }
          const b2 = basis.slice();
          const h2 = h.slice();
          const s1 = krylovCycle(a, n, m, from, basis, h, 0);
          const s2 = krylovCycleReference(a, n, m, from, b2, h2, 0);
          assert.equal(s1, s2);
          assert.ok(Buffer.from(basis.buffer).equals(Buffer.from(b2.buffer)), 'basis differs');
          assert.ok(Buffer.from(h.buffer).equals(Buffer.from(h2.buffer)), 'h differs');
          assert.ok(h[(m) * m + m - 1] > 0, 'the cycle did work');
        }
      });
    }

    /** max |A·v − λ·v| over the eigenpairs (complex pairs as columns re, im), relative to max |a|. */
    function eigenResidual(a: Float64Array, n: number, e: { re: Float64Array; im: Float64Array; vectors: Float64Array }): number {
      let worst = 0;
      const largest = Math.max(1e-300, ...Array.from(a, Math.abs));
      const col = (j: number) => Float64Array.from({ length: n }, (_, i) => e.vectors[i * n + j]);
      for (let j = 0; j < n; j++) {
        const pair = e.im[j] !== 0;
        const [x, y] = pair ? [col(j), col(j + 1)] : [col(j), new Float64Array(n)];
        const [lr, li] = [e.re[j], e.im[j]];
        const scale = Math.max(...Array.from(x, Math.abs), ...Array.from(y, Math.abs));
        for (let i = 0; i < n; i++) {
          let ar = 0, ai = 0;
          for (let k = 0; k < n; k++) { ar += a[i * n + k] * x[k]; ai += a[i * n + k] * y[k]; }
          worst = Math.max(worst, Math.abs(ar - (lr * x[i] - li * y[i])) / scale / largest,
            Math.abs(ai - (lr * y[i] + li * x[i])) / scale / largest);
        }
        if (pair) j++;
      }
      return worst;
    }

    const eigenCases: [string, number, () => Float64Array][] = [
      ...[1, 2, 3, 5, 17, 60, 200].map((n): [string, number, () => Float64Array] => [`a Gaussian matrix, n = ${n}`, n, () => gaussian(n, 100 + n)]),
      ['the projected matrix of an Arnoldi cycle on a balanced bulk (Hessenberg)', 60, () => {
        const n = 400, m = 60;
        const basis = new Float64Array((m + 1) * n).fill(1 / Math.sqrt(n), 0, n);
        const h = new Float64Array((m + 1) * m);
        krylovCycleReference(balanced(n, 3), n, m, 0, basis, h, 0);
        return h.slice(0, m * m);
      }],
      ['a known spectrum with complex pairs', 41, () => knownSpectrum(41, 5, 1.2, 0.7)],
      ['a cyclic shift (eigenvalues on the unit circle: the exceptional shifts)', 12, () =>
        Float64Array.from({ length: 144 }, (_, k) => ((Math.floor(k / 12) + 1) % 12 === k % 12 ? 1 : 0))],
      ['a Jordan block plus a small perturbation (defective)', 9, () =>
        Float64Array.from({ length: 81 }, (_, k) => (k % 10 === 0 ? 0.5 : k % 10 === 1 ? 1 : k === 72 ? 1e-6 : 0))],
      ['a matrix with exact zeros in its subdiagonal (deflation)', 8, () =>
        Float64Array.from({ length: 64 }, (_, k) => (Math.floor(k / 8) <= (k % 8) + ((k >> 4) % 2) ? ((k * 37) % 11) - 5 : 0))],
      ['a symmetric matrix (ml-matrix path, not ported)', 30, () => {
        const g = gaussian(30, 7);
        return Float64Array.from(g, (_, k) => g[k] + g[(k % 30) * 30 + Math.floor(k / 30)]);
      }],
    ];
    for (const [what, n, make] of eigenCases) {
      it(`eigendecomposition, native = ml-matrix bit for bit: ${what}`, () => {
        const a = make();
        const before = a.slice();
        const native = eigenDecomposition(a, n);
        const reference = eigenDecompositionReference(a, n);
        for (const key of ['re', 'im', 'vectors'] as const) {
          assert.ok(Buffer.from(native[key].buffer).equals(Buffer.from(reference[key].buffer)), `${key} differs`);
        }
        assert.deepEqual(a, before, 'the input is not changed');
        // Not two equal wrong answers: the pairs are eigenpairs, and the spectrum is not trivial.
        assert.ok(eigenResidual(a, n, native) < 1e-9, `residual ${eigenResidual(a, n, native)}`);
        assert.ok(native.re.some((v) => v !== 0), 'some eigenvalue is non-zero');
        if (what.includes('complex') || what.includes('cyclic')) assert.ok(native.im.some((v) => v !== 0), 'complex pairs present');
      });
    }

    const cases: [string, number, () => Float64Array][] = [
      ['a random bulk', 1024, () => balanced(1024, 1)],
      ['a dominant complex pair', 517, () => knownSpectrum(517, 2, 1.4, 0.9)],
      ['a nilpotent rank-one matrix (ρ = 0: Krylov breakdown)', 300, () => {
        const n = 300;
        // s·vᵀ with s = (-1, 1, -1, …) and v = (1, 1, 2, 2, 3, 3, …): vᵀs = 0.
        return Float64Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) % 2 ? 1 : -1) * (1 + ((k % n) >> 1)));
      }],
    ];
    for (const [what, n, make] of cases) {
      it(`the whole radius, native and reference engines: ${what}, n = ${n}`, async () => {
        const a = make();
        const native = spectralRadius(a, n);
        const viaAsync = await spectralRadiusAsync(a, n);
        const reference = withReferenceCycle(() => spectralRadius(a, n));
        assert.ok(Object.is(native, reference), `${native} vs ${reference}`);
        assert.ok(Object.is(native, viaAsync), `${native} vs async ${viaAsync}`);
        if (what.startsWith('a nilpotent')) assert.ok(native <= 1e-9 * n * n, String(native));
      });
    }
  });

  for (const [n, top, angle] of [[333, 1.3, 0], [1024, 1.25, 2.1], [2048, 1.1, 0.3]] as const) {
    it(`a known spectrum at n = ${n}: planted ${angle === 0 ? 'real' : 'complex'} eigenvalue of modulus ${top} among moduli < 0.95`, () => {
      const rho = spectralRadius(knownSpectrum(n, n, top, angle), n);
      assert.ok(Math.abs(rho - top) <= 1e-9 * top, `${rho} vs ${top}`);
    });
  }

  it('agrees with numpy.linalg.eigvals on balanced random bulks (no gap at the top)', function () {
    const python = '/usr/bin/python3';
    try { execFileSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }); } catch { this.skip(); }
    for (const [n, seed] of [[600, 1], [900, 2]]) {
      const w = balanced(n, seed);
      const script = 'import sys, numpy as np; n = int(sys.argv[1]); ' +
        'w = np.frombuffer(sys.stdin.buffer.read(), dtype="<f8").reshape(n, n); print(repr(float(np.abs(np.linalg.eigvals(w)).max())))';
      const want = Number(execFileSync(python, ['-c', script, String(n)], { input: Buffer.from(w.buffer) }).toString());
      const got = spectralRadius(w, n);
      assert.ok(Math.abs(got - want) <= 1e-9 * want, `n = ${n}: ${got} vs numpy ${want}`);
    }
  });

  it('scales extreme matrices, returns Infinity for non-finite entries and 0 for the zero matrix', () => {
    const n = 257;
    const a = knownSpectrum(n, 4, 1.2, 0);
    const rho = spectralRadius(a, n);
    for (const s of [1e200, 1e-200]) {
      const got = spectralRadius(a.map((v) => v * s), n);
      assert.ok(Math.abs(got / s - rho) <= 1e-9 * rho, `${got} at scale ${s}`);
    }
    for (const bad of [Infinity, NaN]) {
      const b = a.slice();
      b[5] = bad;
      assert.equal(spectralRadius(b, n), Infinity);
    }
    assert.equal(spectralRadius(new Float64Array(n * n), n), 0);
  });

  it('a highly non-normal matrix (a shift, ρ = 0 but ε-perturbations have radius ε^(1/n)) is a ModpropError, not a number', () => {
    const n = 201;
    const shift = new Float64Array(n * n);
    for (let i = 0; i + 1 < n; i++) shift[i * n + i + 1] = 1;
    assert.throws(() => spectralRadius(shift, n), (e: unknown) => e instanceof ModpropError &&
      /Expected a matrix whose dominant eigenvalue the Arnoldi iteration resolves .* for matrix but received a 201×201 matrix/.test(e.message));
  });

  it('Network.create at N = 2000 (issue 11: > 60 s on the main thread) returns Wrec with radius 1', () => {
    const net = Network.create({ nIn: 2, nRec: 2000, nOut: 2, seed: 3 });
    const rho = spectralRadius(Float64Array.from(net.params.wrec), 2000);
    // float32 rounding of Wrec/ρ moves the radius by ~1e-7 at most.
    assert.ok(Math.abs(rho - 1) < 1e-6, String(rho));
  });
});
