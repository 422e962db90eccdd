// Internal: the instruction-set specific float products (kernels_avx2.cc, kernels_avx512.cc), each compiled for its
// own target with function-level attributes so that the addon needs no -march flag and picks one at run time
// (kernels.cc). Both take index lists from kernels.cc: `ks` are the columns of A that are not zero on every row
// (matmul), `is` the output rows whose column of A is not (transA).
#pragma once
#include <cstddef>
#include <cstdint>
#include <algorithm>    // for kernels_tiles.h, which is included after a target pragma
#include <type_traits>

#include "kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(MODPROP_DISABLE_SIMD)
#define MODPROP_X86_SIMD 1

namespace modprop {
namespace kernels {
namespace isa {

// The three products of one instruction set.
struct Kernels {
  // C = (accumulate ? C : 0) + Σ_{p<nk} A[·][ks[p]] W[ks[p]][·].  A: m×k, W: k×n, C: m×n (row strides lda, ldw, ldc).
  void (*matmul)(std::ptrdiff_t m, int n, const int* ks, int nk, const float* a, std::ptrdiff_t lda, const float* w,
                 std::ptrdiff_t ldw, float* c, std::ptrdiff_t ldc, bool accumulate);
  // C[is[i]][·] += Σ_{r<rows} A[r][is[i]] G[r][·] for i < nl.  A: rows×n1, G: rows×n2, C: n1×n2.
  void (*transA)(std::ptrdiff_t rows, int n2, const int* is, int nl, const float* a, std::ptrdiff_t lda,
                 const float* g, std::ptrdiff_t ldg, float* c, std::ptrdiff_t ldc);
  // The step of kernels.h for the columns ks[0..nk) of zPrev that are not all zero; inputs = 0, 1, …, nIn − 1.
  void (*step)(const StepBlock& b, const int* ks, int nk, const int* inputs);
  // Floats per column block: the panel width of packPanels.
  int panelWidth;
  // matmul with W as packPanels lays it out (column block j at w + j·k, row stride panelWidth).
  void (*matmulPanels)(std::ptrdiff_t m, int n, int k, const int* ks, int nk, const float* a, std::ptrdiff_t lda,
                       const float* panels, float* c, std::ptrdiff_t ldc, bool accumulate);
  // step for the output columns [j0, j1) only, j0 a multiple of panelWidth (the column-split path, kernels.h).
  void (*stepRange)(const StepBlock& b, const int* ks, int nk, const int* inputs, int j0, int j1);
  // The columns of A (rows×cols, row stride lda) not zero on every row, ascending, into list (room for cols);
  // returns their count. NaN counts as non-zero, −0 as zero.
  int (*nonzeroColumns)(const float* a, std::ptrdiff_t rows, int cols, std::ptrdiff_t lda, int* list);
  // kernels.h reluBits<float> and expandBits<float>.
  void (*reluBits)(std::ptrdiff_t rows, int n, const float* a, std::ptrdiff_t lda, std::uint16_t* positive,
                   std::uint16_t* any);
  void (*expandBits)(std::ptrdiff_t rows, int n, const std::uint16_t* rowBits, const std::uint16_t* bits, float* dst,
                     std::ptrdiff_t ldd);
};

extern const Kernels kAvx2;
extern const Kernels kAvx512;

}  // namespace isa
}  // namespace kernels
}  // namespace modprop
#endif
