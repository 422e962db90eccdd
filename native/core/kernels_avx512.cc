// The float products for AVX-512F: 8×48 tiles (24 zmm accumulators + 3 loads + 1 broadcast of the 32 registers); the
// last vector of a row is a masked load/store. A last block of at most 24 columns whose width is not a multiple of 16
// runs on 8-lane vectors instead (Avx512Half: ymm with AVX-512VL masks, up to 8×24 tiles), so N = 120 runs as
// 48 + 48 + 3×8 rather than 48 + 48 + 2×16 with half of the last vector masked off: on CPUs that split a 512-bit
// operation into two 256-bit halves (AMD Zen 4) a masked-off half still costs its cycle. Each element's sum is the
// same sequence of single-precision multiply-adds either way, so the bits do not change.
#include "kernels_isa.h"

#ifdef MODPROP_X86_SIMD
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx2,fma")
#include <immintrin.h>
#define MODPROP_KERNEL_ISA avx512

namespace modprop {
namespace kernels {
namespace isa {
namespace {

// The 8-lane tail vectors of Avx512's last column block (kernels_tiles.h forColumnBlocks): Avx512's panel layout.
struct Avx512Half {
  using V = __m256;
  using Mask = __mmask8;
  static constexpr int kWidth = 8, kRows = 8, kPanel = 48;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V loadTail(const float* p, Mask m) { return _mm256_maskz_loadu_ps(m, p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void storeTail(float* p, Mask m, V v) { _mm256_mask_storeu_ps(p, m, v); }
  static V broadcast(const float* p) { return _mm256_set1_ps(*p); }
  static V set(float x) { return _mm256_set1_ps(x); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }  // b where either is NaN, as Avx512::max
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static Mask maskOf(int lanes) { return Mask((1u << lanes) - 1u); }
};

struct Avx512 {
  using V = __m512;
  using Mask = __mmask16;
  using Half = Avx512Half;
  static constexpr int kWidth = 16, kRows = 8, kCols = 3, kPanel = kCols * kWidth;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V loadTail(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void storeTail(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V set(float x) { return _mm512_set1_ps(x); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  // b where either is NaN. The masked form because GCC 12 warns about _mm512_max_ps's own undefined operand.
  static V max(V a, V b) { return _mm512_maskz_max_ps(Mask(0xffff), a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static Mask maskOf(int lanes) { return Mask((1u << lanes) - 1u); }
  static Mask fullMask() { return Mask(0xffff); }
  // Bit i set where p[i] != 0 (NaN included) for i < lanes; masked lanes are not read.
  static std::uint32_t nonzeroBits(const float* p, int lanes) {
    const Mask m = maskOf(lanes);
    return _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, p), _mm512_setzero_ps(), _CMP_NEQ_UQ);
  }
  // Bit i set where p[i] > 0 (not NaN, not −0) for i < lanes; masked lanes are not read.
  static std::uint32_t positiveBits(const float* p, int lanes) {
    const Mask m = maskOf(lanes);
    return _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, p), _mm512_setzero_ps(), _CMP_GT_OQ);
  }
  // Kernels::expandBits for one row: 1.0 in the set lanes of each group's word, compressed to the front of a register
  // (Zen 4 runs a compress to memory in microcode) and stored with a mask, no write past them.
  static void expandRow(int n, const std::uint16_t* rowBits, const std::uint16_t* bits, float* dst) {
    int out = 0;
    const V one = _mm512_set1_ps(1.0f);
    for (int g = 0; g * kWidth < n; g++) {
      const Mask b = bits[g];
      if (b == 0) continue;
      const int count = __builtin_popcount(b);
      _mm512_mask_storeu_ps(dst + out, maskOf(count), _mm512_maskz_compress_ps(b, _mm512_maskz_mov_ps(rowBits[g], one)));
      out += count;
    }
  }
};

#include "kernels_tiles.h"

}  // namespace

const Kernels kAvx512 = kernelsOf<Avx512>();

}  // namespace isa
}  // namespace kernels
}  // namespace modprop
#pragma GCC pop_options
#endif
