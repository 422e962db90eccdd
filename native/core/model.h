// Internal: a validated call (dims, weights, batch, rule) plus the quantities derived once per call and shared
// read-only by all threads (transposed matrices, type averages, the ModProp filter). Not part of the public API.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "modprop.h"
#include "retained.h"
#include "sparse.h"
#include "spectral_radius.h"
#include "thread_pool.h"

namespace modprop {

// Element counts of every buffer, checked against overflow by validateDims.
struct Sizes {
  std::ptrdiff_t state;   // B·T·N
  std::ptrdiff_t input;   // B·T·I
  std::ptrdiff_t output;  // B·T·K
};

Sizes validateDims(const Dims& d, bool needTypes);
void validateRule(const RuleSpec& rule);
template <typename Real>
void validateModel(const Dims& d, const ModelView<Real>& m, bool needTypes);
template <typename Real>
void validateBatch(const Dims& d, const Sizes& s, const BatchView<Real>& b);
template <typename Real>
void requireFinite(const Real* data, std::ptrdiff_t count, const char* name);

// Ω[c][d]: mean of Wrec over the block (type c pre, type d post), zeros and the diagonal counted; empty blocks 0.
template <typename Real>
std::vector<double> typeBlockMeans(const Dims& d, const ModelView<Real>& m);
std::vector<double> typeCounts(const Dims& d, const int32_t* types);
struct ModalSetup;  // modprop_modal.h
// Φ = α I + μ(1-α) diag(n) Ω and Ψ = μ(1-α) Ω (SPEC §4), C×C row-major.
struct FilterMatrices {
  std::vector<double> phi, psi;
  // Φ's kept modes and Ψ V, for online ModProp with many types (modprop_modal.h); null where the direct form runs.
  std::shared_ptr<const ModalSetup> modal;
};
FilterMatrices filterMatrices(const std::vector<double>& omega, const std::vector<double>& counts, int c,
                              double alpha, double mu);

// Everything a rule reads; built once per gradients() call.
template <typename Real>
struct Model {
  Dims d;
  const Real* win;
  const Real* wrec;
  const Real* wout;
  const Real* bout;
  const int32_t* types;
  Real alpha, leak, threshold;  // leak = 1 - α
  Neuron neuron = Neuron::Rate;  // not Rate: spiking.cc runs the call, with these constants
  SpikingConstants spiking{};
  std::vector<Real> wrecT;      // Wrecᵀ (bptt, tbptt; and Wfbᵀ for feedback Cell), where wrecTPanels is not built
  Retained<float> wrecPanels;   // float, N ≥ kPanelsMinUnits: Wrec as kernels::packPanels lays it out
  Retained<float> wrecTPanels;  // the same of Wrecᵀ where wrecPanels is built and Wrecᵀ is needed
  std::vector<Real> feedbackT;  // Fᵀ, K×N: ℓ = relu' ⊙ (δ @ Fᵀ)
  std::vector<double> omega;    // Ω, C×C, for feedback Type
  std::vector<Real> typeMask;   // [C][N]: 1 where unit i has type c, for feedback Type with C ≤ kManyTypes
  std::vector<Real> omegaT;     // Ωᵀ, C×C, for feedback Type with C > kManyTypes
  SparseWrec<Real> sparse;      // with a mask (ModelView::mask): Wrec over its entries, and no wrecT nor panels
  bool isSparse() const { return sparse.n > 0; }
};

// Beyond this many types the type feedback product sums per type by unit (O(N)) and applies Ω as one matrix product
// over the rows (offline.cc); up to it, the per-type dot products every existing result was computed with.
constexpr int kManyTypes = 16;

// dWrec += Σ_r a[r]ᵀ g[r] over `rows` rows of row stride N: every mask entry when sparse, else the whole matrix.
template <typename Real>
void wrecGradient(const Model<Real>& m, std::ptrdiff_t rows, const Real* a, const Real* g, Real* dWrec);

// pool: where given, Wrec's panels are packed over its threads (the same bytes).
template <typename Real>
Model<Real> buildModel(const Dims& d, const ModelView<Real>& m, const RuleSpec& rule, ThreadPool* pool = nullptr);

template <typename Real>
std::vector<Real> transpose(const Real* a, int rows, int cols);

// out = h @ Wrecᵀ for rows×N h and out (row stride N): bptt's reverse product and cell feedback. Reads the packed
// panels where buildModel made them (same bits as wrecT in place), wrecT otherwise, the mask entries when sparse.
template <typename Real>
void wrecTransposeProduct(const Model<Real>& m, int rows, const Real* h, Real* out);

}  // namespace modprop
