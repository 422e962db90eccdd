// See sampler.h and lib/tasks/fastNormal.ts (the equations and the draw order are documented there).
#include "sampler.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

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

template <typename Source>
double tail(Source& rng) {
  for (;;) {
    const double a = -logUnit(1 - rng.uniform()) / ziggurat::kR;
    const double b = -logUnit(1 - rng.uniform());
    if (b + b >= a * a) return ziggurat::kR + a;
  }
}

// One step of the generator's state (Xoshiro128::next without its output).
inline void advance(uint32_t s[4]) {
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
}

}  // namespace

uint32_t Xoshiro128::next() {
  const uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  advance(s);
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

}  // namespace

// level < expNonPositive(x) for x in [-8, 0] (the wedge test's argument, −z²/2 for z below x[0] ≈ 3.91), decided by
// libm's exp where the two are far apart and by expNonPositive itself within a band of 2^-30 relative around it: the
// two differ by a few ulps (expNonPositive: a 16-term Taylor series of |r| ≤ ln2/2 in IEEE operations, error far
// below 1e-15; any libm's exp: within an ulp or two), so the answer is always expNonPositive's, for about a quarter
// of its cost (the series' sixteen divisions were a third of a batch's draw, perf).
bool belowExpNonPositive(double level, double x) {
  const double e = std::exp(x);
  const double band = e * 0x1p-30;
  if (level < e - band) return true;
  if (level >= e + band) return false;
  return level < expNonPositive(x);
}

namespace {

// The layers' slow path: the wedge test, or the tail below layer 0.
template <typename Source>
double slowNormal(Source& rng, uint32_t a, double z) {
  using ziggurat::kF;
  const uint32_t i = a & 255u;
  if (i == 0) return withSign(tail(rng), a);
  if (belowExpNonPositive(kF[i] + rng.uniform() * (kF[i + 1] - kF[i]), -0.5 * z * z)) return withSign(z, a);
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
  if (count >= kStreamFrom) {
    NormalStream stream(rng);
    stream.fill(out, count);
    rng = stream.state();
    return;
  }
  Xoshiro128 local = rng;
  for (size_t i = 0; i < count; i++) out[i] = normal(local);
  rng = local;
}

// ---- NormalStream ---------------------------------------------------------------------------------------------------

namespace {

// The state map of some number of steps, linear over GF(2)^128: column j is the image of state bit j (word j / 32,
// bit j % 32), so the image of a state is the XOR of the columns of its set bits.
struct JumpMatrix {
  uint32_t col[128][4];
};

void applyJump(const JumpMatrix& m, uint32_t s[4]) {
  uint32_t acc[4] = {0, 0, 0, 0};
  for (int j = 0; j < 128; j++) {
    const uint32_t mask = 0u - ((s[j >> 5] >> (j & 31)) & 1u);
    for (int w = 0; w < 4; w++) acc[w] ^= m.col[j][w] & mask;
  }
  for (int w = 0; w < 4; w++) s[w] = acc[w];
}

// kSegment = 2^12 steps: one step's map squared twelve times.
JumpMatrix segmentJumpMatrix() {
  JumpMatrix m{};
  for (int j = 0; j < 128; j++) {
    uint32_t e[4] = {0, 0, 0, 0};
    e[j >> 5] = 1u << (j & 31);
    advance(e);
    for (int w = 0; w < 4; w++) m.col[j][w] = e[w];
  }
  static_assert(NormalStream::kSegment == 4096, "the jump is 2^12 steps");
  for (int k = 0; k < 12; k++) {
    JumpMatrix sq{};
    for (int j = 0; j < 128; j++) {
      uint32_t c[4] = {m.col[j][0], m.col[j][1], m.col[j][2], m.col[j][3]};
      applyJump(m, c);
      for (int w = 0; w < 4; w++) sq.col[j][w] = c[w];
    }
    m = sq;
  }
  return m;
}

const JumpMatrix& segmentJump() {
  static const JumpMatrix m = segmentJumpMatrix();
  return m;
}

typedef uint32_t U32x8 __attribute__((vector_size(32)));

// kLanes segments of kSegment outputs, lane g from lanes[g], written segment after segment into out; next gets the
// state after the last segment (the next round's start).
__attribute__((target_clones("avx2", "default"))) void generateRound(const uint32_t (*lanes)[4], uint32_t* out,
                                                                     uint32_t* next) {
  constexpr int L = NormalStream::kLanes;
  constexpr size_t S = NormalStream::kSegment;
  static_assert(L == 8, "one 8-lane vector");
  U32x8 s0, s1, s2, s3;
  for (int g = 0; g < L; g++) {
    s0[g] = lanes[g][0];
    s1[g] = lanes[g][1];
    s2[g] = lanes[g][2];
    s3[g] = lanes[g][3];
  }
  for (size_t k = 0; k < S; k++) {
    const U32x8 x = s1 * 5u;
    const U32x8 r = ((x << 7) | (x >> 25)) * 9u;
    const U32x8 t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >> 21);
    for (int g = 0; g < L; g++) out[g * S + k] = r[g];
  }
  next[0] = s0[L - 1];
  next[1] = s1[L - 1];
  next[2] = s2[L - 1];
  next[3] = s3[L - 1];
}

typedef double F64x4 __attribute__((vector_size(32)));
typedef int64_t I64x4 __attribute__((vector_size(32)));
typedef int32_t I32x4 __attribute__((vector_size(16)));

// The common case of the ziggurat four pairs at a time, from raw[pos]: while all four land inside their layer,
// their normals go to out (the same operations as normal(): every value involved is an integer below 2^53 or an
// exact power-of-two scaling until u · x[i], one rounding as in the scalar code). Stops at the first pair that does
// not (its predecessors written), with fewer than four normals to go or fewer than eight outputs left. Returns the
// normals written; pos moves past their pairs.
__attribute__((target_clones("avx2", "default"))) size_t fastGroups(const uint32_t* raw, size_t& pos, size_t end,
                                                                    double* out, size_t count) {
  using ziggurat::kX;
  size_t done = 0;
  while (done + 4 <= count && pos + 8 <= end) {
    const uint32_t* q = raw + pos;
    const uint32_t a0 = q[0], a1 = q[2], a2 = q[4], a3 = q[6];
    const I32x4 hi = {int32_t(a0 >> 11), int32_t(a1 >> 11), int32_t(a2 >> 11), int32_t(a3 >> 11)};
    // b − 2^31 as a signed integer, converted exactly and shifted back: b as a double.
    const I32x4 lo = {int32_t(q[1] ^ 0x80000000u), int32_t(q[3] ^ 0x80000000u), int32_t(q[5] ^ 0x80000000u),
                      int32_t(q[7] ^ 0x80000000u)};
    const F64x4 u = (__builtin_convertvector(hi, F64x4) * 4294967296.0 + (__builtin_convertvector(lo, F64x4) + 2147483648.0)) *
                    kTwoToMinus53;
    const uint32_t i0 = a0 & 255u, i1 = a1 & 255u, i2 = a2 & 255u, i3 = a3 & 255u;
    const F64x4 xi = {kX[i0], kX[i1], kX[i2], kX[i3]};
    const F64x4 next = {kX[i0 + 1], kX[i1 + 1], kX[i2 + 1], kX[i3 + 1]};
    const F64x4 z = u * xi;
    const I64x4 inside = z < next;
    const I64x4 sign = {int64_t(a0 & 256u) << 55, int64_t(a1 & 256u) << 55, int64_t(a2 & 256u) << 55,
                        int64_t(a3 & 256u) << 55};
    const F64x4 signedZ = (F64x4)((I64x4)z ^ sign);
    if (inside[0] & inside[1] & inside[2] & inside[3]) {
      std::memcpy(out + done, &signedZ, sizeof signedZ);
      done += 4;
      pos += 8;
      continue;
    }
    for (int l = 0; l < 4 && inside[l]; l++) {
      out[done++] = signedZ[l];
      pos += 2;
    }
    break;
  }
  return done;
}

thread_local std::unique_ptr<uint32_t[]> spareRound;

}  // namespace

NormalStream::NormalStream(const Xoshiro128& start) : raw_(nullptr) {
  for (int w = 0; w < 4; w++) next_[w] = start.s[w];
}

NormalStream::~NormalStream() {
  if (raw_ != nullptr && !spareRound) spareRound.reset(raw_);
  else delete[] raw_;
}

void NormalStream::refill() {
  if (raw_ == nullptr) raw_ = spareRound ? spareRound.release() : new uint32_t[kRound];
  const JumpMatrix& jump = segmentJump();
  for (int w = 0; w < 4; w++) lanes_[0][w] = next_[w];
  for (int g = 1; g < kLanes; g++) {
    for (int w = 0; w < 4; w++) lanes_[g][w] = lanes_[g - 1][w];
    applyJump(jump, lanes_[g]);
  }
  generateRound(lanes_, raw_, next_);
  pos_ = 0;
  started_ = true;
}

double NormalStream::uniform() {
  uint32_t a, b;
  pair(a, b);
  return (static_cast<double>(a >> 5) * 67108864.0 + static_cast<double>(b >> 6)) * kTwoToMinus53;
}

Xoshiro128 NormalStream::state() const {
  Xoshiro128 out{{next_[0], next_[1], next_[2], next_[3]}};
  if (!started_ || pos_ == kRound) return out;
  const size_t g = pos_ / kSegment;
  for (int w = 0; w < 4; w++) out.s[w] = lanes_[g][w];
  for (size_t k = pos_ % kSegment; k > 0; k--) advance(out.s);
  return out;
}

void NormalStream::fill(double* out, size_t count) {
  using ziggurat::kX;
  size_t done = 0;
  while (done < count) {
    if (pos_ == kRound) refill();
    done += fastGroups(raw_, pos_, kRound, out + done, count - done);
    if (done == count) break;
    // One normal as normal() draws it: a pair outside its layer (the slow path), the last few of the request, or
    // a pair near the end of the round.
    for (;;) {
      uint32_t a, b;
      pair(a, b);
      const uint32_t i = a & 255u;
      const double u = (static_cast<double>(a >> 11) * 4294967296.0 + static_cast<double>(b)) * kTwoToMinus53;
      const double z = u * kX[i];
      if (z < kX[i + 1]) {
        out[done++] = withSign(z, a);
        break;
      }
      const double slow = slowNormal(*this, a, z);
      if (slow == slow) {
        out[done++] = slow;
        break;
      }
    }
  }
}

void delayedXor(const DelayedXorJob& job) {
  Xoshiro128 rng{{job.noiseState[0], job.noiseState[1], job.noiseState[2], job.noiseState[3]}};
  const size_t secondFrom = job.steps - job.cue;
  if (job.noise > 0 && job.batch * job.steps * 2 >= kStreamFrom) {
    // The same normals in the same order, through a NormalStream: a sequence's 2 · steps at a time.
    NormalStream stream(rng);
    std::vector<double> z(job.steps * 2);
    for (size_t b = 0; b < job.batch; b++) {
      const bool first = job.bits[2 * b] != 0;
      const bool second = job.bits[2 * b + 1] != 0;
      float* row = job.x + b * job.steps * 2;
      stream.fill(z.data(), z.size());
      for (size_t t = 0; t < job.steps; t++) {
        const double c0 = first && t < job.cue ? job.bump[t] : job.baseline;
        const double c1 = second && t >= secondFrom ? job.bump[t - secondFrom] : job.baseline;
        row[2 * t] = static_cast<float>(c0 + job.noise * z[2 * t]);
        row[2 * t + 1] = static_cast<float>(c1 + job.noise * z[2 * t + 1]);
      }
    }
    return;
  }
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
