// model.h wrecTransposeProduct: the reverse recurrent product h @ Wrecᵀ, from packed panels at large N; and
// wrecGradient, the Wrec gradient's sum of outer products. Both over the mask entries when the network is sparse.
#include "kernels.h"
#include "model.h"

namespace modprop {

template <>
void wrecTransposeProduct<float>(const Model<float>& m, int rows, const float* h, float* out) {
  const int n = m.d.nRec;
  if (m.isSparse())
    sparseTransposeProduct(m.sparse, rows, h, n, out, n);
  else if (!m.wrecTPanels.empty())
    kernels::matmulPanels(rows, n, n, h, n, m.wrecTPanels.data(), out, n);
  else
    kernels::matmul<float>(rows, n, n, h, n, m.wrecT.data(), n, out, n, false);
}

template <>
void wrecTransposeProduct<double>(const Model<double>& m, int rows, const double* h, double* out) {
  const int n = m.d.nRec;
  if (m.isSparse())
    sparseTransposeProduct(m.sparse, rows, h, n, out, n);
  else
    kernels::matmul<double>(rows, n, n, h, n, m.wrecT.data(), n, out, n, false);
}

template <typename Real>
void wrecGradient(const Model<Real>& m, std::ptrdiff_t rows, const Real* a, const Real* g, Real* dWrec) {
  const int n = m.d.nRec;
  if (m.isSparse())
    sparseTransA(m.sparse, rows, a, n, g, n, dWrec);
  else
    kernels::matmulTransA<Real>(rows, n, n, a, n, g, n, dWrec, n);
}

template void wrecGradient<float>(const Model<float>&, std::ptrdiff_t, const float*, const float*, float*);
template void wrecGradient<double>(const Model<double>&, std::ptrdiff_t, const double*, const double*, double*);

}  // namespace modprop
