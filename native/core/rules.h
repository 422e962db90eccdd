// Internal: the pieces the rules are made of. Every offline rule is the reverse recursion of SPEC §3,
//   g_t = α g_{t+1} + ℓ_t + (1-α) R_t,   g_{T+1} = 0,
// run by offlineChunk; a rule only supplies how g_t is formed (its RecurrentCredit). The online rules of SPEC §4 run
// forward in time in onlineChunk.
#pragma once
#include <memory>
#include <vector>

#include "model.h"

namespace modprop {

// Per-chunk gradient accumulators (one per batch chunk, reduced in chunk order).
template <typename Real>
struct GradAccumulator {
  Real* win;
  Real* wrec;
  Real* wout;
  Real* bout;
};

template <typename Real>
class RecurrentCredit {
 public:
  virtual ~RecurrentCredit() = default;
  // Writes g_t (rows×N) at 0-based step t. gNext = g_{t+1} (null at the last step); ell = ℓ_t and ellNext = ℓ_{t+1}
  // (null where they are zero); z = z_t, whose sign is relu'(v_t − thr).
  virtual void step(int t, int rows, const Real* gNext, const Real* ell, const Real* ellNext, const Real* z,
                    Real* g) = 0;
};

template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> bpttCredit(const Model<Real>& m, int window);  // window 0: no truncation
template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> epropCredit(const Model<Real>& m);
template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> mdglCredit(const Model<Real>& m, Feedback feedback);
template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> modpropCredit(const Model<Real>& m, Feedback feedback, double mu);

// out = h @ Wfbᵀ for rows×N h; Wfb = Wrec (Cell, via m.wrecT) or its type average (Type, via m.omega), where the
// product collapses to O(N·C): (h Wfbᵀ)[i] = Σ_d Ω[type(i)][d] Σ_{j of type d} h_j.
template <typename Real>
void feedbackProduct(const Model<Real>& m, Feedback feedback, int rows, const Real* h, Real* out,
                     std::vector<double>& scratch);

// g = α gNext + ℓ + g, where g already holds (1-α) R_t (or 0). gNext/ell may be null (zero).
template <typename Real>
void leakyCombine(std::ptrdiff_t count, Real alpha, const Real* gNext, const Real* ell, Real* g);

// Offline: forward over the chunk storing z, reverse recursion, then dWrec/dWin as two matrix products.
// dWrec and dWin are left without the (1-α) factor, which the caller applies once after the reduction.
template <typename Real>
double offlineChunk(const Model<Real>& m, const BatchView<Real>& batch, RecurrentCredit<Real>& credit, int first,
                    int rows, const GradAccumulator<Real>& acc);

// The ModProp type filter of SPEC §4 for one chunk (see modprop_online.cc).
template <typename Real>
class ModpropFilter;

// Online e-prop (filter null) or online ModProp (filter non-null), SPEC §4. Complete gradients, no (1-α) factor.
template <typename Real>
double onlineChunk(const Model<Real>& m, const BatchView<Real>& batch, ModpropFilter<Real>* filter, int first,
                   int rows, const GradAccumulator<Real>& acc);

}  // namespace modprop
