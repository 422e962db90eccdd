// Internal: the eigendecomposition Φ = V Λ V⁻¹ of a small real matrix (ModProp's C×C type filter), in complex
// arithmetic, for the modal form of online ModProp (modprop_modal.cc): with Φ diagonalised, the filter state of a
// presynaptic unit is C complex numbers (one per eigenvalue) instead of a C×C matrix, and a step costs O(C) instead
// of O(C³).
//
// Method (Golub & Van Loan, ch. 7): Householder reduction to upper Hessenberg form, shifted QR iterations (Givens
// rotations, Wilkinson shift, complex) to the Schur form T = Zᴴ Φ Z with the Schur vectors Z accumulated, the
// eigenvectors Y of the triangular T by back substitution (unit diagonal), V = Z Y and V⁻¹ = Y⁻¹ Zᴴ (Y⁻¹ again by
// back substitution), columns of V scaled to unit norm. Cost ≈ 30 C³ flops (C = 120: ~20 ms; C = 512: ~1.5 s).
// No balancing; the caller decides from `condition` whether the decomposition is usable.
#pragma once
#include <vector>

namespace modprop {

struct ModalForm {
  int c = 0;
  bool ok = false;                 // false: the QR iteration did not converge (the other fields are empty)
  // ok with condition = ∞: the eigenvalues are valid but V is not (a defective Φ, back substitution overflowed).
  std::vector<double> lre, lim;    // eigenvalues λ_k
  std::vector<double> vre, vim;    // V, C×C row-major, columns of unit 2-norm
  std::vector<double> wre, wim;    // V⁻¹, C×C row-major
  double condition = 0;            // ‖V‖_F ‖V⁻¹‖_F (≥ C; large: eigenvectors nearly parallel)
};

// a: n×n row-major.
ModalForm modalForm(const std::vector<double>& a, int n);

}  // namespace modprop
