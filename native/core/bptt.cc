// SPEC §3, rules `bptt` and `tbptt`: the exact gradient (and its truncation).
//   g_t = α g_{t+1} + ℓ_t + (1-α) relu'(v_t − thr) ⊙ (g_{t+1} @ Wrecᵀ),   g_{T+1} = 0
// tbptt with window W: the state is detached between steps kW and kW+1 (1-based, k ≥ 1, kW < T), so g_{kW} = ℓ_{kW}
// receives nothing from g_{kW+1} — neither the leak α nor the recurrent term. A window ≥ T is plain bptt.
// Both always use ℓ with F = Wout (the learning-signal option belongs to the approximate rules).
#include <algorithm>

#include "kernels.h"
#include "rules.h"

namespace modprop {

namespace {

// relu' and leakyCombine in one pass: g = (α gNext + ℓ) + [z > 0] (1-α) R with g holding R, the same operations in the
// same order as the two passes.
template <typename Real>
MODPROP_CLONES void combine(std::ptrdiff_t count, Real alpha, Real leak, const Real* __restrict gNext,
                            const Real* __restrict ell, const Real* __restrict z, Real* __restrict g) {
  if (ell != nullptr)
    for (std::ptrdiff_t i = 0; i < count; i++) g[i] = (alpha * gNext[i] + ell[i]) + (z[i] > Real(0) ? leak * g[i] : Real(0));
  else
    for (std::ptrdiff_t i = 0; i < count; i++) g[i] = alpha * gNext[i] + (z[i] > Real(0) ? leak * g[i] : Real(0));
}

template <typename Real>
class Bptt final : public RecurrentCredit<Real> {
 public:
  Bptt(const Model<Real>& m, int window) : m_(m), window_(window) {}

  void step(int t, int rows, const Real* gNext, const Real* ell, const Real* /*ellNext*/, const Real* z,
            Real* g) override {
    const int n = m_.d.nRec;
    const std::ptrdiff_t count = std::ptrdiff_t(rows) * n;
    const bool cut = window_ > 0 && (t + 1) % window_ == 0;  // t is 0-based: step t+1 = kW
    if (gNext == nullptr || cut) {
      std::fill(g, g + count, Real(0));
      leakyCombine<Real>(count, m_.alpha, nullptr, ell, g);
      return;
    }
    wrecTransposeProduct(m_, rows, gNext, g);
    combine(count, m_.alpha, m_.leak, gNext, ell, z, g);
  }

  // g_{T+1} = 0, ℓ_t and the recurrent term are masked by relu', so a never-active unit's g_t is +0 at every step.
  bool restrictable() const override { return true; }
  std::unique_ptr<RecurrentCredit<Real>> restrictedTo(const Model<Real>& sub) const override {
    return std::make_unique<Bptt<Real>>(sub, window_);
  }

 private:
  const Model<Real>& m_;
  int window_;
};

}  // namespace

template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> bpttCredit(const Model<Real>& m, int window) {
  return std::make_unique<Bptt<Real>>(m, window);
}

template std::unique_ptr<RecurrentCredit<float>> bpttCredit<float>(const Model<float>&, int);
template std::unique_ptr<RecurrentCredit<double>> bpttCredit<double>(const Model<double>&, int);

}  // namespace modprop
