/**
 * LIF: the leaky integrate-and-fire neuron of the e-prop paper (Bellec et al. 2020, Methods), with SPEC §1's input
 * current (the factor 1−α, as for the rate unit). Per unit, from v_0 = a_0 = z_0 = 0:
 *   v_t = α v_{t-1} + (1-α) (x_t @ Win + z_{t-1} @ Wrec) − v_th z_{t-1}      α = exp(−dt/τ_m)   (reset by subtraction)
 *   a_t = ρ a_{t-1} + z_{t-1},   A_t = v_th + β a_t                           (alif; for lif β = 0, A_t = v_th)
 *   z_t = H(v_t − A_t), but 0 for `refractory` steps after a spike
 *   ψ_t = (γ_pd / v_th) · max(0, 1 − |v_t − A_t| / v_th),   0 while refractory      (the pseudo-derivative dz_t/dv_t)
 * The reset enters the forward pass but not the gradient (it is treated as detached, as in the paper's derivation of
 * the eligibility traces, where ∂v_{t+1}/∂v_t = α): every rule, bptt and rtrl included, differentiates this surrogate.
 * Defaults: τ_m = 20, refractory 2 steps, γ_pd = 0.3 and τ_out = 20 as in the paper; v_th = 0.2 because the input
 * current here carries SPEC's factor 1−α (a spike moves v by (1−α)·w, not w): with SPEC §1's initialisation the
 * default networks then fire at about 2 % of steps on delayed XOR.
 */
import type { SpikingConstants, SpikingNeuron } from './neuron';

export const LIF_DEFAULTS: Readonly<Omit<SpikingNeuron, 'model'>> = Object.freeze({
  tauM: 20, threshold: 0.2, refractory: 2, dampening: 0.3, tauOut: 20,
});

/** The state of N units after step t; `refractory` counts the steps each unit is still blocked for. */
export interface SpikingState {
  v: Float64Array;
  a: Float64Array;
  z: Float64Array;
  refractory: Int32Array;
}

export function spikingState(n: number): SpikingState {
  return { v: new Float64Array(n), a: new Float64Array(n), z: new Float64Array(n), refractory: new Int32Array(n) };
}

/**
 * One step of N units (lif or alif): `prev` is the state at t−1 (null at t = 1, i.e. all zero), `current` the synaptic
 * input x_t @ Win + z_{t-1} @ Wrec. Writes the state at t into `out` and ψ_t into `psi`.
 */
export function spikingStep(k: SpikingConstants, prev: SpikingState | null, current: ArrayLike<number>, out: SpikingState, psi: Float64Array): void {
  const n = out.v.length;
  const leak = 1 - k.alpha;
  for (let i = 0; i < n; i++) {
    const zPrev = prev ? prev.z[i] : 0;
    const v = (prev ? k.alpha * prev.v[i] : 0) + leak * current[i] - k.vth * zPrev;
    const a = (prev ? k.rho * prev.a[i] : 0) + zPrev;
    const blocked = prev ? prev.refractory[i] : 0;
    out.v[i] = v;
    out.a[i] = a;
    if (blocked > 0) {
      out.z[i] = 0;
      out.refractory[i] = blocked - 1;
      psi[i] = 0;
      continue;
    }
    const over = v - (k.vth + k.beta * a);
    out.z[i] = over > 0 ? 1 : 0;
    out.refractory[i] = over > 0 ? k.refractory : 0;
    psi[i] = pseudoDerivative(k, over);
  }
}

/** ψ for a unit whose membrane is `over` above its threshold (and that is not refractory). */
export function pseudoDerivative(k: SpikingConstants, over: number): number {
  const r = 1 - Math.abs(over) / k.vth;
  return r > 0 ? (k.dampening / k.vth) * r : 0;
}
