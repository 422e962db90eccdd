/**
 * train()'s parameter update after each gradient: L2, the optimizer step, the projection (zero diagonal, Dale's law)
 * and the finiteness checks, either in C++ (native/core/optimizer.cc, when the native engine computes the gradients
 * and the addon has it) or in TypeScript (lib/optimizer.ts, the reference and specification). The two are
 * bit-identical (test/unit/optimizer.test.ts), so the choice moves no number. Large networks step on a libuv worker,
 * so the JS thread stays free; small ones step synchronously, which costs less than the round trip.
 */
import { gradientCallInPlace } from './backends/native';
import { failNonFinite, type PreparedGradients } from './gradients';
import { loadAddon, type DelayedXorDrawArgs, type NativeAddon } from './native/addon';
import type { Network } from './network';
import { PARAM_KEYS, addL2, biasCorrections, project, step, type OptimizerState } from './optimizer';
import type { Batch, Params } from './types';
import { ModpropError } from './validate';

/** `where` names the first non-finite gradient (before L2) or new parameter, e.g. "wrec[17]". */
export type StepOutcome = { ok: true } | { ok: false; what: 'gradient' | 'parameter'; where: string };

type NativeStep = Required<Pick<NativeAddon, 'optimizerStep' | 'optimizerStepAsync'>>;

/** Parameters from which a step runs on a libuv worker rather than on the JS thread (≈ 0.1 ms of work). */
const ASYNC_FROM = 1 << 16;

let cached: { native?: NativeStep } | undefined;

/** The native optimizer, whenever the addon has it (MODPROP_BACKEND is the caller's business). */
export function nativeOptimizer(): NativeStep | undefined {
  if (cached === undefined) {
    const loaded = loadAddon();
    const a = 'addon' in loaded ? loaded.addon : undefined;
    cached = a && typeof a.optimizerStep === 'function' && typeof a.optimizerStepAsync === 'function' ? { native: a as NativeStep } : {};
  }
  return cached.native;
}

/** The stepped iteration: its loss and the step's outcome (a refused or non-finite gradient throws instead). */
export interface NativeIteration { loss: number; outcome: StepOutcome }

/**
 * One training iteration as ONE native job (trainStepAsync): the gradient of `batch` and, when its loss is finite,
 * the optimizer step of applyStep, on the network's own arrays with no copy and no trip to the JS thread between the
 * two (the copies, allocations and synchronous step of gradientsAsync + applyStep cost ≈ 0.5–0.7 ms per iteration at
 * the paper's size, bench/RESULTS.md). The same calls in the same order, so the numbers are bit-identical to the
 * separate path (test/train/nativeIteration.test.ts). Undefined where that path cannot serve: another engine, a
 * masked network (its Wrec gradient is masked in TypeScript, lib/gradients.ts), an addon without the entry point.
 * Errors are the separate path's: a refused input or a non-finite loss or gradient throws the ModpropError
 * gradientRunner would; a non-finite new parameter is an outcome, as from applyStep.
 */
export type IterationJob = ((batch: Batch, lr: number, draw?: DelayedXorDrawArgs) => Promise<NativeIteration>) & {
  /** Whether the job can draw the next batch (the `draw` argument: delayedXorFast's arguments, filled within the job). */
  draws: boolean;
};

export function nativeIteration(p: PreparedGradients, optimizer: OptimizerState, l2: number): IterationJob | undefined {
  const native = nativeOptimizer();
  const loaded = loadAddon();
  const run = 'addon' in loaded ? loaded.addon.trainStepAsync : undefined;
  if (p.engine !== 'native' || p.net.mask || !native || typeof run !== 'function') return undefined;
  const net = p.net;
  const grads: Params = {
    win: new Float32Array(net.params.win.length), wrec: new Float32Array(net.params.wrec.length),
    wout: new Float32Array(net.params.wout.length), bout: new Float32Array(net.params.bout.length),
  };
  const list = <T>(r: Record<(typeof PARAM_KEYS)[number], T>): T[] => PARAM_KEYS.map((k) => r[k]);
  const gradList = list(grads);
  const signs = net.config.dale ? net.config.typeSigns : null;
  const draws = 'addon' in loaded && loaded.addon.trainStepDraws === true;
  const job = async (batch: Batch, lr: number, draw?: DelayedXorDrawArgs): Promise<NativeIteration> => {
    if (draw !== undefined && !draws) throw new Error('modprop internal error: this addon cannot draw within a training iteration');
    const { c1, c2 } = optimizer.kind === 'adam' ? biasCorrections(optimizer.step + 1) : { c1: 1, c2: 1 };
    const floats = Float64Array.of(optimizer.kind === 'adam' ? 1 : 0, lr, l2, c1, c2);
    const [ints, header, arrays] = gradientCallInPlace(net, batch, p.rule, p.loss, p.threads, grads);
    let loss: number, status: number, matrix: number, index: number, message: string;
    try {
      [loss, status, matrix, index, message] = await run(ints, header, arrays, floats, list(net.params), gradList,
        optimizer.m ? list(optimizer.m) : null, optimizer.v ? list(optimizer.v) : null, net.types, signs, net.nOut, draw);
    } catch (err) {
      if (err instanceof Error && (err as { code?: string }).code === 'MODPROP_INVALID') throw new ModpropError(err.message);
      throw err;
    }
    if (status === 4) throw new ModpropError(message);
    if (status === 3 || status === 1) {
      failNonFinite(loss, grads); // throws, naming the loss or the first non-finite gradient as gradientRunner does
      throw new Error(`modprop internal error: trainStepAsync reported status ${status} for a finite result`);
    }
    optimizer.step += 1; // the step ran (Adam's moments moved even when a new parameter was non-finite)
    if (status === 0) return { loss, outcome: { ok: true } };
    return { loss, outcome: { ok: false, what: 'parameter', where: `${PARAM_KEYS[matrix]}[${index}]` } };
  };
  return Object.assign(job, { draws });
}

function firstNonFinite(p: Params): { where: string } | undefined {
  for (const k of PARAM_KEYS) {
    const a = p[k];
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return { where: `${k}[${i}]` };
  }
  return undefined;
}

/**
 * One update of `net.params` in place with `grads` (modified: L2 is added). A non-finite gradient changes nothing; a
 * non-finite new parameter puts the parameters back as they were (Adam's moments keep the update either way).
 */
export async function applyStep(net: Network, optimizer: OptimizerState, grads: Params, lr: number, l2: number, native: NativeStep | undefined): Promise<StepOutcome> {
  const signs = net.config.dale ? net.config.typeSigns : null;
  if (native) {
    optimizer.step += 1; // as step() does first
    const { c1, c2 } = optimizer.kind === 'adam' ? biasCorrections(optimizer.step) : { c1: 1, c2: 1 };
    const floats = Float64Array.of(optimizer.kind === 'adam' ? 1 : 0, lr, l2, c1, c2);
    const list = <T>(r: Record<(typeof PARAM_KEYS)[number], T>): T[] => PARAM_KEYS.map((k) => r[k]);
    const args = [floats, list(net.params), list(grads), optimizer.m ? list(optimizer.m) : null, optimizer.v ? list(optimizer.v) : null,
      net.types, signs, net.nOut] as const;
    const size = PARAM_KEYS.reduce((n, k) => n + net.params[k].length, 0);
    let status: number, matrix: number, index: number;
    try {
      [status, matrix, index] = size >= ASYNC_FROM ? await native.optimizerStepAsync(...args) : native.optimizerStep(...args);
    } catch (err) {
      if (err instanceof Error && (err as { code?: string }).code === 'MODPROP_INVALID') throw new ModpropError(err.message);
      throw err;
    }
    if (status === 0) return { ok: true };
    const k = PARAM_KEYS[matrix];
    return { ok: false, what: status === 1 ? 'gradient' : 'parameter', where: `${k}[${index}]` };
  }
  const badGradient = firstNonFinite(grads);
  if (badGradient) return { ok: false, what: 'gradient', ...badGradient };
  addL2(grads, net.params, l2);
  const before = PARAM_KEYS.map((k) => net.params[k].slice());
  step(optimizer, net.params, grads, lr);
  project(net.params, net.types, signs, net.nOut);
  const broken = firstNonFinite(net.params);
  if (!broken) return { ok: true };
  PARAM_KEYS.forEach((k, i) => net.params[k].set(before[i]));
  return { ok: false, what: 'parameter', ...broken };
}
