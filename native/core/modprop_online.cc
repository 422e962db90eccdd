// SPEC §4, online ModProp with type feedback: a causal, time-invariant filter over the presynaptic traces.
//   U: N×C type indicator, n_c type sizes, Ω[c][d] = mean of Wrec over block (c, d),
//   Φ = α I_C + μ(1-α) diag(n) Ω,   Ψ = μ(1-α) Ω
//   per presynaptic unit p, before ε advances:  R_{p,t} = R_{p,t-1} Φ + ε_{p,t-1} I_C,   R_{p,0} = 0
//   M_{c,t} = Σ_{i of type c} ℓ_{i,t}
//   dWrec[p][j] = Σ_t ℓ_{j,t} ε_{p,t}  +  Σ_t Σ_c M_{c,t} (Ψ R_{p,t})[type(j)][c]
// and the same for Win with ε^in and R^in. The first term is online e-prop (eprop_online.cc); this file adds the
// second through the N×C accumulator A[p][a] = Σ_t Σ_c M_{c,t} (Ψ R_{p,t})[a][c], expanded once at the end.
// Ψ is constant, so A is accumulated before Ψ and multiplied once. Memory is independent of T; when ℓ_t = 0
// (xent-last, t < T) only R advances, at O(N·C³) per sequence and step, in blocks of up to kBlock steps (the ε of
// the pending steps are kept until then). Equals offline modprop (feedback 'type').
#include "modprop_online.h"

#include <algorithm>
#include <cstring>

namespace modprop {

namespace {

// Applies `steps` recorded steps in place, r[a][c][·] ← Σ_d r[a][d][·] Φ[d][c] + [a = c] eps_s[·] for s = 0, 1, …,
// with eps_s at eps + s·width. R is read and written once per block of steps instead of once per step: R of a
// 16-row chunk is 30 kB (N = 120, C = 2), and streaming it through L2 every step cost as much as a third of the
// forward product. Each element goes through the same operations in the same order as step by step.
// The steps for G consecutive units of type T (a vector of Real, or one Real) from element p of row a. Each step
// depends on the previous one, so G independent recurrences run interleaved to hide the FMA latency.
template <int C, int G, typename T, typename Real>
inline void advanceUnits(int a, Real* const* row, const Real (&f)[C][C], const Real* eps, int steps,
                         std::ptrdiff_t width, std::ptrdiff_t p) {
  constexpr std::ptrdiff_t L = sizeof(T) / sizeof(Real);
  T cur[C][G];
#pragma GCC unroll 4
  for (int d = 0; d < C; d++)
#pragma GCC unroll 8
    for (int g = 0; g < G; g++) std::memcpy(&cur[d][g], row[d] + p + g * L, sizeof(T));
  for (int s = 0; s < steps; s++) {
    const Real* e = eps + std::ptrdiff_t(s) * width + p;
#pragma GCC unroll 8
    for (int g = 0; g < G; g++) {
      T eg;
      std::memcpy(&eg, e + g * L, sizeof(T));
      T next[C];
#pragma GCC unroll 4
      for (int c = 0; c < C; c++) {
        T v = a == c ? eg : T{};
#pragma GCC unroll 4
        for (int d = 0; d < C; d++) v += cur[d][g] * f[d][c];
        next[c] = v;
      }
#pragma GCC unroll 4
      for (int c = 0; c < C; c++) cur[c][g] = next[c];
    }
  }
#pragma GCC unroll 4
  for (int d = 0; d < C; d++)
#pragma GCC unroll 8
    for (int g = 0; g < G; g++) std::memcpy(row[d] + p + g * L, &cur[d][g], sizeof(T));
}

template <int C, typename Real>
void advanceFixed(int groups, Real* r, const Real* phi, const Real* eps, int steps, std::ptrdiff_t width) {
  // GCC vector extensions: 64-byte vectors kept in registers across the steps (AVX-512 with -march=native, pairs or
  // quartets of narrower registers otherwise).
  typedef Real Vec __attribute__((vector_size(64)));
  constexpr std::ptrdiff_t L = 64 / sizeof(Real);
  constexpr int G = C <= 2 ? 8 / C : 2;
  Real f[C][C];
  for (int d = 0; d < C; d++)
    for (int c = 0; c < C; c++) f[d][c] = phi[d * C + c];
  for (int a = 0; a < groups; a++) {
    Real* row[C];
    for (int d = 0; d < C; d++) row[d] = r + (std::ptrdiff_t(a) * C + d) * width;
    std::ptrdiff_t p = 0;
    for (; p + G * L <= width; p += G * L) advanceUnits<C, G, Vec>(a, row, f, eps, steps, width, p);
    for (; p + L <= width; p += L) advanceUnits<C, 1, Vec>(a, row, f, eps, steps, width, p);
    for (; p < width; p++) advanceUnits<C, 1, Real>(a, row, f, eps, steps, width, p);
  }
}

// Any C: the same recurrence for one lane block of units (T = a vector of Real, or one Real) with the c states of
// row a in `cur` (L1-resident scratch of 2c lanes); outputs in groups of four share each load of cur[d]. Every
// element goes through the operations of the step-by-step form in the same order (d ascending), so the result does
// not depend on the blocking. Vectorising across units is what makes C > 4 usable: the former scalar loop strode
// through R by `width` per state and ran C = 16 at about a tenth of this speed.
template <typename T, typename Real>
inline void advanceLanes(int c, int a, Real* r, const Real* phi, const Real* eps, int steps, std::ptrdiff_t width,
                         std::ptrdiff_t p, T* cur, T* next) {
  Real* row = r + std::ptrdiff_t(a) * c * width + p;
  for (int d = 0; d < c; d++) std::memcpy(&cur[d], row + std::ptrdiff_t(d) * width, sizeof(T));
  for (int s = 0; s < steps; s++) {
    T e;
    std::memcpy(&e, eps + std::ptrdiff_t(s) * width + p, sizeof(T));
    int col = 0;
    for (; col + 4 <= c; col += 4) {
      T v0 = a == col ? e : T{}, v1 = a == col + 1 ? e : T{}, v2 = a == col + 2 ? e : T{}, v3 = a == col + 3 ? e : T{};
      const Real* f = phi + col;
      for (int d = 0; d < c; d++, f += c) {
        const T x = cur[d];
        v0 += x * f[0];
        v1 += x * f[1];
        v2 += x * f[2];
        v3 += x * f[3];
      }
      next[col] = v0;
      next[col + 1] = v1;
      next[col + 2] = v2;
      next[col + 3] = v3;
    }
    for (; col < c; col++) {
      T v = a == col ? e : T{};
      for (int d = 0; d < c; d++) v += cur[d] * phi[std::ptrdiff_t(d) * c + col];
      next[col] = v;
    }
    std::swap(cur, next);
  }
  for (int d = 0; d < c; d++) std::memcpy(row + std::ptrdiff_t(d) * width, &cur[d], sizeof(T));
}

template <typename Real>
void advanceAny(int c, Real* r, const Real* phi, const Real* eps, int steps, std::ptrdiff_t width) {
  typedef Real Vec __attribute__((vector_size(64)));
  constexpr std::ptrdiff_t L = 64 / sizeof(Real);
  // Raw new[]: a std::vector<Vec> would drop the vector attribute (GCC ignores it in template arguments).
  Vec* lanes = new Vec[2 * std::size_t(c)];
  std::vector<Real> scalars(2 * std::size_t(c));
  for (int a = 0; a < c; a++) {
    std::ptrdiff_t p = 0;
    for (; p + L <= width; p += L) advanceLanes<Vec>(c, a, r, phi, eps, steps, width, p, lanes, lanes + c);
    for (; p < width; p++) advanceLanes<Real>(c, a, r, phi, eps, steps, width, p, scalars.data(), scalars.data() + c);
  }
  delete[] lanes;
}

// `groups` independent rows of c states each, state ← state F + eps e_a for row a (F = phi, c×c).
// The filter's 64-byte vectors are lowered to SSE in a portable (x86-64-v2) build, which made online ModProp about
// 1.3× slower than with -march=native; GCC's target_clones compiles this function, with everything it calls inlined
// (flatten), also for AVX2 and AVX-512 and picks one at load (ifunc, hence glibc only). Every element still goes
// through the same operations in the same order (no FMA contraction: -ffp-contract=off), so all clones agree bit
// for bit.
template <typename Real>
#if defined(MODPROP_PORTABLE) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
__attribute__((target_clones("avx512f", "avx2", "default"), flatten))
#endif
void advanceAll(int c, int groups, Real* r, const Real* phi, const Real* eps, int steps, std::ptrdiff_t width) {
  switch (c) {
    case 1: return advanceFixed<1>(groups, r, phi, eps, steps, width);
    case 2: return advanceFixed<2>(groups, r, phi, eps, steps, width);
    case 3: return advanceFixed<3>(groups, r, phi, eps, steps, width);
    case 4: return advanceFixed<4>(groups, r, phi, eps, steps, width);
    default: return advanceAny(c, r, phi, eps, steps, width);  // groups == c here
  }
}

// Two types: R is a polynomial in Φ (R_t = Σ_s ε_s Φ^{t-1-s}), hence R = c0 I + c1 D with D = Φ − αI (Cayley–Hamilton:
// D² = τD − δI, τ = tr D, δ = det D), and RΦ + εI gives c0 ← α c0 − δ c1 + ε, c1 ← c0 + (α + τ) c1: two states per
// element instead of four. D (rather than Φ ≈ αI) as the second basis matrix keeps the two terms from cancelling.
struct PairForm {
  double d[4];       // D, row-major
  double update[4];  // F with (c0, c1) ← (c0, c1) F + (ε, 0)
};

PairForm pairForm(const std::vector<double>& phi, double alpha) {
  PairForm f;
  for (int i = 0; i < 4; i++) f.d[i] = phi[i] - (i == 0 || i == 3 ? alpha : 0.0);
  const double tau = f.d[0] + f.d[3], delta = f.d[0] * f.d[3] - f.d[1] * f.d[2];
  f.update[0] = alpha;          // c0 → c0
  f.update[1] = 1.0;            // c0 → c1
  f.update[2] = -delta;         // c1 → c0
  f.update[3] = alpha + tau;    // c1 → c1
  return f;
}

}  // namespace

template <typename Real>
ModpropFilter<Real>::ModpropFilter(const Model<Real>& m, const FilterMatrices& filter, int rows)
    : BlockedTraces<Real>(std::ptrdiff_t(rows) * m.d.nRec, std::ptrdiff_t(rows) * m.d.nIn), m_(m), c_(m.d.nTypes), psi_(filter.psi), rows_(rows) {
  if (c_ == 2) {
    const PairForm f = pairForm(filter.phi, m.alpha);
    groups_ = 1;
    update_.assign(f.update, f.update + 4);
    d_.assign(f.d, f.d + 4);
  } else {
    groups_ = c_;
    update_.assign(filter.phi.begin(), filter.phi.end());
  }
  const std::size_t states = std::size_t(groups_) * c_;
  rec_.assign(states * rows * m.d.nRec, Real(0));
  in_.assign(states * rows * m.d.nIn, Real(0));
  accRec_.assign(std::size_t(c_) * m.d.nRec, Real(0));
  accIn_.assign(std::size_t(c_) * m.d.nIn, Real(0));
  modulator_.assign(c_, Real(0));
  weights_.assign(states * c_, Real(0));
}

template <typename Real>
void ModpropFilter<Real>::flush() {
  if (pending_ == 0) return;
  const int c = c_, g = groups_;
  advanceAll(c, g, rec_.data(), update_.data(), pendingRec_.data(), int(pending_), this->widthRec_);
  advanceAll(c, g, in_.data(), update_.data(), pendingIn_.data(), int(pending_), this->widthIn_);
  pending_ = 0;
}

template <typename Real>
void ModpropFilter<Real>::accumulateOne(const Real* r, std::ptrdiff_t stride, int width, Real* a) {
  const int c = c_, states = groups_ * c_;
  for (int d = 0; d < c; d++) {
    Real* ad = a + std::ptrdiff_t(d) * width;
    for (int k = 0; k < states; k++) {
      const Real w = weights_[std::size_t(d) * states + k];
      if (w == Real(0)) continue;
      const Real* rk = r + std::ptrdiff_t(k) * stride;
      for (int p = 0; p < width; p++) ad[p] += rk[p] * w;
    }
  }
}

template <typename Real>
void ModpropFilter<Real>::accumulate(int rows, const Real* ell, const Real*) {
  flush();
  const int n = m_.d.nRec, nIn = m_.d.nIn, c = c_, states = groups_ * c_;
  for (int r = 0; r < rows; r++) {
    const Real* er = ell + std::ptrdiff_t(r) * n;
    std::fill(modulator_.begin(), modulator_.end(), Real(0));
    for (int i = 0; i < n; i++) modulator_[m_.types[i]] += er[i];
    // A[p][d] += Σ_k state_k[p] weights[d][k], so that Σ_k state_k weights[d][k] = Σ_c R[d][c] M_c.
    if (groups_ == 1 && c == 2) {  // R = c0 I + c1 D: weights[d] = (M_d, (D M)_d)
      for (int d = 0; d < 2; d++) {
        weights_[std::size_t(d) * 2] = modulator_[d];
        weights_[std::size_t(d) * 2 + 1] = Real(d_[d * 2] * modulator_[0] + d_[d * 2 + 1] * modulator_[1]);
      }
    } else {  // state (d, c) is R[d][c]
      std::fill(weights_.begin(), weights_.end(), Real(0));
      for (int d = 0; d < c; d++)
        for (int col = 0; col < c; col++) weights_[std::size_t(d) * states + d * c + col] = modulator_[col];
    }
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
