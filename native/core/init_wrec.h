// The O(n²) passes of the default initialisation's Wrec above N = 200 (lib/network.ts initialParams, SPEC §1), in C++
// with the bits of the TypeScript passes they mirror: the same IEEE double operations in the same order (this file
// is compiled with -ffp-contract=off, like every generic file), float32 rounding to nearest as a Float32Array store.
// The matrix lives in one float32 array from the draw on (no n² float64 copy: 134 MB of fresh memory at N = 4096,
// ≈ 0.27 s of page faults on the bench's virtual machine); each pass reads the stored float32 values as doubles.
#pragma once
#include <cstddef>
#include <cstdint>

#include "sampler.h"

namespace modprop {
namespace init {

// Into w32 (n×n, row-major), with `rng`'s n² 'fast' normals g drawn row by row: pass 1 (w = sign(p)·|g| with
// rowSign, g itself when rowSign is null, 0 on the diagonal and where mask is 0, stored as float32; the totals of the
// stored positive and negative entries); pass 2 (each column's positive and negative sums of the stored values, rows
// of negative sign × total excitation / total inhibition when there are signs and both totals are > 0); pass 3 (the
// same row factor, then each column's negative entries × its positive sum / negative sum where both are non-zero,
// stored as float32). Returns the largest stored |w|.
double balancedPasses(sampler::Xoshiro128& rng, int n, const int8_t* rowSign, const uint8_t* mask, float* w32);

// w32[k] = float32(w32[k] / rho) in place (rho > 1e-12 is the caller's check), as the TypeScript division and store.
void scaleInPlace(float* w32, std::size_t count, double rho);

}  // namespace init
}  // namespace modprop
