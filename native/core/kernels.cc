#include "kernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "kernels_isa.h"

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

Simd detectSimd() {
  Simd best = Simd::Scalar;
#ifdef MODPROP_X86_SIMD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    best = Simd::Avx2;
    // libgcc also checks that the OS saves zmm state. VL: the kernels' 8-lane tail vectors (kernels_avx512.cc).
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) best = Simd::Avx512;
  }
#endif
  const char* forced = std::getenv("MODPROP_SIMD");
  if (forced != nullptr && std::strcmp(forced, "scalar") == 0) return Simd::Scalar;
  if (forced != nullptr && std::strcmp(forced, "avx2") == 0) return std::min(best, Simd::Avx2);
  return best;
}

#ifdef MODPROP_X86_SIMD
// Null when the plain loops are in use.
const isa::Kernels* floatKernels() {
  switch (simdLevel()) {
    case Simd::Avx512: return &isa::kAvx512;
    case Simd::Avx2: return &isa::kAvx2;
    default: return nullptr;
  }
}

// The columns of A (rows×cols) that are not zero on every row, ascending; returns their count. A block of ReLU
// states shares most of its silent units (in delayed XOR about half the units are silent across a whole chunk), so
// the products below skip them for all rows at once. The scan is the instruction set's own (kernels_tiles.h
// nonzeroColumnsWith): as a plain loop here, built for the baseline ISA, it was 9 % of a paper-size bptt call's CPU.
int nonzeroColumns(const float* a, std::ptrdiff_t rows, int cols, std::ptrdiff_t lda, std::vector<int>& out) {
  if (int(out.size()) < cols) out.resize(cols);
  return floatKernels()->nonzeroColumns(a, rows, cols, lda, out.data());
}

// Panels of rows small enough that most of a panel's silent units are silent on all its rows.
constexpr std::ptrdiff_t kPanel = 48;

// call(r0, rows, ks, nk) for each panel of A's rows with the columns not zero on all of them.
template <class Call>
void forRowPanels(std::ptrdiff_t m, int k, const float* a, std::ptrdiff_t lda, Call&& call) {
  thread_local std::vector<int> ks;
  for (std::ptrdiff_t r0 = 0; r0 < m; r0 += kPanel) {
    const std::ptrdiff_t rows = std::min(kPanel, m - r0);
    const int nk = nonzeroColumns(a + r0 * lda, rows, k, lda, ks);
    call(r0, rows, ks.data(), nk);
  }
}
#endif

}  // namespace

template <typename Real>
void reluBits(std::ptrdiff_t rows, int n, const Real* a, std::ptrdiff_t lda, std::uint16_t* positive, std::uint16_t* any) {
#ifdef MODPROP_X86_SIMD
  if constexpr (std::is_same<Real, float>::value)
    if (const isa::Kernels* f = floatKernels()) return f->reluBits(rows, n, a, lda, positive, any);
#endif
  const int words = (n + 15) / 16;
  std::fill(positive, positive + rows * words, std::uint16_t(0));
  for (std::ptrdiff_t r = 0; r < rows; r++)
    for (int c = 0; c < n; c++) {
      const Real v = a[r * lda + c];
      if (v > Real(0)) positive[r * words + c / 16] = std::uint16_t(positive[r * words + c / 16] | (1u << (c % 16)));
      if (v != Real(0)) any[c / 16] = std::uint16_t(any[c / 16] | (1u << (c % 16)));
    }
}
template void reluBits<float>(std::ptrdiff_t, int, const float*, std::ptrdiff_t, std::uint16_t*, std::uint16_t*);
template void reluBits<double>(std::ptrdiff_t, int, const double*, std::ptrdiff_t, std::uint16_t*, std::uint16_t*);

template <typename Real>
void expandBits(std::ptrdiff_t rows, int n, const std::uint16_t* rowBits, const std::uint16_t* bits, Real* dst,
                std::ptrdiff_t ldd) {
#ifdef MODPROP_X86_SIMD
  if constexpr (std::is_same<Real, float>::value)
    if (const isa::Kernels* f = floatKernels()) return f->expandBits(rows, n, rowBits, bits, dst, ldd);
#endif
  const int words = (n + 15) / 16;
  for (std::ptrdiff_t r = 0; r < rows; r++) {
    int out = 0;
    for (int g = 0; g * 16 < n; g++)
      for (unsigned b = bits[g]; b != 0; b &= b - 1)
        dst[r * ldd + out++] = (rowBits[r * words + g] >> __builtin_ctz(b) & 1u) != 0 ? Real(1) : Real(0);
  }
}
template void expandBits<float>(std::ptrdiff_t, int, const std::uint16_t*, const std::uint16_t*, float*, std::ptrdiff_t);
template void expandBits<double>(std::ptrdiff_t, int, const std::uint16_t*, const std::uint16_t*, double*,
                                 std::ptrdiff_t);

Simd simdLevel() {
  static const Simd level = detectSimd();
  return level;
}

const char* simdName(Simd level) {
  switch (level) {
    case Simd::Avx512: return "avx512";
    case Simd::Avx2: return "avx2";
    default: return "scalar";
  }
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
  if (const isa::Kernels* f = floatKernels()) {
    forRowPanels(m, k, a, lda, [&](std::ptrdiff_t r0, std::ptrdiff_t rows, const int* ks, int nk) {
      f->matmul(rows, n, ks, nk, a + r0 * lda, lda, w, ldw, c + r0 * ldc, ldc, accumulate);
    });
    return;
  }
#endif
  matmulPlain(m, n, k, a, lda, w, ldw, c, ldc, accumulate);
}

namespace {

// body(b) for every panel b, split into contiguous ranges over the pool's threads when there is one.
template <typename F>
void forPanels(int panels, ThreadPool* pool, F&& body) {
  const int tasks = pool != nullptr ? std::min(pool->size(), panels) : 1;
  if (tasks <= 1) {
    for (int b = 0; b < panels; b++) body(b);
    return;
  }
  pool->parallelFor(tasks, [&](int t) {
    for (int b = panels * t / tasks; b < panels * (t + 1) / tasks; b++) body(b);
  });
}

}  // namespace

Retained<float> packPanels(const float* w, int k, int n, ThreadPool* pool) {
#ifdef MODPROP_X86_SIMD
  if (const isa::Kernels* f = floatKernels()) {
    const int p = f->panelWidth;
    const int panels = (n + p - 1) / p;
    Retained<float> out(std::size_t(panels) * p * k, Uninitialized{});  // every entry written below
    float* data = out.data();
    forPanels(panels, pool, [&](int b) {
      const int j = b * p, width = std::min(p, n - j);
      float* panel = data + std::ptrdiff_t(j) * k;  // block b starts at b·k·P = j·k
      for (int q = 0; q < k; q++) {
        float* row = panel + std::ptrdiff_t(q) * p;
        std::copy(w + std::ptrdiff_t(q) * n + j, w + std::ptrdiff_t(q) * n + j + width, row);
        std::fill(row + width, row + p, 0.0f);  // the last panel's padding
      }
    });
    return out;
  }
#endif
  (void)w, (void)k, (void)n, (void)pool;
  return {};
}

Retained<float> packPanelsTransposed(const float* w, int n, int k, ThreadPool* pool) {
#ifdef MODPROP_X86_SIMD
  if (const isa::Kernels* f = floatKernels()) {
    const int p = f->panelWidth;
    const int panels = (n + p - 1) / p;
    Retained<float> out(std::size_t(panels) * p * k, Uninitialized{});  // every entry written below
    constexpr int kRun = 64;  // floats of a row of W copied at a time: a p × kRun block of the panel stays in L1
    float* data = out.data();
    forPanels(panels, pool, [&](int b) {
      const int j = b * p, width = std::min(p, n - j);
      float* panel = data + std::ptrdiff_t(j) * k;
      for (int q0 = 0; q0 < k; q0 += kRun) {
        const int run = std::min(kRun, k - q0);
        for (int c = 0; c < width; c++) {
          const float* src = w + std::ptrdiff_t(j + c) * k + q0;
          float* dst = panel + std::ptrdiff_t(q0) * p + c;
          for (int q = 0; q < run; q++) dst[std::ptrdiff_t(q) * p] = src[q];
        }
        for (int q = 0; q < run && width < p; q++)  // the last panel's padding
          std::fill(panel + std::ptrdiff_t(q0 + q) * p + width, panel + std::ptrdiff_t(q0 + q) * p + p, 0.0f);
      }
    });
    return out;
  }
#endif
  (void)w, (void)n, (void)k, (void)pool;
  return {};
}

void matmulPanels(std::ptrdiff_t m, int n, int k, const float* a, std::ptrdiff_t lda, const float* panels, float* c,
                  std::ptrdiff_t ldc) {
#ifdef MODPROP_X86_SIMD
  if (const isa::Kernels* f = floatKernels()) {
    forRowPanels(m, k, a, lda, [&](std::ptrdiff_t r0, std::ptrdiff_t rows, const int* ks, int nk) {
      f->matmulPanels(rows, n, k, ks, nk, a + r0 * lda, lda, panels, c + r0 * ldc, ldc, false);
    });
    return;
  }
#endif
  (void)m, (void)n, (void)k, (void)a, (void)lda, (void)panels, (void)c, (void)ldc;
  throw std::logic_error("kernels::matmulPanels without SIMD kernels (packPanels returned nothing to use)");
}

bool fusedStep(const StepBlock& b) {
#ifdef MODPROP_X86_SIMD
  const isa::Kernels* f = floatKernels();
  if (f == nullptr) return false;
  thread_local std::vector<int> ks, inputs;
  if (int(inputs.size()) < b.nIn)
    for (int q = int(inputs.size()); q < b.nIn; q++) inputs.push_back(q);
  for (std::ptrdiff_t r0 = 0; r0 < b.rows; r0 += kPanel) {
    StepBlock panel = b;
    panel.rows = std::min(kPanel, b.rows - r0);
    panel.x += r0 * b.ldx;
    panel.v += r0 * b.ld;
    panel.z += r0 * b.ld;
    int nk = 0;
    if (b.zPrev != nullptr) {
      panel.zPrev += r0 * b.ldPrev;
      nk = nonzeroColumns(panel.zPrev, panel.rows, b.n, b.ldPrev, ks);
    }
    if (b.vPrev != nullptr) panel.vPrev += r0 * b.ldPrev;
    f->step(panel, ks.data(), nk, inputs.data());
  }
  return true;
#else
  (void)b;
  return false;
#endif
}

int columnBlockWidth() {
#ifdef MODPROP_X86_SIMD
  if (const isa::Kernels* f = floatKernels()) return f->panelWidth;
#endif
  return 0;
}

#ifdef MODPROP_X86_SIMD
namespace {

// One 48-row panel of one block, with the columns of its A that are not zero on all its rows.
struct PanelColumns {
  int block;
  std::ptrdiff_t r0, rows;
  int nk;
};

// The panels of every block, as forRowPanels and fusedStep cut them, with their index lists in `lists`.
template <class RowsOf>
void panelColumns(int count, int k, RowsOf&& rowsOf, std::vector<PanelColumns>& panels,
                  std::vector<std::vector<int>>& lists) {
  panels.clear();
  for (int i = 0; i < count; i++) {
    std::ptrdiff_t rows, lda;
    const float* a = rowsOf(i, rows, lda);
    for (std::ptrdiff_t r0 = 0; r0 < rows; r0 += kPanel) {
      const std::ptrdiff_t nr = std::min(kPanel, rows - r0);
      if (lists.size() <= panels.size()) lists.emplace_back();
      const int nk = a != nullptr ? nonzeroColumns(a + r0 * lda, nr, k, lda, lists[panels.size()]) : 0;
      panels.push_back({i, r0, nr, nk});
    }
  }
}

}  // namespace
#endif

void fusedStepColumns(const StepBlock* blocks, int count, int j0, int j1) {
#ifdef MODPROP_X86_SIMD
  if (const isa::Kernels* f = floatKernels()) {
    if (count == 0 || j0 >= j1) return;
    thread_local std::vector<PanelColumns> panels;
    thread_local std::vector<std::vector<int>> lists;
    thread_local std::vector<int> inputs;
    const int n = blocks[0].n, p = f->panelWidth;
    for (int q = int(inputs.size()); q < blocks[0].nIn; q++) inputs.push_back(q);
    panelColumns(
        count, n,
        [&](int i, std::ptrdiff_t& rows, std::ptrdiff_t& lda) {
          rows = blocks[i].rows;
          lda = blocks[i].ldPrev;
          return blocks[i].zPrev;
        },
        panels, lists);
    for (int jb = j0; jb < j1; jb += p)
      for (std::size_t i = 0; i < panels.size(); i++) {
        const PanelColumns& pc = panels[i];
        const StepBlock& b = blocks[pc.block];
        StepBlock panel = b;
        panel.rows = pc.rows;
        panel.x += pc.r0 * b.ldx;
        panel.v += pc.r0 * b.ld;
        panel.z += pc.r0 * b.ld;
        if (b.zPrev != nullptr) panel.zPrev += pc.r0 * b.ldPrev;
        if (b.vPrev != nullptr) panel.vPrev += pc.r0 * b.ldPrev;
        f->stepRange(panel, lists[i].data(), pc.nk, inputs.data(), jb, std::min(jb + p, j1));
      }
    return;
  }
#endif
  (void)blocks, (void)count, (void)j0, (void)j1;
  throw std::logic_error("kernels::fusedStepColumns without SIMD kernels (columnBlockWidth() is 0)");
}

void matmulColumns(const ProductRows* blocks, int count, int k, const float* w, std::ptrdiff_t ldw,
                   const float* panels, int j0, int j1) {
#ifdef MODPROP_X86_SIMD
  if (const isa::Kernels* f = floatKernels()) {
    if (count == 0 || j0 >= j1) return;
    thread_local std::vector<PanelColumns> rowPanels;
    thread_local std::vector<std::vector<int>> lists;
    const int p = f->panelWidth;
    panelColumns(
        count, k,
        [&](int i, std::ptrdiff_t& rows, std::ptrdiff_t& lda) {
          rows = blocks[i].rows;
          lda = blocks[i].lda;
          return blocks[i].a;
        },
        rowPanels, lists);
    for (int jb = j0; jb < j1; jb += p) {
      const int width = std::min(jb + p, j1) - jb;
      for (std::size_t i = 0; i < rowPanels.size(); i++) {
        const PanelColumns& pc = rowPanels[i];
        const ProductRows& b = blocks[pc.block];
        const float* a = b.a + pc.r0 * b.lda;
        float* c = b.c + pc.r0 * b.ldc + jb;
        if (panels != nullptr)
          f->matmulPanels(pc.rows, width, k, lists[i].data(), pc.nk, a, b.lda, panels + std::ptrdiff_t(jb) * k, c,
                          b.ldc, false);
        else
          f->matmul(pc.rows, width, lists[i].data(), pc.nk, a, b.lda, w + jb, ldw, c, b.ldc, false);
      }
    }
    return;
  }
#endif
  (void)blocks, (void)count, (void)k, (void)w, (void)ldw, (void)panels, (void)j0, (void)j1;
  throw std::logic_error("kernels::matmulColumns without SIMD kernels (columnBlockWidth() is 0)");
}

template <>
void matmulTransA<double>(std::ptrdiff_t rows, int n1, int n2, const double* a, std::ptrdiff_t lda, const double* g,
                          std::ptrdiff_t ldg, double* c, std::ptrdiff_t ldc) {
  matmulTransAPlain(rows, n1, n2, a, lda, g, ldg, c, ldc);
}

#ifdef MODPROP_X86_SIMD
namespace {

// From this many columns of A on, matmulTransA<float> runs each block of rows from copies of A and G whose rows are
// not a multiple of 4 KiB apart. At N = 1024, 2048, 4096 a tile's walk down 192 rows of A (and G) in place touches
// lines 4/8/16 KiB apart, which all fall into the same few cache sets, so every tile re-read them from L3 or DRAM.
// The copies hold the same numbers and the kernel is the same, so every sum is unchanged.
constexpr int kCopyMinColumns = 512;

void transACopied(const isa::Kernels* f, std::ptrdiff_t rows, int n1, int n2, const float* a, std::ptrdiff_t lda,
                  const float* g, std::ptrdiff_t ldg, float* c, std::ptrdiff_t ldc) {
  constexpr std::ptrdiff_t kBlock = 192;  // as in matmulTransA<float>
  constexpr int kSkew = 16;                // floats added to each copied row: a 64-byte shift per row
  const std::ptrdiff_t la = n1 + kSkew, lg = n2 + kSkew;
  thread_local std::vector<int> is;
  thread_local std::vector<float> ca, cg;
  ca.resize(std::size_t(kBlock * la));
  cg.resize(std::size_t(kBlock * lg));
  for (std::ptrdiff_t r0 = 0; r0 < rows; r0 += kBlock) {
    const std::ptrdiff_t nr = std::min(kBlock, rows - r0);
    const int nl = nonzeroColumns(a + r0 * lda, nr, n1, lda, is);
    if (nl == 0) continue;  // f->transA would add nothing
    for (std::ptrdiff_t r = 0; r < nr; r++) {
      std::copy(a + (r0 + r) * lda, a + (r0 + r) * lda + n1, ca.data() + r * la);
      std::copy(g + (r0 + r) * ldg, g + (r0 + r) * ldg + n2, cg.data() + r * lg);
    }
    f->transA(nr, n2, is.data(), nl, ca.data(), la, cg.data(), lg, c, ldc);
  }
}

}  // namespace
#endif

template <>
void matmulTransA<float>(std::ptrdiff_t rows, int n1, int n2, const float* a, std::ptrdiff_t lda, const float* g,
                         std::ptrdiff_t ldg, float* c, std::ptrdiff_t ldc) {
#ifdef MODPROP_X86_SIMD
  if (const isa::Kernels* f = floatKernels()) {
    // Blocks of rows small enough that the A and G panels stay in L1/L2 while every output tile passes over them.
    constexpr std::ptrdiff_t kBlock = 192;
    thread_local std::vector<int> is;
    if (n1 >= kCopyMinColumns) return transACopied(f, rows, n1, n2, a, lda, g, ldg, c, ldc);
    for (std::ptrdiff_t r0 = 0; r0 < rows; r0 += kBlock) {
      const std::ptrdiff_t nr = std::min(kBlock, rows - r0);
      const int nl = nonzeroColumns(a + r0 * lda, nr, n1, lda, is);
      f->transA(nr, n2, is.data(), nl, a + r0 * lda, lda, g + r0 * ldg, ldg, c, ldc);
    }
    return;
  }
#endif
  matmulTransAPlain(rows, n1, n2, a, lda, g, ldg, c, ldc);
}

}  // namespace kernels
}  // namespace modprop
