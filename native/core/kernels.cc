#include "kernels.h"

#include <algorithm>
#include <cstring>

namespace modprop {
namespace kernels {

namespace {

template <typename Real>
void matmulPlain(std::ptrdiff_t m, int n, int k, const Real* a, std::ptrdiff_t lda, const Real* w, std::ptrdiff_t ldw,
                 Real* c, std::ptrdiff_t ldc, bool accumulate) {
  for (std::ptrdiff_t r = 0; r < m; r++) {
    Real* cr = c + r * ldc;
    if (!accumulate) std::fill(cr, cr + n, Real(0));
    const Real* ar = a + r * lda;
    for (int q = 0; q < k; q++) {
      const Real s = ar[q];
      if (s == Real(0)) continue;  // z is sparse (ReLU); adding exact zeros would not change the sum
      const Real* wq = w + q * ldw;
      for (int j = 0; j < n; j++) cr[j] += s * wq[j];
    }
  }
}

template <typename Real>
void matmulTransAPlain(std::ptrdiff_t rows, int n1, int n2, const Real* a, std::ptrdiff_t lda, const Real* g,
                       std::ptrdiff_t ldg, Real* c, std::ptrdiff_t ldc) {
  for (std::ptrdiff_t r = 0; r < rows; r++) {
    const Real* ar = a + r * lda;
    const Real* gr = g + r * ldg;
    for (int i = 0; i < n1; i++) {
      const Real s = ar[i];
      if (s == Real(0)) continue;
      Real* ci = c + i * ldc;
      for (int j = 0; j < n2; j++) ci[j] += s * gr[j];
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace modprop

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && !defined(MODPROP_DISABLE_SIMD)
#define MODPROP_X86_SIMD 1
// Only intrinsics are compiled for AVX2 here; every function below has internal linkage, so no AVX2 copy of a
// shared inline function can leak into code that runs on older CPUs.
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>

namespace modprop {
namespace kernels {
namespace {

constexpr int kRows = 6;  // 6 rows × 2 vectors = 12 accumulators + 2 loads + 1 broadcast ≤ 16 ymm registers

// C[MR][8·NV] = (acc ? C : 0) + A[MR][k] @ W[k][8·NV]
template <int MR, int NV>
__attribute__((target("avx2,fma"))) inline void matmulTile(int k, const float* a, std::ptrdiff_t lda,
                                                           const float* w, std::ptrdiff_t ldw, float* c,
                                                           std::ptrdiff_t ldc, bool accumulate) {
  if constexpr (MR == 6 && NV == 2) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (accumulate) {
      c00 = _mm256_loadu_ps(c + 0 * ldc); c01 = _mm256_loadu_ps(c + 0 * ldc + 8);
      c10 = _mm256_loadu_ps(c + 1 * ldc); c11 = _mm256_loadu_ps(c + 1 * ldc + 8);
      c20 = _mm256_loadu_ps(c + 2 * ldc); c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
      c30 = _mm256_loadu_ps(c + 3 * ldc); c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
      c40 = _mm256_loadu_ps(c + 4 * ldc); c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
      c50 = _mm256_loadu_ps(c + 5 * ldc); c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
    } else {
      c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    }
    for (int q = 0; q < k; q++) {
      const __m256 w0 = _mm256_loadu_ps(w + q * ldw), w1 = _mm256_loadu_ps(w + q * ldw + 8);
      __m256 s;
      s = _mm256_broadcast_ss(a + 0 * lda + q); c00 = _mm256_fmadd_ps(s, w0, c00); c01 = _mm256_fmadd_ps(s, w1, c01);
      s = _mm256_broadcast_ss(a + 1 * lda + q); c10 = _mm256_fmadd_ps(s, w0, c10); c11 = _mm256_fmadd_ps(s, w1, c11);
      s = _mm256_broadcast_ss(a + 2 * lda + q); c20 = _mm256_fmadd_ps(s, w0, c20); c21 = _mm256_fmadd_ps(s, w1, c21);
      s = _mm256_broadcast_ss(a + 3 * lda + q); c30 = _mm256_fmadd_ps(s, w0, c30); c31 = _mm256_fmadd_ps(s, w1, c31);
      s = _mm256_broadcast_ss(a + 4 * lda + q); c40 = _mm256_fmadd_ps(s, w0, c40); c41 = _mm256_fmadd_ps(s, w1, c41);
      s = _mm256_broadcast_ss(a + 5 * lda + q); c50 = _mm256_fmadd_ps(s, w0, c50); c51 = _mm256_fmadd_ps(s, w1, c51);
    }
    _mm256_storeu_ps(c + 0 * ldc, c00); _mm256_storeu_ps(c + 0 * ldc + 8, c01);
    _mm256_storeu_ps(c + 1 * ldc, c10); _mm256_storeu_ps(c + 1 * ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20); _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30); _mm256_storeu_ps(c + 3 * ldc + 8, c31);
    _mm256_storeu_ps(c + 4 * ldc, c40); _mm256_storeu_ps(c + 4 * ldc + 8, c41);
    _mm256_storeu_ps(c + 5 * ldc, c50); _mm256_storeu_ps(c + 5 * ldc + 8, c51);
    return;
  }
  __m256 acc[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = accumulate ? _mm256_loadu_ps(c + r * ldc + 8 * v) : _mm256_setzero_ps();
  for (int q = 0; q < k; q++) {
    __m256 wv[NV];
    for (int v = 0; v < NV; v++) wv[v] = _mm256_loadu_ps(w + q * ldw + 8 * v);
    for (int r = 0; r < MR; r++) {
      const __m256 s = _mm256_broadcast_ss(a + r * lda + q);
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(s, wv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(c + r * ldc + 8 * v, acc[r][v]);
}

template <int NV>
__attribute__((target("avx2,fma"))) void matmulColumns(std::ptrdiff_t m, int k, const float* a, std::ptrdiff_t lda,
                                                       const float* w, std::ptrdiff_t ldw, float* c,
                                                       std::ptrdiff_t ldc, bool accumulate) {
  std::ptrdiff_t r = 0;
  for (; r + kRows <= m; r += kRows) matmulTile<kRows, NV>(k, a + r * lda, lda, w, ldw, c + r * ldc, ldc, accumulate);
  const float* ar = a + r * lda;
  float* cr = c + r * ldc;
  switch (m - r) {
    case 5: matmulTile<5, NV>(k, ar, lda, w, ldw, cr, ldc, accumulate); break;
    case 4: matmulTile<4, NV>(k, ar, lda, w, ldw, cr, ldc, accumulate); break;
    case 3: matmulTile<3, NV>(k, ar, lda, w, ldw, cr, ldc, accumulate); break;
    case 2: matmulTile<2, NV>(k, ar, lda, w, ldw, cr, ldc, accumulate); break;
    case 1: matmulTile<1, NV>(k, ar, lda, w, ldw, cr, ldc, accumulate); break;
    default: break;
  }
}

__attribute__((target("avx2,fma"))) void matmulAvx2(std::ptrdiff_t m, int n, int k, const float* a,
                                                    std::ptrdiff_t lda, const float* w, std::ptrdiff_t ldw, float* c,
                                                    std::ptrdiff_t ldc, bool accumulate) {
  int j = 0;
  for (; j + 16 <= n; j += 16) matmulColumns<2>(m, k, a, lda, w + j, ldw, c + j, ldc, accumulate);
  if (j + 8 <= n) {
    matmulColumns<1>(m, k, a, lda, w + j, ldw, c + j, ldc, accumulate);
    j += 8;
  }
  if (j < n) matmulPlain<float>(m, n - j, k, a, lda, w + j, ldw, c + j, ldc, accumulate);
}

// C[MR][8·NV] += Σ_r A[r][0..MR)ᵀ G[r][0..8·NV)
template <int MR, int NV>
__attribute__((target("avx2,fma"))) inline void transATile(std::ptrdiff_t rows, const float* a, std::ptrdiff_t lda,
                                                           const float* g, std::ptrdiff_t ldg, float* c,
                                                           std::ptrdiff_t ldc) {
  if constexpr (MR == 6 && NV == 2) {
    __m256 c00 = _mm256_loadu_ps(c + 0 * ldc), c01 = _mm256_loadu_ps(c + 0 * ldc + 8);
    __m256 c10 = _mm256_loadu_ps(c + 1 * ldc), c11 = _mm256_loadu_ps(c + 1 * ldc + 8);
    __m256 c20 = _mm256_loadu_ps(c + 2 * ldc), c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
    __m256 c30 = _mm256_loadu_ps(c + 3 * ldc), c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
    __m256 c40 = _mm256_loadu_ps(c + 4 * ldc), c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
    __m256 c50 = _mm256_loadu_ps(c + 5 * ldc), c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
    for (std::ptrdiff_t r = 0; r < rows; r++) {
      const __m256 g0 = _mm256_loadu_ps(g + r * ldg), g1 = _mm256_loadu_ps(g + r * ldg + 8);
      const float* ar = a + r * lda;
      __m256 s;
      s = _mm256_broadcast_ss(ar + 0); c00 = _mm256_fmadd_ps(s, g0, c00); c01 = _mm256_fmadd_ps(s, g1, c01);
      s = _mm256_broadcast_ss(ar + 1); c10 = _mm256_fmadd_ps(s, g0, c10); c11 = _mm256_fmadd_ps(s, g1, c11);
      s = _mm256_broadcast_ss(ar + 2); c20 = _mm256_fmadd_ps(s, g0, c20); c21 = _mm256_fmadd_ps(s, g1, c21);
      s = _mm256_broadcast_ss(ar + 3); c30 = _mm256_fmadd_ps(s, g0, c30); c31 = _mm256_fmadd_ps(s, g1, c31);
      s = _mm256_broadcast_ss(ar + 4); c40 = _mm256_fmadd_ps(s, g0, c40); c41 = _mm256_fmadd_ps(s, g1, c41);
      s = _mm256_broadcast_ss(ar + 5); c50 = _mm256_fmadd_ps(s, g0, c50); c51 = _mm256_fmadd_ps(s, g1, c51);
    }
    _mm256_storeu_ps(c + 0 * ldc, c00); _mm256_storeu_ps(c + 0 * ldc + 8, c01);
    _mm256_storeu_ps(c + 1 * ldc, c10); _mm256_storeu_ps(c + 1 * ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20); _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30); _mm256_storeu_ps(c + 3 * ldc + 8, c31);
    _mm256_storeu_ps(c + 4 * ldc, c40); _mm256_storeu_ps(c + 4 * ldc + 8, c41);
    _mm256_storeu_ps(c + 5 * ldc, c50); _mm256_storeu_ps(c + 5 * ldc + 8, c51);
    return;
  }
  __m256 acc[MR][NV];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) acc[i][v] = _mm256_loadu_ps(c + i * ldc + 8 * v);
  for (std::ptrdiff_t r = 0; r < rows; r++) {
    __m256 gv[NV];
    for (int v = 0; v < NV; v++) gv[v] = _mm256_loadu_ps(g + r * ldg + 8 * v);
    for (int i = 0; i < MR; i++) {
      const __m256 s = _mm256_broadcast_ss(a + r * lda + i);
      for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(s, gv[v], acc[i][v]);
    }
  }
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(c + i * ldc + 8 * v, acc[i][v]);
}

template <int NV>
__attribute__((target("avx2,fma"))) void transAColumns(std::ptrdiff_t rows, int n1, const float* a,
                                                       std::ptrdiff_t lda, const float* g, std::ptrdiff_t ldg,
                                                       float* c, std::ptrdiff_t ldc) {
  int i = 0;
  for (; i + kRows <= n1; i += kRows) transATile<kRows, NV>(rows, a + i, lda, g, ldg, c + i * ldc, ldc);
  const float* ai = a + i;
  float* ci = c + i * ldc;
  switch (n1 - i) {
    case 5: transATile<5, NV>(rows, ai, lda, g, ldg, ci, ldc); break;
    case 4: transATile<4, NV>(rows, ai, lda, g, ldg, ci, ldc); break;
    case 3: transATile<3, NV>(rows, ai, lda, g, ldg, ci, ldc); break;
    case 2: transATile<2, NV>(rows, ai, lda, g, ldg, ci, ldc); break;
    case 1: transATile<1, NV>(rows, ai, lda, g, ldg, ci, ldc); break;
    default: break;
  }
}

__attribute__((target("avx2,fma"))) void matmulTransAAvx2(std::ptrdiff_t rows, int n1, int n2, const float* a,
                                                          std::ptrdiff_t lda, const float* g, std::ptrdiff_t ldg,
                                                          float* c, std::ptrdiff_t ldc) {
  // Blocks of rows small enough that the A and G panels stay in L1/L2 while every output tile passes over them.
  constexpr std::ptrdiff_t kBlock = 192;
  for (std::ptrdiff_t r0 = 0; r0 < rows; r0 += kBlock) {
    const std::ptrdiff_t nr = std::min(kBlock, rows - r0);
    const float* ab = a + r0 * lda;
    const float* gb = g + r0 * ldg;
    int j = 0;
    for (; j + 16 <= n2; j += 16) transAColumns<2>(nr, n1, ab, lda, gb + j, ldg, c + j, ldc);
    if (j + 8 <= n2) {
      transAColumns<1>(nr, n1, ab, lda, gb + j, ldg, c + j, ldc);
      j += 8;
    }
    if (j < n2) matmulTransAPlain<float>(nr, n1, n2 - j, ab, lda, gb + j, ldg, c + j, ldc);
  }
}

bool cpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

}  // namespace
}  // namespace kernels
}  // namespace modprop
#pragma GCC pop_options
#endif

namespace modprop {
namespace kernels {

bool simdEnabled() {
#ifdef MODPROP_X86_SIMD
  static const bool enabled = cpuHasAvx2();
  return enabled;
#else
  return false;
#endif
}

template <>
void matmul<double>(std::ptrdiff_t m, int n, int k, const double* a, std::ptrdiff_t lda, const double* w,
                    std::ptrdiff_t ldw, double* c, std::ptrdiff_t ldc, bool accumulate) {
  matmulPlain(m, n, k, a, lda, w, ldw, c, ldc, accumulate);
}

template <>
void matmul<float>(std::ptrdiff_t m, int n, int k, const float* a, std::ptrdiff_t lda, const float* w,
                   std::ptrdiff_t ldw, float* c, std::ptrdiff_t ldc, bool accumulate) {
#ifdef MODPROP_X86_SIMD
  if (simdEnabled()) return matmulAvx2(m, n, k, a, lda, w, ldw, c, ldc, accumulate);
#endif
  matmulPlain(m, n, k, a, lda, w, ldw, c, ldc, accumulate);
}

template <>
void matmulTransA<double>(std::ptrdiff_t rows, int n1, int n2, const double* a, std::ptrdiff_t lda, const double* g,
                          std::ptrdiff_t ldg, double* c, std::ptrdiff_t ldc) {
  matmulTransAPlain(rows, n1, n2, a, lda, g, ldg, c, ldc);
}

template <>
void matmulTransA<float>(std::ptrdiff_t rows, int n1, int n2, const float* a, std::ptrdiff_t lda, const float* g,
                         std::ptrdiff_t ldg, float* c, std::ptrdiff_t ldc) {
#ifdef MODPROP_X86_SIMD
  if (simdEnabled()) return matmulTransAAvx2(rows, n1, n2, a, lda, g, ldg, c, ldc);
#endif
  matmulTransAPlain(rows, n1, n2, a, lda, g, ldg, c, ldc);
}

}  // namespace kernels
}  // namespace modprop
