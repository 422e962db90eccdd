/**
 * Sparse recurrent connectivity (`Network.create({ connectivity: p })`, issue 13 goal 4): a fixed mask of the
 * connections Wrec may use, each off-diagonal entry kept with probability p on its own random stream
 * (STREAMS.connectivity), the diagonal never. p = 1 (the default) means no mask and the dense network of before, bit
 * for bit.
 *
 * The mask is part of the configuration: (seed, nRec, connectivity) determine it, so a saved network, a checkpoint
 * or `fromParams(net.config, …)` gets it back from the config they carry — not from Wrec's zeros, which training or a
 * ReLU-like pruning could add — and `fromParams` refuses a Wrec with weight outside it. Every rule's Wrec gradient
 * is zeroed outside the mask (lib/gradients.ts), on both engines, so Adam, SGD, L2 and the Dale projection keep
 * those weights at exactly 0 (an update of a weight that is 0 with gradient 0 is 0 in each of them).
 */
import { Random, STREAMS } from './random';
import { ModpropError, describe, fail } from './validate';

/** The mask as nRec×nRec 0/1 bytes (row = presynaptic unit), or null for a dense network (p = 1). */
export function connectivityMask(nRec: number, connectivity: number, seed: number): Uint8Array | null {
  if (connectivity >= 1) return null;
  const rng = new Random(seed, STREAMS.connectivity);
  const mask = new Uint8Array(nRec * nRec);
  for (let p = 0; p < nRec; p++) {
    for (let j = 0; j < nRec; j++) {
      const keep = rng.uniform() < connectivity;  // drawn for the diagonal too, so entry (p, j) does not depend on N's diagonal
      mask[p * nRec + j] = keep && p !== j ? 1 : 0;
    }
  }
  return mask;
}

/** Zeroes the entries of a row-major nRec×nRec matrix outside the mask (in place). */
export function applyMask(m: { [i: number]: number; length: number }, mask: Uint8Array | null): void {
  if (mask === null) return;
  for (let k = 0; k < mask.length; k++) if (mask[k] === 0) m[k] = 0;
}

/** Throws unless `wrec` is 0 wherever the mask is. */
export function checkMasked(wrec: ArrayLike<number>, mask: Uint8Array | null, nRec: number, name: string): void {
  if (mask === null) return;
  for (let k = 0; k < mask.length; k++) {
    if (mask[k] === 0 && wrec[k] !== 0 && !(k % (nRec + 1) === 0)) {
      fail('0 outside the connectivity mask (drawn from config.seed and config.connectivity)', name,
        `${wrec[k]} at [${Math.floor(k / nRec)}][${k % nRec}]`, true);
    }
  }
}

/** The fraction of off-diagonal entries a mask keeps (1 without a mask). */
export function maskDensity(mask: Uint8Array | null, nRec: number): number {
  if (mask === null || nRec < 2) return 1;
  let kept = 0;
  for (let k = 0; k < mask.length; k++) kept += mask[k];
  return kept / (nRec * (nRec - 1));
}

/**
 * When the native engine runs a masked network's recurrent products over the mask entries (native/core/sparse.h) by
 * default: at p ≤ SPARSE_CROSSOVER and N ≥ SPARSE_MIN_UNITS; otherwise the dense kernels run on the masked Wrec.
 * Measured with the bench phase `sparse` (bench/types.ts, B = 32, delayed XOR, 2 threads, AVX-512 dense kernels
 * against the AVX2 sparse tiles, on a loaded 2-core machine): the sparse path was faster at every p ≤ 0.1 at N = 512
 * and 1024 (×1.5–3.5 for bptt and online ModProp) and slower at p ≥ 0.3; at N = 120 it only paid at p ≤ 0.05 and by
 * milliseconds, so small networks keep the dense kernels.
 */
export const SPARSE_CROSSOVER = 0.1;
export const SPARSE_MIN_UNITS = 256;

/**
 * Whether the native engine takes the sparse path for a network with this mask, connectivity p and size: with a
 * mask, p ≤ SPARSE_CROSSOVER and nRec ≥ SPARSE_MIN_UNITS, unless the environment variable MODPROP_SPARSE forces it
 * (`1`: every masked network, `0`: never; read on every call, for the bench and the tests). A dense network (no
 * mask) never does. Both paths compute the same gradient; they differ in the order of float32 sums.
 */
export function sparseKernels(mask: Uint8Array | null | undefined, connectivity: number | undefined, nRec: number): boolean {
  if (!mask) return false;
  const forced = process.env.MODPROP_SPARSE;
  if (forced === '1') return true;
  if (forced === '0') return false;
  if (forced !== undefined && forced !== '') {
    throw new ModpropError(`Expected '0' or '1' for the environment variable MODPROP_SPARSE but received ${describe(forced)}`);
  }
  return (connectivity ?? 1) <= SPARSE_CROSSOVER && nRec >= SPARSE_MIN_UNITS;
}

/** Runs fn with MODPROP_SPARSE set to value (the bench and the tests time and compare both paths), restoring it after. */
export function withSparseKernels<T>(value: '0' | '1' | '', fn: () => T): T {
  const before = process.env.MODPROP_SPARSE;
  process.env.MODPROP_SPARSE = value;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.MODPROP_SPARSE;
    else process.env.MODPROP_SPARSE = before;
  }
}
