// See init_wrec.h. Every operation mirrors lib/network.ts initialParams (passes 1–4) for the bit-identity test
// test/unit/initLarge.test.ts ("the same parameters on the native and the reference engine").
#include "init_wrec.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace modprop {
namespace init {

double balancedPasses(sampler::Xoshiro128& rng, int n, const int8_t* rowSign, const uint8_t* mask, double* w,
                      float* w32) {
  const std::size_t nn = std::size_t(n) * n;
  sampler::fastNormals(rng, w, nn);
  // Pass 1: sign, zero diagonal, mask, and the totals (summed in index order).
  double pos = 0, neg = 0;
  for (int p = 0; p < n; p++) {
    const double sign = rowSign != nullptr ? double(rowSign[p]) : 1.0;
    double* row = w + std::size_t(p) * n;
    const uint8_t* maskRow = mask != nullptr ? mask + std::size_t(p) * n : nullptr;
    for (int j = 0; j < n; j++) {
      const double g = row[j];
      double v = p == j ? 0.0 : rowSign != nullptr ? sign * std::fabs(g) : g;
      if (maskRow != nullptr && maskRow[j] == 0) v = 0.0;
      row[j] = v;
      if (v > 0)
        pos += v;
      else
        neg -= v;
    }
  }
  // Pass 2: inhibitory rows scaled so total inhibition equals total excitation; column sums row by row.
  const double inhibition = rowSign != nullptr && pos > 0 && neg > 0 ? pos / neg : 1.0;
  std::vector<double> colPos(n, 0.0), colNeg(n, 0.0);
  for (int p = 0; p < n; p++) {
    const bool scale = inhibition != 1.0 && rowSign != nullptr && rowSign[p] < 0;
    double* row = w + std::size_t(p) * n;
    for (int j = 0; j < n; j++) {
      double v = row[j];
      if (scale) row[j] = v = v * inhibition;
      if (v > 0)
        colPos[j] += v;
      else
        colNeg[j] -= v;
    }
  }
  std::vector<double> scaleNeg(n);
  for (int j = 0; j < n; j++) scaleNeg[j] = colPos[j] == 0 || colNeg[j] == 0 ? 1.0 : colPos[j] / colNeg[j];
  // Pass 3: each column's negative entries rescaled, the float32 copy and max |w|.
  double largest = 0;
  for (int p = 0; p < n; p++) {
    double* row = w + std::size_t(p) * n;
    float* out = w32 + std::size_t(p) * n;
    for (int j = 0; j < n; j++) {
      double v = row[j];
      if (v < 0) row[j] = v = v * scaleNeg[j];
      out[j] = static_cast<float>(v);
      largest = std::max(largest, std::fabs(v));
    }
  }
  return largest;
}

void scaleToFloat32(const double* w, std::size_t count, double rho, float* out) {
  for (std::size_t k = 0; k < count; k++) out[k] = static_cast<float>(w[k] / rho);
}

}  // namespace init
}  // namespace modprop
