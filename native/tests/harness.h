// Test helpers: random small networks and batches, a literal transcription of SPEC §1–3 in plain loops (the
// oracle the optimised core is compared with), and a minimal check recorder.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../core/modprop.h"

namespace harness {

using modprop::Dims;
using modprop::Feedback;
using modprop::LearningSignal;
using modprop::Loss;
using modprop::Rule;
using modprop::RuleSpec;

struct Net {
  Dims d;
  std::vector<double> win, wrec, wout, bout, randomFeedback;
  std::vector<int32_t> types;
  double alpha, threshold;
};

struct Data {
  std::vector<double> x, targets;
  std::vector<int32_t> labels;
  Loss loss;
};

template <typename Real>
struct Grads {
  double loss = 0;
  std::vector<Real> win, wrec, wout, bout;
};

// gain scales Wrec (relative to 1/sqrt(N)); types are assigned so that every type has at least one unit.
Net randomNet(Dims d, uint64_t seed, double alpha = 0.7, double gain = 1.5, double threshold = 0.0);
Data randomData(const Dims& d, Loss loss, uint64_t seed);

template <typename Real>
std::vector<Real> cast(const std::vector<double>& v) {
  return std::vector<Real>(v.begin(), v.end());
}

// Runs modprop::gradients in precision Real.
template <typename Real>
Grads<Real> run(const Net& net, const Data& data, const RuleSpec& rule, modprop::ThreadPool& pool);

// The oracle: SPEC §1–3 transcribed literally in double, with the full N×N Wfb (offline form of every rule).
Grads<double> naive(const Net& net, const Data& data, const RuleSpec& rule);

RuleSpec spec(Rule r, Feedback f = Feedback::Type, double mu = 0.25, bool online = false, int32_t window = 1,
              LearningSignal s = LearningSignal::Symmetric);

template <typename A, typename B>
double relDiff(const std::vector<A>& a, const std::vector<B>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); i++) {
    const double x = double(a[i]), y = double(b[i]);
    num += (x - y) * (x - y);
    den += y * y;
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

template <typename A, typename B>
double maxRelDiff(const Grads<A>& a, const Grads<B>& b) {
  double m = 0;
  m = std::max(m, relDiff(a.win, b.win));
  m = std::max(m, relDiff(a.wrec, b.wrec));
  m = std::max(m, relDiff(a.wout, b.wout));
  m = std::max(m, relDiff(a.bout, b.bout));
  return m;
}

template <typename Real>
double norm(const std::vector<Real>& v) {
  double s = 0;
  for (Real x : v) s += double(x) * double(x);
  return std::sqrt(s);
}

class Checks {
 public:
  void check(const std::string& name, bool ok, const std::string& detail = "") {
    std::printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", name.c_str(), detail.empty() ? "" : " — ", detail.c_str());
    std::fflush(stdout);
    (ok ? passed_ : failed_)++;
  }
  int finish() const {
    std::printf("%d passed, %d failed\n", passed_, failed_);
    return failed_ == 0 ? 0 : 1;
  }

 private:
  int passed_ = 0, failed_ = 0;
};

std::string fmt(double v);

}  // namespace harness
