// Internal: the recurrent products over a sparse connectivity mask (issue 13 goal 4, lib/connectivity.ts). Taken only
// when the caller passes the mask (ModelView::mask; the TypeScript side decides, lib/connectivity.ts
// sparseKernelsFor), so a dense network never reaches this file.
//
// Wrec is kept twice, by presynaptic row (CSR: the entries of row p) and by postsynaptic column (CSC), built once per
// call. Every product is a gather over the mask entries of one output, on a tile of kTileRows batch rows transposed
// so that the rows are contiguous: each mask entry is one vector operation over the tile, the sums run over the
// entries in ascending index order, and no output is written by two threads (the threads split the batch, as for the
// dense products).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace modprop {

template <typename Real>
struct SparseWrec {
  int n = 0;
  std::vector<int32_t> rowStart, rowPost;  // CSR: the entries of presynaptic unit p are rowStart[p]..rowStart[p+1]
  std::vector<Real> rowWeight;             // Wrec[p][rowPost[k]]
  std::vector<int32_t> colStart, colPre;   // CSC: the entries of postsynaptic unit j
  std::vector<Real> colWeight;             // Wrec[colPre[k]][j]
};

// The mask (n×n bytes, row = presynaptic, non-zero = kept) and the weights at its entries; the diagonal is never kept.
template <typename Real>
SparseWrec<Real> sparseWrec(const uint8_t* mask, const Real* wrec, int n);

// out = a @ Wrec (forward: v[r][j] = Σ_p a[r][p] Wrec[p][j]), rows×n, row strides lda and ldc; overwrites out.
template <typename Real>
void sparseProduct(const SparseWrec<Real>& s, std::ptrdiff_t rows, const Real* a, std::ptrdiff_t lda, Real* out,
                   std::ptrdiff_t ldc);

// out = h @ Wrecᵀ (out[r][p] = Σ_j h[r][j] Wrec[p][j]), rows×n, row strides ldh and ldc; overwrites out.
template <typename Real>
void sparseTransposeProduct(const SparseWrec<Real>& s, std::ptrdiff_t rows, const Real* h, std::ptrdiff_t ldh, Real* out,
                            std::ptrdiff_t ldc);

// c[p][j] += Σ_r a[r][p] g[r][j] at the mask entries only (c: n×n row-major; other entries untouched): the Wrec
// gradient as a sum of outer products, over `rows` rows of a and g (row strides lda, ldg).
template <typename Real>
void sparseTransA(const SparseWrec<Real>& s, std::ptrdiff_t rows, const Real* a, std::ptrdiff_t lda, const Real* g,
                  std::ptrdiff_t ldg, Real* c);

}  // namespace modprop
