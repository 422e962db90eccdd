#include "model.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace modprop {

namespace {

std::string str(double v) {
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

// Element counts must fit a ptrdiff_t with room for sizeof(double) and a few buffers of each.
constexpr int64_t kMaxElements = int64_t(1) << 56;

int64_t product(std::initializer_list<int64_t> factors, const char* what) {
  int64_t p = 1;
  for (int64_t f : factors) {
    if (__builtin_mul_overflow(p, f, &p) || p > kMaxElements)
      throw Error("Expected dims whose buffers fit in memory but " + std::string(what) + " overflows");
  }
  return p;
}

void requirePositive(int32_t v, const char* name) {
  if (v < 1) throw Error(std::string("Expected a positive integer for dims.") + name + " but received " + std::to_string(v));
}

template <typename P>
void requirePointer(const P* p, const char* name) {
  if (p == nullptr) throw Error(std::string("Expected an array for ") + name + " but received null");
}

}  // namespace

Sizes validateDims(const Dims& d, bool needTypes) {
  requirePositive(d.batch, "batch");
  requirePositive(d.steps, "steps");
  requirePositive(d.nIn, "nIn");
  requirePositive(d.nRec, "nRec");
  requirePositive(d.nOut, "nOut");
  if (needTypes) requirePositive(d.nTypes, "nTypes");
  Sizes s;
  s.state = product({d.batch, d.steps, d.nRec}, "batch × steps × nRec");
  s.input = product({d.batch, d.steps, d.nIn}, "batch × steps × nIn");
  s.output = product({d.batch, d.steps, d.nOut}, "batch × steps × nOut");
  product({d.nRec, d.nRec}, "nRec × nRec");
  product({d.nIn, d.nRec}, "nIn × nRec");
  product({d.nRec, d.nOut}, "nRec × nOut");
  if (needTypes) product({d.nTypes, d.nTypes, d.nRec}, "nTypes × nTypes × nRec");
  return s;
}

void validateRule(const RuleSpec& r) {
  const int32_t id = static_cast<int32_t>(r.rule);
  if (id < 0 || id >= kRuleCount)
    throw Error("Expected a rule id in 0.." + std::to_string(kRuleCount - 1) + " for rule but received " + std::to_string(id));
  const RuleTraits& traits = kRules[id];
  if (!traits.native) throw Error(std::string("rule '") + traits.name + "' is only available in the reference engine");
  const int32_t fb = static_cast<int32_t>(r.feedback), sig = static_cast<int32_t>(r.signal);
  if (fb < 0 || fb > 1) throw Error("Expected a feedback id in 0..1 for feedback but received " + std::to_string(fb));
  if (sig < 0 || sig > 1)
    throw Error("Expected a learning signal id in 0..1 for learningSignal but received " + std::to_string(sig));
  if (r.rule == Rule::Modprop && !std::isfinite(r.mu))
    throw Error("Expected a finite number for mu but received " + str(r.mu));
  if (r.rule == Rule::Tbptt && r.window < 1)
    throw Error("Expected an integer ≥ 1 for window (tbptt) but received " + std::to_string(r.window));
  if (r.online && (!traits.online || (r.rule == Rule::Modprop && r.feedback != Feedback::Type))) {
    std::string expected;
    for (const RuleTraits& t : kRules)
      if (t.online && t.native) expected += std::string(expected.empty() ? "" : " or ") + "'" + t.name + "'";
    std::string got = std::string("rule '") + traits.name + "'";
    if (r.rule == Rule::Modprop) got += " with feedback 'cell'";
    throw Error("Expected rule " + expected + " (modprop with feedback 'type') for online but received " + got);
  }
}

template <typename Real>
void requireFinite(const Real* data, std::ptrdiff_t count, const char* name) {
  // A sum is NaN/Inf iff some term is (or the sum overflows, which is as bad): one branch per array, vectorised.
  Real sum = 0;
  for (std::ptrdiff_t i = 0; i < count; i++) sum += data[i] * Real(0);
  if (!std::isfinite(sum)) {
    for (std::ptrdiff_t i = 0; i < count; i++)
      if (!std::isfinite(data[i]))
        throw Error(std::string("Expected finite numbers for ") + name + " but received " + str(data[i]) + " at index " +
                    std::to_string(i));
  }
}

template <typename Real>
void validateModel(const Dims& d, const ModelView<Real>& m, bool needTypes) {
  requirePointer(m.win, "win");
  requirePointer(m.wrec, "wrec");
  requirePointer(m.wout, "wout");
  requirePointer(m.bout, "bout");
  if (!(m.alpha >= 0 && m.alpha <= 1)) throw Error("Expected a number in [0, 1] for alpha but received " + str(m.alpha));
  if (!std::isfinite(m.threshold)) throw Error("Expected a finite number for threshold but received " + str(m.threshold));
  requireFinite(m.win, std::ptrdiff_t(d.nIn) * d.nRec, "win");
  requireFinite(m.wrec, std::ptrdiff_t(d.nRec) * d.nRec, "wrec");
  requireFinite(m.wout, std::ptrdiff_t(d.nRec) * d.nOut, "wout");
  requireFinite(m.bout, d.nOut, "bout");
  if (needTypes) {
    requirePointer(m.types, "types");
    for (int32_t i = 0; i < d.nRec; i++)
      if (m.types[i] < 0 || m.types[i] >= d.nTypes)
        throw Error("Expected type ids in 0.." + std::to_string(d.nTypes - 1) + " for types[" + std::to_string(i) +
                    "] but received " + std::to_string(m.types[i]));
  }
}

template <typename Real>
void validateBatch(const Dims& d, const Sizes& s, const BatchView<Real>& b) {
  requirePointer(b.x, "x");
  requireFinite(b.x, s.input, "x");
  if (b.loss == Loss::XentLast) {
    requirePointer(b.labels, "labels");
    for (int32_t i = 0; i < d.batch; i++)
      if (b.labels[i] < 0 || b.labels[i] >= d.nOut)
        throw Error("Expected labels in 0.." + std::to_string(d.nOut - 1) + " for labels[" + std::to_string(i) +
                    "] but received " + std::to_string(b.labels[i]));
  } else if (b.loss == Loss::Mse) {
    requirePointer(b.targets, "targets");
    requireFinite(b.targets, s.output, "targets");
  } else {
    throw Error("Expected a loss id in 0..1 for loss but received " + std::to_string(static_cast<int32_t>(b.loss)));
  }
}

std::vector<double> typeCounts(const Dims& d, const int32_t* types) {
  std::vector<double> n(d.nTypes, 0.0);
  for (int32_t i = 0; i < d.nRec; i++) n[types[i]] += 1;
  return n;
}

template <typename Real>
std::vector<double> typeBlockMeans(const Dims& d, const ModelView<Real>& m) {
  const int c = d.nTypes, n = d.nRec;
  std::vector<double> sums(std::size_t(c) * c, 0.0);
  for (int p = 0; p < n; p++) {
    double* row = &sums[std::size_t(m.types[p]) * c];
    for (int j = 0; j < n; j++) row[m.types[j]] += double(m.wrec[std::ptrdiff_t(p) * n + j]);
  }
  const std::vector<double> counts = typeCounts(d, m.types);
  for (int a = 0; a < c; a++)
    for (int b = 0; b < c; b++) {
      const double cells = counts[a] * counts[b];
      sums[a * c + b] = cells > 0 ? sums[a * c + b] / cells : 0.0;
    }
  return sums;
}

FilterMatrices filterMatrices(const std::vector<double>& omega, const std::vector<double>& counts, int c,
                              double alpha, double mu) {
  FilterMatrices f{std::vector<double>(std::size_t(c) * c), std::vector<double>(std::size_t(c) * c)};
  const double gain = mu * (1 - alpha);
  for (int a = 0; a < c; a++)
    for (int b = 0; b < c; b++) {
      const std::size_t k = std::size_t(a) * c + b;
      f.psi[k] = gain * omega[k];
      f.phi[k] = (a == b ? alpha : 0.0) + gain * counts[a] * omega[k];
    }
  return f;
}

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
  template void requireFinite<Real>(const Real*, std::ptrdiff_t, const char*);                     \
  template void validateModel<Real>(const Dims&, const ModelView<Real>&, bool);                    \
  template void validateBatch<Real>(const Dims&, const Sizes&, const BatchView<Real>&);            \
  template std::vector<double> typeBlockMeans<Real>(const Dims&, const ModelView<Real>&);          \
  template std::vector<Real> transpose<Real>(const Real*, int, int);                               \
  template Model<Real> buildModel<Real>(const Dims&, const ModelView<Real>&, const RuleSpec&);
MODPROP_INSTANTIATE(float)
MODPROP_INSTANTIATE(double)
#undef MODPROP_INSTANTIATE

}  // namespace modprop
