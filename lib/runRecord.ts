/**
 * The JSON form of a network's normalised config, as run files record it: every field (new ones ride along), typed
 * arrays as plain arrays. `Network.create` and `Network.fromParams` accept it back, so a run file recreates its network.
 */
import type { NormalizedNetworkConfig } from './validate';

export function networkRecord(c: Readonly<NormalizedNetworkConfig>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) out[k] = ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v;
  return out;
}
