/**
 * SPEC §3: every offline rule is one reverse-time recursion, g_{T+1} = 0,
 *   g_t = α g_{t+1} + ℓ_t + (1-α) R_t
 * differing only in the recurrent credit R_t (one file per rule supplies it). Then, summed over the batch,
 *   dWrec = (1-α) Σ_t z_{t-1}ᵀ g_t    dWin = (1-α) Σ_t x_tᵀ g_t    dWout = Σ_t z_tᵀ δ_t    dbout = Σ_t δ_t
 * with the diagonal of dWrec cleared. `window` (tbptt) cuts g between steps kW and kW+1. A rule may own the combine
 * step instead (rflo: its mask ψ_t applies after the leaky sum) and then sees δ_t rather than ℓ_t.
 * native/core/offline.cc offlineChunk is the same driver; here the whole batch is one chunk.
 */
import { runSequence } from './forward';
import { accumulateReadout, learningSignal, outputError } from './loss';
import { clearDiagonal, feedbackOf, zeroGrads, type Data64, type Model64, type ReferenceRule, type Result64 } from './model';

/** What a rule sees at step t (0-based) when it computes R_t. */
export interface CreditContext {
  m: Model64;
  /** v of this sequence, [T][nRec]; v_t starts at t·nRec. */
  v: Float64Array;
  t: number;
  /** g_{t+1} (zeros after a tbptt cut or at the last step). */
  gNext: Float64Array;
  /** ℓ_{t+1} (zeros at the last step). */
  ellNext: Float64Array;
  /** Spiking networks: ψ of this sequence, [T][nRec], which then stands in place of relu' (lib/neurons). */
  psi?: Float64Array;
}

/** Writes R_t into out (length nRec). Returns false when R_t is identically zero (the caller skips it). */
export type RecurrentCredit = (ctx: CreditContext, out: Float64Array) => boolean;

/** What a rule that owns its combine step sees: the credit context and δ_t (null where the loss gives none). */
export interface CombineContext extends CreditContext {
  delta: Float64Array | null;
}

/** Prepared once per call: the rule's credit function (it may precompute e.g. the feedback matrix). */
export interface OfflineRule {
  credit: RecurrentCredit;
  /** tbptt window, 0 for none. */
  window: number;
  /**
   * A rule whose recursion is not g_t = α g_{t+1} + ℓ_t + (1-α) R_t (rflo) writes g_t itself, from t = T-1 down to
   * 0 of each sequence, from δ_t (so it may use the unmasked learning signal δ_t Fᵀ); `credit` is then not called.
   */
  combine?: (ctx: CombineContext, g: Float64Array) => void;
}

export function offlineChunk(m: Model64, d: Data64, rule: ReferenceRule, offline: OfflineRule): Result64 {
  const { nIn, nRec: n, nOut: k, alpha } = m;
  const T = d.steps;
  const leak = 1 - alpha;
  const grads = zeroGrads(m);
  const f = feedbackOf(m, rule);
  const delta = new Float64Array(k);
  const ell = new Float64Array(T * n);
  const deltas = offline.combine ? new Float64Array(T * k) : null;
  const hasDelta = new Uint8Array(T);
  const zeros = new Float64Array(n);
  let g = new Float64Array(n);
  let gNext = new Float64Array(n);
  const r = new Float64Array(n);
  let loss = 0;

  for (let b = 0; b < d.batchSize; b++) {
    const { v, z, y } = runSequence(m, d.x, b, T);
    ell.fill(0);
    hasDelta.fill(0);
    for (let t = 0; t < T; t++) {
      const part = outputError(m, d, b, t, y, t * k, delta);
      if (part < 0) continue;
      loss += part;
      hasDelta[t] = 1;
      deltas?.set(delta, t * k);
      accumulateReadout(m, z, t * n, delta, grads.wout, grads.bout);
      learningSignal(m, f, delta, v, t * n, ell, t * n);
    }
    gNext.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const cut = offline.window > 0 && (t + 1) % offline.window === 0 && t + 1 < T;
      const gn = cut ? zeros : gNext;
      const ellNext = t + 1 < T ? ell.subarray((t + 1) * n, (t + 2) * n) : zeros;
      if (offline.combine) {
        offline.combine({ m, v, t, gNext: gn, ellNext, delta: deltas && hasDelta[t] ? deltas.subarray(t * k, (t + 1) * k) : null }, g);
      } else {
        const hasCredit = offline.credit({ m, v, t, gNext: gn, ellNext }, r);
        for (let i = 0; i < n; i++) g[i] = alpha * gn[i] + ell[t * n + i] + (hasCredit ? leak * r[i] : 0);
      }
      accumulateOuter(grads.win, d.x, (b * T + t) * nIn, nIn, g, n, leak);
      if (t > 0) accumulateOuter(grads.wrec, z, (t - 1) * n, n, g, n, leak);
      [g, gNext] = [gNext, g];
    }
  }
  clearDiagonal(grads.wrec, n);
  return { loss, grads };
}

/** out[p][j] += scale · a[p] · g[j] for the rows p where a[p] ≠ 0. */
export function accumulateOuter(out: Float64Array, a: ArrayLike<number>, aAt: number, rows: number, g: ArrayLike<number>, cols: number, scale: number): void {
  for (let p = 0; p < rows; p++) {
    const ap = a[aAt + p] * scale;
    if (ap === 0) continue;
    for (let j = 0; j < cols; j++) out[p * cols + j] += ap * g[j];
  }
}

/** out_i = Σ_j g_j W[i][j], i.e. g @ Wᵀ for a row-major n×n W. */
export function timesTransposed(g: ArrayLike<number>, w: ArrayLike<number>, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += g[j] * w[i * n + j];
    out[i] = s;
  }
}

/** relu'(v_t − thr) as 0/1 (or a spiking unit's ψ_t), applied in place to out. */
export function maskInactive(ctx: CreditContext, out: Float64Array): void {
  const n = ctx.m.nRec;
  if (ctx.psi) {
    for (let i = 0; i < n; i++) out[i] *= ctx.psi[ctx.t * n + i];
    return;
  }
  for (let i = 0; i < n; i++) if (!(ctx.v[ctx.t * n + i] - ctx.m.threshold > 0)) out[i] = 0;
}
