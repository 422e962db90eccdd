// model.h wrecTransposeProduct: the reverse recurrent product h @ Wrecᵀ, from packed panels at large N.
#include "kernels.h"
#include "model.h"

namespace modprop {

template <>
void wrecTransposeProduct<float>(const Model<float>& m, int rows, const float* h, float* out) {
  const int n = m.d.nRec;
  if (!m.wrecTPanels.empty())
    kernels::matmulPanels(rows, n, n, h, n, m.wrecTPanels.data(), out, n);
  else
    kernels::matmul<float>(rows, n, n, h, n, m.wrecT.data(), n, out, n, false);
}

template <>
void wrecTransposeProduct<double>(const Model<double>& m, int rows, const double* h, double* out) {
  const int n = m.d.nRec;
  kernels::matmul<double>(rows, n, n, h, n, m.wrecT.data(), n, out, n, false);
}

}  // namespace modprop
