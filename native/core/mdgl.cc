// SPEC §3, rule `mdgl` (multidigraph learning): one extra synaptic hop of credit,
//   g_t = α g_{t+1} + ℓ_t + (1-α) relu'(v_t − thr) ⊙ (ℓ_{t+1} @ Wfbᵀ),   ℓ_{T+1} = 0,
// with Wfb = Wrec (feedback 'cell') or its type average (feedback 'type'). With xent-last ℓ is zero before T, so the
// hop costs nothing at all but the last step.
#include <algorithm>

#include "rules.h"

namespace modprop {

namespace {

template <typename Real>
class Mdgl final : public RecurrentCredit<Real> {
 public:
  Mdgl(const Model<Real>& m, Feedback feedback) : m_(m), feedback_(feedback) {}
  void step(int, int rows, const Real* gNext, const Real* ell, const Real* ellNext, const Real* z,
            Real* g) override {
    const std::ptrdiff_t count = std::ptrdiff_t(rows) * m_.d.nRec;
    if (ellNext != nullptr) {
      feedbackProduct(m_, feedback_, rows, ellNext, g, scratch_);
      const Real leak = m_.leak;
      for (std::ptrdiff_t i = 0; i < count; i++) g[i] = z[i] > Real(0) ? leak * g[i] : Real(0);
    } else {
      std::fill(g, g + count, Real(0));
    }
    leakyCombine<Real>(count, m_.alpha, gNext, ell, g);
  }

 private:
  const Model<Real>& m_;
  Feedback feedback_;
  std::vector<double> scratch_;
};

}  // namespace

template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> mdglCredit(const Model<Real>& m, Feedback feedback) {
  return std::make_unique<Mdgl<Real>>(m, feedback);
}

template std::unique_ptr<RecurrentCredit<float>> mdglCredit<float>(const Model<float>&, Feedback);
template std::unique_ptr<RecurrentCredit<double>> mdglCredit<double>(const Model<double>&, Feedback);

}  // namespace modprop
