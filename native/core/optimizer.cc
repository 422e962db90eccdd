// See optimizer.h; every loop mirrors lib/optimizer.ts (addL2, step, project) and train.ts's finiteness checks.
#include "optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace modprop {
namespace optimizer {

namespace {

constexpr double kBeta1 = 0.9;
constexpr double kBeta2 = 0.999;
constexpr double kEpsilon = 1e-8;

bool firstNonFiniteOf(float* const* a, const size_t* n, int32_t* matrix, size_t* index) {
  for (int k = 0; k < kParams; k++) {
    const size_t at = firstNonFinite(a[k], n[k]);
    if (at < n[k]) {
      *matrix = k;
      *index = at;
      return true;
    }
  }
  return false;
}

}  // namespace

size_t firstNonFinite(const float* a, size_t n) {
  constexpr size_t kBlock = 1024;
  constexpr uint32_t kExponent = 0x7f800000u;  // all ones: ±Infinity or NaN
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t end = std::min(n, start + kBlock);
    uint32_t any = 0;
    for (size_t i = start; i < end; i++) {
      uint32_t bits;
      std::memcpy(&bits, a + i, sizeof bits);
      any |= static_cast<uint32_t>((bits & kExponent) == kExponent);
    }
    if (!any) continue;
    for (size_t i = start; i < end; i++)
      if (!std::isfinite(a[i])) return i;
  }
  return n;
}

StepResult step(const StepJob& job) {
  StepResult r;
  if (firstNonFiniteOf(job.g, job.n, &r.matrix, &r.index)) {
    r.status = Status::kGradient;
    return r;
  }
  if (job.l2 != 0) {
    for (int k = 0; k < 3; k++) {  // not bout
      float* g = job.g[k];
      const float* w = job.w[k];
      for (size_t i = 0; i < job.n[k]; i++) g[i] = static_cast<float>(static_cast<double>(g[i]) + job.l2 * static_cast<double>(w[i]));
    }
  }
  std::vector<std::vector<float>> before(kParams);
  for (int k = 0; k < kParams; k++) before[k].assign(job.w[k], job.w[k] + job.n[k]);

  for (int k = 0; k < kParams; k++) {
    float* w = job.w[k];
    const float* g = job.g[k];
    if (!job.adam) {
      for (size_t i = 0; i < job.n[k]; i++) w[i] = static_cast<float>(static_cast<double>(w[i]) - job.lr * static_cast<double>(g[i]));
      continue;
    }
    double* m = job.m[k];
    double* v = job.v[k];
    for (size_t i = 0; i < job.n[k]; i++) {
      const double gi = g[i];
      m[i] = kBeta1 * m[i] + (1 - kBeta1) * gi;
      v[i] = kBeta2 * v[i] + (1 - kBeta2) * gi * gi;
      w[i] = static_cast<float>(static_cast<double>(w[i]) - (job.lr * (m[i] / job.c1)) / (std::sqrt(v[i] / job.c2) + kEpsilon));
    }
  }

  // project(): the zero diagonal, then Dale's law (a weight whose sign flipped becomes 0).
  const size_t n = job.nRec;
  float* wrec = job.w[1];
  float* wout = job.w[2];
  for (size_t i = 0; i < n; i++) wrec[i * n + i] = 0;
  if (job.typeSigns) {
    for (size_t p = 0; p < n; p++) {
      const double s = job.typeSigns[job.types[p]];
      for (size_t j = 0; j < n; j++)
        if (static_cast<double>(wrec[p * n + j]) * s < 0) wrec[p * n + j] = 0;
      for (size_t k = 0; k < job.nOut; k++)
        if (static_cast<double>(wout[p * job.nOut + k]) * s < 0) wout[p * job.nOut + k] = 0;
    }
  }

  if (firstNonFiniteOf(job.w, job.n, &r.matrix, &r.index)) {
    r.status = Status::kParameter;
    for (int k = 0; k < kParams; k++) std::copy(before[k].begin(), before[k].end(), job.w[k]);
  }
  return r;
}

}  // namespace optimizer
}  // namespace modprop
