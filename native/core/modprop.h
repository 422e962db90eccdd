// The public C++ core of modprop: the leaky ReLU rate network of SPEC §1 and the learning rules of SPEC §3–4.
// Knows nothing of Node. Every entry point validates its arguments and throws modprop::Error instead of crashing
// or returning garbage. Instantiated for float (what the addon uses) and double (tests against finite differences).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "contract.h"
#include "thread_pool.h"

namespace modprop {

class Error : public std::invalid_argument {
 public:
  explicit Error(const std::string& message) : std::invalid_argument(message) {}
};

struct Dims {
  int32_t batch, steps, nIn, nRec, nOut, nTypes;
};

// A spiking neuron's per-step constants (lib/neurons/neuron.ts SpikingConstants; docs/neurons.md). The membrane
// decay α = exp(−dt/τ_m) is ModelView::alpha. Read only when ModelView::neuron is not Neuron::Rate.
struct SpikingConstants {
  double rho = 0;          // adaptation decay exp(−dt/τ_a) (lif: 0)
  double beta = 0;         // adaptation strength: threshold v_th + β a_t (lif: 0)
  double vth = 0;          // threshold v_th > 0
  double dampening = 0;    // γ_pd of ψ = (γ_pd / v_th) max(0, 1 − |v − A| / v_th)
  double kappa = 0;        // readout decay exp(−dt/τ_out): ẑ_t = κ ẑ_{t-1} + z_t
  int32_t refractory = 0;  // steps a unit cannot spike after a spike
};

// Row-major; weight matrices are [pre][post], so a product is z @ W.
template <typename Real>
struct ModelView {
  const Real* win;             // nIn×nRec
  const Real* wrec;            // nRec×nRec (diagonal is 0)
  const Real* wout;            // nRec×nOut
  const Real* bout;            // nOut
  const Real* randomFeedback;  // nRec×nOut; replaces wout in the learning signal when signal == Random (else may be null)
  const int32_t* types;        // nRec ids in 0..nTypes-1 (forward() does not need them; may be null there)
  double alpha;                // exp(-dt/tau), in [0, 1] (spiking: exp(-dt/τ_m))
  double threshold;            // the rate unit's (spiking: SpikingConstants::vth)
  // Sparse connectivity (lib/connectivity.ts): nRec×nRec bytes, row = presynaptic, non-zero = connection kept, wrec 0
  // elsewhere. Given (rate units), the recurrent products run over the mask entries only (sparse.h); null: the dense
  // kernels. Before the neuron fields, so the binding's brace initialisers end with it.
  const uint8_t* mask = nullptr;
  Neuron neuron = Neuron::Rate;  // lif/alif: native/core/spiking.cc runs the network (docs/neurons.md)
  SpikingConstants spiking{};
};

struct RuleSpec {
  Rule rule;
  Feedback feedback;      // mdgl, modprop
  LearningSignal signal;  // eprop, mdgl, modprop (bptt/tbptt always use wout)
  double mu;              // modprop
  bool online;            // eprop, modprop with Feedback::Type
  int32_t window;         // tbptt, ≥ 1
};

template <typename Real>
struct BatchView {
  const Real* x;           // [B][T][nIn]
  const int32_t* labels;   // [B], Loss::XentLast (else may be null)
  const Real* targets;     // [B][T][nOut], Loss::Mse (else may be null)
  Loss loss;
};

// Outputs, overwritten (not accumulated into).
template <typename Real>
struct GradView {
  Real* win;   // nIn×nRec
  Real* wrec;  // nRec×nRec, diagonal set to 0
  Real* wout;  // nRec×nOut
  Real* bout;  // nOut
};

// SPEC §1. v, z: [B][T][nRec]; y: [B][T][nOut]. The batch is split over the pool.
template <typename Real>
void forward(const Dims& dims, const ModelView<Real>& model, const Real* x, Real* v, Real* z, Real* y,
             ThreadPool& pool);

// SPEC §2–4: the loss (returned) and the gradients of the rule, summed over the batch. The batch is split into
// min(pool.size(), batch) chunks reduced in a fixed order: the same pool size gives bit-identical results.
template <typename Real>
double gradients(const Dims& dims, const ModelView<Real>& model, const BatchView<Real>& batch, const RuleSpec& rule,
                 GradView<Real>& grads, ThreadPool& pool);

}  // namespace modprop
