// Building the Model a rule reads (transposes, feedback matrix, type averages) once per gradients() call, and the
// filter's spectral radius is spectral_radius.cc. Validation is validation.cc, the cell-type maths cell_types.cc.
#include "model.h"

#include <cmath>
#include <type_traits>

#include "kernels.h"

namespace modprop {

template <typename Real>
std::vector<Real> transpose(const Real* a, int rows, int cols) {
  std::vector<Real> t(std::size_t(rows) * cols);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++) t[std::size_t(j) * rows + i] = a[std::size_t(i) * cols + j];
  return t;
}

template <typename Real>
Model<Real> buildModel(const Dims& d, const ModelView<Real>& m, const RuleSpec& rule, ThreadPool* pool) {
  Model<Real> out;
  out.d = d;
  out.win = m.win;
  out.wrec = m.wrec;
  out.wout = m.wout;
  out.bout = m.bout;
  out.types = m.types;
  out.alpha = Real(m.alpha);
  out.leak = Real(1 - m.alpha);
  out.threshold = Real(m.threshold);
  out.neuron = m.neuron;
  out.spiking = m.spiking;
  const RuleTraits& traits = kRules[static_cast<int32_t>(rule.rule)];  // id range-checked by validateRule
  const bool exact = traits.exact;
  const Real* f = (!exact && rule.signal == LearningSignal::Random) ? m.randomFeedback : m.wout;
  out.feedbackT = transpose(f, d.nRec, d.nOut);
  const bool usesWfb = traits.feedback;
  if (m.mask != nullptr && m.neuron == Neuron::Rate) {
    // Every product with Wrec or Wrecᵀ runs over the mask entries (sparse.h), so neither wrecT nor panels are made.
    // (Spiking networks keep the dense kernels: Wrec is 0 outside the mask, so they compute the same sums.)
    out.sparse = sparseWrec(m.mask, m.wrec, d.nRec);
  } else {
    // Below this Wrec (N²·4 bytes) fits in L2 and is read in place, as it always was.
    constexpr int kPanelsMinUnits = 512;
    if constexpr (std::is_same<Real, float>::value)
      if (d.nRec >= kPanelsMinUnits) out.wrecPanels = kernels::packPanels(m.wrec, d.nRec, d.nRec, pool);
    if (exact || (usesWfb && rule.feedback == Feedback::Cell)) {
      // Where Wrec is packed, only Wrecᵀ's panels are read (the same numbers): packed straight from Wrec, no Wrecᵀ.
      bool packed = false;
      if constexpr (std::is_same<Real, float>::value)
        if (!out.wrecPanels.empty()) {
          out.wrecTPanels = kernels::packPanelsTransposed(m.wrec, d.nRec, d.nRec, pool);
          packed = true;
        }
      if (!packed) out.wrecT = transpose(m.wrec, d.nRec, d.nRec);
    }
  }
  if (usesWfb && rule.feedback == Feedback::Type) {
    out.omega = typeBlockMeans(d, m);
    if (d.nTypes > kManyTypes) {
      out.omegaT.resize(out.omega.size());
      for (int a = 0; a < d.nTypes; a++)
        for (int b = 0; b < d.nTypes; b++) out.omegaT[std::size_t(b) * d.nTypes + a] = Real(out.omega[std::size_t(a) * d.nTypes + b]);
      return out;
    }
    out.typeMask.assign(std::size_t(d.nTypes) * d.nRec, Real(0));
    for (int i = 0; i < d.nRec; i++) out.typeMask[std::size_t(m.types[i]) * d.nRec + i] = Real(1);
  }
  return out;
}

#define MODPROP_INSTANTIATE(Real)                                                                  \
  template std::vector<Real> transpose<Real>(const Real*, int, int);                               \
  template Model<Real> buildModel<Real>(const Dims&, const ModelView<Real>&, const RuleSpec&, ThreadPool*);
MODPROP_INSTANTIATE(float)
MODPROP_INSTANTIATE(double)
#undef MODPROP_INSTANTIATE

}  // namespace modprop
