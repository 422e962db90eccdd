// Internal to kernels_avx2.cc and kernels_avx512.cc: the register-tiled float products, written once over a vector
// type S (S::V, S::kWidth lanes, loads, masked tail loads/stores, broadcast, FMA). Include it only inside the
// `#pragma GCC target` region of one instruction set, after every standard header: everything here has internal
// linkage, so no wide-vector copy of a shared inline function can reach code that runs on older CPUs.
//
// Accumulators are MR×NV arrays fully unrolled with `#pragma GCC unroll`, which lets GCC (12 included) keep them in
// registers; without the pragmas it kept them on the stack and stored every one of them on every k-iteration.
// Both products take index lists (built by kernels.cc) so that ReLU zeros shared by a block of rows are skipped:
// the terms left out are exact zeros, and the order of the remaining ones is unchanged.
#ifndef MODPROP_KERNEL_ISA
#error "kernels_tiles.h is included by the instruction-set files only"
#endif

namespace {

// acc[r][·] += Σ_{p<nk} A[r][ks[p]] W[ks[p]][·] over NV vectors of columns, the last one masked to `tail` when Tail.
template <class S, int MR, int NV, bool Tail>
inline void addProducts(typename S::V (&acc)[MR][NV], int nk, const int* ks, const float* a, std::ptrdiff_t lda,
                        const float* w, std::ptrdiff_t ldw, typename S::Mask tail) {
  using V = typename S::V;
  constexpr int L = S::kWidth;
  for (int i = 0; i < nk; i++) {
    const std::ptrdiff_t q = ks[i];
    const float* wq = w + q * ldw;
    V wv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) wv[v] = (Tail && v == NV - 1) ? S::loadTail(wq + L * v, tail) : S::load(wq + L * v);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const V s = S::broadcast(a + r * lda + q);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[r][v] = S::fma(s, wv[v], acc[r][v]);
    }
  }
}

template <class S, int NV, bool Tail>
inline typename S::V loadColumns(const float* p, int v, typename S::Mask tail) {
  return (Tail && v == NV - 1) ? S::loadTail(p + S::kWidth * v, tail) : S::load(p + S::kWidth * v);
}

template <class S, int NV, bool Tail>
inline void storeColumns(float* p, int v, typename S::Mask tail, typename S::V x) {
  if (Tail && v == NV - 1)
    S::storeTail(p + S::kWidth * v, tail, x);
  else
    S::store(p + S::kWidth * v, x);
}

// C[MR][·] = (accumulate ? C : 0) + Σ_{p<nk} A[·][ks[p]] W[ks[p]][·].
template <class S, int MR, int NV, bool Tail>
inline void matmulTile(int nk, const int* ks, const float* a, std::ptrdiff_t lda, const float* w, std::ptrdiff_t ldw,
                       float* c, std::ptrdiff_t ldc, bool accumulate, typename S::Mask tail) {
  typename S::V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[r][v] = accumulate ? loadColumns<S, NV, Tail>(c + r * ldc, v, tail) : S::zero();
  addProducts<S, MR, NV, Tail>(acc, nk, ks, a, lda, w, ldw, tail);
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) storeColumns<S, NV, Tail>(c + r * ldc, v, tail, acc[r][v]);
}

// Rows of k taken per pass over the tiles of a column block: with W's column block (k × S::kCols·kWidth floats) read
// whole by every MR-row tile, N = 4096 reads a 786 KB block per tile, more than L2 holds next to the rows of A, so
// each tile fetched it from L3 or memory again (forward 5.6 ms per step at B = 32, the same with the column split).
// In chunks of kChunkK (96 KB of W) all tiles reuse the chunk from L2; each sum still runs over k in the same order,
// the partial sums stored and reloaded exactly between chunks, so every bit is what one pass gives.
constexpr int kChunkK = 512;

// One network step for MR rows (see StepBlock): both products, the leak and the ReLU while the block is in registers.
// Over a chunk [first, last] of the recurrent index list: a first chunk starts from zero, a later one from the
// partial sums a previous one left in v; a last chunk adds the inputs and applies the step, another stores the sums.
template <class S, int MR, int NV, bool Tail>
inline void stepTile(const StepBlock& b, std::ptrdiff_t r0, int j, const int* ks, int nk, const int* inputs,
                     typename S::Mask tail, bool first, bool last) {
  using V = typename S::V;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[r][v] = first ? S::zero() : loadColumns<S, NV, Tail>(b.v + (r0 + r) * b.ld + j, v, tail);
  if (b.zPrev != nullptr && b.wrecPanels != nullptr)
    addProducts<S, MR, NV, Tail>(acc, nk, ks, b.zPrev + r0 * b.ldPrev, b.ldPrev, b.wrecPanels + std::ptrdiff_t(j) * b.n,
                                 S::kPanel, tail);
  else if (b.zPrev != nullptr)
    addProducts<S, MR, NV, Tail>(acc, nk, ks, b.zPrev + r0 * b.ldPrev, b.ldPrev, b.wrec + j, b.n, tail);
  if (!last) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) storeColumns<S, NV, Tail>(b.v + (r0 + r) * b.ld + j, v, tail, acc[r][v]);
    return;
  }
  addProducts<S, MR, NV, Tail>(acc, b.nIn, inputs, b.x + r0 * b.ldx, b.ldx, b.win + j, b.n, tail);
  const V alpha = S::set(b.alpha), leak = S::set(b.leak), thr = S::set(b.threshold), zero = S::zero();
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      V x = S::mul(leak, acc[r][v]);
      if (b.vPrev != nullptr) x = S::fma(alpha, loadColumns<S, NV, Tail>(b.vPrev + (r0 + r) * b.ldPrev + j, v, tail), x);
      storeColumns<S, NV, Tail>(b.v + (r0 + r) * b.ld + j, v, tail, x);
      // max(0, u) is u for NaN, as std::max(u, 0) is: a NaN state stays visible.
      storeColumns<S, NV, Tail>(b.z + (r0 + r) * b.ld + j, v, tail, S::max(zero, S::sub(x, thr)));
    }
}

// C[is[m]][·] += Σ_{r<rows} A[r][is[m]] G[r][·] for the MR output rows is[0..MR).
template <class S, int MR, int NV, bool Tail>
inline void transATile(std::ptrdiff_t rows, const int* is, const float* a, std::ptrdiff_t lda, const float* g,
                       std::ptrdiff_t ldg, float* c, std::ptrdiff_t ldc, typename S::Mask tail) {
  using V = typename S::V;
  V acc[MR][NV];
  std::ptrdiff_t col[MR];
#pragma GCC unroll 16
  for (int m = 0; m < MR; m++) {
    col[m] = is[m];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      acc[m][v] = loadColumns<S, NV, Tail>(c + col[m] * ldc, v, tail);
    }
  }
  for (std::ptrdiff_t r = 0; r < rows; r++) {
    const float* gr = g + r * ldg;
    const float* ar = a + r * lda;
    V gv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) gv[v] = loadColumns<S, NV, Tail>(gr, v, tail);
#pragma GCC unroll 16
    for (int m = 0; m < MR; m++) {
      const V s = S::broadcast(ar + col[m]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[m][v] = S::fma(s, gv[v], acc[m][v]);
    }
  }
#pragma GCC unroll 16
  for (int m = 0; m < MR; m++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) storeColumns<S, NV, Tail>(c + col[m] * ldc, v, tail, acc[m][v]);
}

// One block of columns (NV vectors, the last masked when Tail) over every row: full MR-row tiles, then one edge tile;
// over k in chunks of kChunkK (a later chunk accumulates onto what the earlier left in C: the same sums, bit for bit).
template <class S, int NV, bool Tail>
void matmulColumns(std::ptrdiff_t m, int nk, const int* ks, const float* a, std::ptrdiff_t lda, const float* w,
                   std::ptrdiff_t ldw, float* c, std::ptrdiff_t ldc, bool accumulate, typename S::Mask tail) {
  constexpr int MR = S::kRows;
  for (int c0 = 0; c0 == 0 || c0 < nk; c0 += kChunkK) {
    const int cn = std::min(kChunkK, nk - c0);
    const int* kc = ks + c0;
    const bool acc = accumulate || c0 > 0;
    std::ptrdiff_t r = 0;
    for (; r + MR <= m; r += MR) matmulTile<S, MR, NV, Tail>(cn, kc, a + r * lda, lda, w, ldw, c + r * ldc, ldc, acc, tail);
    const float* ar = a + r * lda;
    float* cr = c + r * ldc;
    switch (m - r) {
#define MODPROP_EDGE(R) \
  case R: if constexpr (R < MR) matmulTile<S, R, NV, Tail>(cn, kc, ar, lda, w, ldw, cr, ldc, acc, tail); break;
      MODPROP_EDGE(1) MODPROP_EDGE(2) MODPROP_EDGE(3) MODPROP_EDGE(4) MODPROP_EDGE(5) MODPROP_EDGE(6) MODPROP_EDGE(7)
      MODPROP_EDGE(8) MODPROP_EDGE(9) MODPROP_EDGE(10) MODPROP_EDGE(11)
#undef MODPROP_EDGE
      default: break;
    }
  }
}

// The step over every row of one column block, the recurrent sum in chunks of kChunkK (see stepTile).
template <class S, int NV, bool Tail>
void stepColumns(const StepBlock& b, int j, const int* ks, int nk, const int* inputs, typename S::Mask tail) {
  constexpr int MR = S::kRows;
  for (int c0 = 0; c0 == 0 || c0 < nk; c0 += kChunkK) {
    const int cn = std::min(kChunkK, nk - c0);
    const int* kc = ks + c0;
    const bool first = c0 == 0, last = c0 + cn >= nk;
    std::ptrdiff_t r = 0;
    for (; r + MR <= b.rows; r += MR) stepTile<S, MR, NV, Tail>(b, r, j, kc, cn, inputs, tail, first, last);
    switch (b.rows - r) {
#define MODPROP_EDGE(R) \
  case R: if constexpr (R < MR) stepTile<S, R, NV, Tail>(b, r, j, kc, cn, inputs, tail, first, last); break;
      MODPROP_EDGE(1) MODPROP_EDGE(2) MODPROP_EDGE(3) MODPROP_EDGE(4) MODPROP_EDGE(5) MODPROP_EDGE(6) MODPROP_EDGE(7)
      MODPROP_EDGE(8) MODPROP_EDGE(9) MODPROP_EDGE(10) MODPROP_EDGE(11)
#undef MODPROP_EDGE
      default: break;
    }
  }
}

template <class S, int NV, bool Tail>
void transAColumns(std::ptrdiff_t rows, int nl, const int* is, const float* a, std::ptrdiff_t lda, const float* g,
                   std::ptrdiff_t ldg, float* c, std::ptrdiff_t ldc, typename S::Mask tail) {
  constexpr int MR = S::kRows;
  int i = 0;
  for (; i + MR <= nl; i += MR) transATile<S, MR, NV, Tail>(rows, is + i, a, lda, g, ldg, c, ldc, tail);
  switch (nl - i) {
#define MODPROP_EDGE(R) \
  case R: if constexpr (R < MR) transATile<S, R, NV, Tail>(rows, is + i, a, lda, g, ldg, c, ldc, tail); break;
    MODPROP_EDGE(1) MODPROP_EDGE(2) MODPROP_EDGE(3) MODPROP_EDGE(4) MODPROP_EDGE(5) MODPROP_EDGE(6) MODPROP_EDGE(7)
    MODPROP_EDGE(8) MODPROP_EDGE(9) MODPROP_EDGE(10) MODPROP_EDGE(11)
#undef MODPROP_EDGE
    default: break;
  }
}

// Splits the n columns into blocks of S::kCols vectors and calls block(Isa<T>, Width<NV>, Masked<Tail>, offset, tail)
// for each; the last block has as many vectors as the remainder needs, with a masked last vector when the width is not
// a multiple. Where S has narrower vectors (S::Half) and the remainder is at most three of them while a vector of S
// would be at most half used, the last block runs on those instead (T = S::Half), read from S's panel layout. The block
// is a generic lambda that turns the tags back into template arguments.
template <class S>
struct Isa {
  using type = S;
};
template <int NV>
using Width = std::integral_constant<int, NV>;
template <bool Tail>
using Masked = std::bool_constant<Tail>;

template <class S, class = void>
struct HasHalf : std::false_type {};
template <class S>
struct HasHalf<S, std::void_t<typename S::Half>> : std::true_type {};

template <class S, class Block>
inline void forColumnBlocks(int n, Block&& block) {
  constexpr int L = S::kWidth, NV = S::kCols;
  int j = 0;
  for (; j + NV * L <= n; j += NV * L) block(Isa<S>{}, Width<NV>{}, Masked<false>{}, j, S::fullMask());
  const int rest = n - j;
  if (rest == 0) return;
  if constexpr (HasHalf<S>::value) {
    using H = typename S::Half;
    constexpr int LH = H::kWidth;
    static_assert(H::kPanel == S::kPanel, "forColumnBlocks: the tail vectors read S's panels");
    if (rest % L != 0 && rest % L <= LH && rest <= 3 * LH) {
      const bool tail = rest % LH != 0;
      const typename H::Mask mask = H::maskOf(tail ? rest % LH : LH);
      switch ((rest + LH - 1) / LH * 2 + (tail ? 1 : 0)) {
        case 2: block(Isa<H>{}, Width<1>{}, Masked<false>{}, j, mask); return;
        case 3: block(Isa<H>{}, Width<1>{}, Masked<true>{}, j, mask); return;
        case 6: block(Isa<H>{}, Width<3>{}, Masked<false>{}, j, mask); return;
        case 7: block(Isa<H>{}, Width<3>{}, Masked<true>{}, j, mask); return;
        default: break;  // not reached: rest ≤ LH or 2·LH < rest ≤ 3·LH
      }
    }
  }
  const int vectors = (rest + L - 1) / L;
  const bool tail = rest % L != 0;
  const typename S::Mask mask = S::maskOf(tail ? rest % L : L);
  static_assert(NV <= 3, "forColumnBlocks: add cases for wider blocks");
  switch (vectors * 2 + (tail ? 1 : 0)) {
    case 2: block(Isa<S>{}, Width<1>{}, Masked<false>{}, j, mask); break;
    case 3: block(Isa<S>{}, Width<1>{}, Masked<true>{}, j, mask); break;
    case 4: if constexpr (NV >= 2) block(Isa<S>{}, Width<2>{}, Masked<false>{}, j, mask); break;
    case 5: if constexpr (NV >= 2) block(Isa<S>{}, Width<2>{}, Masked<true>{}, j, mask); break;
    case 6: if constexpr (NV >= 3) block(Isa<S>{}, Width<3>{}, Masked<false>{}, j, mask); break;
    case 7: if constexpr (NV >= 3) block(Isa<S>{}, Width<3>{}, Masked<true>{}, j, mask); break;
    default: break;
  }
}

// The tile functions of one column block, for the vector type the block's Isa tag names.
#define MODPROP_BLOCK_TYPES                              \
  using T = typename decltype(isa)::type;               \
  constexpr int NV = decltype(nv)::value;               \
  constexpr bool Tail = decltype(masked)::value

template <class S>
void stepWith(const StepBlock& b, const int* ks, int nk, const int* inputs) {
  forColumnBlocks<S>(b.n, [&](auto isa, auto nv, auto masked, int j, auto tail) {
    MODPROP_BLOCK_TYPES;
    stepColumns<T, NV, Tail>(b, j, ks, nk, inputs, tail);
  });
}

// stepWith restricted to the columns [j0, j1), j0 at a column-block boundary: the same tiles on a part of the blocks.
template <class S>
void stepRangeWith(const StepBlock& b, const int* ks, int nk, const int* inputs, int j0, int j1) {
  forColumnBlocks<S>(j1 - j0, [&](auto isa, auto nv, auto masked, int j, auto tail) {
    MODPROP_BLOCK_TYPES;
    stepColumns<T, NV, Tail>(b, j0 + j, ks, nk, inputs, tail);
  });
}

template <class S>
void matmulWith(std::ptrdiff_t m, int n, const int* ks, int nk, const float* a, std::ptrdiff_t lda, const float* w,
                std::ptrdiff_t ldw, float* c, std::ptrdiff_t ldc, bool accumulate) {
  forColumnBlocks<S>(n, [&](auto isa, auto nv, auto masked, int j, auto tail) {
    MODPROP_BLOCK_TYPES;
    matmulColumns<T, NV, Tail>(m, nk, ks, a, lda, w + j, ldw, c + j, ldc, accumulate, tail);
  });
}

template <class S>
void matmulPanelsWith(std::ptrdiff_t m, int n, int k, const int* ks, int nk, const float* a, std::ptrdiff_t lda,
                      const float* panels, float* c, std::ptrdiff_t ldc, bool accumulate) {
  forColumnBlocks<S>(n, [&](auto isa, auto nv, auto masked, int j, auto tail) {
    MODPROP_BLOCK_TYPES;
    matmulColumns<T, NV, Tail>(m, nk, ks, a, lda, panels + std::ptrdiff_t(j) * k, S::kPanel, c + j, ldc, accumulate, tail);
  });
}

template <class S>
void transAWith(std::ptrdiff_t rows, int n2, const int* is, int nl, const float* a, std::ptrdiff_t lda,
                const float* g, std::ptrdiff_t ldg, float* c, std::ptrdiff_t ldc) {
  forColumnBlocks<S>(n2, [&](auto isa, auto nv, auto masked, int j, auto tail) {
    MODPROP_BLOCK_TYPES;
    transAColumns<T, NV, Tail>(rows, nl, is, a, lda, g + j, ldg, c + j, ldc, tail);
  });
}

// Kernels::nonzeroColumns: per group of S::kWidth columns, the OR over the rows of a vector compare's lane bits
// (S::nonzeroBits; lanes past the row's end are never read), row by row in memory order; then the set bits, lowest
// first.
template <class S>
int nonzeroColumnsWith(const float* a, std::ptrdiff_t rows, int cols, std::ptrdiff_t lda, int* list) {
  constexpr int L = S::kWidth;
  constexpr int kGroups = 64;  // column groups per pass: the lane bits on the stack, the rows read in memory order
  int count = 0;
  for (int g0 = 0; g0 * L < cols; g0 += kGroups) {
    const int q0 = g0 * L, span = std::min(kGroups * L, cols - q0);
    const int full = span / L, rest = span % L;
    std::uint32_t bits[kGroups] = {};  // full < kGroups wherever rest != 0
    for (std::ptrdiff_t r = 0; r < rows; r++) {
      const float* ar = a + r * lda + q0;
      for (int g = 0; g < full; g++) bits[g] |= S::nonzeroBits(ar + g * L, L);
      if (rest != 0) bits[full] |= S::nonzeroBits(ar + full * L, rest);
    }
    for (int g = 0; g < full + (rest != 0 ? 1 : 0); g++)
      for (std::uint32_t b = bits[g]; b != 0; b &= b - 1) list[count++] = q0 + g * L + __builtin_ctz(b);
  }
  return count;
}

// Kernels::reluBits: each row's words of positive lanes, and the OR over the rows of the non-zero ones (in a register
// per vector of columns: an OR through memory per row is a store-to-load chain).
template <class S>
void reluBitsWith(std::ptrdiff_t rows, int n, const float* a, std::ptrdiff_t lda, std::uint16_t* positive,
                  std::uint16_t* any) {
  constexpr int L = S::kWidth;
  static_assert(16 % L == 0, "a vector's columns lie in one word");
  const int words = (n + 15) / 16;
  std::fill(positive, positive + rows * words, std::uint16_t(0));
  for (int q = 0; q < n; q += L) {
    const int lanes = std::min(L, n - q);
    std::uint32_t nonzero = 0;
    for (std::ptrdiff_t r = 0; r < rows; r++) {
      const float* p = a + r * lda + q;
      nonzero |= S::nonzeroBits(p, lanes);
      std::uint16_t& w = positive[r * words + q / 16];
      w = std::uint16_t(w | (S::positiveBits(p, lanes) << (q % 16)));
    }
    any[q / 16] = std::uint16_t(any[q / 16] | (nonzero << (q % 16)));
  }
}

template <class S>
void expandBitsWith(std::ptrdiff_t rows, int n, const std::uint16_t* rowBits, const std::uint16_t* bits, float* dst,
                    std::ptrdiff_t ldd) {
  const int words = (n + 15) / 16;
  for (std::ptrdiff_t r = 0; r < rows; r++) S::expandRow(n, rowBits + r * words, bits, dst + r * ldd);
}

// The table kernels.cc dispatches through.
template <class S>
constexpr Kernels kernelsOf() {
  return Kernels{matmulWith<S>,       transAWith<S>,    stepWith<S>, S::kPanel,
                 matmulPanelsWith<S>, stepRangeWith<S>, nonzeroColumnsWith<S>, reluBitsWith<S>,
                 expandBitsWith<S>};
}

#undef MODPROP_BLOCK_TYPES

}  // namespace
