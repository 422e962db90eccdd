// SPEC §4, online ModProp with type feedback: a causal, time-invariant filter over the presynaptic traces.
//   U: N×C type indicator, n_c type sizes, Ω[c][d] = mean of Wrec over block (c, d),
//   Φ = α I_C + μ(1-α) diag(n) Ω,   Ψ = μ(1-α) Ω
//   per presynaptic unit p, before ε advances:  R_{p,t} = R_{p,t-1} Φ + ε_{p,t-1} I_C,   R_{p,0} = 0
//   M_{c,t} = Σ_{i of type c} ℓ_{i,t}
//   dWrec[p][j] = Σ_t ℓ_{j,t} ε_{p,t}  +  Σ_t Σ_c M_{c,t} (Ψ R_{p,t})[type(j)][c]
// and the same for Win with ε^in and R^in. The first term is online e-prop (eprop_online.cc); this file adds the
// second through the N×C accumulator A[p][a] = Σ_t Σ_c M_{c,t} (Ψ R_{p,t})[a][c], expanded once at the end.
// Ψ is constant, so A is accumulated before Ψ and multiplied once. Memory is independent of T; when ℓ_t = 0
// (xent-last, t < T) only R advances, at O(N·C³) per sequence and step. Equals offline modprop (feedback 'type').
#include "modprop_online.h"

#include <algorithm>

namespace modprop {

namespace {

// next[a][c][·] = Σ_d r[a][d][·] Φ[d][c] + [a = c] eps[·]; C as a template parameter lets the d loop unroll.
template <int C, typename Real>
void advanceFixed(const Real* r, const Real* phi, const Real* eps, std::ptrdiff_t width, Real* next) {
  for (int a = 0; a < C; a++)
    for (int c = 0; c < C; c++) {
      Real f[C];
      const Real* in[C];
      for (int d = 0; d < C; d++) {
        f[d] = phi[d * C + c];
        in[d] = r + (std::ptrdiff_t(a) * C + d) * width;
      }
      Real* out = next + (std::ptrdiff_t(a) * C + c) * width;
      if (a == c)
        for (std::ptrdiff_t p = 0; p < width; p++) {
          Real s = eps[p];
          for (int d = 0; d < C; d++) s += in[d][p] * f[d];
          out[p] = s;
        }
      else
        for (std::ptrdiff_t p = 0; p < width; p++) {
          Real s = 0;
          for (int d = 0; d < C; d++) s += in[d][p] * f[d];
          out[p] = s;
        }
    }
}

template <typename Real>
void advanceAny(int c, const Real* r, const Real* phi, const Real* eps, std::ptrdiff_t width, Real* next) {
  for (int a = 0; a < c; a++)
    for (int col = 0; col < c; col++) {
      Real* out = next + (std::ptrdiff_t(a) * c + col) * width;
      if (a == col)
        std::copy(eps, eps + width, out);
      else
        std::fill(out, out + width, Real(0));
      for (int d = 0; d < c; d++) {
        const Real f = phi[d * c + col];
        const Real* in = r + (std::ptrdiff_t(a) * c + d) * width;
        for (std::ptrdiff_t p = 0; p < width; p++) out[p] += in[p] * f;
      }
    }
}

template <typename Real>
void advanceAll(int c, const Real* r, const Real* phi, const Real* eps, std::ptrdiff_t width, Real* next) {
  switch (c) {
    case 1: return advanceFixed<1>(r, phi, eps, width, next);
    case 2: return advanceFixed<2>(r, phi, eps, width, next);
    case 3: return advanceFixed<3>(r, phi, eps, width, next);
    case 4: return advanceFixed<4>(r, phi, eps, width, next);
    default: return advanceAny(c, r, phi, eps, width, next);
  }
}

}  // namespace

template <typename Real>
ModpropFilter<Real>::ModpropFilter(const Model<Real>& m, const TypeFilter& filter, int rows)
    : m_(m), c_(m.d.nTypes), phi_(filter.phi.begin(), filter.phi.end()), psi_(filter.psi), rows_(rows) {
  const std::size_t cc = std::size_t(c_) * c_;
  rec_.assign(cc * rows * m.d.nRec, Real(0));
  recNext_.assign(rec_.size(), Real(0));
  in_.assign(cc * rows * m.d.nIn, Real(0));
  inNext_.assign(in_.size(), Real(0));
  accRec_.assign(std::size_t(c_) * m.d.nRec, Real(0));
  accIn_.assign(std::size_t(c_) * m.d.nIn, Real(0));
  modulator_.assign(c_, Real(0));
}

template <typename Real>
void ModpropFilter<Real>::advance(int rows, const Real* eps, const Real* epsIn) {
  // eps (rows×N) and epsIn (rows×I) are contiguous, exactly the [rows·N] and [rows·I] slices of R.
  advanceAll(c_, rec_.data(), phi_.data(), eps, std::ptrdiff_t(rows) * m_.d.nRec, recNext_.data());
  advanceAll(c_, in_.data(), phi_.data(), epsIn, std::ptrdiff_t(rows) * m_.d.nIn, inNext_.data());
  rec_.swap(recNext_);
  in_.swap(inNext_);
}

template <typename Real>
void ModpropFilter<Real>::accumulateOne(const Real* r, std::ptrdiff_t stride, int width, Real* a) {
  const int c = c_;
  for (int d = 0; d < c; d++) {
    Real* ad = a + std::ptrdiff_t(d) * width;
    for (int col = 0; col < c; col++) {
      const Real mc = modulator_[col];
      if (mc == Real(0)) continue;
      const Real* rdc = r + (std::ptrdiff_t(d) * c + col) * stride;
      for (int p = 0; p < width; p++) ad[p] += rdc[p] * mc;
    }
  }
}

template <typename Real>
void ModpropFilter<Real>::accumulate(int rows, const Real* ell) {
  const int n = m_.d.nRec, nIn = m_.d.nIn;
  for (int r = 0; r < rows; r++) {
    const Real* er = ell + std::ptrdiff_t(r) * n;
    std::fill(modulator_.begin(), modulator_.end(), Real(0));
    for (int i = 0; i < n; i++) modulator_[m_.types[i]] += er[i];
    accumulateOne(rec_.data() + std::ptrdiff_t(r) * n, std::ptrdiff_t(rows_) * n, n, accRec_.data());
    accumulateOne(in_.data() + std::ptrdiff_t(r) * nIn, std::ptrdiff_t(rows_) * nIn, nIn, accIn_.data());
  }
}

template <typename Real>
void ModpropFilter<Real>::expand(const Real* a, int width, Real* dW) const {
  const int c = c_, n = m_.d.nRec;
  std::vector<Real> perType(c);
  for (int p = 0; p < width; p++) {
    for (int t = 0; t < c; t++) {
      double s = 0;
      for (int d = 0; d < c; d++) s += psi_[t * c + d] * double(a[std::ptrdiff_t(d) * width + p]);
      perType[t] = Real(s);
    }
    Real* row = dW + std::ptrdiff_t(p) * n;
    for (int j = 0; j < n; j++) row[j] += perType[m_.types[j]];
  }
}

template <typename Real>
void ModpropFilter<Real>::finish(Real* dWrec, Real* dWin) const {
  expand(accRec_.data(), m_.d.nRec, dWrec);
  expand(accIn_.data(), m_.d.nIn, dWin);
}

template class ModpropFilter<float>;
template class ModpropFilter<double>;

}  // namespace modprop
