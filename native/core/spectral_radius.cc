// See spectral_radius.h. Nothing here may use FMA or reassociate: krylovCycle must give the bits of the TypeScript
// loop it mirrors (the build has -ffp-contract=off and no -ffast-math).
#include "spectral_radius.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace modprop {

// Closed forms for C ≤ 2 (the common cases); otherwise Gelfand's formula ρ = lim ‖Φ^(2^k)‖^(1/2^k) by repeated,
// normalised squaring, which converges for any matrix and is exact to ~1e-12 after 50 squarings at these sizes.
double spectralRadius(const std::vector<double>& m, int n) {
  if (n == 1) return std::fabs(m[0]);
  if (n == 2) {
    const double half = 0.5 * (m[0] + m[3]), det = m[0] * m[3] - m[1] * m[2];
    const double disc = half * half - det;
    if (disc < 0) return std::sqrt(det);
    const double root = std::sqrt(disc);
    return std::max(std::fabs(half + root), std::fabs(half - root));
  }
  std::vector<double> a = m, b(m.size());
  double logScale = 0;
  constexpr int kSquarings = 50;
  for (int s = 0; s < kSquarings; s++) {
    // i-k-j order: the inner loop runs along rows of both matrices (the k-innermost order strided through a by n,
    // which made C = 800 cell types take minutes).
    std::fill(b.begin(), b.end(), 0.0);
    for (int i = 0; i < n; i++)
      for (int k = 0; k < n; k++) {
        const double aik = a[std::size_t(i) * n + k];
        const double* row = &a[std::size_t(k) * n];
        double* out = &b[std::size_t(i) * n];
        for (int j = 0; j < n; j++) out[j] += aik * row[j];
      }
    double norm = 0;
    for (double v : b) norm += v * v;
    norm = std::sqrt(norm);
    if (norm == 0) return 0;
    for (std::size_t k = 0; k < b.size(); k++) a[k] = b[k] / norm;
    logScale = 2 * logScale + std::log(norm);
  }
  return std::exp(std::ldexp(logScale, -kSquarings));
}

namespace {

// Rows per pool task: enough to amortise the task hand-off, few enough that both threads get work at n = 201.
constexpr int kRowsPerTask = 64;

// out = A·x, each row as lib/spectralRadius.ts `matvec` sums it: four partial sums over k ≡ 0..3 (mod 4), the tail
// into the first, then s0 + s1 + (s2 + s3). Rows are independent, so the split over threads changes no bit.
void matvecRows(const double* a, std::ptrdiff_t n, const double* x, double* out, std::ptrdiff_t begin,
                std::ptrdiff_t end) {
  const std::ptrdiff_t n4 = n - n % 4;
  for (std::ptrdiff_t i = begin; i < end; i++) {
    const double* row = a + i * n;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    std::ptrdiff_t k = 0;
    for (; k < n4; k += 4) {
      s0 += row[k] * x[k];
      s1 += row[k + 1] * x[k + 1];
      s2 += row[k + 2] * x[k + 2];
      s3 += row[k + 3] * x[k + 3];
    }
    for (; k < n; k++) s0 += row[k] * x[k];
    out[i] = s0 + s1 + (s2 + s3);
  }
}

double dot(const double* a, const double* b, std::ptrdiff_t n) {
  double s = 0;
  for (std::ptrdiff_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

}  // namespace

int krylovCycle(const double* a, int n, int m, int from, double* basis, double* h, double breakdown, ThreadPool& pool) {
  const std::ptrdiff_t len = n;
  const int tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  for (int j = from; j < m; j++) {
    double* w = basis + (j + 1) * len;
    const double* x = basis + j * len;
    pool.parallelFor(tasks, [&](int t) {
      const std::ptrdiff_t begin = std::ptrdiff_t(t) * kRowsPerTask;
      matvecRows(a, len, x, w, begin, std::min<std::ptrdiff_t>(len, begin + kRowsPerTask));
    });
    // Gram–Schmidt twice: once is not enough to keep the basis orthogonal in floating point.
    for (int pass = 0; pass < 2; pass++) {
      for (int i = 0; i <= j; i++) {
        const double* v = basis + i * len;
        const double c = dot(w, v, len);
        h[i * m + j] += c;
        for (std::ptrdiff_t k = 0; k < len; k++) w[k] -= c * v[k];
      }
    }
    const double beta = std::sqrt(dot(w, w, len));
    h[(j + 1) * m + j] = beta;
    if (beta <= breakdown) return j + 1;
    for (std::ptrdiff_t k = 0; k < len; k++) w[k] /= beta;
  }
  return m;
}

}  // namespace modprop
