// See sampler.h and lib/tasks/fastNormal.ts (the equations and the draw order are documented there).
#include "sampler.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "ziggurat_tables.h"

namespace modprop {
namespace sampler {

namespace {

constexpr double kInvLn2 = 1.4426950408889634;
constexpr double kLn2Hi = 0.6931471803691238;
constexpr double kLn2Lo = 1.9082149292705877e-10;
constexpr double kSqrtHalf = 0.7071067811865476;
// 2^-53: multiplying by it is exact, as the division by 2^53 of lib/random.ts and fastNormal.ts is (the same bits),
// and it takes a cycle where the division takes a dozen on the sampler's serial path.
constexpr double kTwoToMinus53 = 1.0 / 9007199254740992.0;

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
  return (static_cast<double>(hi) * 67108864.0 + static_cast<double>(lo)) * kTwoToMinus53;
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

namespace {

// sign · z for sign = −1 when bit 8 of a is set, else +1, as a flip of z's sign bit: the same bits as the product
// (z ≥ 0; −1 · 0 is −0 either way) without the branch on a random bit, which the CPU mispredicts half the time
// (measured under cachegrind: 0.5 mispredictions per normal, the sampler's largest cost).
inline double withSign(double z, uint32_t a) {
  uint64_t bits;
  std::memcpy(&bits, &z, sizeof bits);
  bits ^= static_cast<uint64_t>(a & 256u) << 55;
  std::memcpy(&z, &bits, sizeof z);
  return z;
}

// The layers' slow path: the wedge test, or the tail below layer 0.
double slowNormal(Xoshiro128& rng, uint32_t a, double z) {
  using ziggurat::kF;
  const uint32_t i = a & 255u;
  if (i == 0) return withSign(tail(rng), a);
  if (kF[i] + rng.uniform() * (kF[i + 1] - kF[i]) < expNonPositive(-0.5 * z * z)) return withSign(z, a);
  return std::numeric_limits<double>::quiet_NaN();  // rejected: draw again
}

// The callers below draw from a local Xoshiro128 whose address never reaches a call that is not inlined, so the
// compiler keeps its four words in registers: when it was passed by reference to slowNormal it lived in memory, and
// each step of the generator's serial chain waited on the store of the previous one (7 ns per normal, measured with
// perf; 2–3 ns in registers). Only the rare slow path goes through a copy in memory. The same stream, bit for bit.
// Inlined into the loops below: the fast path is a handful of instructions, less than a call's overhead.
inline double normal(Xoshiro128& rng) {
  using ziggurat::kX;
  for (;;) {
    const uint32_t a = rng.next();
    const uint32_t b = rng.next();
    const uint32_t i = a & 255u;
    const double u = (static_cast<double>(a >> 11) * 4294967296.0 + static_cast<double>(b)) * kTwoToMinus53;
    const double z = u * kX[i];
    if (__builtin_expect(z < kX[i + 1], 1)) return withSign(z, a);
    Xoshiro128 memory = rng;
    const double slow = slowNormal(memory, a, z);
    rng = memory;
    if (slow == slow) return slow;
  }
}

}  // namespace

double fastNormal(Xoshiro128& rng) {
  Xoshiro128 local = rng;
  const double z = normal(local);
  rng = local;
  return z;
}

void fastNormals(Xoshiro128& rng, double* out, size_t count) {
  Xoshiro128 local = rng;
  for (size_t i = 0; i < count; i++) out[i] = normal(local);
  rng = local;
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
      row[2 * t] = static_cast<float>(c0 + (job.noise > 0 ? job.noise * normal(rng) : 0.0));
      row[2 * t + 1] = static_cast<float>(c1 + (job.noise > 0 ? job.noise * normal(rng) : 0.0));
    }
  }
}

}  // namespace sampler
}  // namespace modprop
