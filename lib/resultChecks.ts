/**
 * Results are checked before they are handed back (issue 11): float32 overflows on finite but extreme inputs or
 * weights, and a batch can be valid yet too large for the memory at hand. Either is a ModpropError naming what to
 * change, never a returned Infinity/NaN or a raw RangeError from an allocation.
 */
import type { Batch, ForwardResult } from './types';
import { ModpropError, describe, everyFinite, fail } from './validate';
import { loadAddon } from './native/addon';

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
  return finiteForwardAsync(r);
}

/** The readout alone (Engine.forwardOutputsAsync), checked as checkedForwardAsync checks a whole result. */
export async function checkedOutputsAsync(run: () => Promise<Float32Array>, batch: Batch, shape: { nRec: number; nOut: number }): Promise<Float32Array> {
  let y: Float32Array;
  try {
    y = await run();
  } catch (err) {
    return allocationFailure(err, batch, shape);
  }
  const scan = finiteScanner();
  const found = scan ? await scan([y]) : everyFinite(y) ? null : [0, y.findIndex((value) => !Number.isFinite(value))];
  if (found === null) return y;
  throw new NonFiniteForwardError(`${describe(y[found[1]])} at y[${found[1]}]`);
}

function allocationFailure(err: unknown, batch: Batch, shape: { nRec: number; nOut: number }): never {
  if (!(err instanceof RangeError) || !/allocat|Invalid typed array length|Array buffer/i.test(err.message)) throw err;
  const floats = batch.batchSize * batch.steps * (2 * shape.nRec + shape.nOut);
  return fail(`a batch whose results fit in memory (v, z and y hold ${floats} floats, ${(floats * 4 / 2 ** 30).toFixed(1)} GiB; ${err.message})`,
    'batch', `batchSize × steps = ${batch.batchSize} × ${batch.steps}`, true);
}

/** A forward pass whose outputs overflowed float32: `where` names the first non-finite entry (e.g. "Infinity at y[3]"). */
export class NonFiniteForwardError extends ModpropError {
  constructor(readonly where: string) {
    super(`Expected finite outputs (inputs or weights too large for float32?) for the result of forward but received ${where}`);
  }
}

function finiteForward(r: ForwardResult): ForwardResult {
  for (const key of ['v', 'z', 'y'] as const) {
    const a = r[key];
    if (everyFinite(a)) continue;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) throw new NonFiniteForwardError(`${describe(a[i])} at ${key}[${i}]`);
    }
  }
  return r;
}

let scanner: { scan?: (arrays: Float32Array[]) => Promise<[number, number] | null> } | undefined;

/** The addon's scan off the JS thread (firstNonFiniteAsync), when it has one and MODPROP_BACKEND allows the addon. */
function finiteScanner(): ((arrays: Float32Array[]) => Promise<[number, number] | null>) | undefined {
  if (scanner === undefined) {
    const loaded = process.env.MODPROP_BACKEND === 'reference' ? undefined : loadAddon();
    const scan = loaded && 'addon' in loaded ? loaded.addon.firstNonFiniteAsync : undefined;
    scanner = scan ? { scan } : {};
  }
  return scanner.scan;
}

/** `finiteForward` with the scan on a libuv worker when the addon has it (unless MODPROP_BACKEND=reference). */
async function finiteForwardAsync(r: ForwardResult): Promise<ForwardResult> {
  const scan = finiteScanner();
  if (!scan) return finiteForward(r);
  const keys = ['v', 'z', 'y'] as const;
  const found = await scan(keys.map((k) => r[k]));
  if (found === null) return r;
  const [k, i] = found;
  throw new NonFiniteForwardError(`${describe(r[keys[k]][i])} at ${keys[k]}[${i}]`);
}

