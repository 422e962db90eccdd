// The optimizer step of training in C++ (lib/optimizer.ts is the reference and the specification): L2 on the
// gradients of Win, Wrec, Wout; Adam (β1 0.9, β2 0.999, ε 1e-8) or SGD; the zero diagonal of Wrec and Dale's law;
// and the finiteness checks around it (the gradients before, the new parameters after, which are then put back).
// Bit-identical to the TypeScript: the same double operations in the same order on float32 parameters and gradients
// and float64 moments; the scalar factors whose libm may differ (Adam's bias corrections 1 − β^t) come in computed
// by the caller. Compiled with -ffp-contract=off, so no FMA fuses a multiply and an add.
#pragma once
#include <cstddef>
#include <cstdint>

namespace modprop {
namespace optimizer {

constexpr int kParams = 4;  // win, wrec, wout, bout: the order of PARAM_KEYS

struct StepJob {
  bool adam = true;
  double lr = 0, l2 = 0;
  double c1 = 1, c2 = 1;  // 1 − β1^t and 1 − β2^t
  float* w[kParams] = {};
  float* g[kParams] = {};     // L2 is added in place, as addL2 does
  double* m[kParams] = {};    // Adam only
  double* v[kParams] = {};
  size_t n[kParams] = {};
  const int32_t* types = nullptr;     // [nRec]
  const int8_t* typeSigns = nullptr;  // [nTypes] ±1, or null without Dale's law
  size_t nRec = 0, nOut = 0;
};

enum class Status : int32_t { kOk = 0, kGradient = 1, kParameter = 2 };

// What went wrong: the first non-finite gradient (before L2) or new parameter, as (matrix, index).
struct StepResult {
  Status status = Status::kOk;
  int32_t matrix = -1;
  size_t index = 0;
};

// The index of the first non-finite entry of a[0..n), or n when all are finite. Reads the exponent bits in blocks
// (an integer test the compiler vectorises), so scanning a forward pass's v and z (B·T·N floats each) stays cheap.
size_t firstNonFinite(const float* a, size_t n);

// Runs the step in place. On kGradient nothing was changed; on kParameter the parameters are restored to their
// values before the step (the moments keep the step's update, as the TypeScript path leaves them).
StepResult step(const StepJob& job);

}  // namespace optimizer
}  // namespace modprop
