// Internal: the causal type filter of online ModProp (SPEC §4), one instance per batch chunk.
#pragma once
#include <cstddef>
#include <vector>

#include "rules.h"

namespace modprop {

// What the type filters (direct: ModpropFilter; modal: modprop_modal.h ModalFilter) share: onlineChunk writes ε_{t-1}
// (rows×N, [rows·N] order) to traceSlot() and ε^in_{t-1} (rows×I) to inputTraceSlot(), then calls advance(); the step
// is recorded and applied to the filter's state with up to kBlock − 1 others by flush(), one pass over the state per
// block rather than per step.
template <typename Real>
class BlockedTraces : public OnlineRule<Real> {
 public:
  Real* traceSlot() override { return pendingRec_.data() + pending_ * widthRec_; }
  Real* inputTraceSlot() override { return pendingIn_.data() + pending_ * widthIn_; }
  void advance() override {
    if (++pending_ == kBlock) flush();
  }

 protected:
  static constexpr int kBlock = 16;
  BlockedTraces(std::ptrdiff_t widthRec, std::ptrdiff_t widthIn)
      : widthRec_(widthRec), widthIn_(widthIn), pendingRec_(kBlock * widthRec, Real(0)),
        pendingIn_(kBlock * widthIn, Real(0)) {}
  virtual void flush() = 0;  // applies the pending_ recorded steps, then sets pending_ = 0

  std::ptrdiff_t widthRec_, widthIn_;          // rows·N and rows·I
  std::vector<Real> pendingRec_, pendingIn_;  // ε of the steps not yet applied, [kBlock][rows·N] and [kBlock][rows·I]
  std::ptrdiff_t pending_ = 0;
};

template <typename Real>
class ModpropFilter final : public BlockedTraces<Real> {
 public:
  // phi, psi: Φ and Ψ (C×C, row-major) from filterMatrices(). R_{p,t} = R_{p,t-1} Φ + ε_{p,t-1} I_C, for recurrent
  // and input presynaptic traces, from the steps BlockedTraces records.
  ModpropFilter(const Model<Real>& m, const FilterMatrices& filter, int rows);
  // A[p][d] += Σ_c R_{p,t}[d][c] M_{c,t} with M_{c,t} = Σ_{i of type c} ℓ_{i,t}; Ψ is applied once in finish().
  void accumulate(int rows, const Real* ell, const Real* delta) override;
  // dWrec[p][j] += Σ_d Ψ[type(j)][d] A[p][d] (and the same for dWin).
  void finish(Real* dWrec, Real* dWin) const override;

 private:
  using BlockedTraces<Real>::pending_;
  using BlockedTraces<Real>::pendingRec_;
  using BlockedTraces<Real>::pendingIn_;
  void flush() override;  // applies the recorded steps to R
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
  std::vector<Real> accRec_, accIn_;  // A before Ψ: [C][N] and [C][I]
  std::vector<Real> modulator_;       // M_c
};

}  // namespace modprop
