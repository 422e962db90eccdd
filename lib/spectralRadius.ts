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
  const rho = n <= EXACT_MAX_SIZE ? denseRadius(a, n) : arnoldiRadius(a, n);
  return rho * scale;
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

// Four partial sums: the loop is bound by the dependency on one accumulator otherwise.
function matvec(a: Float64Array, n: number, x: Float64Array, out: Float64Array): void {
  const n4 = n - (n % 4);
  for (let i = 0; i < n; i++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const row = i * n;
    let k = 0;
    for (; k < n4; k += 4) {
      s0 += a[row + k] * x[k];
      s1 += a[row + k + 1] * x[k + 1];
      s2 += a[row + k + 2] * x[k + 2];
      s3 += a[row + k + 3] * x[k + 3];
    }
    for (; k < n; k++) s0 += a[row + k] * x[k];
    out[i] = s0 + s1 + (s2 + s3);
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function arnoldiRadius(matrix: ArrayLike<number>, n: number): number {
  const a = matrix instanceof Float64Array ? matrix : Float64Array.from(matrix);
  const m = Math.min(n - 1, KRYLOV_SIZE);
  const basis = Array.from({ length: m + 1 }, () => new Float64Array(n));
  // A fixed, non-special start vector: the result must not depend on anything random.
  let start = Float64Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 101) / 101);
  let rho = 0;
  for (let restart = 0; restart < MAX_RESTARTS; restart++) {
    const norm0 = Math.sqrt(dot(start, start));
    if (!(norm0 > 0)) return 0;
    for (let i = 0; i < n; i++) basis[0][i] = start[i] / norm0;
    const h = Matrix.zeros(m + 1, m);
    let size = m;
    for (let j = 0; j < m; j++) {
      const w = basis[j + 1];
      matvec(a, n, basis[j], w);
      // Gram–Schmidt twice: once is not enough to keep the basis orthogonal in floating point.
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i <= j; i++) {
          const c = dot(w, basis[i]);
          h.set(i, j, h.get(i, j) + c);
          const v = basis[i];
          for (let k = 0; k < n; k++) w[k] -= c * v[k];
        }
      }
      const beta = Math.sqrt(dot(w, w));
      h.set(j + 1, j, beta);
      if (beta <= 1e-14 * Math.max(1, rho)) { size = j + 1; break; } // an invariant subspace: its Ritz values are exact
      for (let k = 0; k < n; k++) w[k] /= beta;
    }
    const eig = new EigenvalueDecomposition(h.subMatrix(0, size - 1, 0, size - 1), { assumeSymmetric: false });
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
    residual = (size < m ? 0 : h.get(m, m - 1)) * Math.sqrt(residual / ynorm);
    if (residual <= TOLERANCE * rho || size < m) return rho;
    start = new Float64Array(n);
    for (const col of pair) {
      for (let i = 0; i < size; i++) {
        const c = vectors.get(i, col);
        const v = basis[i];
        for (let k = 0; k < n; k++) start[k] += c * v[k];
      }
    }
  }
  return rho;
}
