// SPEC §4, online e-prop: forward in time, no reverse pass, memory independent of T.
//   ε_t = α ε_{t-1} + (1-α) z_{t-1},   ε^in_t = α ε^in_{t-1} + (1-α) x_t
//   dWrec += ε_tᵀ ℓ_t,   dWin += ε^inᵀ_t ℓ_t   at every step where ℓ_t ≠ 0 (xent-last: only the last)
// Equals offline eprop. Other online rules plug in as an OnlineRule (rules.h): online ModProp is this plus the type
// filter of modprop_online.cc, which advances its state R before ε at every step and adds its own accumulation where
// ℓ_t ≠ 0; rflo (rflo.cc) replaces the ε terms with traces of its own.
#include <algorithm>
#include <utility>

#include "kernels.h"
#include "modprop_online.h"
#include "step.h"

namespace modprop {

template <typename Real>
double onlineChunk(const Model<Real>& m, const BatchView<Real>& batch, OnlineRule<Real>* rule, int first, int rows,
                   const GradAccumulator<Real>& acc) {
  const int steps = m.d.steps, n = m.d.nRec, nIn = m.d.nIn, k = m.d.nOut;
  const std::ptrdiff_t block = std::ptrdiff_t(rows) * n;
  std::vector<Real> vA(block), vB(block), zA(block), zB(block), eps(block), epsIn(std::ptrdiff_t(rows) * nIn),
      ell(block), y(std::ptrdiff_t(rows) * k), delta(std::ptrdiff_t(rows) * k);
  const std::ptrdiff_t ldx = std::ptrdiff_t(steps) * nIn;
  const Real alpha = m.alpha, leak = m.leak;
  Real *vPrev = vA.data(), *vCur = vB.data(), *zPrev = zA.data(), *zCur = zB.data();
  double loss = 0;
  for (int t = 0; t < steps; t++) {
    const Real* xt = batch.x + (std::ptrdiff_t(first) * steps + t) * nIn;
    networkStep(m, rows, xt, ldx, t > 0 ? vPrev : nullptr, t > 0 ? zPrev : nullptr, n, vCur, zCur, n);
    Real* keep = rule != nullptr ? rule->traceSlot() : nullptr;
    if (keep != nullptr) {  // the rule records ε_{t-1} on the way (one pass over ε rather than a copy)
      if (t > 0)
        for (std::ptrdiff_t i = 0; i < block; i++) {
          const Real e = eps[i];
          keep[i] = e;
          eps[i] = alpha * e + leak * zPrev[i];
        }
      else
        std::copy(eps.begin(), eps.end(), keep);
      std::copy(epsIn.begin(), epsIn.end(), rule->inputTraceSlot());
      rule->advance();
    } else if (t > 0) {  // z_0 = 0
      for (std::ptrdiff_t i = 0; i < block; i++) eps[i] = alpha * eps[i] + leak * zPrev[i];
    }
    for (int r = 0; r < rows; r++) {
      Real* er = epsIn.data() + std::ptrdiff_t(r) * nIn;
      const Real* xr = xt + r * ldx;
      for (int i = 0; i < nIn; i++) er[i] = alpha * er[i] + leak * xr[i];
    }
    if (rule != nullptr) rule->step(t, t > 0 ? zPrev : nullptr, xt, ldx, zCur);
    if (hasOutputError(batch.loss, t, steps)) {
      loss += outputError(m, batch, first, rows, t, zCur, n, y.data(), delta.data());
      accumulateReadout(m, rows, zCur, n, delta.data(), acc.wout, acc.bout);
      learningSignal(m, rows, delta.data(), zCur, n, ell.data());
      if (rule == nullptr || rule->eligibility()) {
        wrecGradient(m, rows, eps.data(), ell.data(), acc.wrec);
        kernels::matmulTransA<Real>(rows, nIn, n, epsIn.data(), nIn, ell.data(), n, acc.win, n);
      }
      if (rule != nullptr) rule->accumulate(rows, ell.data(), delta.data());
    }
    std::swap(vPrev, vCur);
    std::swap(zPrev, zCur);
  }
  if (rule != nullptr) rule->finish(acc.wrec, acc.win);
  return loss;
}

template double onlineChunk<float>(const Model<float>&, const BatchView<float>&, OnlineRule<float>*, int, int,
                                   const GradAccumulator<float>&);
template double onlineChunk<double>(const Model<double>&, const BatchView<double>&, OnlineRule<double>*, int, int,
                                    const GradAccumulator<double>&);

}  // namespace modprop
