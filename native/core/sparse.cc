// sparse.h: the recurrent products over the connectivity mask, as gathers over transposed tiles of batch rows.
// Plain loops with fixed trip counts (kTileRows, kBlockRows), which GCC vectorises across the rows without
// reassociation (each lane is its own row), so the result of a row does not depend on the rows next to it.
#include "sparse.h"

#include <algorithm>
#include <string>
#include <type_traits>

#include "kernels.h"
#include "modprop.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(MODPROP_DISABLE_SIMD)
#include <immintrin.h>
#endif

namespace modprop {

namespace {

constexpr int kTileRows = 8;     // batch rows per tile of the forward and reverse products (one AVX2 vector)
constexpr int kBlockRows = 64;   // history rows per block of the weight-gradient sums

// Rows r0..r0+count-1 of a (row stride lda, n columns) as t[i][l] = a[r0+l][i], padded with zeros to `width` rows.
template <typename Real>
void transposeRows(const Real* a, std::ptrdiff_t lda, std::ptrdiff_t r0, int count, int n, int width, Real* t) {
  for (int l = 0; l < count; l++) {
    const Real* ar = a + (r0 + l) * lda;
    for (int i = 0; i < n; i++) t[std::ptrdiff_t(i) * width + l] = ar[i];
  }
  for (int l = count; l < width; l++)
    for (int i = 0; i < n; i++) t[std::ptrdiff_t(i) * width + l] = Real(0);
}

// The order of every sum below, on every path (so the AVX2 path and the plain loops give the same bits; products and
// sums stay separate, no FMA): an output's entries k0..k1-1 go to four partial sums by k − k0 mod 4, combined as
// (s0 + s1) + (s2 + s3); a block dot product goes to eight partial sums by index mod 8, combined pairwise.
template <typename Real>
void tileSum(int32_t k0, int32_t k1, const int32_t* index, const Real* weight, const Real* t, Real* s) {
  Real part[4][kTileRows] = {};
  for (int32_t k = k0; k < k1; k++) {
    Real* q = part[(k - k0) & 3];
    const Real w = weight[k];
    const Real* x = t + std::ptrdiff_t(index[k]) * kTileRows;
    for (int l = 0; l < kTileRows; l++) q[l] += w * x[l];
  }
  for (int l = 0; l < kTileRows; l++) s[l] = (part[0][l] + part[1][l]) + (part[2][l] + part[3][l]);
}

template <typename Real>
Real blockDot(const Real* a, const Real* b) {
  Real part[8] = {};
  for (int j = 0; j < kBlockRows; j += 8)
    for (int l = 0; l < 8; l++) part[l] += a[j + l] * b[j + l];
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(MODPROP_DISABLE_SIMD)
#define MODPROP_SPARSE_AVX2 1

}  // namespace

// Run-time dispatched like the dense kernels (taken only where simdLevel() found AVX2), so in their namespace.
namespace kernels {
namespace isa {

__attribute__((target("avx2"))) void tileSumAvx2(int32_t k0, int32_t k1, const int32_t* index, const float* weight,
                                                 const float* t, float* s) {
  __m256 p0 = _mm256_setzero_ps(), p1 = p0, p2 = p0, p3 = p0;
#define MODPROP_TERM(k) _mm256_mul_ps(_mm256_set1_ps(weight[k]), _mm256_loadu_ps(t + std::ptrdiff_t(index[k]) * kTileRows))
  int32_t k = k0;
  for (; k + 4 <= k1; k += 4) {
    p0 = _mm256_add_ps(p0, MODPROP_TERM(k));
    p1 = _mm256_add_ps(p1, MODPROP_TERM(k + 1));
    p2 = _mm256_add_ps(p2, MODPROP_TERM(k + 2));
    p3 = _mm256_add_ps(p3, MODPROP_TERM(k + 3));
  }
  if (k < k1) p0 = _mm256_add_ps(p0, MODPROP_TERM(k));
  if (k + 1 < k1) p1 = _mm256_add_ps(p1, MODPROP_TERM(k + 1));
  if (k + 2 < k1) p2 = _mm256_add_ps(p2, MODPROP_TERM(k + 2));
  _mm256_storeu_ps(s, _mm256_add_ps(_mm256_add_ps(p0, p1), _mm256_add_ps(p2, p3)));
#undef MODPROP_TERM
}

// cp[post[k]] += blockDot(ap, gT[post[k]]) for k in k0..k1-1, with ap held in registers across the entries.
__attribute__((target("avx2"))) void rowDotsAvx2(const float* ap, const float* gT, const int32_t* post, int32_t k0,
                                                 int32_t k1, float* cp) {
  __m256 a[kBlockRows / 8];
  for (int j = 0; j < kBlockRows / 8; j++) a[j] = _mm256_loadu_ps(ap + 8 * j);
  for (int32_t k = k0; k < k1; k++) {
    const float* b = gT + std::ptrdiff_t(post[k]) * kBlockRows;
    __m256 part = _mm256_setzero_ps();
    for (int j = 0; j < kBlockRows / 8; j++) part = _mm256_add_ps(part, _mm256_mul_ps(a[j], _mm256_loadu_ps(b + 8 * j)));
    float p[8];
    _mm256_storeu_ps(p, part);
    cp[post[k]] += ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  }
}
}  // namespace isa
}  // namespace kernels

namespace {
#endif

// Whether the float sums take the AVX2 path: whenever the dense kernels use SIMD (MODPROP_SIMD=scalar turns both off).
template <typename Real>
bool avx2() {
#ifdef MODPROP_SPARSE_AVX2
  return std::is_same<Real, float>::value && kernels::simdLevel() != kernels::Simd::Scalar;
#else
  return false;
#endif
}

template <typename Real>
void tileSumOf(bool simd, int32_t k0, int32_t k1, const int32_t* index, const Real* weight, const Real* t, Real* s) {
#ifdef MODPROP_SPARSE_AVX2
  if constexpr (std::is_same<Real, float>::value)
    if (simd) return kernels::isa::tileSumAvx2(k0, k1, index, weight, t, s);
#endif
  (void)simd;
  tileSum(k0, k1, index, weight, t, s);
}

template <typename Real>
void rowDots(bool simd, const Real* ap, const Real* gT, const int32_t* post, int32_t k0, int32_t k1, Real* cp) {
#ifdef MODPROP_SPARSE_AVX2
  if constexpr (std::is_same<Real, float>::value)
    if (simd) return kernels::isa::rowDotsAvx2(ap, gT, post, k0, k1, cp);
#endif
  (void)simd;
  for (int32_t k = k0; k < k1; k++) cp[post[k]] += blockDot(ap, gT + std::ptrdiff_t(post[k]) * kBlockRows);
}

// out[r][o] = Σ_{k in start[o]..start[o+1]} weight[k] · a[r][index[k]] for o < n: the product with a compressed
// matrix whose entries are listed by output.
template <typename Real>
void gather(int n, const int32_t* start, const int32_t* index, const Real* weight, std::ptrdiff_t rows, const Real* a,
            std::ptrdiff_t lda, Real* out, std::ptrdiff_t ldc) {
  static thread_local std::vector<Real> tile;
  tile.resize(std::size_t(n) * kTileRows);
  Real* t = tile.data();
  const bool simd = avx2<Real>();
  for (std::ptrdiff_t r0 = 0; r0 < rows; r0 += kTileRows) {
    const int count = int(std::min<std::ptrdiff_t>(kTileRows, rows - r0));
    transposeRows(a, lda, r0, count, n, kTileRows, t);
    for (int o = 0; o < n; o++) {
      Real s[kTileRows];
      tileSumOf(simd, start[o], start[o + 1], index, weight, t, s);
      for (int l = 0; l < count; l++) out[(r0 + l) * ldc + o] = s[l];
    }
  }
}

}  // namespace

template <typename Real>
SparseWrec<Real> sparseWrec(const uint8_t* mask, const Real* wrec, int n) {
  SparseWrec<Real> s;
  s.n = n;
  s.rowStart.assign(std::size_t(n) + 1, 0);
  s.colStart.assign(std::size_t(n) + 1, 0);
  for (int p = 0; p < n; p++) {
    for (int j = 0; j < n; j++) {
      if (p == j) continue;
      if (mask[std::ptrdiff_t(p) * n + j] == 0) {
        // The products skip these entries, so a weight there would be ignored, not used: refuse it.
        if (wrec[std::ptrdiff_t(p) * n + j] != Real(0))
          throw Error("Expected 0 outside the connectivity mask for wrec but received a weight at [" + std::to_string(p) +
                      "][" + std::to_string(j) + "]");
        continue;
      }
      s.rowPost.push_back(j);
      s.rowWeight.push_back(wrec[std::ptrdiff_t(p) * n + j]);
      s.colStart[std::size_t(j) + 1]++;
    }
    s.rowStart[std::size_t(p) + 1] = int32_t(s.rowPost.size());
  }
  for (int j = 0; j < n; j++) s.colStart[std::size_t(j) + 1] += s.colStart[j];
  s.colPre.resize(s.rowPost.size());
  s.colWeight.resize(s.rowPost.size());
  std::vector<int32_t> next(s.colStart.begin(), s.colStart.end() - 1);
  for (int p = 0; p < n; p++)  // ascending p, so each column lists its presynaptic units in order
    for (int32_t k = s.rowStart[p]; k < s.rowStart[p + 1]; k++) {
      const int32_t at = next[s.rowPost[k]]++;
      s.colPre[at] = p;
      s.colWeight[at] = s.rowWeight[k];
    }
  return s;
}

template <typename Real>
void sparseProduct(const SparseWrec<Real>& s, std::ptrdiff_t rows, const Real* a, std::ptrdiff_t lda, Real* out,
                   std::ptrdiff_t ldc) {
  gather(s.n, s.colStart.data(), s.colPre.data(), s.colWeight.data(), rows, a, lda, out, ldc);
}

template <typename Real>
void sparseTransposeProduct(const SparseWrec<Real>& s, std::ptrdiff_t rows, const Real* h, std::ptrdiff_t ldh, Real* out,
                            std::ptrdiff_t ldc) {
  gather(s.n, s.rowStart.data(), s.rowPost.data(), s.rowWeight.data(), rows, h, ldh, out, ldc);
}

template <typename Real>
void sparseTransA(const SparseWrec<Real>& s, std::ptrdiff_t rows, const Real* a, std::ptrdiff_t lda, const Real* g,
                  std::ptrdiff_t ldg, Real* c) {
  const int n = s.n;
  static thread_local std::vector<Real> buffer;
  buffer.resize(2 * std::size_t(n) * kBlockRows);
  Real* aT = buffer.data();
  Real* gT = aT + std::ptrdiff_t(n) * kBlockRows;
  const bool simd = avx2<Real>();
  for (std::ptrdiff_t r0 = 0; r0 < rows; r0 += kBlockRows) {
    const int count = int(std::min<std::ptrdiff_t>(kBlockRows, rows - r0));
    transposeRows(a, lda, r0, count, n, kBlockRows, aT);
    transposeRows(g, ldg, r0, count, n, kBlockRows, gT);
    for (int p = 0; p < n; p++) {
      const Real* ap = aT + std::ptrdiff_t(p) * kBlockRows;
      bool silent = true;  // a unit silent over the whole block (ReLU zeros) adds nothing to its row
      for (int l = 0; l < count; l++) silent = silent && ap[l] == Real(0);
      if (silent) continue;
      rowDots(simd, ap, gT, s.rowPost.data(), s.rowStart[p], s.rowStart[p + 1], c + std::ptrdiff_t(p) * n);
    }
  }
}

#define MODPROP_INSTANTIATE(Real)                                                                                    \
  template SparseWrec<Real> sparseWrec<Real>(const uint8_t*, const Real*, int);                                      \
  template void sparseProduct<Real>(const SparseWrec<Real>&, std::ptrdiff_t, const Real*, std::ptrdiff_t, Real*,     \
                                    std::ptrdiff_t);                                                                 \
  template void sparseTransposeProduct<Real>(const SparseWrec<Real>&, std::ptrdiff_t, const Real*, std::ptrdiff_t,   \
                                             Real*, std::ptrdiff_t);                                                 \
  template void sparseTransA<Real>(const SparseWrec<Real>&, std::ptrdiff_t, const Real*, std::ptrdiff_t, const Real*, \
                                   std::ptrdiff_t, Real*);
MODPROP_INSTANTIATE(float)
MODPROP_INSTANTIATE(double)
#undef MODPROP_INSTANTIATE

}  // namespace modprop
