// Spectral radii: of ModProp's C×C type filter Φ (closed forms and Gelfand's formula, SPEC §4) and the O(n²·m) part of
// the restarted Arnoldi iteration that lib/spectralRadius.ts runs for n > 200 (Wrec's initial scaling, SPEC §1).
#pragma once
#include "thread_pool.h"

#include <vector>

namespace modprop {

// ρ(m) of an n×n row-major matrix: exact for n ≤ 2, Gelfand's formula above.
double spectralRadius(const std::vector<double>& m, int n);

// lib/krylov.ts `krylovCycle`, with the same bits: extends an Arnoldi relation from `from` to m vectors. basis
// ((m+1)×n) holds orthonormal rows 0..from; rows from+1..m receive the next vectors, columns from..m-1 of h ((m+1)×m,
// zero there on entry) the projected matrix. Each
// matrix–vector row is summed in the TypeScript order (four partial sums over k mod 4), rows split across the pool;
// dot products run in one accumulator in index order. Returns the basis size: m, or j + 1 when β_{j+1} ≤ breakdown.
// The float overload reads a float32 matrix (half the memory traffic of the bandwidth-bound products; each entry is
// widened to double, so the arithmetic and its bits are those of lib/krylov.ts on a Float32Array).
int krylovCycle(const double* a, int n, int m, int from, double* basis, double* h, double breakdown, ThreadPool& pool);
int krylovCycle(const float* a, int n, int m, int from, double* basis, double* h, double breakdown, ThreadPool& pool);

// lib/krylov.ts `krylovRestart`, with the same bits: basis ((m+1)×n) ← [V·Q, v_{m+1}], where V is its first m rows and
// Q (k×m, row c the coefficients of kept vector c) the orthonormalised Ritz vectors; row c of the result sums
// q[c][r]·v_r over r in order, entry by entry (no FMA); row k is v_{m+1}. Needs k ≤ m.
void krylovRestart(double* basis, const double* q, int n, int m, int k);

}  // namespace modprop
