/**
 * rflo — random-feedback local online learning (Murray 2019, eLife 8:e43299), for the leaky units of SPEC §1.
 * With ψ_t = relu'(v_t − thr) and the UNMASKED learning signal L_t = δ_t @ Fᵀ (F = the fixed random feedback B by
 * default, Wout with learningSignal 'symmetric'), each synapse keeps a trace in which the postsynaptic derivative
 * sits inside the leaky filter:
 *   q_{pj,t} = α q_{pj,t-1} + (1-α) ψ_{j,t} z_{p,t-1}        q^in_{aj,t} = α q^in_{aj,t-1} + (1-α) ψ_{j,t} x_{a,t}
 *   dWrec[p][j] = Σ_t q_{pj,t} L_{j,t}                       dWin[a][j] = Σ_t q^in_{aj,t} L_{j,t}
 * (e-prop instead filters z alone and masks the signal: ε_t ⊗ (ψ_t ⊙ L_t); the two agree when ψ ≡ 1.)
 * Offline, exchanging the sums gives the reverse recursion with the mask after the leaky sum:
 *   G_t = α G_{t+1} + L_t,   g_t = ψ_t ⊙ G_t,   dWrec = (1-α) Σ_t z_{t-1}ᵀ g_t,   dWin = (1-α) Σ_t x_tᵀ g_t
 * so the offline form owns its combine step. Online, the traces are N² + I·N per sequence (memory independent of T).
 * dWout, dbout are the exact readout gradients, as for every rule.
 */
import { onlineChunk } from './epropOnline';
import { feedbackOf, type Data64, type Model64, type ReferenceRule, type Result64 } from './model';
import type { OfflineRule } from './offline';

/** L = δ @ Fᵀ, not masked by relu'. */
export function unmaskedSignal(m: Model64, f: Float64Array, delta: ArrayLike<number>, out: Float64Array): void {
  const { nRec: n, nOut: k } = m;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let o = 0; o < k; o++) s += delta[o] * f[i * k + o];
    out[i] = s;
  }
}

const active = (m: Model64, v: ArrayLike<number>, at: number): boolean => v[at] - m.threshold > 0;

/**
 * The offline form: G_t = α G_{t+1} + L_t, g_t = ψ_t ⊙ G_t, from t = T-1 down. Rate units: ψ = relu' and
 * ctx.delta = δ_t. Spiking units (lib/reference/spiking/rflo.ts): ψ = ctx.psi and ctx.delta = u_t, the error filtered
 * back through the leaky readout.
 */
export function rflo(m: Model64, rule: ReferenceRule): OfflineRule {
  const n = m.nRec;
  const f = feedbackOf(m, rule);
  const big = new Float64Array(n);
  const signal = new Float64Array(n);
  return {
    window: 0,
    credit: () => false,
    combine(ctx, g) {
      const last = ctx.t === ctx.v.length / n - 1;
      if (ctx.delta) unmaskedSignal(m, f, ctx.delta, signal);
      for (let i = 0; i < n; i++) {
        big[i] = (last ? 0 : m.alpha * big[i]) + (ctx.delta ? signal[i] : 0);
        const at = ctx.t * n + i;
        g[i] = ctx.psi ? ctx.psi[at] * big[i] : active(m, ctx.v, at) ? big[i] : 0;
      }
    },
  };
}

export function rfloOnline(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  const { nIn, nRec: n, alpha } = m;
  const leak = 1 - alpha;
  const f = feedbackOf(m, rule);
  const signal = new Float64Array(n);
  return onlineChunk(m, d, rule, { eligibility: false, sequence: () => {
    const q = new Float64Array(n * n);
    const qIn = new Float64Array(nIn * n);
    const dWrec = new Float64Array(n * n);
    const dWin = new Float64Array(nIn * n);
    return {
      step(v, zPrev, x, xAt) {
        for (let j = 0; j < n; j++) {
          const psi = active(m, v, j) ? 1 : 0;
          for (let p = 0; p < n; p++) q[p * n + j] = alpha * q[p * n + j] + leak * psi * zPrev[p];
          for (let a = 0; a < nIn; a++) qIn[a * n + j] = alpha * qIn[a * n + j] + leak * psi * x[xAt + a];
        }
      },
      credit(_eps, _epsIn, _ell, delta) {
        unmaskedSignal(m, f, delta, signal);
        for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) dWrec[p * n + j] += q[p * n + j] * signal[j];
        for (let a = 0; a < nIn; a++) for (let j = 0; j < n; j++) dWin[a * n + j] += qIn[a * n + j] * signal[j];
      },
      finish(grads) {
        for (let i = 0; i < dWrec.length; i++) grads.wrec[i] += dWrec[i];
        for (let i = 0; i < dWin.length; i++) grads.win[i] += dWin[i];
      },
    };
  } });
}
