/**
 * The spectral radius ρ(A) = max |λ| of a real n×n row-major matrix, for the initial scaling of Wrec (SPEC §1) and
 * ModProp's stability check ρ(Φ) < 1 (SPEC §4).
 *
 * Up to EXACT_MAX_SIZE a dense eigenvalue decomposition, as always: every network and result made so far has
 * n ≤ 200, and Wrec is scaled by 1/ρ before float32 rounding, so any other algorithm would change the last bits of
 * their parameters. Above it the dense solver is O(n³) with a large constant (25 s at n = 1000 on the main thread),
 * so ρ comes from a restarted Arnoldi iteration: a Krylov basis of KRYLOV_SIZE vectors, the eigenvalues of its small
 * Hessenberg matrix (Ritz values), and a restart from the span of the dominant Ritz vector (real and imaginary parts,
 * so a complex dominant pair is kept together) until the dominant Ritz value's residual is below TOLERANCE · ρ.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { krylovCycle } from './krylov';

export const EXACT_MAX_SIZE = 200;
const KRYLOV_SIZE = 40;
const MAX_RESTARTS = 200;
const TOLERANCE = 1e-10;

/** Largest eigenvalue modulus of an n×n row-major matrix (real or complex eigenvalues). */
export function spectralRadius(m: ArrayLike<number>, n: number): number {
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
  const af = a instanceof Float64Array ? a : Float64Array.from(a);
  const run = arnoldiRadius(n);
  for (let step = run.next(); ; ) {
    if (step.done) return step.value * scale;
    step = run.next(krylovCycle(af, n, step.value.basis.length / n - 1, step.value.basis, step.value.h, step.value.breakdown));
  }
}

function denseRadius(m: ArrayLike<number>, n: number): number {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from({ length: n }, (_, j) => m[i * n + j]));
  const eig = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: false });
  const re = eig.realEigenvalues;
  const im = eig.imaginaryEigenvalues;
  let rho = 0;
  for (let i = 0; i < re.length; i++) rho = Math.max(rho, Math.hypot(re[i], im[i]));
  return rho;
}

/** One request of the Arnoldi driver: run a cycle on these arrays, answer with the basis size. */
interface CycleRequest {
  basis: Float64Array;
  h: Float64Array;
  breakdown: number;
}

/**
 * The restarted Arnoldi iteration as a generator of cycles, so the synchronous and the asynchronous radius share it:
 * each yield asks for one `krylovCycle` (lib/krylov.ts, native or TypeScript, the same bits) on `basis` and `h`.
 */
function* arnoldiRadius(n: number): Generator<CycleRequest, number, number> {
  const m = Math.min(n - 1, KRYLOV_SIZE);
  const basis = new Float64Array((m + 1) * n);
  // A fixed, non-special start vector: the result must not depend on anything random.
  let start = Float64Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 101) / 101);
  let rho = 0;
  for (let restart = 0; restart < MAX_RESTARTS; restart++) {
    let norm0 = 0;
    for (let i = 0; i < n; i++) norm0 += start[i] * start[i];
    norm0 = Math.sqrt(norm0);
    if (!(norm0 > 0)) return 0;
    for (let i = 0; i < n; i++) basis[i] = start[i] / norm0;
    const hFlat = new Float64Array((m + 1) * m);
    // An invariant subspace (β ≤ breakdown) ends the cycle early: its Ritz values are exact.
    const size: number = yield { basis, h: hFlat, breakdown: 1e-14 * Math.max(1, rho) };
    const h = new Matrix(size, size);
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) h.set(i, j, hFlat[i * m + j]);
    const eig = new EigenvalueDecomposition(h, { assumeSymmetric: false });
    const re = eig.realEigenvalues;
    const im = eig.imaginaryEigenvalues;
    let best = 0;
    for (let i = 1; i < size; i++) if (Math.hypot(re[i], im[i]) > Math.hypot(re[best], im[best])) best = i;
    // With a complex pair, the eigenvector matrix holds its real and imaginary parts in two adjacent columns.
    if (im[best] !== 0 && best > 0 && im[best - 1] === -im[best] && re[best - 1] === re[best]) best -= 1;
    rho = Math.hypot(re[best], im[best]);
    const vectors = eig.eigenvectorMatrix;
    const pair = im[best] !== 0 ? [best, best + 1] : [best];
    let residual = 0;
    for (const col of pair) residual += vectors.get(size - 1, col) ** 2;
    let ynorm = 0;
    for (const col of pair) for (let i = 0; i < size; i++) ynorm += vectors.get(i, col) ** 2;
    residual = (size < m ? 0 : hFlat[m * m + m - 1]) * Math.sqrt(residual / ynorm);
    if (residual <= TOLERANCE * rho || size < m) return rho;
    start = new Float64Array(n);
    for (const col of pair) {
      for (let i = 0; i < size; i++) {
        const c = vectors.get(i, col);
        const v = basis.subarray(i * n, (i + 1) * n);
        for (let k = 0; k < n; k++) start[k] += c * v[k];
      }
    }
  }
  return rho;
}
