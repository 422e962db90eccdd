// Validation of a core call (SPEC §1–4 inputs): dims that fit in memory, a rule the core implements with its options
// in range (the rule traits come from native/core/contract.h), finite weights and inputs, type ids and labels in
// range. Every failure is a modprop::Error whose message names the argument, never a crash or wrong numbers.
#include <cmath>
#include <limits>
#include <sstream>

#include "model.h"
#include "optimizer.h"

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

namespace {

// The index of the first non-finite entry, or count. Floats (every native call's weights: 67 MB of Wrec at N = 4096)
// by the exponent-bit test, which GCC vectorises (optimizer.h); doubles by a sum of x·0, which is NaN iff some term
// is, then a search. The float sum was one dependent add per entry (strict IEEE order): ≈ 20 ms at N = 4096.
std::size_t firstNonFiniteOf(const float* data, std::size_t count) { return optimizer::firstNonFinite(data, count); }

std::size_t firstNonFiniteOf(const double* data, std::size_t count) {
  double sum = 0;
  for (std::size_t i = 0; i < count; i++) sum += data[i] * 0.0;
  if (std::isfinite(sum)) return count;
  for (std::size_t i = 0; i < count; i++)
    if (!std::isfinite(data[i])) return i;
  return count;
}

}  // namespace

template <typename Real>
void requireFinite(const Real* data, std::ptrdiff_t count, const char* name) {
  const std::size_t at = firstNonFiniteOf(data, std::size_t(count));
  if (at < std::size_t(count))
    throw Error(std::string("Expected finite numbers for ") + name + " but received " + str(double(data[at])) +
                " at index " + std::to_string(at));
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

#define MODPROP_INSTANTIATE(Real)                                                       \
  template void requireFinite<Real>(const Real*, std::ptrdiff_t, const char*);          \
  template void validateModel<Real>(const Dims&, const ModelView<Real>&, bool);         \
  template void validateBatch<Real>(const Dims&, const Sizes&, const BatchView<Real>&);
MODPROP_INSTANTIATE(float)
MODPROP_INSTANTIATE(double)
#undef MODPROP_INSTANTIATE

}  // namespace modprop
