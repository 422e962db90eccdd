/**
 * ALIF: the LIF neuron of lif.ts with an adaptive threshold (Bellec et al. 2020, Methods):
 *   a_t = ρ a_{t-1} + z_{t-1},   A_t = v_th + β a_t,   ρ = exp(−dt/τ_a),   z_t = H(v_t − A_t),
 *   ψ_t = (γ_pd / v_th) · max(0, 1 − |v_t − A_t| / v_th)
 * Its state per unit is (v, a), so e-prop needs an eligibility vector per synapse p → j (the paper's ε^v, ε^a):
 *   ε^v_{p,t} = α ε^v_{p,t-1} + (1-α) pre_{p,t}                 (pre = z_{t-1} for Wrec, x_t for Win; as the rate unit)
 *   ε^a_{pj,t} = ψ_{j,t-1} ε^v_{p,t-1} + (ρ − β ψ_{j,t-1}) ε^a_{pj,t-1}
 *   e_{pj,t}  = ψ_{j,t} (ε^v_{p,t} − β ε^a_{pj,t})               (for lif β = 0: e = ψ_j ε^v_p)
 * Defaults: those of lif.ts and τ_a = 200, β = 0.07 (a unit firing at 2 % of steps raises its threshold by about
 * β·0.02·τ_a ≈ 0.28 ≈ v_th). The unit's own adaptation loop multiplies dE/da by ρ − βψ_t each step, which can grow
 * without bound when β γ_pd / v_th > 1 + ρ; config.ts refuses such parameters.
 */
import { LIF_DEFAULTS } from './lif';
import type { SpikingConstants, SpikingNeuron } from './neuron';

export const ALIF_DEFAULTS: Readonly<Omit<SpikingNeuron, 'model'>> = Object.freeze({ ...LIF_DEFAULTS, tauA: 200, beta: 0.07 });

/**
 * Moves the adaptation traces ε^a (rows × N, row p = presynaptic unit) from t−1 to t, given ε^v_{t-1} (per row) and
 * ψ_{t-1} (per postsynaptic unit). Call it before ε^v moves to t.
 */
export function advanceAdaptationTrace(k: SpikingConstants, epsA: Float64Array, epsVPrev: ArrayLike<number>, psiPrev: ArrayLike<number>, rows: number): void {
  const n = psiPrev.length;
  for (let p = 0; p < rows; p++) {
    const ev = epsVPrev[p];
    const row = p * n;
    for (let j = 0; j < n; j++) epsA[row + j] = psiPrev[j] * ev + (k.rho - k.beta * psiPrev[j]) * epsA[row + j];
  }
}
