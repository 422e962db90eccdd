/**
 * modprop — ModProp, offline (SPEC §3):   R_t = μ · (g_{t+1} @ Wfbᵀ)
 * Credit through all hops, with relu' replaced by the constant μ and Wrec by Wfb (type average by default).
 * `exactDerivative` (internal, for the identity test) puts relu'(v_t − thr) back in place of μ: with cell feedback
 * that is bptt exactly.
 */
import { feedbackWeights } from './mdgl';
import { maskInactive, timesTransposed, type OfflineRule } from './offline';
import type { Model64, ReferenceRule } from './model';

export function modprop(m: Model64, rule: ReferenceRule): OfflineRule {
  const wfb = feedbackWeights(m, rule);
  return {
    window: 0,
    credit(ctx, out) {
      timesTransposed(ctx.gNext, wfb, m.nRec, out);
      if (rule.exactDerivative) maskInactive(ctx, out);
      else for (let i = 0; i < m.nRec; i++) out[i] *= rule.mu;
      return true;
    },
  };
}
