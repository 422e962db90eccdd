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
OnlineChunk<Real>::OnlineChunk(const Model<Real>& m, const BatchView<Real>& batch, OnlineRule<Real>* rule, int first,
                               int rows, const GradAccumulator<Real>& acc)
    : m_(m), batch_(batch), rule_(rule), first_(first), rows_(rows), acc_(acc) {
  const int n = m.d.nRec, nIn = m.d.nIn, k = m.d.nOut;
  const std::ptrdiff_t block = std::ptrdiff_t(rows) * n;
  vA_.resize(block), vB_.resize(block), zA_.resize(block), zB_.resize(block), eps_.resize(block);
  epsIn_.resize(std::ptrdiff_t(rows) * nIn), ell_.resize(block), y_.resize(std::ptrdiff_t(rows) * k);
  delta_.resize(std::ptrdiff_t(rows) * k);
  vPrev_ = vA_.data(), vCur_ = vB_.data(), zPrev_ = zA_.data(), zCur_ = zB_.data();
}

template <typename Real>
typename OnlineChunk<Real>::Step OnlineChunk<Real>::step(int t) const {
  const int steps = m_.d.steps, nIn = m_.d.nIn;
  return Step{batch_.x + (std::ptrdiff_t(first_) * steps + t) * nIn, std::ptrdiff_t(steps) * nIn,
              t > 0 ? vPrev_ : nullptr, t > 0 ? zPrev_ : nullptr, vCur_, zCur_};
}

namespace {

// ε ← α ε + (1-α) z_{t-1} over a chunk's block, recording ε_{t-1} in keep where given (one pass rather than a copy):
// 9 % of a paper-size online ModProp call as the baseline build's 4-lane loop.
template <typename Real>
MODPROP_CLONES void traceStep(std::ptrdiff_t count, Real alpha, Real leak, const Real* z, Real* eps, Real* keep) {
  if (keep != nullptr)
    for (std::ptrdiff_t i = 0; i < count; i++) {
      const Real e = eps[i];
      keep[i] = e;
      eps[i] = alpha * e + leak * z[i];
    }
  else
    for (std::ptrdiff_t i = 0; i < count; i++) eps[i] = alpha * eps[i] + leak * z[i];
}

}  // namespace

template <typename Real>
void OnlineChunk<Real>::afterStep(int t) {
  const Model<Real>& m = m_;
  OnlineRule<Real>* const rule = rule_;
  const int steps = m.d.steps, n = m.d.nRec, nIn = m.d.nIn, rows = rows_;
  const std::ptrdiff_t block = std::ptrdiff_t(rows) * n;
  const std::ptrdiff_t ldx = std::ptrdiff_t(steps) * nIn;
  const Real alpha = m.alpha, leak = m.leak;
  const Real* xt = batch_.x + (std::ptrdiff_t(first_) * steps + t) * nIn;
  Real* const zPrev = zPrev_;
  Real* const zCur = zCur_;
  std::vector<Real>& eps = eps_;
  std::vector<Real>& epsIn = epsIn_;
  Real* keep = rule != nullptr ? rule->traceSlot() : nullptr;
  if (keep != nullptr) {  // the rule records ε_{t-1} on the way
    if (t > 0)
      traceStep<Real>(block, alpha, leak, zPrev, eps.data(), keep);
    else
      std::copy(eps.begin(), eps.end(), keep);
    std::copy(epsIn.begin(), epsIn.end(), rule->inputTraceSlot());
    rule->advance();
  } else if (t > 0) {  // z_0 = 0
    traceStep<Real>(block, alpha, leak, zPrev, eps.data(), nullptr);
  }
  for (int r = 0; r < rows; r++) {
    Real* er = epsIn.data() + std::ptrdiff_t(r) * nIn;
    const Real* xr = xt + r * ldx;
    for (int i = 0; i < nIn; i++) er[i] = alpha * er[i] + leak * xr[i];
  }
  if (rule != nullptr) rule->step(t, t > 0 ? zPrev : nullptr, xt, ldx, zCur);
  if (hasOutputError(batch_.loss, t, steps)) {
    loss_ += outputError(m, batch_, first_, rows, t, zCur, n, y_.data(), delta_.data());
    accumulateReadout(m, rows, zCur, n, delta_.data(), acc_.wout, acc_.bout);
    learningSignal(m, rows, delta_.data(), zCur, n, ell_.data());
    if (rule == nullptr || rule->eligibility()) {
      wrecGradient(m, rows, eps.data(), ell_.data(), acc_.wrec);
      kernels::matmulTransA<Real>(rows, nIn, n, epsIn.data(), nIn, ell_.data(), n, acc_.win, n);
    }
    if (rule != nullptr) rule->accumulate(rows, ell_.data(), delta_.data());
  }
  std::swap(vPrev_, vCur_);
  std::swap(zPrev_, zCur_);
}

template <typename Real>
double OnlineChunk<Real>::finish() {
  if (rule_ != nullptr) rule_->finish(acc_.wrec, acc_.win);
  return loss_;
}

template <typename Real>
double onlineChunk(const Model<Real>& m, const BatchView<Real>& batch, OnlineRule<Real>* rule, int first, int rows,
                   const GradAccumulator<Real>& acc) {
  OnlineChunk<Real> chunk(m, batch, rule, first, rows, acc);
  const int n = m.d.nRec;
  for (int t = 0; t < m.d.steps; t++) {
    const typename OnlineChunk<Real>::Step s = chunk.step(t);
    networkStep(m, rows, s.x, s.ldx, s.vPrev, s.zPrev, n, s.v, s.z, n);
    chunk.afterStep(t);
  }
  return chunk.finish();
}

template class OnlineChunk<float>;
template class OnlineChunk<double>;
template double onlineChunk<float>(const Model<float>&, const BatchView<float>&, OnlineRule<float>*, int, int,
                                   const GradAccumulator<float>&);
template double onlineChunk<double>(const Model<double>&, const BatchView<double>&, OnlineRule<double>*, int, int,
                                    const GradAccumulator<double>&);

}  // namespace modprop
