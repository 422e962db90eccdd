// Internal: one time step of the network (SPEC §1) and of the output error (SPEC §2), for a block of `rows`
// sequences at once so that the recurrent product is a small matrix product rather than `rows` vector products.
#pragma once
#include <cstddef>

#include "model.h"

namespace modprop {

// out = x_t @ Win + z_{t-1} @ Wrec (zPrev null at t = 1: x_t @ Win only), the unfused products of networkStep; the
// spiking neurons' input current too (spiking.cc). Rows of out are ld apart.
template <typename Real>
void synapticInput(const Model<Real>& m, int rows, const Real* x, std::ptrdiff_t ldx, const Real* zPrev,
                   std::ptrdiff_t ldPrev, Real* out, std::ptrdiff_t ld);

// v_t = α v_{t-1} + (1-α)(x_t @ Win + z_{t-1} @ Wrec), z_t = relu(v_t − thr). vPrev/zPrev null at t = 1
// (v_0 = z_0 = 0). Row r of each block is at base + r·ld*.
template <typename Real>
void networkStep(const Model<Real>& m, int rows, const Real* x, std::ptrdiff_t ldx, const Real* vPrev,
                 const Real* zPrev, std::ptrdiff_t ldPrev, Real* v, Real* z, std::ptrdiff_t ld);

// Whether δ_t can be non-zero at 0-based step t (xent-last: only at the last step).
inline bool hasOutputError(Loss loss, int t, int steps) { return loss == Loss::Mse || t == steps - 1; }

// y_t = z_t @ Wout + bout and δ_t = ∂E/∂y_t for sequences first..first+rows-1 at 0-based step t; returns their share
// of the loss. z rows at z + r·ldz; y and delta are rows×K contiguous.
template <typename Real>
double outputError(const Model<Real>& m, const BatchView<Real>& batch, int first, int rows, int t, const Real* z,
                   std::ptrdiff_t ldz, Real* y, Real* delta);

// ℓ_t = relu'(v_t − thr) ⊙ (δ_t @ Fᵀ); relu'(v − thr) = 1 exactly where z = relu(v − thr) > 0.
template <typename Real>
void learningSignal(const Model<Real>& m, int rows, const Real* delta, const Real* z, std::ptrdiff_t ldz, Real* ell);

// dWout += z_tᵀ δ_t, dbout += Σ_rows δ_t.
template <typename Real>
void accumulateReadout(const Model<Real>& m, int rows, const Real* z, std::ptrdiff_t ldz, const Real* delta,
                       Real* dWout, Real* dbout);

}  // namespace modprop
