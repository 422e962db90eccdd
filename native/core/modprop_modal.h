// Internal: online ModProp with type feedback in the eigenbasis of Φ (the modal form), for many cell types.
//
// modprop_online.cc keeps R_{p,t} = Σ_{s<t} ε_{p,s} Φ^{t-1-s} (C×C per sequence and presynaptic unit p) and costs
// O(C³) per unit and step. R is a polynomial in Φ, so with Φ = V Λ V⁻¹ (modal.h) it is R_{p,t} = V S_{p,t} V⁻¹ with
// S diagonal: S_{p,t}[k] = Σ_{s<t} ε_{p,s} λ_k^{t-1-s}, advanced as S ← λ S + ε, C complex numbers per unit and
// O(C) per step. The accumulation Σ_c R_{p,t}[d][c] M_{c,t} is V (S_{p,t} ⊙ V⁻¹ M_t), so A' = Σ_t S_{p,t} ⊙ m'_t with
// m'_t = V⁻¹ M_t, and finish() adds dWrec[p][j] += Re Σ_k (Ψ V)[type(j)][k] A'[k][p]. Φ is real, so conjugate
// eigenvalues give conjugate terms: one mode per pair is kept at weight 2 (modal.h keptModes), half the states. The
// result equals the direct form up to rounding, amplified at most by the condition number of V (the caller refuses
// ill-conditioned V).
#pragma once
#include <memory>
#include <vector>

#include "modal.h"
#include "modprop_online.h"
#include "rules.h"

namespace modprop {

// The modal form runs from this many types (C ≤ 4 keep the direct form's fixed-size code). Rounding in its states is
// amplified by at most the condition number κ of V (‖V‖‖V⁻¹‖): a float call keeps them in float up to
// kModalFloatCondition and in double up to kModalMaxCondition, beyond which the direct form runs (or is refused by
// its cost). The bound is pessimistic: float states gave gradients within 4e-6 (relative) of the offline rule at
// N = C = 120 and 5e-7 at N = C = 512 with κ ≈ 3e6 (Dale's-law networks, one type per unit; random Wrec without
// Dale's law: κ ≈ 10³–10⁴).
constexpr int kModalMinTypes = 5;
constexpr double kModalFloatCondition = 1e6;
constexpr double kModalMaxCondition = 1e10;

// What every chunk's ModalFilter reads, computed once per call (gradients.cc stableFilter): Φ's kept modes and
// weight_k · (Ψ V)[t][k] (C×modes), the product that turns the accumulated A' into per-type values.
struct ModalSetup {
  ModalModes modes;
  std::vector<double> psiVre, psiVim;
  double condition = 0;  // of V (ModalForm::condition): float states up to kModalFloatCondition
};
ModalSetup modalSetup(const ModalForm& f, const std::vector<double>& psi);

// Real: the call's precision (ε, ℓ and the gradients); S: the precision of the modal states and sums.
template <typename Real, typename S>
class ModalFilter final : public BlockedTraces<Real> {
 public:
  ModalFilter(const Model<Real>& m, const FilterMatrices& filter, int rows);
  void accumulate(int rows, const Real* ell, const Real* delta) override;
  void finish(Real* dWrec, Real* dWin) const override;

 private:
  using BlockedTraces<Real>::pending_;
  using BlockedTraces<Real>::pendingRec_;
  using BlockedTraces<Real>::pendingIn_;
  using BlockedTraces<Real>::kBlock;
  void flush() override;
  void accumulateOne(int r, const S* mre, const S* mim, const std::vector<S>& re, const std::vector<S>& im, int width,
                     std::vector<S>& accRe, std::vector<S>& accIm) const;
  void expand(const std::vector<S>& accRe, const std::vector<S>& accIm, int width, Real* dW) const;

  const Model<Real>& m_;
  int c_, rows_;
  int modes_ = 0;                            // kept modes (keptModes: one per conjugate pair), ≤ C
  std::vector<S> lre_, lim_;                 // λ_k of the kept modes
  std::vector<S> winvTre_, winvTim_;         // (V⁻¹)ᵀ of the kept modes, C×modes: m' = M V⁻¹ᵀ for all rows at once
  std::vector<S> psiVreT_, negPsiVimT_;      // weight · (Ψ V)ᵀ, modes×C: Re and −Im
  std::vector<S> rec_re_, rec_im_, in_re_, in_im_;  // S: [modes][rows·N] and [modes][rows·I]
  std::vector<S> widened_;                          // the pending ε in S (S ≠ Real)
  std::vector<S> accRecRe_, accRecIm_, accInRe_, accInIm_;  // A': [modes][N] and [modes][I]
  std::vector<S> modulator_, mre_, mim_;                    // M (rows×C), m' (rows×modes)
};

}  // namespace modprop
