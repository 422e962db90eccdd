// Internal: the pieces the rules are made of. Every offline rule is the reverse recursion of SPEC §3,
//   g_t = α g_{t+1} + ℓ_t + (1-α) R_t,   g_{T+1} = 0,
// run by offlineChunk; a rule only supplies how g_t is formed (its RecurrentCredit). The online rules of SPEC §4 run
// forward in time in onlineChunk, each an OnlineRule.
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
  // A rule that owns its combine step may take the unmasked signal δ_t Fᵀ as `ell` instead of ℓ_t (rflo): it writes
  // it to out (rows×N) from δ_t (rows×K) and returns true. The default leaves ℓ_t to offlineChunk.
  virtual bool signal(int /*rows*/, const Real* /*delta*/, Real* /*out*/) { return false; }
  // A rule whose g_t is exactly zero, at every step, for a unit that is never active in the chunk (z = 0 at every
  // step: ℓ_t and every term it adds are masked by relu'), whose step reads only the dims, α, leak, wrecT and
  // feedbackT of its model, and of z only its sign, may return itself for `sub`, the model restricted to the active
  // units (offline.cc restrictModel): offlineChunk then runs the reverse recursion over those units only, giving the
  // restricted rule relu'(v_t − thr) as 0/1 for z. Null: always over all units.
  virtual bool restrictable() const { return false; }
  virtual std::unique_ptr<RecurrentCredit<Real>> restrictedTo(const Model<Real>& /*sub*/) const { return nullptr; }
};

// An online rule, run forward in time by onlineChunk (lib/reference/epropOnline.ts OnlineRule is the same
// interface). One instance per batch chunk of `rows` sequences; every array is rows × (its width), row-major.
template <typename Real>
class OnlineRule {
 public:
  virtual ~OnlineRule() = default;
  // Whether onlineChunk adds e-prop's Σ_t ε_tᵀ ℓ_t (eprop and modprop build on it); false for rflo's own traces.
  virtual bool eligibility() const { return true; }
  // Rules that need ε_{t-1}, ε^in_{t-1} before the traces move to step t give where to record them (so the sweep
  // copies them on its way) and are told when a step was recorded; null: not needed.
  virtual Real* traceSlot() { return nullptr; }
  virtual Real* inputTraceSlot() { return nullptr; }
  virtual void advance() {}
  // After the network step t: z_{t-1} (null at t = 0), x_t (row r at x + r·ldx) and z_t (z_t > 0 ⇔ relu' = 1).
  virtual void step(int /*t*/, const Real* /*zPrev*/, const Real* /*x*/, std::ptrdiff_t /*ldx*/, const Real* /*z*/) {}
  // At the steps where δ_t can be non-zero: ℓ_t (rows×N) and δ_t (rows×K).
  virtual void accumulate(int rows, const Real* ell, const Real* delta) = 0;
  // Adds what the rule accumulated to the chunk's dWrec and dWin (complete gradients, no (1-α) factor left).
  virtual void finish(Real* dWrec, Real* dWin) const = 0;
};

template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> bpttCredit(const Model<Real>& m, int window);  // window 0: no truncation
template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> epropCredit(const Model<Real>& m);
template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> mdglCredit(const Model<Real>& m, Feedback feedback);
template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> modpropCredit(const Model<Real>& m, Feedback feedback, double mu);
template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> rfloCredit(const Model<Real>& m);
template <typename Real>
std::unique_ptr<OnlineRule<Real>> rfloOnline(const Model<Real>& m, int rows);
// Throws when online rflo's traces (batch × nRec × (nRec + nIn)) would not fit.
void checkRfloOnline(const Dims& d);

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

// Online e-prop (rule null) or another online rule (ModProp's type filter, rflo), SPEC §4. Complete gradients, no
// (1-α) factor.
template <typename Real>
double onlineChunk(const Model<Real>& m, const BatchView<Real>& batch, OnlineRule<Real>* rule, int first, int rows,
                   const GradAccumulator<Real>& acc);

// onlineChunk one step at a time, for a caller that runs the network step of all chunks itself (column_split.cc):
// for each t, run the network step on step(t), then afterStep(t); finish() returns the chunk's loss.
template <typename Real>
class OnlineChunk {
 public:
  OnlineChunk(const Model<Real>& m, const BatchView<Real>& batch, OnlineRule<Real>* rule, int first, int rows,
              const GradAccumulator<Real>& acc);
  // The network step's operands at 0-based step t: x_t (row stride ldx), v_{t-1}, z_{t-1} (null at t = 0), and where
  // v_t, z_t go; the states are rows×N with row stride N.
  struct Step {
    const Real* x;
    std::ptrdiff_t ldx;
    const Real* vPrev;
    const Real* zPrev;
    Real* v;
    Real* z;
  };
  Step step(int t) const;
  // Traces, the rule's step and the accumulation at step t, after v_t and z_t are written.
  void afterStep(int t);
  double finish();

 private:
  const Model<Real>& m_;
  const BatchView<Real>& batch_;
  OnlineRule<Real>* rule_;
  int first_, rows_;
  GradAccumulator<Real> acc_;
  std::vector<Real> vA_, vB_, zA_, zB_, eps_, epsIn_, ell_, y_, delta_;
  Real *vPrev_, *vCur_, *zPrev_, *zCur_;
  double loss_ = 0;
};

}  // namespace modprop
