// See sampler.h and lib/tasks/fastNormal.ts (the equations and the draw order are documented there).
#include "sampler.h"

#include <cmath>

#include "ziggurat_tables.h"

namespace modprop {
namespace sampler {

namespace {

constexpr double kInvLn2 = 1.4426950408889634;
constexpr double kLn2Hi = 0.6931471803691238;
constexpr double kLn2Lo = 1.9082149292705877e-10;
constexpr double kSqrtHalf = 0.7071067811865476;

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

double tail(Xoshiro128& rng) {
  for (;;) {
    const double a = -logUnit(1 - rng.uniform()) / ziggurat::kR;
    const double b = -logUnit(1 - rng.uniform());
    if (b + b >= a * a) return ziggurat::kR + a;
  }
}

}  // namespace

uint32_t Xoshiro128::next() {
  const uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

double Xoshiro128::uniform() {
  const uint32_t hi = next() >> 5;
  const uint32_t lo = next() >> 6;
  return (static_cast<double>(hi) * 67108864.0 + static_cast<double>(lo)) / 9007199254740992.0;
}

double expNonPositive(double x) {
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = x - k * kLn2Hi - k * kLn2Lo;
  double p = 1;
  for (int n = 16; n >= 1; n--) p = 1 + (r / n) * p;
  for (double j = 0; j > k; j--) p *= 0.5;
  return p;
}

double logUnit(double u) {
  double e = 0;
  double m = u;
  while (m < kSqrtHalf) {
    m *= 2;
    e--;
  }
  const double s = (m - 1) / (m + 1);
  const double s2 = s * s;
  double p = 0;
  for (int n = 31; n >= 1; n -= 2) p = 1.0 / n + s2 * p;
  return e * kLn2Hi + (e * kLn2Lo + 2 * s * p);
}

double fastNormal(Xoshiro128& rng) {
  using ziggurat::kF;
  using ziggurat::kX;
  for (;;) {
    const uint32_t a = rng.next();
    const uint32_t b = rng.next();
    const uint32_t i = a & 255u;
    const double u = (static_cast<double>(a >> 11) * 4294967296.0 + static_cast<double>(b)) / 9007199254740992.0;
    const double z = u * kX[i];
    const double sign = (a & 256u) != 0 ? -1.0 : 1.0;
    if (z < kX[i + 1]) return sign * z;
    if (i == 0) return sign * tail(rng);
    if (kF[i] + rng.uniform() * (kF[i + 1] - kF[i]) < expNonPositive(-0.5 * z * z)) return sign * z;
  }
}

void delayedXor(const DelayedXorJob& job) {
  Xoshiro128 rng{{job.noiseState[0], job.noiseState[1], job.noiseState[2], job.noiseState[3]}};
  const size_t secondFrom = job.steps - job.cue;
  for (size_t b = 0; b < job.batch; b++) {
    const bool first = job.bits[2 * b] != 0;
    const bool second = job.bits[2 * b + 1] != 0;
    float* row = job.x + b * job.steps * 2;
    for (size_t t = 0; t < job.steps; t++) {
      const double c0 = first && t < job.cue ? job.bump[t] : job.baseline;
      const double c1 = second && t >= secondFrom ? job.bump[t - secondFrom] : job.baseline;
      row[2 * t] = static_cast<float>(c0 + (job.noise > 0 ? job.noise * fastNormal(rng) : 0.0));
      row[2 * t + 1] = static_cast<float>(c1 + (job.noise > 0 ? job.noise * fastNormal(rng) : 0.0));
    }
  }
}

}  // namespace sampler
}  // namespace modprop
