// The tasks' random numbers in C++: the xoshiro128** stream of lib/random.ts continued from its four state words,
// and the 'fast' normal sampler of lib/tasks/fastNormal.ts (a 256-layer ziggurat), the same algorithm written once
// on each side. Both sides use only +, −, ×, ÷ and bit operations (this file is compiled with -ffp-contract=off, so
// no FMA fuses them) and the literal tables of ziggurat_tables.h, so they draw bit-identical numbers.
#pragma once
#include <cstddef>
#include <cstdint>

namespace modprop {
namespace sampler {

struct Xoshiro128 {
  uint32_t s[4];
  uint32_t next();
  // Uniform in [0, 1) with 53 random bits, as Random.uniform().
  double uniform();
};

double fastNormal(Xoshiro128& rng);
// `count` normals of fastNormal into out, in order (the stream kept in registers between them: ≈ 2× faster; from
// kStreamFrom normals through a NormalStream).
void fastNormals(Xoshiro128& rng, double* out, size_t count);

// The normals of fastNormal from a state, in order, computed in two phases (the same numbers, bit for bit):
//  1. the stream's raw 32-bit outputs, in rounds of kLanes segments of kSegment consecutive outputs generated side
//     by side — segment g starts from the state jumped g·kSegment steps ahead (the generator is linear over GF(2),
//     so a jump is a fixed 128×128 bit matrix, computed once) — where one serial chain took half the time;
//  2. the ziggurat over those outputs, four pairs at a time: the common case (z inside its layer, ≈ 98.8 % of
//     pairs) computed for four normals at once, the first rejected pair and everything after it as before.
// Both phases have an AVX2 clone picked at load (target_clones) beside the baseline one; the same bits either way.
class NormalStream {
 public:
  explicit NormalStream(const Xoshiro128& start);
  ~NormalStream();
  NormalStream(const NormalStream&) = delete;
  NormalStream& operator=(const NormalStream&) = delete;
  void fill(double* out, size_t count);
  // The generator's state after the outputs used so far (what the serial fastNormals leaves in rng).
  Xoshiro128 state() const;
  static constexpr int kLanes = 8;
  static constexpr size_t kSegment = 4096;

  // Reads the next pair of raw outputs (every use of the stream reads in pairs: a normal's (a, b), uniform()'s two).
  inline void pair(uint32_t& a, uint32_t& b) {
    if (pos_ == kRound) refill();
    a = raw_[pos_];
    b = raw_[pos_ + 1];
    pos_ += 2;
  }
  double uniform();

 private:
  static constexpr size_t kRound = kLanes * kSegment;
  void refill();
  uint32_t* raw_;                  // kRound outputs of the current round (a per-thread buffer)
  size_t pos_ = kRound;            // next unread output of the round
  uint32_t next_[4];               // the state that starts the next round
  uint32_t lanes_[kLanes][4] = {};  // the states that started the current round's segments
  bool started_ = false;
};
constexpr size_t kStreamFrom = 16384;

// Exposed for the parity tests of the two sides.
double expNonPositive(double x);
double logUnit(double u);
// level < expNonPositive(x) for x in [-8, 0], the ziggurat's wedge test, mostly without computing the series.
bool belowExpNonPositive(double level, double x);

// A delayed-XOR batch under the 'fast' sampler (lib/tasks/delayedXor.ts): x[b][t][c] = level + noise · normal, the
// normals drawn in (b, t, c) order from `noiseState`; level is bump[t] in a set cue window, else baseline.
struct DelayedXorJob {
  uint32_t noiseState[4];
  const uint8_t* bits;  // [batch][2]: first and second bit of each sequence
  const double* bump;   // [cue]
  float* x;             // [batch][steps][2]
  size_t batch, steps, cue;
  double baseline, noise;
};
void delayedXor(const DelayedXorJob& job);

}  // namespace sampler
}  // namespace modprop
