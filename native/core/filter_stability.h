// Internal: ModProp's stability check ρ(Φ) < 1 (SPEC §4) at any number of types C.
// spectralRadius (model.cc) runs 50 normalised squarings of the C×C matrix Φ, 50·C³ multiply-adds: 12 s at C = 512
// and most of a gradient's cost from C ≈ 100. Each squaring gives an upper bound ‖Φ^(2^k)‖_F^(1/2^k) ≥ ρ (a norm
// bounds the spectral radius), so a filter is certified stable at the first bound below 1 — usually within a dozen
// squarings, since ρ(Φ) ≈ α + O(μ) sits well below 1 — and otherwise the same iteration runs on to
// spectralRadius's value, which the error message reports. C ≤ 2 keeps the closed forms.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels.h"
#include "model.h"

namespace modprop {

// ρ(Φ) where it is ≥ 1 (spectralRadius's value up to rounding), else some number in [ρ, 1).
inline double filterRadiusBound(const std::vector<double>& phi, int n) {
  if (n <= 2) return spectralRadius(phi, n);
  std::vector<double> a = phi, b(phi.size());
  double logScale = 0;
  constexpr int kSquarings = 50;
  for (int s = 0; s < kSquarings; s++) {
    kernels::matmul<double>(n, n, n, a.data(), n, a.data(), n, b.data(), n, false);
    const double norm = std::sqrt(std::inner_product(b.begin(), b.end(), b.begin(), 0.0));
    if (norm == 0) return 0;
    std::transform(b.begin(), b.end(), a.begin(), [norm](double v) { return v / norm; });
    logScale = 2 * logScale + std::log(norm);
    const double bound = std::exp(std::ldexp(logScale, -(s + 1)));
    if (bound < 1) return bound;
  }
  return std::exp(std::ldexp(logScale, -kSquarings));
}

}  // namespace modprop
