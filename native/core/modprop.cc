// SPEC §3, rule `modprop` (offline form): credit over all hops, with relu' replaced by the constant μ and Wrec by
// Wfb:
//   g_t = α g_{t+1} + ℓ_t + (1-α) μ (g_{t+1} @ Wfbᵀ),
// Wfb = Wrec (feedback 'cell') or its type average (feedback 'type', Wab[i][j] = Ω[type(i)][type(j)]). With type
// feedback the product costs O(N·C) per sequence and step instead of O(N²). The online form is modprop_online.cc.
#include <algorithm>

#include "rules.h"

namespace modprop {

namespace {

template <typename Real>
class Modprop final : public RecurrentCredit<Real> {
 public:
  Modprop(const Model<Real>& m, Feedback feedback, double mu)
      : m_(m), feedback_(feedback), gain_(Real(mu * (1 - double(m.alpha)))) {}
  void step(int, int rows, const Real* gNext, const Real* ell, const Real*, const Real*, Real* g) override {
    const std::ptrdiff_t count = std::ptrdiff_t(rows) * m_.d.nRec;
    if (gNext != nullptr) {
      feedbackProduct(m_, feedback_, rows, gNext, g, scratch_);
      for (std::ptrdiff_t i = 0; i < count; i++) g[i] *= gain_;
    } else {
      std::fill(g, g + count, Real(0));
    }
    leakyCombine<Real>(count, m_.alpha, gNext, ell, g);
  }

 private:
  const Model<Real>& m_;
  Feedback feedback_;
  Real gain_;  // μ(1-α)
  std::vector<double> scratch_;
};

}  // namespace

template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> modpropCredit(const Model<Real>& m, Feedback feedback, double mu) {
  return std::make_unique<Modprop<Real>>(m, feedback, mu);
}

template std::unique_ptr<RecurrentCredit<float>> modpropCredit<float>(const Model<float>&, Feedback, double);
template std::unique_ptr<RecurrentCredit<double>> modpropCredit<double>(const Model<double>&, Feedback, double);

}  // namespace modprop
