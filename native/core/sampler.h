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
// `count` normals of fastNormal into out, in order (the stream kept in registers between them: ≈ 2× faster).
void fastNormals(Xoshiro128& rng, double* out, size_t count);

// Exposed for the parity tests of the two sides.
double expNonPositive(double x);
double logUnit(double u);

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
