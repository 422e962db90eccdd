// SPEC §1–2: the leaky ReLU rate network, its readout and output error, and the public forward().
//   v_t = α v_{t-1} + (1-α)(x_t @ Win + z_{t-1} @ Wrec),  z_t = relu(v_t − thr),  y_t = z_t @ Wout + bout
//   xent-last: E = mean_b CE(softmax(y_T), label), δ_T = (softmax(y_T) − onehot)/B, δ_t = 0 for t < T
//   mse:       E = 0.5/(B·T) Σ (y − target)²,     δ_t = (y_t − target_t)/(B·T)
#include <algorithm>
#include <cmath>
#include <memory>
#include <type_traits>
#include <vector>

#include "column_split.h"
#include "kernels.h"
#include "spiking.h"
#include "step.h"
#include "workspace.h"

namespace modprop {

namespace {

bool fused(const Model<float>& m, int rows, const float* x, std::ptrdiff_t ldx, const float* vPrev, const float* zPrev,
           std::ptrdiff_t ldPrev, float* v, float* z, std::ptrdiff_t ld) {
  return kernels::fusedStep(kernels::StepBlock{rows, m.d.nRec, m.d.nIn, x, ldx, m.win, zPrev, vPrev, ldPrev, m.wrec,
                                               m.alpha, m.leak, m.threshold, v, z, ld,
                                               m.wrecPanels.empty() ? nullptr : m.wrecPanels.data()});
}

bool fused(const Model<double>&, int, const double*, std::ptrdiff_t, const double*, const double*, std::ptrdiff_t,
           double*, double*, std::ptrdiff_t) {
  return false;
}

}  // namespace

template <typename Real>
void synapticInput(const Model<Real>& m, int rows, const Real* x, std::ptrdiff_t ldx, const Real* zPrev,
                   std::ptrdiff_t ldPrev, Real* out, std::ptrdiff_t ld) {
  const int n = m.d.nRec;
  if (zPrev != nullptr) {
    if (m.isSparse())
      sparseProduct(m.sparse, rows, zPrev, ldPrev, out, ld);
    else
      kernels::matmul<Real>(rows, n, n, zPrev, ldPrev, m.wrec, n, out, ld, false);
    kernels::matmul<Real>(rows, n, m.d.nIn, x, ldx, m.win, n, out, ld, true);
  } else {
    kernels::matmul<Real>(rows, n, m.d.nIn, x, ldx, m.win, n, out, ld, false);
  }
}

template <typename Real>
void networkStep(const Model<Real>& m, int rows, const Real* x, std::ptrdiff_t ldx, const Real* vPrev,
                 const Real* zPrev, std::ptrdiff_t ldPrev, Real* v, Real* z, std::ptrdiff_t ld) {
  if (!m.isSparse() && fused(m, rows, x, ldx, vPrev, zPrev, ldPrev, v, z, ld)) return;
  const int n = m.d.nRec;
  synapticInput(m, rows, x, ldx, zPrev, ldPrev, v, ld);
  const Real alpha = m.alpha, leak = m.leak, thr = m.threshold;
  for (int r = 0; r < rows; r++) {
    Real* vr = v + r * ld;
    Real* zr = z + r * ld;
    if (vPrev != nullptr) {
      const Real* pr = vPrev + r * ldPrev;
      for (int i = 0; i < n; i++) vr[i] = alpha * pr[i] + leak * vr[i];
    } else {
      for (int i = 0; i < n; i++) vr[i] = leak * vr[i];
    }
    for (int i = 0; i < n; i++) zr[i] = std::max(vr[i] - thr, Real(0));
  }
}

template <typename Real>
double outputError(const Model<Real>& m, const BatchView<Real>& batch, int first, int rows, int t, const Real* z,
                   std::ptrdiff_t ldz, Real* y, Real* delta) {
  const int k = m.d.nOut, n = m.d.nRec;
  const int steps = m.d.steps;
  const double b = m.d.batch;
  kernels::matmul<Real>(rows, k, n, z, ldz, m.wout, k, y, k, false);
  double loss = 0;
  for (int r = 0; r < rows; r++) {
    Real* yr = y + r * k;
    Real* dr = delta + r * k;
    for (int o = 0; o < k; o++) yr[o] += m.bout[o];
    if (batch.loss == Loss::XentLast) {
      double top = yr[0];
      for (int o = 1; o < k; o++) top = std::max(top, double(yr[o]));
      double sum = 0;
      for (int o = 0; o < k; o++) sum += std::exp(double(yr[o]) - top);
      const int label = batch.labels[first + r];
      for (int o = 0; o < k; o++)
        dr[o] = Real((std::exp(double(yr[o]) - top) / sum - (o == label ? 1.0 : 0.0)) / b);
      loss += (std::log(sum) + top - double(yr[label])) / b;
    } else {
      const double scale = 1.0 / (b * steps);
      const Real* target = batch.targets + (std::ptrdiff_t(first + r) * steps + t) * k;
      for (int o = 0; o < k; o++) {
        const double e = double(yr[o]) - double(target[o]);
        dr[o] = Real(e * scale);
        loss += 0.5 * e * e * scale;
      }
    }
  }
  return loss;
}

template <typename Real>
void learningSignal(const Model<Real>& m, int rows, const Real* delta, const Real* z, std::ptrdiff_t ldz, Real* ell) {
  const int n = m.d.nRec, k = m.d.nOut;
  kernels::matmul<Real>(rows, n, k, delta, k, m.feedbackT.data(), n, ell, n, false);
  for (int r = 0; r < rows; r++) {
    Real* er = ell + r * n;
    const Real* zr = z + r * ldz;
    for (int i = 0; i < n; i++) er[i] = zr[i] > Real(0) ? er[i] : Real(0);
  }
}

template <typename Real>
void accumulateReadout(const Model<Real>& m, int rows, const Real* z, std::ptrdiff_t ldz, const Real* delta,
                       Real* dWout, Real* dbout) {
  const int k = m.d.nOut;
  kernels::matmulTransA<Real>(rows, m.d.nRec, k, z, ldz, delta, k, dWout, k);
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < k; o++) dbout[o] += delta[r * k + o];
}

template <typename Real>
void forward(const Dims& dims, const ModelView<Real>& view, const Real* x, Real* v, Real* z, Real* y,
             ThreadPool& pool) {
  const Sizes sizes = validateDims(dims, false);
  validateModel(dims, view, false);
  validateNeuron(view);
  if (x == nullptr || y == nullptr) throw Error("Expected arrays for x and y but received null");
  if ((v == nullptr) != (z == nullptr)) throw Error("Expected arrays for both v and z, or for neither, but received one");
  requireFinite(x, sizes.input, "x");
  RuleSpec none{Rule::Eprop, Feedback::Type, LearningSignal::Symmetric, 0.0, false, 1};
  const Model<Real> m = buildModel(dims, view, none, &pool);
  const int steps = dims.steps, n = dims.nRec, k = dims.nOut, nIn = dims.nIn;
  const int chunks = std::min(pool.size(), int(dims.batch));
  // Layout [B][T][·]: the rows of one step are one sequence apart.
  const std::ptrdiff_t ld = std::ptrdiff_t(steps) * n, ldx = std::ptrdiff_t(steps) * nIn;
  // Outputs only (v, z null): the rate unit keeps each chunk's last two steps; the other paths write whole arrays.
  bool columns = false;
  if constexpr (std::is_same<Real, float>::value) columns = columnSplit(m);
  // Outputs only on a path that writes whole v and z: the thread's retained workspace (workspace.h) instead of a
  // zero-filled vector of 2·B·T·N floats (28 MB at paper size) per call. Every entry is written before it is read.
  std::unique_ptr<Workspace> whole;
  if (v == nullptr && (columns || m.neuron != Neuron::Rate)) {
    whole = std::make_unique<Workspace>(Workspace::round(std::size_t(2) * sizes.state * sizeof(Real)));
    v = whole->take<Real>(std::size_t(2) * sizes.state);
    z = v + sizes.state;
  }
  if constexpr (std::is_same<Real, float>::value)
    if (columns) return forwardColumns(m, x, v, z, y, pool);
  pool.parallelFor(chunks, [&](int c) {
    const int b0 = int(std::int64_t(dims.batch) * c / chunks), b1 = int(std::int64_t(dims.batch) * (c + 1) / chunks);
    const int rows = b1 - b0;
    if (m.neuron != Neuron::Rate) return spikingForward(m, x, b0, rows, v, z, y);  // spiking.cc
    const std::ptrdiff_t base = std::ptrdiff_t(b0) * steps;
    std::vector<Real> yBlock(std::size_t(rows) * k);  // the block's y_t, one product per step rather than one per row
    // Outputs only: v_t and z_t of the block's rows side by side (leading dimension n), for t and t-1 alternately.
    std::vector<Real> rolling(v == nullptr ? std::size_t(4) * rows * n : 0);
    const std::size_t block = std::size_t(rows) * n;
    for (int t = 0; t < steps; t++) {
      Real *vt, *zt;
      const Real *vPrev = nullptr, *zPrev = nullptr;
      std::ptrdiff_t ldt = ld, ldPrev = ld;
      if (v == nullptr) {
        vt = rolling.data() + (t & 1) * block;
        zt = rolling.data() + (2 + (t & 1)) * block;
        ldt = ldPrev = n;
        if (t > 0) {
          vPrev = rolling.data() + ((t - 1) & 1) * block;
          zPrev = rolling.data() + (2 + ((t - 1) & 1)) * block;
        }
      } else {
        vt = v + (base + t) * n;
        zt = z + (base + t) * n;
        if (t > 0) {
          vPrev = vt - n;
          zPrev = zt - n;
        }
      }
      const Real* xt = x + (base + t) * nIn;
      networkStep(m, rows, xt, ldx, vPrev, zPrev, ldPrev, vt, zt, ldt);
      kernels::matmul<Real>(rows, k, n, zt, ldt, m.wout, k, yBlock.data(), k, false);
      Real* yt = y + (base + t) * k;
      for (int r = 0; r < rows; r++) {
        Real* yr = yt + std::ptrdiff_t(r) * steps * k;
        for (int o = 0; o < k; o++) yr[o] = yBlock[std::size_t(r) * k + o] + m.bout[o];
      }
    }
  });
}

#define MODPROP_INSTANTIATE(Real)                                                                                  \
  template void synapticInput<Real>(const Model<Real>&, int, const Real*, std::ptrdiff_t, const Real*,            \
                                    std::ptrdiff_t, Real*, std::ptrdiff_t);                                       \
  template void networkStep<Real>(const Model<Real>&, int, const Real*, std::ptrdiff_t, const Real*, const Real*, \
                                  std::ptrdiff_t, Real*, Real*, std::ptrdiff_t);                                  \
  template double outputError<Real>(const Model<Real>&, const BatchView<Real>&, int, int, int, const Real*,       \
                                    std::ptrdiff_t, Real*, Real*);                                                \
  template void learningSignal<Real>(const Model<Real>&, int, const Real*, const Real*, std::ptrdiff_t, Real*);   \
  template void accumulateReadout<Real>(const Model<Real>&, int, const Real*, std::ptrdiff_t, const Real*, Real*, \
                                        Real*);                                                                   \
  template void forward<Real>(const Dims&, const ModelView<Real>&, const Real*, Real*, Real*, Real*, ThreadPool&);
MODPROP_INSTANTIATE(float)
MODPROP_INSTANTIATE(double)
#undef MODPROP_INSTANTIATE

}  // namespace modprop
