// The O(n²) passes of the default initialisation's Wrec above N = 200 (lib/network.ts initialParams, SPEC §1), in C++
// with the bits of the TypeScript passes they mirror: the same IEEE double operations in the same order (this file
// is compiled with -ffp-contract=off, like every generic file), float32 rounding to nearest as a Float32Array store.
#pragma once
#include <cstddef>
#include <cstdint>

#include "sampler.h"

namespace modprop {
namespace init {

// Into w (n×n, row-major): the n² 'fast' normals of `rng`; then pass 1 (w = sign(p)·|g| with rowSign, g itself when
// rowSign is null, 0 on the diagonal and where mask is 0, and the totals of positive and negative entries); pass 2
// (rows of negative sign × total excitation / total inhibition, when there are signs and both totals are > 0, and each
// column's positive and negative sums); pass 3 (each column's negative entries × its positive sum / negative sum,
// where both are non-zero), with w32 receiving float32(w) and the return value max |w|.
double balancedPasses(sampler::Xoshiro128& rng, int n, const int8_t* rowSign, const uint8_t* mask, double* w,
                      float* w32);

// out[k] = float32(w[k] / rho) (rho > 1e-12 is the caller's check), as the TypeScript division and store.
void scaleToFloat32(const double* w, std::size_t count, double rho, float* out);

}  // namespace init
}  // namespace modprop
