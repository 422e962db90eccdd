/**
 * spectralRadius: the dense eigenvalue decomposition up to EXACT_MAX_SIZE (unchanged, so existing networks keep
 * their bits), restarted Arnoldi above it. The Arnoldi radius is checked against the dense decomposition on
 * matrices just above the threshold whose dominant eigenvalue is real positive, real negative, a complex pair, or
 * the edge of a random bulk (the hard case: no gap), and against a matrix with a known spectrum.
 */
import assert from 'node:assert/strict';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { spectralRadius } from '../../lib/index';
import { EXACT_MAX_SIZE } from '../../lib/spectralRadius';
import { Random } from '../../lib/random';

function dense(a: Float64Array, n: number): number {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(a.subarray(i * n, i * n + n)));
  const e = new EigenvalueDecomposition(new Matrix(rows));
  let r = 0;
  e.realEigenvalues.forEach((x, i) => { r = Math.max(r, Math.hypot(x, e.imaginaryEigenvalues[i])); });
  return r;
}

const n = EXACT_MAX_SIZE + 21;

function gaussian(seed: number, scale = 1): Float64Array {
  const rng = new Random(seed, 5);
  return Float64Array.from({ length: n * n }, () => (rng.normal() * scale) / Math.sqrt(n));
}

describe('spectralRadius', () => {
  const cases: [string, () => Float64Array][] = [
    ['a random Gaussian bulk (dominant eigenvalues at the edge of a disk)', () => gaussian(1)],
    ['a dominant real positive eigenvalue (rank-one outlier 3·11ᵀ/n)', () => gaussian(2).map((v) => v + 3 / n)],
    ['a dominant real negative eigenvalue', () => gaussian(3).map((v) => v - 3 / n)],
    ['a dominant complex pair (a rotation block of modulus 2.5 added)', () => {
      const a = gaussian(4, 0.5);
      a[0 * n + 0] += 1.5; a[0 * n + 1] += -2; a[1 * n + 0] += 2; a[1 * n + 1] += 1.5;
      return a;
    }],
  ];
  for (const [what, make] of cases) {
    it(`above ${EXACT_MAX_SIZE}: equals the dense decomposition to 1e-9 for ${what}`, function () {
      this.timeout(120000);
      const a = make();
      const expected = dense(a, n);
      const got = spectralRadius(a, n);
      assert.ok(Math.abs(got - expected) <= 1e-9 * expected, `${got} vs ${expected}`);
    });
  }

  it('a triangular matrix with known eigenvalues (its diagonal; the largest modulus is -4.25)', () => {
    const a = new Float64Array(n * n);
    const rng = new Random(9, 5);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = i === 17 ? -4.25 : Math.sin(i) * 3;
      for (let j = i + 1; j < n; j++) a[i * n + j] = rng.normal() * 0.05;
    }
    assert.ok(Math.abs(spectralRadius(a, n) - 4.25) <= 1e-9 * 4.25, String(spectralRadius(a, n)));
  });

  it('the zero matrix has radius 0, and 1×1 is |a|', () => {
    assert.equal(spectralRadius(new Float64Array(n * n), n), 0);
    assert.equal(spectralRadius([-3], 1), 3);
  });
});
