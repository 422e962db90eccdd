/**
 * RFLO (Murray 2019) on spiking LIF/ALIF networks. Per synapse p → j, with pre_{p,t} = z_{p,t-1} (Wrec) or x_{p,t}
 * (Win), ψ_t the neuron's pseudo-derivative (lib/neurons/lif.ts) and the input scaled by (1-α) as everywhere:
 *   q_{pj,t} = α q_{pj,t-1} + (1-α) ψ_{j,t} pre_{p,t}                 ψ inside the leaky trace (RFLO's choice)
 *   L_t = δ_t @ Fᵀ   (UNMASKED; F = the random feedback B by default, Wout with learningSignal 'symmetric')
 *   dW[p][j] = Σ_t q_{pj,t} L̄_{j,t},   L̄_t = u_t @ Fᵀ = Σ_{s≥t} κ^{s-t} L_s,   u_t = κ u_{t+1} + δ_t,  u_{T+1} = 0
 * L̄ is the credit of z_t through the leaky readout ẑ_t = κ ẑ_{t-1} + z_t, as in spiking/reverse.ts. On ALIF units ψ_t
 * is taken at v_t − A_t (the adaptive threshold), but the trace is leak-only: RFLO keeps no adaptation path (no
 * ε^a, no g^a), so its ALIF gradient is its LIF formula on the ALIF's spikes and ψ.
 * Offline, exchanging the sums (the rate unit's combine of lib/reference/rflo.ts, fed u_t and ψ_t):
 *   G_t = α G_{t+1} + L̄_t,   g_t = ψ_t ⊙ G_t,   dWrec = (1-α) Σ_t z_{t-1}ᵀ g_t,   dWin = (1-α) Σ_t x_tᵀ g_t
 * Online, the readout's filter moves onto the trace (as spiking e-prop online does with ē), which makes it causal:
 *   q̄_{pj,t} = κ q̄_{pj,t-1} + q_{pj,t},   dW[p][j] += q̄_{pj,t} L_{j,t}   (each step with δ_t ≠ 0)
 * Σ_t q̄_t L_t = Σ_r q_r Σ_{t≥r} κ^{t-r} L_t = Σ_r q_r L̄_r: online equals offline exactly, for both neurons and both
 * losses. Memory 2·N·(N+I) per sequence (q and q̄), independent of T. dWout, dbout are the exact readout gradients.
 * With α = 0 on LIF, q_t = ψ_t pre_t is e-prop's e_t and G_t = L̄_t, so rflo equals e-prop there.
 */
import type { Data64, Model64, ReferenceRule, Result64 } from '../model';
import { rflo } from '../rflo';
import { FilteredTraces, spikingTraceSweep } from './epropOnline';
import { spikingReverseGradients } from './reverse';

/** RFLO's trace q per synapse, and its readout-filtered copy q̄ (FilteredTraces.filtered). */
class RfloTraces extends FilteredTraces {
  private readonly q: Float64Array;

  constructor(rows: number, n: number) {
    super(rows, n);
    this.q = new Float64Array(rows * n);
  }

  advance(m: Model64, pre: ArrayLike<number>, preAt: number, _psiPrev: Float64Array, psi: Float64Array): void {
    const { n, q, filtered } = this;
    const kappa = m.neuron!.kappa;
    for (let p = 0; p < this.rows; p++) {
      const input = (1 - m.alpha) * pre[preAt + p];
      for (let j = 0; j < n; j++) {
        const at = p * n + j;
        q[at] = m.alpha * q[at] + psi[j] * input;
        filtered[at] = kappa * filtered[at] + q[at];
      }
    }
  }
}

export function spikingRflo(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  return spikingReverseGradients(m, d, rule, rflo(m, rule));
}

export function spikingRfloOnline(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  return spikingTraceSweep(m, d, rule, (rows, n) => new RfloTraces(rows, n), () => null);
}
