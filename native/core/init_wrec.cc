// See init_wrec.h. Every operation mirrors lib/network.ts balancedPasses (passes 1–4) for the bit-identity test
// test/unit/initLarge.test.ts ("the same parameters on the native and the reference engine").
#include "init_wrec.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace modprop {
namespace init {

namespace {

// Pass 1 for row p: sign, zero diagonal, mask, the float32 store, and the stored value added to the running total of
// positive (pos) or negative (neg) entries, continuing both chains in index order. A function of its own, so that the
// totals stay in registers: inside balancedPasses GCC kept them on the stack, a store and reload per entry (half of
// pass 1's time in perf, session 11).
__attribute__((noinline)) void storeRow(const double* g, int n, int p, double sign, bool signs, const uint8_t* maskRow,
                                        float* row, double& pos, double& neg) {
  double rowPos = pos, rowNeg = neg;
  for (int j = 0; j < n; j++) {
    double v = p == j ? 0.0 : signs ? sign * std::fabs(g[j]) : g[j];
    if (maskRow != nullptr && maskRow[j] == 0) v = 0.0;
    const float stored = static_cast<float>(v);
    row[j] = stored;
    if (stored > 0)
      rowPos += stored;
    else
      rowNeg -= stored;
  }
  pos = rowPos;
  neg = rowNeg;
}

}  // namespace

double balancedPasses(sampler::Xoshiro128& rng, int n, const int8_t* rowSign, const uint8_t* mask, float* w32) {
  // Pass 1: the draw of row p (the stream continues across rows), sign, zero diagonal, mask, the float32 store and
  // the totals of the stored values (summed in index order).
  std::vector<double> g(n);
  double pos = 0, neg = 0;
  // One stream across the rows (sampler::NormalStream: the same normals as fastNormals, faster in bulk).
  sampler::NormalStream stream(rng);
  for (int p = 0; p < n; p++) {
    stream.fill(g.data(), std::size_t(n));
    const double sign = rowSign != nullptr ? double(rowSign[p]) : 1.0;
    float* row = w32 + std::size_t(p) * n;
    const uint8_t* maskRow = mask != nullptr ? mask + std::size_t(p) * n : nullptr;
    storeRow(g.data(), n, p, sign, rowSign != nullptr, maskRow, row, pos, neg);
  }
  rng = stream.state();
  // Pass 2: inhibitory rows × total excitation / total inhibition (not stored yet); column sums row by row.
  const double inhibition = rowSign != nullptr && pos > 0 && neg > 0 ? pos / neg : 1.0;
  auto scaled = [&](int p) { return inhibition != 1.0 && rowSign != nullptr && rowSign[p] < 0; };
  std::vector<double> colPos(n, 0.0), colNeg(n, 0.0);
  for (int p = 0; p < n; p++) {
    const bool scale = scaled(p);
    const float* row = w32 + std::size_t(p) * n;
    for (int j = 0; j < n; j++) {
      const double v = scale ? double(row[j]) * inhibition : double(row[j]);
      if (v > 0)
        colPos[j] += v;
      else
        colNeg[j] -= v;
    }
  }
  std::vector<double> scaleNeg(n);
  for (int j = 0; j < n; j++) scaleNeg[j] = colPos[j] == 0 || colNeg[j] == 0 ? 1.0 : colPos[j] / colNeg[j];
  // Pass 3: the row factor and each column's negative-entry factor, stored; the largest stored |w|.
  double largest = 0;
  for (int p = 0; p < n; p++) {
    const bool scale = scaled(p);
    float* row = w32 + std::size_t(p) * n;
    for (int j = 0; j < n; j++) {
      double v = scale ? double(row[j]) * inhibition : double(row[j]);
      if (v < 0) v = v * scaleNeg[j];
      row[j] = static_cast<float>(v);
      largest = std::max(largest, std::fabs(double(row[j])));
    }
  }
  return largest;
}

void scaleInPlace(float* w32, std::size_t count, double rho) {
  for (std::size_t k = 0; k < count; k++) w32[k] = static_cast<float>(double(w32[k]) / rho);
}

}  // namespace init
}  // namespace modprop
