/**
 * Every offline rule on a spiking network (docs/neurons.md): the reverse recursion of SPEC §3 with the neuron's
 * pseudo-derivative ψ in place of relu', a second adjoint for ALIF's adaptation, and the leaky readout. With
 * g^v_t ≈ dE/dv_t, g^a_t ≈ dE/da_t (both 0 after T), u_{T+1} = 0:
 *   u_t = κ u_{t+1} + δ_t                   ℓ_t = ψ_t ⊙ (u_t @ Fᵀ)            (direct credit through the readout)
 *   s_t = ℓ_t + ψ_t ⊙ g^a_{t+1} + (1-α) R_t                                   (= ψ_t ⊙ dE/dz_t for bptt)
 *   g^v_t = α g^v_{t+1} + s_t               g^a_t = ρ g^a_{t+1} − β s_t
 * where R_t is the rule's recurrent credit exactly as for rate units (bptt: ψ_t ⊙ (g^v_{t+1} @ Wrecᵀ); eprop: 0;
 * mdgl: ψ_t ⊙ (ℓ_{t+1} @ Wfbᵀ); modprop: μ (g^v_{t+1} @ Wfbᵀ)). The unit's own paths (leak, adaptation) are kept by
 * every rule: they are the eligibility traces. Gradients as SPEC §3 (ẑ for z in dWout):
 *   dWrec = (1-α) Σ_t z_{t-1}ᵀ g^v_t     dWin = (1-α) Σ_t x_tᵀ g^v_t     dWout = Σ_t ẑ_tᵀ δ_t     dbout = Σ_t δ_t
 * tbptt cuts g^v and g^a together (the whole state is detached). A rule that owns its combine step (rflo,
 * spiking/rflo.ts) writes g^v_t itself from u_t (as CombineContext.delta) and ψ_t, and has no g^a.
 */
import { accumulateReadout, outputError } from '../loss';
import { clearDiagonal, feedbackOf, zeroGrads, type Data64, type Model64, type ReferenceRule, type Result64 } from '../model';
import { accumulateOuter, type OfflineRule } from '../offline';
import { feedbackSignal, runSpikingSequence } from './forward';

export function spikingReverseGradients(m: Model64, d: Data64, rule: ReferenceRule, offline: OfflineRule): Result64 {
  const { nIn, nRec: n, nOut: k, alpha } = m;
  const { rho, beta, kappa } = m.neuron!;
  const T = d.steps;
  const leak = 1 - alpha;
  const grads = zeroGrads(m);
  const f = feedbackOf(m, rule);
  const delta = new Float64Array(T * k);
  const u = new Float64Array(T * k);
  const ell = new Float64Array(T * n);
  const zeros = new Float64Array(n);
  const r = new Float64Array(n);
  let gv = new Float64Array(n);
  let gvNext = new Float64Array(n);
  let ga = new Float64Array(n);
  let gaNext = new Float64Array(n);
  let loss = 0;

  for (let b = 0; b < d.batchSize; b++) {
    const s = runSpikingSequence(m, d.x, b, T);
    delta.fill(0);
    for (let t = 0; t < T; t++) {
      const dt = delta.subarray(t * k, (t + 1) * k);
      const part = outputError(m, d, b, t, s.y, t * k, dt);
      if (part < 0) continue;
      loss += part;
      accumulateReadout(m, s.zOut, t * n, dt, grads.wout, grads.bout);
    }
    for (let t = T - 1; t >= 0; t--) {
      for (let o = 0; o < k; o++) u[t * k + o] = (t + 1 < T ? kappa * u[(t + 1) * k + o] : 0) + delta[t * k + o];
      feedbackSignal(f, u.subarray(t * k, (t + 1) * k), n, k, ell, t * n);
      for (let i = 0; i < n; i++) ell[t * n + i] *= s.psi[t * n + i];
    }
    gvNext.fill(0);
    gaNext.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const cut = offline.window > 0 && (t + 1) % offline.window === 0 && t + 1 < T;
      const gvn = cut ? zeros : gvNext;
      const gan = cut ? zeros : gaNext;
      const ellNext = t + 1 < T ? ell.subarray((t + 1) * n, (t + 2) * n) : zeros;
      const ctx = { m, v: s.v, t, gNext: gvn, ellNext, psi: s.psi };
      if (offline.combine) {
        offline.combine({ ...ctx, delta: u.subarray(t * k, (t + 1) * k) }, gv);  // g^a stays 0
      } else {
        const hasCredit = offline.credit(ctx, r);
        for (let i = 0; i < n; i++) {
          const si = ell[t * n + i] + s.psi[t * n + i] * gan[i] + (hasCredit ? leak * r[i] : 0);
          gv[i] = alpha * gvn[i] + si;
          ga[i] = rho * gan[i] - beta * si;
        }
      }
      accumulateOuter(grads.win, d.x, (b * T + t) * nIn, nIn, gv, n, leak);
      if (t > 0) accumulateOuter(grads.wrec, s.z, (t - 1) * n, n, gv, n, leak);
      [gv, gvNext] = [gvNext, gv];
      [ga, gaNext] = [gaNext, ga];
    }
  }
  clearDiagonal(grads.wrec, n);
  return { loss, grads };
}
