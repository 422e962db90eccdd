// Building the Model a rule reads (transposes, feedback matrix, type averages) once per gradients() call, and the
// spectral radius of ModProp's filter. Validation is validation.cc, the cell-type maths cell_types.cc.
#include "model.h"

#include <cmath>

namespace modprop {

// Closed forms for C ≤ 2 (the common cases); otherwise Gelfand's formula ρ = lim ‖Φ^(2^k)‖^(1/2^k) by repeated,
// normalised squaring, which converges for any matrix and is exact to ~1e-12 after 50 squarings at these sizes.
double spectralRadius(const std::vector<double>& m, int n) {
  if (n == 1) return std::fabs(m[0]);
  if (n == 2) {
    const double half = 0.5 * (m[0] + m[3]), det = m[0] * m[3] - m[1] * m[2];
    const double disc = half * half - det;
    if (disc < 0) return std::sqrt(det);
    const double root = std::sqrt(disc);
    return std::max(std::fabs(half + root), std::fabs(half - root));
  }
  std::vector<double> a = m, b(m.size());
  double logScale = 0;
  constexpr int kSquarings = 50;
  for (int s = 0; s < kSquarings; s++) {
    // i-k-j order: the inner loop runs along rows of both matrices (the k-innermost order strided through a by n,
    // which made C = 800 cell types take minutes).
    std::fill(b.begin(), b.end(), 0.0);
    for (int i = 0; i < n; i++)
      for (int k = 0; k < n; k++) {
        const double aik = a[std::size_t(i) * n + k];
        const double* row = &a[std::size_t(k) * n];
        double* out = &b[std::size_t(i) * n];
        for (int j = 0; j < n; j++) out[j] += aik * row[j];
      }
    double norm = 0;
    for (double v : b) norm += v * v;
    norm = std::sqrt(norm);
    if (norm == 0) return 0;
    for (std::size_t k = 0; k < b.size(); k++) a[k] = b[k] / norm;
    logScale = 2 * logScale + std::log(norm);
  }
  return std::exp(std::ldexp(logScale, -kSquarings));
}

template <typename Real>
std::vector<Real> transpose(const Real* a, int rows, int cols) {
  std::vector<Real> t(std::size_t(rows) * cols);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++) t[std::size_t(j) * rows + i] = a[std::size_t(i) * cols + j];
  return t;
}

template <typename Real>
Model<Real> buildModel(const Dims& d, const ModelView<Real>& m, const RuleSpec& rule) {
  Model<Real> out;
  out.d = d;
  out.win = m.win;
  out.wrec = m.wrec;
  out.wout = m.wout;
  out.bout = m.bout;
  out.types = m.types;
  out.alpha = Real(m.alpha);
  out.leak = Real(1 - m.alpha);
  out.threshold = Real(m.threshold);
  const RuleTraits& traits = kRules[static_cast<int32_t>(rule.rule)];  // id range-checked by validateRule
  const bool exact = traits.exact;
  const Real* f = (!exact && rule.signal == LearningSignal::Random) ? m.randomFeedback : m.wout;
  out.feedbackT = transpose(f, d.nRec, d.nOut);
  const bool usesWfb = traits.feedback;
  if (exact || (usesWfb && rule.feedback == Feedback::Cell)) out.wrecT = transpose(m.wrec, d.nRec, d.nRec);
  if (usesWfb && rule.feedback == Feedback::Type) {
    out.omega = typeBlockMeans(d, m);
    out.typeMask.assign(std::size_t(d.nTypes) * d.nRec, Real(0));
    for (int i = 0; i < d.nRec; i++) out.typeMask[std::size_t(m.types[i]) * d.nRec + i] = Real(1);
  }
  return out;
}

#define MODPROP_INSTANTIATE(Real)                                                                  \
  template std::vector<Real> transpose<Real>(const Real*, int, int);                               \
  template Model<Real> buildModel<Real>(const Dims&, const ModelView<Real>&, const RuleSpec&);
MODPROP_INSTANTIATE(float)
MODPROP_INSTANTIATE(double)
#undef MODPROP_INSTANTIATE

}  // namespace modprop
