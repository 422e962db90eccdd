// Internal: the causal type filter of online ModProp (SPEC §4), one instance per batch chunk.
#pragma once
#include <vector>

#include "rules.h"

namespace modprop {

template <typename Real>
class ModpropFilter {
 public:
  // phi, psi: Φ and Ψ (C×C, row-major) from typeFilter().
  ModpropFilter(const Model<Real>& m, const TypeFilter& filter, int rows);
  // R_{p,t} = R_{p,t-1} Φ + ε_{p,t-1} I_C, for recurrent (eps) and input (epsIn) presynaptic traces; call before the
  // traces themselves advance to step t.
  void advance(int rows, const Real* eps, const Real* epsIn);
  // A[p][d] += Σ_c R_{p,t}[d][c] M_{c,t} with M_{c,t} = Σ_{i of type c} ℓ_{i,t}; Ψ is applied once in finish().
  void accumulate(int rows, const Real* ell);
  // dWrec[p][j] += Σ_d Ψ[type(j)][d] A[p][d] (and the same for dWin).
  void finish(Real* dWrec, Real* dWin) const;

 private:
  void accumulateOne(const Real* r, std::ptrdiff_t stride, int width, Real* a);
  void expand(const Real* a, int width, Real* dW) const;

  const Model<Real>& m_;
  int c_;
  std::vector<Real> phi_;
  std::vector<double> psi_;
  int rows_;
  // R of every sequence of the chunk, [C][C][rows·N] and [C][C][rows·I]: Φ is shared, so one step is C² long
  // vector operations over (sequence, presynaptic unit). Double-buffered, swapped each step.
  std::vector<Real> rec_, recNext_, in_, inNext_;
  std::vector<Real> accRec_, accIn_;  // A before Ψ: [C][N] and [C][I]
  std::vector<Real> modulator_;       // M_c
};

}  // namespace modprop
