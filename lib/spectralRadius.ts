/**
 * The spectral radius ρ(A) = max |λ| of a real n×n row-major matrix, for the initial scaling of Wrec (SPEC §1) and
 * ModProp's stability check ρ(Φ) < 1 (SPEC §4).
 *
 * Up to EXACT_MAX_SIZE a dense eigenvalue decomposition, as always: every network and result made so far has
 * n ≤ 200, and Wrec is scaled by 1/ρ before float32 rounding, so any other algorithm would change the last bits of
 * their parameters. Above it the dense solver is O(n³) with a large constant (25 s at n = 1000 on the main thread),
 * so ρ comes from a thick-restarted Arnoldi iteration: a Krylov basis of KRYLOV_SIZE vectors, the eigenvalues of the
 * small projected matrix (Ritz values), and a restart that keeps the span of the KEEP largest Ritz vectors (real and
 * imaginary parts, so complex pairs stay together) until the dominant Ritz value's residual is below TOLERANCE · ρ
 * (FLOAT32_TOLERANCE · ρ for a matrix stored as float32, whose entries carry relative errors of 6e-8 anyway).
 * Random-bulk matrices (Wrec) have their dominant eigenvalue among many of nearly the same modulus; a restart from
 * the dominant Ritz vector alone lost it at n = 4096 (it converged to an eigenvalue 6e-4 below ρ) and needed 3× the
 * matrix–vector products. The O(n²·m) part of each cycle runs natively when the addon loads (lib/krylov.ts), with
 * the same bits as the TypeScript loop; `spectralRadiusAsync` runs the cycles off the JS thread. The dense
 * decompositions (the whole matrix up to EXACT_MAX_SIZE, the projected one above) are ml-matrix's, run natively by an
 * operation-for-operation port when the addon loads (lib/krylov.ts `eigenDecomposition`): the same bits, and
 * Network.create at N = 120 in 26 ms instead of 270 ms on a first call.
 */
import { eigenDecomposition, krylovCycle, krylovCycleAsync, krylovRestart } from './krylov';
import { fail } from './validate';
import { largeFloat32Array } from './largeArrays';

export const EXACT_MAX_SIZE = 200;
const KRYLOV_SIZE = 60;
const KEEP = 30;
// Wrec at n = 4096 needs 16; a matrix still unresolved after this many is one whose radius is ill-conditioned.
const MAX_RESTARTS = 100;
const TOLERANCE = 1e-10;
// ρ of a float32 matrix (Wrec) is needed to float32 precision only: a residual of 1e-7·ρ left the radius within 2e-8 of
// the 1e-10 one on five N = 4096 Wrec draws, with 31 % fewer products (scratch/radCount2.ts, session 10).
const FLOAT32_TOLERANCE = 1e-7;

/** Largest eigenvalue modulus of an n×n row-major matrix (real or complex eigenvalues). */
export function spectralRadius(m: ArrayLike<number>, n: number): number {
  const p = prepare(m, n, false);
  return typeof p === 'number' ? p : arnoldiRadiusSync(p.a, n, TOLERANCE) * p.scale;
}

/** The Arnoldi iteration with its cycles on this thread (native when the addon loads). */
function arnoldiRadiusSync(a: Float64Array | Float32Array, n: number, tolerance: number): number {
  const run = arnoldiRadius(n, tolerance);
  for (let step = run.next(); ; ) {
    if (step.done) return step.value;
    const { m: size, from, basis, h, breakdown } = step.value;
    step = run.next(krylovCycle(a, n, size, from, basis, h, breakdown));
  }
}

/**
 * The spectral radius of the float32 rounding of m, for scaling a matrix that is stored as float32 (Wrec, lib/init.ts):
 * up to EXACT_MAX_SIZE exactly `spectralRadius` (the dense decomposition of m itself, so every existing network keeps
 * its bits); above it the Arnoldi iteration with the matrix read as float32, half the memory traffic of the
 * bandwidth-bound products, to FLOAT32_TOLERANCE. ρ(float32(m)) differs from ρ(m) by about the float32 rounding that
 * storing the scaled matrix adds anyway (~1e-7 relative). Matrices outside float32's range take the float64 path.
 * `scratch`, if given, receives the float32 copy above EXACT_MAX_SIZE (and is left alone up to it).
 */
export function float32Radius(m: ArrayLike<number>, n: number, scratch?: Float32Array): number {
  if (n <= EXACT_MAX_SIZE) return spectralRadius(m, n);
  // `scratch` (n² entries) receives the float32 copy, so a caller that needs an n×n Float32Array anyway allocates one:
  // fresh memory is slow to touch on some virtual machines (0.4 s for 134 MB on the bench's).
  const a = scratch && scratch.length === n * n ? scratch : largeFloat32Array(n * n);
  let largest = 0;
  for (let k = 0; k < n * n; k++) {
    a[k] = m[k];
    largest = Math.max(largest, Math.abs(m[k]));
  }
  return largest <= 1e30 && largest >= 1e-30 ? arnoldiRadiusSync(a, n, FLOAT32_TOLERANCE) : spectralRadius(m, n);
}

/**
 * `float32Radius` of a matrix that is float32 already (n > EXACT_MAX_SIZE), with `largest` = max |a[k]| known
 * (lib/network.ts finds it in its last pass over Wrec).
 */
export function float32RadiusOfCopy(a: Float32Array, n: number, largest: number): number {
  if (n <= EXACT_MAX_SIZE) return spectralRadius(a, n);
  return largest <= 1e30 && largest >= 1e-30 ? arnoldiRadiusSync(a, n, FLOAT32_TOLERANCE) : spectralRadius(a, n);
}

/**
 * `spectralRadius` with the Arnoldi cycles (n > EXACT_MAX_SIZE) on a libuv worker thread when the addon loads, so
 * the event loop keeps turning between and during them; the same result bit for bit. The matrix is copied first.
 */
export async function spectralRadiusAsync(m: ArrayLike<number>, n: number): Promise<number> {
  const p = prepare(m, n, true);
  if (typeof p === 'number') return p;
  const run = arnoldiRadius(n, TOLERANCE);
  for (let step = run.next(); ; ) {
    if (step.done) return step.value * p.scale;
    const { m: size, from, basis, h, breakdown } = step.value;
    step = run.next(await krylovCycleAsync(p.a, n, size, from, basis, h, breakdown));
  }
}

/** The radius itself when it needs no iteration, else the matrix (scaled, float64) for the Arnoldi iteration. */
function prepare(m: ArrayLike<number>, n: number, copy: boolean): number | { a: Float64Array; scale: number } {
  if (n === 1) return Math.abs(m[0]);
  // ρ(sM) = s·ρ(M): extreme matrices are solved scaled to max|m| = 1, because the solvers' squares overflow and the
  // dense one then loops forever on Inf. Ordinary ones are left alone so every existing result keeps its bits.
  let largest = 0;
  for (let k = 0; k < n * n; k++) largest = Math.max(largest, Math.abs(m[k]));
  if (!Number.isFinite(largest)) return Infinity;
  if (largest === 0) return 0;
  const scale = largest > 1e100 || largest < 1e-100 ? largest : 1;
  const a = scale === 1 ? m : Float64Array.from({ length: n * n }, (_, k) => m[k] / scale);
  if (n <= EXACT_MAX_SIZE) return denseRadius(a, n) * scale;
  return { a: a instanceof Float64Array && !(copy && a === m) ? a : Float64Array.from(a), scale };
}

function denseRadius(m: ArrayLike<number>, n: number): number {
  // eigenDecomposition leaves its input alone, so a Float64Array needs no copy.
  const { re, im } = eigenDecomposition(m instanceof Float64Array ? m : Float64Array.from(m), n);
  let rho = 0;
  for (let i = 0; i < re.length; i++) rho = Math.max(rho, Math.hypot(re[i], im[i]));
  return rho;
}

/** One request of the Arnoldi driver: extend the relation from `from`, answer with the basis size. */
interface CycleRequest {
  m: number;
  from: number;
  basis: Float64Array;
  h: Float64Array;
  breakdown: number;
}

/**
 * The thick-restarted Arnoldi iteration as a generator of cycles, so the synchronous and the asynchronous radius
 * share it: each yield asks for one `krylovCycle` (lib/krylov.ts, native or TypeScript, the same bits).
 */
function* arnoldiRadius(n: number, tolerance: number): Generator<CycleRequest, number, number> {
  const m = Math.min(n - 1, KRYLOV_SIZE);
  const basis = new Float64Array((m + 1) * n);
  let h: Float64Array = new Float64Array((m + 1) * m);
  // A fixed, non-special start vector: the result must not depend on anything random.
  let norm0 = 0;
  for (let i = 0; i < n; i++) norm0 += (basis[i] = 1 + ((i * 7919) % 101) / 101) ** 2;
  for (let i = 0; i < n; i++) basis[i] /= Math.sqrt(norm0);
  let from = 0;
  let rho = 0;
  for (let restart = 0; restart < MAX_RESTARTS; restart++) {
    // An invariant subspace (β ≤ breakdown) ends the cycle early: its Ritz values are exact.
    const size: number = yield { m, from, basis, h, breakdown: 1e-14 * Math.max(1, rho) };
    const projected = new Float64Array(size * size);
    for (let i = 0; i < size; i++) projected.set(h.subarray(i * m, i * m + size), i * size);
    const { re, im, vectors } = eigenDecomposition(projected, size);
    // Ritz values by modulus, largest first; a complex pair is one entry (its first column: real part, then imaginary).
    const order: number[] = [];
    for (let i = 0; i < size; i++) if (!(im[i] !== 0 && i > 0 && im[i - 1] === -im[i] && re[i - 1] === re[i])) order.push(i);
    order.sort((x, y) => Math.hypot(re[y], im[y]) - Math.hypot(re[x], im[x]) || x - y);
    const best = order[0];
    rho = Math.hypot(re[best], im[best]);
    if (size < m) return rho;
    const columns = (i: number): number[] => (im[i] !== 0 ? [i, i + 1] : [i]);
    let residual = 0;
    let ynorm = 0;
    for (const col of columns(best)) {
      residual += vectors[(size - 1) * size + col] ** 2;
      for (let i = 0; i < size; i++) ynorm += vectors[i * size + col] ** 2;
    }
    const beta = h[m * m + m - 1];
    if (beta * Math.sqrt(residual / ynorm) <= tolerance * rho) return rho;
    // Thick restart: keep the span of the KEEP largest Ritz vectors (real and imaginary parts), orthonormalised (Q),
    // so the neighbours of the dominant eigenvalue are not lost: A·V·Q = V·Q·(QᵀHQ) + β·v_{m+1}·(e_mᵀQ).
    const q = keptRitzBasis(vectors, order, columns, m);
    const k = q.length / m;
    krylovRestart(basis, q, n, m, k);
    h = restartedProjection(h, q, m, beta);
    from = k;
  }
  // Never a silent unconverged number: a highly non-normal matrix (a large Jordan block, a shift) has eigenvalues
  // that move by ε^(1/n) under rounding errors ε, so no iteration can resolve its radius.
  return fail(`a matrix whose dominant eigenvalue the Arnoldi iteration resolves within ${MAX_RESTARTS} restarts ` +
    '(a highly non-normal matrix, e.g. a large Jordan block, has no well-conditioned spectral radius)', 'matrix',
    `a ${n}×${n} matrix whose dominant Ritz value (modulus ${rho}) did not converge`, true);
}

// The restart's loops live in plain functions: V8 does not optimise a loop inside a generator while it runs (no
// on-stack replacement there), which made the restart 20× slower than the same loop here (0.2 s per call at n = 1024).

/**
 * The KEEP largest Ritz vectors (by `order`; real and imaginary parts), orthonormalised twice: the columns of Q, as
 * k×m rows (row c the coefficients of kept vector c, the layout `krylovRestart` takes).
 */
function keptRitzBasis(vectors: Float64Array, order: number[], columns: (i: number) => number[], m: number): Float64Array {
  const q: Float64Array[] = [];
  for (const i of order) {
    for (const col of columns(i)) {
      const y = Float64Array.from({ length: m }, (_, r) => vectors[r * m + col]);
      for (let pass = 0; pass < 2; pass++) {
        for (const u of q) {
          let c = 0;
          for (let r = 0; r < m; r++) c += u[r] * y[r];
          for (let r = 0; r < m; r++) y[r] -= c * u[r];
        }
      }
      let norm = 0;
      for (let r = 0; r < m; r++) norm += y[r] * y[r];
      norm = Math.sqrt(norm);
      if (norm > 1e-8) q.push(y.map((v) => v / norm));
    }
    if (q.length >= KEEP) break;
  }
  const flat = new Float64Array(q.length * m);
  q.forEach((column, c) => flat.set(column, c * m));
  return flat;
}

/** The projected matrix after the restart: QᵀHQ in the first k columns, β·(e_mᵀQ) in row k. */
function restartedProjection(h: Float64Array, q: Float64Array, m: number, beta: number): Float64Array {
  const k = q.length / m;
  const next = new Float64Array((m + 1) * m);
  for (let c = 0; c < k; c++) {
    const hq = new Float64Array(m);
    for (let r = 0; r < m; r++) {
      let sum = 0;
      for (let t = 0; t < m; t++) sum += h[r * m + t] * q[c * m + t];
      hq[r] = sum;
    }
    for (let r = 0; r < k; r++) {
      let sum = 0;
      for (let t = 0; t < m; t++) sum += q[r * m + t] * hq[t];
      next[r * m + c] = sum;
    }
    next[k * m + c] = beta * q[c * m + m - 1];
  }
  return next;
}
