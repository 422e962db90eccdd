// The float products for AVX2/FMA: 6×16 tiles (12 ymm accumulators + 2 loads + 1 broadcast of the 16 registers).
#include "kernels_isa.h"

#ifdef MODPROP_X86_SIMD
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#define MODPROP_KERNEL_ISA avx2

namespace modprop {
namespace kernels {
namespace isa {
namespace {

struct Avx2 {
  using V = __m256;
  using Mask = __m256i;
  static constexpr int kWidth = 8, kRows = 6, kCols = 2, kPanel = kCols * kWidth;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V loadTail(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void storeTail(float* p, Mask m, V v) { _mm256_maskstore_ps(p, m, v); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V set(float x) { return _mm256_set1_ps(x); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }  // b where either is NaN
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static Mask maskOf(int lanes) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Mask fullMask() { return _mm256_set1_epi32(-1); }
  // Bit i set where p[i] != 0 (NaN included) for i < lanes; masked lanes are not read (they load as 0: bit clear).
  static std::uint32_t nonzeroBits(const float* p, int lanes) {
    const V v = lanes == kWidth ? load(p) : loadTail(p, maskOf(lanes));
    return std::uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(v, zero(), _CMP_NEQ_UQ)));
  }
  // Bit i set where p[i] > 0 (not NaN, not −0) for i < lanes; masked lanes are not read.
  static std::uint32_t positiveBits(const float* p, int lanes) {
    const V v = lanes == kWidth ? load(p) : loadTail(p, maskOf(lanes));
    return std::uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(v, zero(), _CMP_GT_OQ)));
  }
  // Kernels::expandBits for one row (the set bits one by one).
  static void expandRow(int n, const std::uint16_t* rowBits, const std::uint16_t* bits, float* dst) {
    int out = 0;
    for (int g = 0; g * 16 < n; g++)
      for (unsigned b = bits[g]; b != 0; b &= b - 1) dst[out++] = (rowBits[g] >> __builtin_ctz(b) & 1u) != 0 ? 1.0f : 0.0f;
  }
};

#include "kernels_tiles.h"

}  // namespace

const Kernels kAvx2 = kernelsOf<Avx2>();

}  // namespace isa
}  // namespace kernels
}  // namespace modprop
#pragma GCC pop_options
#endif
