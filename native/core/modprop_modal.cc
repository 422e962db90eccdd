// See modprop_modal.h.
#include "modprop_modal.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels.h"

namespace modprop {

namespace {

// S_k ← λ_k S_k + ε_s for s = 0..steps-1 on lane block p of four consecutive eigenvalues k0..k0+3 (T: a vector of
// Real, or one Real): four independent recurrences share each load of ε (a step is mul, mul, sub, add: 12 cycles of
// latency, so one chain alone would leave the units idle). Lane-wise IEEE operations in a fixed order (no FMA:
// -ffp-contract=off), so every clone of the caller gives the same bits.
template <int G, typename T, typename Real>
inline void advanceModes(const Real* lre, const Real* lim, Real* const* re, Real* const* im, const Real* eps,
                         int steps, std::ptrdiff_t width, std::ptrdiff_t p) {
  T x[G], y[G];
#pragma GCC unroll 4
  for (int g = 0; g < G; g++) {
    std::memcpy(&x[g], re[g] + p, sizeof(T));
    std::memcpy(&y[g], im[g] + p, sizeof(T));
  }
  for (int s = 0; s < steps; s++) {
    T e;
    std::memcpy(&e, eps + std::ptrdiff_t(s) * width + p, sizeof(T));
#pragma GCC unroll 4
    for (int g = 0; g < G; g++) {
      const T nx = (x[g] * lre[g] - y[g] * lim[g]) + e;
      y[g] = x[g] * lim[g] + y[g] * lre[g];
      x[g] = nx;
    }
  }
#pragma GCC unroll 4
  for (int g = 0; g < G; g++) {
    std::memcpy(re[g] + p, &x[g], sizeof(T));
    std::memcpy(im[g] + p, &y[g], sizeof(T));
  }
}

template <int G, typename Real>
void advanceGroup(const Real* lre, const Real* lim, Real* const* re, Real* const* im, const Real* eps, int steps,
                  std::ptrdiff_t width) {
  typedef Real Vec __attribute__((vector_size(64)));
  constexpr std::ptrdiff_t L = 64 / sizeof(Real);
  std::ptrdiff_t p = 0;
  for (; p + L <= width; p += L) advanceModes<G, Vec>(lre, lim, re, im, eps, steps, width, p);
  for (; p < width; p++) advanceModes<G, Real>(lre, lim, re, im, eps, steps, width, p);
}

// All C modes, state [k][width] (re, im), eps [steps][width]. Compiled per instruction set as advanceAll in
// modprop_online.cc (the 64-byte vectors are SSE in a portable build otherwise).
template <typename Real>
#if defined(MODPROP_PORTABLE) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
__attribute__((target_clones("avx512f", "avx2", "default"), flatten))
#endif
void advanceModal(int c, const Real* lre, const Real* lim, Real* re, Real* im, const Real* eps, int steps,
                  std::ptrdiff_t width) {
  int k = 0;
  for (; k + 4 <= c; k += 4) {
    Real* r[4] = {re + k * width, re + (k + 1) * width, re + (k + 2) * width, re + (k + 3) * width};
    Real* i[4] = {im + k * width, im + (k + 1) * width, im + (k + 2) * width, im + (k + 3) * width};
    advanceGroup<4>(lre + k, lim + k, r, i, eps, steps, width);
  }
  for (; k < c; k++) {
    Real* r[1] = {re + k * width};
    Real* i[1] = {im + k * width};
    advanceGroup<1>(lre + k, lim + k, r, i, eps, steps, width);
  }
}

}  // namespace

ModalSetup modalSetup(const ModalForm& form, const std::vector<double>& psi) {
  ModalSetup out;
  out.modes = keptModes(form);
  out.condition = form.condition;
  const ModalModes& f = out.modes;
  const int c = f.c, q = f.modes;
  out.psiVre.assign(std::size_t(c) * q, 0.0);
  out.psiVim.assign(std::size_t(c) * q, 0.0);
  for (int t = 0; t < c; t++)
    for (int d = 0; d < c; d++) {
      const double w = psi[std::size_t(t) * c + d];
      if (w == 0) continue;
      for (int k = 0; k < q; k++) {
        out.psiVre[std::size_t(t) * q + k] += w * f.vre[std::size_t(d) * q + k];
        out.psiVim[std::size_t(t) * q + k] += w * f.vim[std::size_t(d) * q + k];
      }
    }
  for (int t = 0; t < c; t++)
    for (int k = 0; k < q; k++) {
      out.psiVre[std::size_t(t) * q + k] *= f.weight[k];
      out.psiVim[std::size_t(t) * q + k] *= f.weight[k];
    }
  return out;
}

template <typename Real, typename S>
ModalFilter<Real, S>::ModalFilter(const Model<Real>& m, const FilterMatrices& filter, int rows)
    : BlockedTraces<Real>(std::ptrdiff_t(rows) * m.d.nRec, std::ptrdiff_t(rows) * m.d.nIn), m_(m), c_(m.d.nTypes), rows_(rows) {
  const ModalSetup& setup = *filter.modal;
  const ModalModes& f = setup.modes;
  const int c = c_, q = modes_ = f.modes, n = m.d.nRec, nIn = m.d.nIn;
  const std::size_t cq = std::size_t(c) * q;
  lre_.assign(f.lre.begin(), f.lre.end());
  lim_.assign(f.lim.begin(), f.lim.end());
  winvTre_.resize(cq), winvTim_.resize(cq), psiVreT_.resize(cq), negPsiVimT_.resize(cq);
  for (int k = 0; k < q; k++)
    for (int d = 0; d < c; d++) {
      winvTre_[std::size_t(d) * q + k] = S(f.wre[std::size_t(k) * c + d]);
      winvTim_[std::size_t(d) * q + k] = S(f.wim[std::size_t(k) * c + d]);
    }
  for (int t = 0; t < c; t++)
    for (int k = 0; k < q; k++) {
      psiVreT_[std::size_t(k) * c + t] = S(setup.psiVre[std::size_t(t) * q + k]);
      negPsiVimT_[std::size_t(k) * c + t] = S(-setup.psiVim[std::size_t(t) * q + k]);
    }
  const std::size_t recStates = std::size_t(q) * rows * n, inStates = std::size_t(q) * rows * nIn;
  rec_re_.assign(recStates, S(0)), rec_im_.assign(recStates, S(0));
  in_re_.assign(inStates, S(0)), in_im_.assign(inStates, S(0));
  if (!std::is_same<Real, S>::value) widened_.resize(std::size_t(kBlock) * rows * std::max(n, nIn));
  accRecRe_.assign(std::size_t(q) * n, S(0)), accRecIm_.assign(std::size_t(q) * n, S(0));
  accInRe_.assign(std::size_t(q) * nIn, S(0)), accInIm_.assign(std::size_t(q) * nIn, S(0));
  modulator_.resize(std::size_t(rows) * c), mre_.resize(std::size_t(rows) * q), mim_.resize(std::size_t(rows) * q);
}

template <typename Real, typename S>
void ModalFilter<Real, S>::flush() {
  if (pending_ == 0) return;
  const std::ptrdiff_t wRec = this->widthRec_, wIn = this->widthIn_;
  const int steps = int(pending_);
  auto eps = [&](const std::vector<Real>& pending, std::ptrdiff_t width) -> const S* {
    if constexpr (std::is_same<Real, S>::value) {
      (void)width;
      return pending.data();
    } else {
      std::copy(pending.begin(), pending.begin() + steps * width, widened_.begin());
      return widened_.data();
    }
  };
  advanceModal(modes_, lre_.data(), lim_.data(), rec_re_.data(), rec_im_.data(), eps(pendingRec_, wRec), steps, wRec);
  advanceModal(modes_, lre_.data(), lim_.data(), in_re_.data(), in_im_.data(), eps(pendingIn_, wIn), steps, wIn);
  pending_ = 0;
}

// A'[k][p] += S[k][r][p] m'[k] (complex) for the presynaptic units p of row r.
template <typename Real, typename S>
void ModalFilter<Real, S>::accumulateOne(int r, const S* mre, const S* mim, const std::vector<S>& re,
                                         const std::vector<S>& im, int width, std::vector<S>& accRe,
                                         std::vector<S>& accIm) const {
  const std::ptrdiff_t stride = std::ptrdiff_t(rows_) * width;
  for (int k = 0; k < modes_; k++) {
    const S a = mre[k], b = mim[k];
    if (a == S(0) && b == S(0)) continue;
    const S* sr = re.data() + k * stride + std::ptrdiff_t(r) * width;
    const S* si = im.data() + k * stride + std::ptrdiff_t(r) * width;
    S* ar = accRe.data() + std::ptrdiff_t(k) * width;
    S* ai = accIm.data() + std::ptrdiff_t(k) * width;
    for (int p = 0; p < width; p++) {
      ar[p] += sr[p] * a - si[p] * b;
      ai[p] += sr[p] * b + si[p] * a;
    }
  }
}

template <typename Real, typename S>
void ModalFilter<Real, S>::accumulate(int rows, const Real* ell, const Real*) {
  flush();
  const int n = m_.d.nRec, nIn = m_.d.nIn, c = c_;
  std::fill(modulator_.begin(), modulator_.end(), S(0));
  for (int r = 0; r < rows; r++) {
    const Real* er = ell + std::ptrdiff_t(r) * n;
    S* mr = modulator_.data() + std::ptrdiff_t(r) * c;
    for (int i = 0; i < n; i++) mr[m_.types[i]] += er[i];
  }
  // m' = V⁻¹ M for every row and kept mode: (rows×C) @ (V⁻¹ of the kept modes)ᵀ.
  const int q = modes_;
  kernels::matmul<S>(rows, q, c, modulator_.data(), c, winvTre_.data(), q, mre_.data(), q, false);
  kernels::matmul<S>(rows, q, c, modulator_.data(), c, winvTim_.data(), q, mim_.data(), q, false);
  for (int r = 0; r < rows; r++) {
    const S* mre = mre_.data() + std::ptrdiff_t(r) * q;
    const S* mim = mim_.data() + std::ptrdiff_t(r) * q;
    accumulateOne(r, mre, mim, rec_re_, rec_im_, n, accRecRe_, accRecIm_);
    accumulateOne(r, mre, mim, in_re_, in_im_, nIn, accInRe_, accInIm_);
  }
}

// dW[p][j] += Re Σ_k weight_k (Ψ V)[type(j)][k] A'[k][p] over the kept modes (keptModes): the per-type values as
// two products, then one pass over dW.
template <typename Real, typename S>
void ModalFilter<Real, S>::expand(const std::vector<S>& accRe, const std::vector<S>& accIm, int width,
                                  Real* dW) const {
  const int c = c_, n = m_.d.nRec;
  // perType[p][t] = Σ_k A're[k][p] (ΨV)re[t][k] − A'im[k][p] (ΨV)im[t][k], unit-major so that the pass over dW
  // reads one row of it per presynaptic unit.
  std::vector<S> perType(std::size_t(width) * c, S(0));
  kernels::matmulTransA<S>(modes_, width, c, accRe.data(), width, psiVreT_.data(), c, perType.data(), c);
  kernels::matmulTransA<S>(modes_, width, c, accIm.data(), width, negPsiVimT_.data(), c, perType.data(), c);
  for (int p = 0; p < width; p++) {
    const S* pt = perType.data() + std::ptrdiff_t(p) * c;
    Real* row = dW + std::ptrdiff_t(p) * n;
    for (int j = 0; j < n; j++) row[j] += Real(pt[m_.types[j]]);
  }
}

template <typename Real, typename S>
void ModalFilter<Real, S>::finish(Real* dWrec, Real* dWin) const {
  expand(accRecRe_, accRecIm_, m_.d.nRec, dWrec);
  expand(accInRe_, accInIm_, m_.d.nIn, dWin);
}

template class ModalFilter<float, float>;
template class ModalFilter<float, double>;
template class ModalFilter<double, double>;

}  // namespace modprop
