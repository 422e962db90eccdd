// See spectral_radius.h. Nothing here may use FMA or reassociate: krylovCycle must give the bits of the TypeScript
// loop it mirrors (the build has -ffp-contract=off and no -ffast-math).
#include "spectral_radius.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>


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

// out = A·x, each row as lib/krylov.ts `matvec` sums it: four partial sums over k ≡ 0..3 (mod 4), the tail into the
// first, then s0 + s1 + (s2 + s3). Rows are independent, so the split over threads changes no bit. The four partial
// sums of a row are the four lanes of one vector (GCC vector extensions: lane-wise IEEE operations, no FMA, so the
// same bits as the scalar loop), and eight rows run together: one row alone is bound by the add latency of its single
// accumulator chain (about one element per cycle, 3 ms per product at n = 4096), eight rows give eight independent
// chains. Compiled twice: for the generic target and with AVX2 (one 256-bit register per row, 4 floats widened per
// instruction).
// The helpers are always inlined, so the ABI of passing a 256-bit vector by value (GCC's -Wpsabi note) never applies.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double Lanes __attribute__((vector_size(32)));

__attribute__((always_inline)) inline Lanes load4(const double* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Written entry by entry: GCC 12 turns this into one vcvtps2pd from memory in the AVX2 clone, whereas converting a
// loaded 4-float vector (__builtin_convertvector) gave two 2-float conversions and an insert, which made the float32
// product compute-bound at 1.8 ms for n = 4096 (the same exact widening either way).
__attribute__((always_inline)) inline Lanes load4(const float* p) {
  return Lanes{double(p[0]), double(p[1]), double(p[2]), double(p[3])};
}

template <typename T>
__attribute__((always_inline)) inline double finishRow(Lanes acc, const T* row, const double* x, std::ptrdiff_t n4,
                                                      std::ptrdiff_t n) {
  double s0 = acc[0];
  for (std::ptrdiff_t k = n4; k < n; k++) s0 += double(row[k]) * x[k];
  return s0 + acc[1] + (acc[2] + acc[3]);
}

template <typename T>
__attribute__((always_inline)) inline void matvecBody(const T* a, std::ptrdiff_t n, const double* x, double* out,
                                                      std::ptrdiff_t begin, std::ptrdiff_t end) {
  const std::ptrdiff_t n4 = n - n % 4;
  std::ptrdiff_t i = begin;
  // Eight rows at a time: eight independent accumulator chains and eight streams from memory in flight (four gave
  // 1.59 ms per product at n = 4096, float32, eight 1.42: 60 products timed, alternating builds, session 11).
  for (; i + 8 <= end; i += 8) {
    const T* r0 = a + i * n;
    Lanes c[8];
    for (int r = 0; r < 8; r++) c[r] = Lanes{0, 0, 0, 0};
    for (std::ptrdiff_t k = 0; k < n4; k += 4) {
      const Lanes xv = load4(x + k);
      for (int r = 0; r < 8; r++) c[r] += load4(r0 + r * n + k) * xv;
    }
    for (int r = 0; r < 8; r++) out[i + r] = finishRow(c[r], r0 + r * n, x, n4, n);
  }
  for (; i < end; i++) {
    const T* row = a + i * n;
    Lanes c = {0, 0, 0, 0};
    for (std::ptrdiff_t k = 0; k < n4; k += 4) c += load4(row + k) * load4(x + k);
    out[i] = finishRow(c, row, x, n4, n);
  }
}

// One entry per matrix type, cloned for AVX2 by GCC (an ifunc picks the clone at load, like the online ModProp
// filter's target_clones); both clones give the same bits.
__attribute__((target_clones("avx2", "default"))) void matvecRows(const double* a, std::ptrdiff_t n, const double* x,
                                                                  double* out, std::ptrdiff_t begin, std::ptrdiff_t end) {
  matvecBody(a, n, x, out, begin, end);
}

__attribute__((target_clones("avx2", "default"))) void matvecRows(const float* a, std::ptrdiff_t n, const double* x,
                                                                  double* out, std::ptrdiff_t begin, std::ptrdiff_t end) {
  matvecBody(a, n, x, out, begin, end);
}

double dot(const double* a, const double* b, std::ptrdiff_t n) {
  double s = 0;
  for (std::ptrdiff_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

template <typename T>
int cycle(const T* a, int n, int m, int from, double* basis, double* h, double breakdown, ThreadPool& pool) {
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

}  // namespace

int krylovCycle(const double* a, int n, int m, int from, double* basis, double* h, double breakdown, ThreadPool& pool) {
  return cycle(a, n, m, from, basis, h, breakdown, pool);
}

int krylovCycle(const float* a, int n, int m, int from, double* basis, double* h, double breakdown, ThreadPool& pool) {
  return cycle(a, n, m, from, basis, h, breakdown, pool);
}

void krylovRestart(double* basis, const double* q, int n, int m, int k) {
  const std::ptrdiff_t len = n;
  std::vector<double> kept(static_cast<std::size_t>(k) * len, 0.0);
  for (int c = 0; c < k; c++) {
    double* out = kept.data() + c * len;
    for (int r = 0; r < m; r++) {
      const double coef = q[c * m + r];
      const double* v = basis + r * len;
      for (std::ptrdiff_t i = 0; i < len; i++) out[i] += coef * v[i];
    }
  }
  std::copy(basis + m * len, basis + (m + 1) * len, basis + k * len);
  std::copy(kept.begin(), kept.end(), basis);
}

}  // namespace modprop
