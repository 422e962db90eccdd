/**
 * The neuron model as an axis of the network (issue 12 item 3), norse-style: a parameter struct, a pure step function
 * (state, input current, params → state) and a pseudo-derivative ψ = "dz/dv" that every learning rule uses in place
 * of the derivative of the unit's output. One file per model:
 *   rate.ts  the leaky-ReLU rate unit of SPEC §1 (the default; its engines are unchanged, including the native fused path)
 *   lif.ts   the leaky integrate-and-fire neuron of the e-prop paper (Bellec et al. 2020, Methods)
 *   alif.ts  the LIF neuron with an adaptive threshold (same paper), and its eligibility vector
 * config.ts validates `NetworkConfig.neuron`; docs/neurons.md states the model, the readout and the gradients.
 */

export const NEURON_NAMES = ['rate', 'lif', 'alif'] as const;
export type NeuronName = (typeof NEURON_NAMES)[number];

/** `NetworkConfig.neuron` as users write it; every field but `model` has a default (lif.ts, alif.ts). */
export interface NeuronConfig {
  model: NeuronName;
  /** Membrane time constant τ_m in units of dt (spiking; α = exp(−dt/τ_m) replaces the rate unit's exp(−dt/tau)). */
  tauM?: number;
  /** Firing threshold v_th > 0 (spiking). */
  threshold?: number;
  /** Refractory period in steps: after a spike the neuron cannot spike for this many steps (spiking). */
  refractory?: number;
  /** Dampening factor γ_pd of the pseudo-derivative (spiking). */
  dampening?: number;
  /** Time constant of the leaky readout, in units of dt (spiking): κ = exp(−dt/τ_out). */
  tauOut?: number;
  /** Adaptation time constant τ_a (alif): ρ = exp(−dt/τ_a). */
  tauA?: number;
  /** Adaptation strength β (alif): the threshold is v_th + β a_t. */
  beta?: number;
}

/** The normalised spiking neuron kept in `Network.config.neuron` (absent for the rate unit). */
export interface SpikingNeuron {
  model: 'lif' | 'alif';
  tauM: number;
  threshold: number;
  refractory: number;
  dampening: number;
  tauOut: number;
  /** alif only */
  tauA?: number;
  /** alif only */
  beta?: number;
}

/** The per-step constants the engines use, derived once from a SpikingNeuron and dt. */
export interface SpikingConstants {
  /** Membrane decay exp(−dt/τ_m). */
  alpha: number;
  /** Adaptation decay exp(−dt/τ_a) (0 for lif). */
  rho: number;
  /** Adaptation strength (0 for lif: the threshold is then constant). */
  beta: number;
  /** v_th */
  vth: number;
  /** Refractory steps. */
  refractory: number;
  /** γ_pd */
  dampening: number;
  /** Readout decay exp(−dt/τ_out). */
  kappa: number;
}

export function spikingConstants(n: SpikingNeuron, dt: number): SpikingConstants {
  const alif = n.model === 'alif';
  return {
    alpha: Math.exp(-dt / n.tauM),
    rho: alif ? Math.exp(-dt / n.tauA!) : 0,
    beta: alif ? n.beta! : 0,
    vth: n.threshold,
    refractory: n.refractory,
    dampening: n.dampening,
    kappa: Math.exp(-dt / n.tauOut),
  };
}
