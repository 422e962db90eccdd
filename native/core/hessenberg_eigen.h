// Eigenvalues and eigenvectors of a small dense nonsymmetric matrix, for the Ritz values and vectors of the restarted
// Arnoldi iteration (lib/spectralRadius.ts, n > 200): the EISPACK orthes/hqr2 pair as ml-matrix 6.x
// (EigenvalueDecomposition, itself JAMA's port) computes it, operation for operation, so the result has the same bits
// as the TypeScript fallback. Run natively because ml-matrix spends 10–20 ms per 60×60 call in element accessors
// (0.15–0.2 s of Network.create at N = 4096, session 11).
#pragma once

namespace modprop {

// a: n×n row-major (not changed). On success writes re[n], im[n] (the eigenvalues; a complex pair as consecutive
// entries with im > 0 first) and vectors (n×n row-major; column j the real eigenvector of a real eigenvalue, columns
// j, j+1 the real and imaginary parts of a complex pair's), exactly as ml-matrix's realEigenvalues,
// imaginaryEigenvalues and eigenvectorMatrix. Returns false, writing nothing, when a is exactly symmetric: ml-matrix
// takes its tred2/tql2 path then, which this does not mirror.
bool nonsymmetricEigen(int n, const double* a, double* re, double* im, double* vectors);

}  // namespace modprop
