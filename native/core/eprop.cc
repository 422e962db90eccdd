// SPEC §3, rule `eprop` (three-factor, offline form): R_t = 0, so
//   g_t = α g_{t+1} + ℓ_t,
// each unit keeps only its own leak: dWrec[p][j] = Σ_t ε_{p,t} ℓ_{j,t} with the eligibility trace
// ε_t = α ε_{t-1} + (1-α) z_{t-1}. The online form (same numbers, forward in time) is in eprop_online.cc.
#include <algorithm>

#include "rules.h"

namespace modprop {

namespace {

template <typename Real>
class Eprop final : public RecurrentCredit<Real> {
 public:
  explicit Eprop(const Model<Real>& m) : m_(m) {}
  void step(int, int rows, const Real* gNext, const Real* ell, const Real*, const Real*, Real* g) override {
    const std::ptrdiff_t count = std::ptrdiff_t(rows) * m_.d.nRec;
    std::fill(g, g + count, Real(0));
    leakyCombine<Real>(count, m_.alpha, gNext, ell, g);
  }

 private:
  const Model<Real>& m_;
};

}  // namespace

template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> epropCredit(const Model<Real>& m) {
  return std::make_unique<Eprop<Real>>(m);
}

template std::unique_ptr<RecurrentCredit<float>> epropCredit<float>(const Model<float>&);
template std::unique_ptr<RecurrentCredit<double>> epropCredit<double>(const Model<double>&);

}  // namespace modprop
