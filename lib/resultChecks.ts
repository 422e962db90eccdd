/**
 * Results are checked before they are handed back (issue 11): float32 overflows on finite but extreme inputs or
 * weights, and a batch can be valid yet too large for the memory at hand. Either is a ModpropError naming what to
 * change, never a returned Infinity/NaN or a raw RangeError from an allocation.
 */
import type { Batch, ForwardResult } from './types';
import { describe, fail } from './validate';

/** Runs an engine's forward pass and checks its result (finite) and its allocations (memory). */
export function checkedForward(run: () => ForwardResult, batch: Batch, shape: { nRec: number; nOut: number }): ForwardResult {
  let r: ForwardResult;
  try {
    r = run();
  } catch (err) {
    return allocationFailure(err, batch, shape);
  }
  return finiteForward(r);
}

/** `checkedForward` for an engine's asynchronous forward pass. */
export async function checkedForwardAsync(run: () => Promise<ForwardResult>, batch: Batch, shape: { nRec: number; nOut: number }): Promise<ForwardResult> {
  let r: ForwardResult;
  try {
    r = await run();
  } catch (err) {
    return allocationFailure(err, batch, shape);
  }
  return finiteForward(r);
}

function allocationFailure(err: unknown, batch: Batch, shape: { nRec: number; nOut: number }): never {
  if (!(err instanceof RangeError) || !/allocat|Invalid typed array length|Array buffer/i.test(err.message)) throw err;
  const floats = batch.batchSize * batch.steps * (2 * shape.nRec + shape.nOut);
  return fail(`a batch whose results fit in memory (v, z and y hold ${floats} floats, ${(floats * 4 / 2 ** 30).toFixed(1)} GiB; ${err.message})`,
    'batch', `batchSize × steps = ${batch.batchSize} × ${batch.steps}`, true);
}

function finiteForward(r: ForwardResult): ForwardResult {
  for (const key of ['v', 'z', 'y'] as const) {
    const a = r[key];
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) fail('finite outputs (inputs or weights too large for float32?)', 'the result of forward', `${describe(a[i])} at ${key}[${i}]`, true);
    }
  }
  return r;
}
