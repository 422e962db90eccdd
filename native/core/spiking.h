// Internal: spiking LIF/ALIF networks (docs/neurons.md; lib/neurons/lif.ts, alif.ts and lib/reference/spiking are
// the same equations in float64, the oracle of test/native/spikingParity.test.ts). The rate unit's paths, fused
// kernel included, never come here: gradients() and forward() branch on Model::neuron once per call.
#pragma once
#include "rules.h"

namespace modprop {

// Throws modprop::Error naming the field for a neuron id out of range or constants out of their domain (rate: no-op).
template <typename Real>
void validateNeuron(const ModelView<Real>& view);

// Whether the native engine runs this rule on spiking neurons (lib/neurons/engine.ts NATIVE_SPIKING is the same
// list): bptt, tbptt, eprop and rflo (offline and online), mdgl, modprop offline (type and cell feedback) and online
// (lif, type feedback). Not: rtrl, online ModProp on alif. Throws a modprop::Error naming rule.online or rule.rule.
void checkSpikingRule(Neuron neuron, const RuleSpec& rule);

// The forward pass of sequences b0..b0+rows-1 into v (membrane), z (spikes), y (readout of ẑ), all [B][T][·].
template <typename Real>
void spikingForward(const Model<Real>& m, const Real* x, int b0, int rows, Real* v, Real* z, Real* y);

// One chunk of a gradient call (the rule checked by checkSpikingRule): offline rules leave dWrec and dWin without
// the (1-α) factor, as offlineChunk; the online rules' traces include it. `filter`: ModProp's Φ and Ψ (online
// ModProp only).
template <typename Real>
double spikingChunk(const Model<Real>& m, const BatchView<Real>& batch, const RuleSpec& rule,
                    const FilterMatrices& filter, int first, int rows, const GradAccumulator<Real>& acc);

}  // namespace modprop
