// The dense products every rule is made of. float uses hand-tiled AVX-512 or AVX2/FMA kernels when the CPU has them
// (chosen once at load, so the addon is fast without -march=native); double, other CPUs and MODPROP_SIMD=scalar use
// plain loops that GCC vectorises as the build flags allow. -DMODPROP_DISABLE_SIMD compiles the plain loops only.
// Every path skips the terms where A is exactly zero (ReLU zeros), which leaves each sum's value unchanged.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "retained.h"
#include "thread_pool.h"

// For an elementwise loop outside the kernels below: in a portable build (x86-64-v2) GCC's target_clones also compiles
// the function for AVX2 and AVX-512 and an ifunc picks one at load (glibc only). Each element goes through the same
// operations either way (no FMA contraction: -ffp-contract=off), so every clone gives the same bits.
#if defined(MODPROP_PORTABLE) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
#define MODPROP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MODPROP_CLONES
#endif

namespace modprop {
namespace kernels {

// C = (accumulate ? C : 0) + A @ W.  A: m×k (row stride lda), W: k×n (row stride ldw), C: m×n (row stride ldc).
template <typename Real>
void matmul(std::ptrdiff_t m, int n, int k, const Real* a, std::ptrdiff_t lda, const Real* w, std::ptrdiff_t ldw,
            Real* c, std::ptrdiff_t ldc, bool accumulate);

// C += Aᵀ @ G.  A: rows×n1 (row stride lda), G: rows×n2 (row stride ldg), C: n1×n2 (row stride ldc).
// This is how a sum of outer products over time and batch (Σ_t z_{t-1}ᵀ g_t) becomes one product.
template <typename Real>
void matmulTransA(std::ptrdiff_t rows, int n1, int n2, const Real* a, std::ptrdiff_t lda, const Real* g,
                  std::ptrdiff_t ldg, Real* c, std::ptrdiff_t ldc);

// One network step (SPEC §1) for a block of float rows, v = α vPrev + leak (x @ Win + zPrev @ Wrec) and
// z = relu(v − thr), with the element-wise work done on the product's registers. zPrev and vPrev are null at t = 1.
struct StepBlock {
  std::ptrdiff_t rows;
  int n, nIn;
  const float* x;  // rows×nIn, row stride ldx
  std::ptrdiff_t ldx;
  const float* win;  // nIn×n
  const float* zPrev;
  const float* vPrev;  // rows×n, row stride ldPrev
  std::ptrdiff_t ldPrev;
  const float* wrec;  // n×n
  float alpha, leak, threshold;
  float* v;
  float* z;  // rows×n, row stride ld
  std::ptrdiff_t ld;
  // Wrec laid out by packPanels, or null (then wrec is read in place). At large N a column block of Wrec is a walk
  // down rows n floats apart: a new page and the same few cache sets on every row (N = 4096: 16 KiB apart).
  const float* wrecPanels = nullptr;
};
// Runs the step with the SIMD kernels and returns true; returns false, doing nothing, where the plain loops are in use.
bool fusedStep(const StepBlock& b);

// W (k×n, row-major) as the SIMD kernels' column blocks, each a contiguous k × P panel (P = their block width, the
// last panel zero-padded): the same products and sums, only read in order. Empty where the plain loops are in use.
// With a pool, the panels are split over its threads (a pure copy: the same bytes; at N = 4096 one thread took
// 7 ms here and 11.6 ms for the transposed form below, per gradient call).
Retained<float> packPanels(const float* w, int k, int n, ThreadPool* pool = nullptr);

// packPanels(Wᵀ, k, n) for W n×k (row-major), without forming Wᵀ: read in blocks of rows so that no strided walk
// down a column of W touches a new page per element.
Retained<float> packPanelsTransposed(const float* w, int n, int k, ThreadPool* pool = nullptr);

// matmul<float> with W given as packPanels(W, k, n) (non-empty: the SIMD kernels are in use), C not accumulated.
void matmulPanels(std::ptrdiff_t m, int n, int k, const float* a, std::ptrdiff_t lda, const float* panels, float* c,
                  std::ptrdiff_t ldc);

// The column-split forms for large N (column_split.cc): a caller takes the output columns [j0, j1) (j0 a multiple of
// columnBlockWidth(); j1 one too, or n) of several row blocks (the batch chunks) and runs the rows of every block
// through one column block before the next, so that each block of W is read from memory once per call for the whole
// batch rather than once per chunk. Each element gets the sum fusedStep / matmul / matmulPanels give it: the same
// 48-row panels (so the same skipped zero columns) and the same k order, hence the same bits.
int columnBlockWidth();  // 0 where the plain loops are in use: no column-split path
void fusedStepColumns(const StepBlock* blocks, int count, int j0, int j1);
// One product's rows: C (rows×n, row stride ldc) = A (rows×k, row stride lda) @ W.
struct ProductRows {
  std::ptrdiff_t rows;
  const float* a;
  std::ptrdiff_t lda;
  float* c;
  std::ptrdiff_t ldc;
};
// C[·][j0, j1) = A @ W[·][j0, j1) for every block, W (k×n) given as packPanels(W, k, n) where panels is non-null,
// else read in place (row stride ldw).
void matmulColumns(const ProductRows* blocks, int count, int k, const float* w, std::ptrdiff_t ldw,
                   const float* panels, int j0, int j1);

// Sets of columns as bits: column c is bit c % 16 of word c / 16, W = ⌈n/16⌉ words, none at or past n.
// positive[r·W …] (overwritten) = the columns of row r of a (rows×n, row stride lda) that are > 0 (NaN and −0 not:
// relu' of a ReLU state), and any |= the columns not zero on some row (NaN counts, −0 does not), in one pass over a.
template <typename Real>
void reluBits(std::ptrdiff_t rows, int n, const Real* a, std::ptrdiff_t lda, std::uint16_t* positive, std::uint16_t* any);
// dst[r][·] (row stride ldd) = 1 where row r's bit (rowBits + r·W) is set, else 0, for the columns in `bits`, in order.
template <typename Real>
void expandBits(std::ptrdiff_t rows, int n, const std::uint16_t* rowBits, const std::uint16_t* bits, Real* dst,
                std::ptrdiff_t ldd);

// The float kernels in use: the best the CPU supports, lowered by MODPROP_SIMD=avx2|scalar (read once, at the first
// call). An unknown value, or a level the CPU lacks, leaves the best supported one.
enum class Simd { Scalar, Avx2, Avx512 };
Simd simdLevel();
const char* simdName(Simd level);  // "scalar", "avx2", "avx512"

}  // namespace kernels
}  // namespace modprop
