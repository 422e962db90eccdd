/**
 * Cell subtypes (`Network.create({ subtypes: k })`): the inhibitory and the excitatory units are each split at random
 * into k subtypes of equal size (sizes differ by at most one when k does not divide a class), so the network has
 * C = 2k cell types for type-averaged feedback. Signs, and so every initialisation recipe, are unchanged: only the
 * types that ModProp and MDGL average over differ. The split is seeded by the network seed on its own stream.
 *
 * Type ids: inhibitory subtypes 0..k-1 (sign -1), excitatory subtypes k..2k-1 (sign +1); k = 1 gives the default
 * types (inhibitory 0, excitatory 1).
 */
import { Random, STREAMS } from './random';

/** Type ids of `nRec` units whose first `nInh` are inhibitory, each class split at random into `k` equal subtypes. */
export function subtypeIds(nRec: number, nInh: number, k: number, seed: number): { types: Int32Array; typeSigns: Int8Array } {
  const types = new Int32Array(nRec);
  const rng = new Random(seed, STREAMS.subtypes);
  const split = (first: number, count: number, offset: number): void => {
    const units = Array.from({ length: count }, (_, i) => first + i);
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [units[i], units[j]] = [units[j], units[i]];
    }
    units.forEach((u, i) => { types[u] = offset + (i % k); });
  };
  split(0, nInh, 0);
  split(nInh, nRec - nInh, k);
  const typeSigns = new Int8Array(2 * k);
  for (let t = k; t < 2 * k; t++) typeSigns[t] = 1;
  for (let t = 0; t < k; t++) typeSigns[t] = -1;
  return { types, typeSigns };
}
