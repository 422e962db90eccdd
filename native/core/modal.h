// Internal: the eigendecomposition Φ = V Λ V⁻¹ of a small real matrix (ModProp's C×C type filter), in complex
// arithmetic, for the modal form of online ModProp (modprop_modal.cc): with Φ diagonalised, the filter state of a
// presynaptic unit is C complex numbers (one per eigenvalue) instead of a C×C matrix, and a step costs O(C) instead
// of O(C³).
//
// Method (Golub & Van Loan, ch. 7): Householder reduction to upper Hessenberg form, the real double-shift QR
// iteration to the real Schur form (its 2×2 blocks then triangularised by complex rotations; should it not converge,
// the complex single-shift iteration instead), Schur vectors Z accumulated, the eigenvectors Y of the triangular
// T = Zᴴ Φ Z by back substitution (unit diagonal), V = Z Y and V⁻¹ = Y⁻¹ Zᴴ (Y⁻¹ again by back substitution),
// columns of V scaled to unit norm. C = 120: ~13 ms; C = 512: ~0.6 s on the bench machine (the complex iteration
// alone: 20 ms and 1.1 s).
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

// a: n×n row-major. real = false skips the real (double-shift) iteration and runs the complex one it falls back on
// (for the tests of that fallback).
ModalForm modalForm(const std::vector<double>& a, int n, bool real = true);

// The modes a filter keeps of a real matrix's decomposition: Φ = Σ_k V_k λ_k W_k (W = V⁻¹) has its complex eigenvalues
// in conjugate pairs whose terms are each other's conjugates, so the real Φ^t = Σ over kept modes of weight · Re(…)
// with one mode per pair at weight 2 and the real eigenvalues at weight 1: half the work for a random Φ. A complex
// eigenvalue without a conjugate partner within 1e-8·max(1, ρ) is kept alone at weight 1 (exact as well, as the
// filter takes the real part of the whole sum).
struct ModalModes {
  int c = 0, modes = 0;
  std::vector<double> lre, lim, weight;  // per mode
  std::vector<double> vre, vim;          // columns of V: C×modes, row-major
  std::vector<double> wre, wim;          // rows of V⁻¹: modes×C
};
ModalModes keptModes(const ModalForm& f);

}  // namespace modprop
