/**
 * mdgl — multidigraph learning (SPEC §3):   R_t = relu'(v_t − thr) ⊙ (ℓ_{t+1} @ Wfbᵀ)
 * One extra synaptic hop of credit. Wfb = Wrec (feedback 'cell') or its type average (feedback 'type').
 */
import { typeAverage } from '../filter';
import { maskInactive, timesTransposed, type OfflineRule } from './offline';
import type { Model64, ReferenceRule } from './model';

export function feedbackWeights(m: Model64, rule: ReferenceRule): Float64Array {
  return rule.feedback === 'cell' ? m.wrec : typeAverage(m.wrec, m.types, m.nTypes);
}

export function mdgl(m: Model64, rule: ReferenceRule): OfflineRule {
  const wfb = feedbackWeights(m, rule);
  return {
    window: 0,
    credit(ctx, out) {
      timesTransposed(ctx.ellNext, wfb, m.nRec, out);
      maskInactive(ctx, out);
      return true;
    },
  };
}
