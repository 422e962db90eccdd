/**
 * bptt — the exact gradient (SPEC §3):   R_t = relu'(v_t − thr) ⊙ (g_{t+1} @ Wrecᵀ)
 */
import { maskInactive, timesTransposed, type OfflineRule } from './offline';
import type { Model64 } from './model';

export function bptt(m: Model64, window = 0): OfflineRule {
  return {
    window,
    credit(ctx, out) {
      timesTransposed(ctx.gNext, m.wrec, m.nRec, out);
      maskInactive(ctx, out);
      return true;
    },
  };
}
