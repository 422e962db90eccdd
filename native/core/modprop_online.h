// Internal: the causal type filter of online ModProp (SPEC §4), one instance per batch chunk.
#pragma once
#include <vector>

#include "rules.h"

namespace modprop {

template <typename Real>
class ModpropFilter final : public OnlineRule<Real> {
 public:
  // phi, psi: Φ and Ψ (C×C, row-major) from filterMatrices().
  ModpropFilter(const Model<Real>& m, const FilterMatrices& filter, int rows);
  // R_{p,t} = R_{p,t-1} Φ + ε_{p,t-1} I_C, for recurrent and input presynaptic traces: write ε_{t-1} (rows×N, the
  // [rows·N] slice order of R) to traceSlot() and ε^in_{t-1} (rows×I) to inputTraceSlot(), then call advance(). The
  // step is recorded and applied to R with up to kBlock − 1 others (flush).
  Real* traceSlot() override;
  Real* inputTraceSlot() override;
  void advance() override;
  // A[p][d] += Σ_c R_{p,t}[d][c] M_{c,t} with M_{c,t} = Σ_{i of type c} ℓ_{i,t}; Ψ is applied once in finish().
  void accumulate(int rows, const Real* ell, const Real* delta) override;
  // dWrec[p][j] += Σ_d Ψ[type(j)][d] A[p][d] (and the same for dWin).
  void finish(Real* dWrec, Real* dWin) const override;

 private:
  static constexpr int kBlock = 16;
  void flush();  // applies the recorded steps to R
  void accumulateOne(const Real* r, std::ptrdiff_t stride, int width, Real* a);
  void expand(const Real* a, int width, Real* dW) const;

  const Model<Real>& m_;
  int c_;
  std::vector<double> psi_;
  int rows_;
  // R is stored as groups_ rows of C states that each follow state ← state F + ε e_row (F = update_): for C = 2 one
  // row (c0, c1) with R = c0 I + c1 D (D = d_, see PairForm in modprop_online.cc), otherwise the C rows of R with
  // F = Φ. Every sequence of the chunk at once, [groups][C][rows·N] and [groups][C][rows·I]: F is shared, so one
  // step is a few long vector operations over (sequence, presynaptic unit), updated in place.
  int groups_ = 0;
  std::vector<Real> update_;
  std::vector<double> d_;
  std::vector<Real> weights_;  // per accumulation: [C][states], see accumulate()
  std::vector<Real> rec_, in_;
  std::vector<Real> pendingRec_, pendingIn_;  // ε of the steps not yet applied, [kBlock][rows·N] and [kBlock][rows·I]
  int pending_ = 0;
  std::vector<Real> accRec_, accIn_;  // A before Ψ: [C][N] and [C][I]
  std::vector<Real> modulator_;       // M_c
};

}  // namespace modprop
