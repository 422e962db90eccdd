// The dense products every rule is made of. float uses AVX2/FMA micro-kernels when the CPU has them (chosen at run
// time, so the addon is fast without -march=native); double and other CPUs use plain loops that GCC vectorises.
// -DMODPROP_DISABLE_SIMD forces the plain loops (to test them).
#pragma once
#include <cstddef>

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

// True when the float kernels use AVX2/FMA on this CPU.
bool simdEnabled();

}  // namespace kernels
}  // namespace modprop
