/**
 * tbptt — truncated BPTT with window W (SPEC §3): the bptt recursion, with the state (v and z) cut from the graph
 * every W steps, so g does not cross from step kW+1 back to step kW (k ≥ 1). What a PyTorch user gets by detaching
 * the hidden state every W steps. A window ≥ T is bptt.
 */
import { bptt } from './bptt';
import type { OfflineRule } from './offline';
import type { Model64 } from './model';

export function tbptt(m: Model64, window: number): OfflineRule {
  return bptt(m, window);
}
