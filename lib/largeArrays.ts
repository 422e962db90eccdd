/**
 * Large fresh typed arrays (a network's N×N matrices at large N) backed by transparent huge pages where Linux and the
 * addon allow (native/binding/memory.cc): fresh memory is faulted in 4 KiB at a time, and on the bench's virtual
 * machine that cost 0.4 s to fill one 134 MB Float64Array, against ~30 ms in 2 MiB pages, and the kernels' sweeps over
 * Wrec (67 MB at N = 4096, read at every step) miss the TLB far less often. Only the backing changes: the arrays are
 * ordinary, zero-filled typed arrays. Without the addon, or with MODPROP_HUGE_PAGES=0 (for A/B measurements; the
 * native workspaces read it too), they are allocated as usual.
 */
import { loadAddon } from './native/addon';

/** Below this many bytes an array is allocated as usual (the advice cannot pay for itself). */
export const HUGE_FROM_BYTES = 8 << 20;

let advise: ((array: Float32Array | Float64Array) => number) | null | undefined;

function adviser(): ((array: Float32Array | Float64Array) => number) | null {
  if (advise === undefined) {
    const loaded = loadAddon();
    const a = 'addon' in loaded ? loaded.addon.adviseHugePages : undefined;
    advise = typeof a === 'function' && process.env.MODPROP_HUGE_PAGES !== '0' ? a : null;
  }
  return advise;
}

/** A zero-filled Float64Array of `length` entries, in huge pages when it is large and they are available. */
export function largeFloat64Array(length: number): Float64Array {
  const a = new Float64Array(length);
  if (a.byteLength >= HUGE_FROM_BYTES) adviser()?.(a);
  return a;
}

/** A zero-filled Float32Array of `length` entries, in huge pages when it is large and they are available. */
export function largeFloat32Array(length: number): Float32Array {
  const a = new Float32Array(length);
  if (a.byteLength >= HUGE_FROM_BYTES) adviser()?.(a);
  return a;
}
