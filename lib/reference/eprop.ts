/**
 * eprop — three-factor e-prop (SPEC §3):   R_t = 0,   so   g_t = α g_{t+1} + ℓ_t
 * Only the unit's own leak carries credit back: eligibility trace × learning signal.
 */
import type { OfflineRule } from './offline';

export function eprop(): OfflineRule {
  return { window: 0, credit: () => false };
}
