/**
 * `train(net, task, options)`: minibatch training with any rule (SPEC §6). The loop runs on the main thread but
 * every gradient is computed off it (`gradientsAsync`: the native engine on a libuv worker, the reference engine on
 * a worker thread), so the event loop stays free. Batches are drawn from seeds derived from (seed, iteration), so a
 * run is reproducible and a resumed run continues exactly the curve the uninterrupted one would have drawn.
 */
import { abortError } from './backends/engine';
import { loadCheckpoint, saveCheckpoint, type TrainingPosition } from './checkpoint';
import { metricsOf } from './evaluate';
import { checkRuleStability, network, preparedGradients, type PreparedGradients } from './gradients';
import type { Network } from './network';
import { PARAM_KEYS, createOptimizer, type OptimizerState } from './optimizer';
import { applyStep, nativeIteration, nativeOptimizer, type IterationJob, type NativeIteration } from './trainStep';
import { evaluationForward } from './trainEval';
import type { Batch, Params } from './types';
import { deriveSeed } from './random';
import type { Task } from './tasks/task';
import { planDraw, sampleOffThread, type PlannedDraw } from './tasks/nativeSampler';
import { engineNameFor } from './neurons/engine';
import type { CurvePoint, TrainOptions, TrainResult } from './trainTypes';
import * as validate from './validate';
import { backend } from './backend';
import { runMetadata } from './metadata';
import { networkRecord } from './runRecord';
import { threadCount } from './threads';
import { NonFiniteForwardError } from './resultChecks';

/** Random streams of the training and evaluation batches (deriveSeed(seed, stream, iteration)). */
export const TRAIN_STREAM = 1;
export const EVAL_STREAM = 2;

const OPTION_KEYS = ['rule', 'feedback', 'mu', 'online', 'window', 'learningSignal', 'optimizer', 'lr', 'lrDecay',
  'lrDecayEvery', 'l2', 'iterations', 'batchSize', 'evalEvery', 'evalBatchSize', 'seed', 'backend', 'signal',
  'onProgress', 'checkpoint', 'checkpointEvery', 'resume', 'threads'] as const;

export interface TrainCallOptions extends TrainOptions {
  /** Continue from this checkpoint file: its parameters, optimizer state and position replace the network's. */
  resume?: string;
}

interface Normalized {
  rule: validate.NormalizedRule;
  optimizer: 'adam' | 'sgd';
  lr: number;
  lrDecay: number;
  lrDecayEvery: number;
  l2: number;
  iterations: number;
  batchSize: number;
  evalEvery: number;
  evalBatchSize: number;
  seed: number;
  backend?: 'native' | 'reference';
  checkpoint?: string;
  checkpointEvery: number;
  threads?: number;
}

function normalize(value: unknown): Normalized {
  const o = validate.plainObject(value, 'options');
  validate.knownKeys(o, 'options', OPTION_KEYS);
  const ruleFields: Record<string, unknown> = {};
  for (const k of ['rule', 'feedback', 'mu', 'online', 'window', 'learningSignal']) if (o[k] !== undefined) ruleFields[k] = o[k];
  const rule = validate.rule(ruleFields, 'options');
  const num = (key: string, dflt: number, check: (v: unknown, name: string) => number): number =>
    o[key] === undefined ? dflt : check(o[key], `options.${key}`);
  const positive = validate.positiveNumber;
  const nonNegative = (v: unknown, name: string): number => validate.numberInRange(v, name, 0, Number.MAX_VALUE, 'a finite number ≥ 0');
  const int = (v: unknown, name: string): number => validate.integer(v, name, 1, 100_000_000);
  const batchSize = num('batchSize', 32, int);
  const evalEvery = num('evalEvery', 20, int);
  if (o.checkpoint !== undefined && (typeof o.checkpoint !== 'string' || o.checkpoint === '')) validate.fail('a file path', 'options.checkpoint', o.checkpoint);
  if (o.resume !== undefined && (typeof o.resume !== 'string' || o.resume === '')) validate.fail('a checkpoint file path', 'options.resume', o.resume);
  if (o.onProgress !== undefined && (typeof o.onProgress !== 'function' || /^class\b/.test(Function.prototype.toString.call(o.onProgress)))) {
    validate.fail('a function (not a class)', 'options.onProgress', typeof o.onProgress === 'function' ? 'a class' : o.onProgress, typeof o.onProgress === 'function');
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) validate.fail('an AbortSignal', 'options.signal', o.signal);
  return {
    rule,
    optimizer: o.optimizer === undefined ? 'adam' : validate.oneOf(o.optimizer, 'options.optimizer', ['adam', 'sgd'] as const),
    lr: num('lr', 5e-4, positive),
    lrDecay: num('lrDecay', 0.8, positive),
    lrDecayEvery: num('lrDecayEvery', 300, int),
    l2: num('l2', 5e-4, nonNegative),
    iterations: num('iterations', 1000, (v, n) => validate.integer(v, n, 0, 100_000_000)),
    batchSize,
    evalEvery,
    evalBatchSize: num('evalBatchSize', batchSize, int),
    seed: num('seed', 0, (v, n) => validate.integer(v, n, 0)),
    backend: o.backend === undefined ? undefined : validate.oneOf(o.backend, 'options.backend', ['native', 'reference'] as const),
    checkpoint: o.checkpoint as string | undefined,
    checkpointEvery: num('checkpointEvery', evalEvery, int),
    threads: o.threads === undefined ? undefined : threadCount(o.threads, 'options.threads'),
  };
}

function checkTask(task: unknown, net: Network): Task {
  const t = validate.plainObject(task, 'task');
  if (typeof t.sample !== 'function') validate.fail('a task with a sample(batchSize, seed) function', 'task', task);
  if (t.nIn !== net.nIn) validate.fail(`a task with nIn = ${net.nIn} (the network's)`, 'task.nIn', t.nIn);
  if (t.nOut !== net.nOut) validate.fail(`a task with nOut = ${net.nOut} (the network's)`, 'task.nOut', t.nOut);
  validate.oneOf(t.loss, 'task.loss', ['xent-last', 'mse'] as const);
  return task as Task;
}

/** JSON-able record of the run's settings, for `TrainResult.config` and checkpoints. */
function describeRun(o: Normalized, net: Network, task: Task): Record<string, unknown> {
  const { rule, ...rest } = o;
  return { ...rule, ...rest, task: task.name, ...(task.sampler !== undefined ? { sampler: task.sampler } : {}), network: networkRecord(net.config) };
}

/** The settings `train` resolves from these options, every default spelled out (no network or task), as JSON data. */
export function resolvedTrainOptions(options: TrainCallOptions): Record<string, unknown> {
  const { rule, ...rest } = normalize(options);
  return { ...rule, ...rest };
}

/**
 * Trains `net` in place on `task` and resolves with the learning curve (SPEC §6 format). Rejects with a ModpropError
 * on bad options, a non-finite loss, or an unstable ModProp filter (ρ(Φ) ≥ 1, at the start or when the weights
 * drift there) — the network then keeps its last good parameters, and the error's `result` holds the curve so far —
 * and with an AbortError (whose `result` holds the curve so far) when `options.signal` aborts.
 *
 * @example
 * const task = tasks.delayedXor();
 * const net = Network.create({ nIn: 2, nRec: 120, nOut: 2, seed: 1 });
 * const run = await train(net, task, { rule: 'modprop', mu: 0.25, iterations: 400, seed: 1 });
 * console.log(run.final.accuracy);
 */
export async function train(net: Network, task: Task, options: TrainCallOptions): Promise<TrainResult> {
  network(net);
  const o = normalize(options);
  const t = checkTask(task, net);
  const rule = validate.ruleConfigOf(o.rule);
  const config = describeRun(o, net, t);

  const { optimizer, position } = options.resume === undefined
    ? { optimizer: createOptimizer(o.optimizer, net.params), position: { iteration: 0, task: t.name, curve: [], elapsedMs: 0, pendingLoss: 0, pendingCount: 0, options: config } }
    : resumeFrom(options.resume, net, t, o, config);
  // Spiking networks run on the reference engine whatever the default (lib/neurons/engine.ts).
  const metadata = runMetadata({ engine: engineNameFor(net.config.neuron, o.backend ?? backend.name, [o.rule]) });
  const result = (): TrainResult => ({ config, metadata, curve: position.curve, final: position.curve[position.curve.length - 1] });
  try {
    return await trainFrom(net, t, o, options, { rule, optimizer, position, result });
  } catch (err) {
    // An unstable filter or a divergence keeps the curve so far, as an abort does, so a caller can still write it.
    if (err instanceof validate.ModpropError && !('result' in err)) Object.assign(err, { result: result() });
    throw err;
  }
}

/**
 * The optimizer state and position of a checkpoint, after checking that it belongs to this network, task, sampler and
 * optimizer; the network takes its parameters.
 */
function resumeFrom(file: string, net: Network, t: Task, o: Normalized, config: Record<string, unknown>): { optimizer: OptimizerState; position: TrainingPosition } {
  const cp = loadCheckpoint(file);
  const mismatch = (['nIn', 'nRec', 'nOut', 'nTypes'] as const).find((k) => cp.network[k] !== net[k]);
  if (mismatch) validate.fail(`a checkpoint of a network with ${mismatch} = ${net[mismatch]}`, 'options.resume', `${mismatch} = ${cp.network[mismatch]} in ${file}`, true);
  if (cp.position.task !== t.name) validate.fail(`a checkpoint of task '${t.name}'`, 'options.resume', `task '${cp.position.task}' in ${file}`, true);
  // Checkpoints written before the sampler was recorded drew their noise with box-muller (then the only sampler).
  const cpSampler = cp.position.options?.sampler ?? (t.sampler !== undefined ? 'box-muller' : undefined);
  if (cpSampler !== undefined && cpSampler !== t.sampler) validate.fail(`a checkpoint of task '${t.name}' with sampler '${t.sampler}'`, 'options.resume', `sampler '${String(cpSampler)}' in ${file}`, true);
  if (cp.optimizer.kind !== o.optimizer) validate.fail(`a checkpoint made with optimizer '${o.optimizer}'`, 'options.resume', `'${cp.optimizer.kind}' in ${file}`, true);
  for (const k of PARAM_KEYS) net.params[k].set(cp.network.params[k]);
  return { optimizer: cp.optimizer, position: { ...cp.position, options: config } };
}

interface RunState {
  rule: ReturnType<typeof validate.ruleConfigOf>;
  optimizer: OptimizerState;
  position: TrainingPosition;
  result: () => TrainResult;
}

async function trainFrom(net: Network, t: Task, o: Normalized, options: TrainCallOptions, state: RunState): Promise<TrainResult> {
  const { rule, optimizer, position, result } = state;
  checkRuleStability(net, o.rule, 'options.mu');

  const started = Date.now() - position.elapsedMs;
  const elapsed = (): number => Date.now() - started;
  // The C++ step when the native engine computes the gradients (bit-identical to lib/optimizer.ts's).
  const nativeStep = (o.backend ?? backend.name) === 'native' ? nativeOptimizer() : undefined;
  // Checked once with the first batch; then each iteration is one native job (gradient + step, lib/trainStep.ts
  // nativeIteration) where the engine allows, else gradientsAsync followed by applyStep. Same numbers either way.
  let prepared: PreparedGradients | undefined;
  let oneJob: IterationJob | undefined;
  const save = (): void => {
    if (!o.checkpoint) return;
    try {
      saveCheckpoint(o.checkpoint, { network: net, optimizer, position: { ...position, elapsedMs: elapsed() } }, 'options.checkpoint');
    } catch (err) {
      throw Object.assign(err as Error, { result: result() }); // a full disk must not cost the curve so far
    }
  };

  const taskBatch = batchChecker(net, t);
  const evaluate = evaluator(net, t, o, options, position, elapsed, taskBatch);
  const tuning = o.l2 > 0 ? `options.lr (${o.lr}) or options.l2 (${o.l2})` : `options.lr (${o.lr})`;
  const lrAt = (iteration: number): number => o.lr * o.lrDecay ** Math.floor((iteration - 1) / o.lrDecayEvery);
  if (position.iteration === 0 && position.curve.length === 0) await evaluate(0, lrAt(1));

  const batches = trainingBatches(t, o, taskBatch);
  for (let it = position.iteration + 1; it <= o.iterations; it++) {
    if (options.signal?.aborted) throw Object.assign(abortError(options.signal), { result: result() });
    const lr = lrAt(it);
    const batch = await batches.take(it);
    const evaluating = it % o.evalEvery === 0 || it === o.iterations;
    // Kept only where an evaluation may still find the new parameters overflowing (and put these back).
    const before = evaluating ? snapshotParams(net) : undefined;
    let g: { loss: number };
    let stepped: NativeIteration['outcome'];
    try {
      // The runner checks the filter's stability every call, in the engine that runs it (one algorithm per engine).
      if (!prepared) {
        prepared = preparedGradients(net, batch, rule, { loss: t.loss, backend: o.backend, threads: o.threads }, 'options');
        oneJob = process.env.MODPROP_TRAIN_ONE_JOB === '0' ? undefined : nativeIteration(prepared, optimizer, o.l2);
      }
      if (oneJob) {
        // The next batch is drawn by this iteration's job where it can (beside the gradient, on the pool), else
        // off the JS thread while the job runs (the same numbers either way).
        const planned = it < o.iterations && oneJob.draws && process.env.MODPROP_TRAIN_JOB_DRAWS !== '0' ? batches.plan(it + 1) : undefined;
        const pending = oneJob(batch, lr, planned?.args);
        if (it < o.iterations && !planned) batches.prefetch(it + 1);
        const r = await pending;
        if (planned) batches.drawn(it + 1, planned.batch);
        g = r;
        stepped = r.outcome;
      } else {
        const pending = prepared.run(batch, options.signal);
        if (it < o.iterations) batches.prefetch(it + 1);
        const r = await pending;
        if (!Number.isFinite(r.loss)) {
          throw new validate.ModpropError(`Expected a finite loss at iteration ${it} but received ${r.loss} (training diverged: lower ${tuning}; the network keeps the parameters of iteration ${it - 1}${o.checkpoint ? `, and ${o.checkpoint} the last checkpoint` : ''})`);
        }
        g = r;
        stepped = await applyStep(net, optimizer, r.grads, lr, o.l2, nativeStep);
      }
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw Object.assign(err as Error, { result: result() });
      if (err instanceof validate.ModpropError && !/^Expected a finite loss at iteration/.test(err.message)) {
        throw new validate.ModpropError(`${err.message} (at iteration ${it}; the network keeps the parameters of iteration ${it - 1})`);
      }
      throw err;
    }
    if (!stepped.ok) {
      const broken = stepped.what === 'gradient' ? `grads.${stepped.where}` : `params.${stepped.where}`;
      throw new validate.ModpropError(`Expected finite ${stepped.what === 'gradient' ? 'gradients at' : 'parameters after'} the step of iteration ${it} but ${broken} became non-finite (training diverged: lower ${tuning}; the network keeps the parameters of iteration ${it - 1})`);
    }
    position.pendingLoss += g.loss;
    position.pendingCount += 1;
    position.iteration = it;
    if (evaluating) {
      try {
        await evaluate(it, lr);
      } catch (err) {
        // Weights grown huge but finite overflow the evaluation: that is divergence too, handled the same way.
        if (!(err instanceof NonFiniteForwardError)) throw err;
        for (const k of PARAM_KEYS) net.params[k].set(before![k]);
        throw new validate.ModpropError(`Expected a finite loss at the evaluation of iteration ${it} but the outputs overflowed float32 (${err.where}) (training diverged: lower ${tuning}; the network keeps the parameters of iteration ${it - 1})`);
      }
    }
    if (o.checkpoint && (it % o.checkpointEvery === 0 || it === o.iterations)) save();
  }
  if (o.iterations === 0 || position.iteration < o.iterations) save();
  return result();
}

/** A custom task's batches are checked like a caller's (labels in range, targets finite) before any metric. */
function batchChecker(net: Network, t: Task): (b: unknown, name: string) => Batch {
  return (b, name) => validate.batch(b, net, t.loss, name).batch;
}

/**
 * The evaluation of iteration `iteration`: a fresh batch (and the task's held-out set) through the network, one curve
 * point, onProgress. It runs off the JS thread (forwardAsync, into outputs reused all run); training waits for it,
 * so no number changes.
 */
function evaluator(net: Network, t: Task, o: Normalized, options: TrainCallOptions, position: TrainingPosition, elapsed: () => number,
  taskBatch: (b: unknown, name: string) => Batch): (iteration: number, lr: number) => Promise<void> {
  const forwardY = evaluationForward(net, o.rule, o.backend, o.threads);
  return async (iteration, lr) => {
    const seed = deriveSeed(o.seed, EVAL_STREAM, iteration);
    const drawn = sampleOffThread(t.sample, o.evalBatchSize, seed);
    const batch = taskBatch(drawn ? await drawn : t.sample(o.evalBatchSize, seed), `task.sample(${o.evalBatchSize}, ${seed})`);
    const m = metricsOf(await forwardY(batch), batch, net.nOut, t.loss);
    const point: CurvePoint = {
      iteration, loss: m.loss, ...(m.accuracy !== undefined ? { accuracy: m.accuracy } : {}),
      ...(m.nmse !== undefined ? { nmse: m.nmse } : {}),
      elapsedMs: elapsed(),
    };
    if (position.pendingCount > 0) point.trainLoss = position.pendingLoss / position.pendingCount;
    if (t.heldOut) {
      const held = taskBatch(t.heldOut(), 'task.heldOut()');
      const h = metricsOf(await forwardY(held), held, net.nOut, t.loss);
      point.testLoss = h.loss;
      if (h.accuracy !== undefined) point.testAccuracy = h.accuracy;
    }
    position.curve.push(point);
    position.pendingLoss = 0;
    position.pendingCount = 0;
    options.onProgress?.({ ...point, iterations: o.iterations, lr, final: iteration === o.iterations });
  };
}

/**
 * The training batches: iteration it's batch comes from seed (o.seed, TRAIN_STREAM, it), so drawing the next one
 * while this iteration's gradient runs (`prefetch`) changes no number. It is drawn off the JS thread when the task's
 * sample has a twin there (the built-in delayed XOR: 'fast' natively, Box–Muller on a worker thread), else on it. A
 * sampling error waits in its promise and is thrown when its iteration `take`s it.
 */
function trainingBatches(t: Task, o: Normalized, taskBatch: (b: unknown, name: string) => Batch): {
  take(it: number): Promise<Batch>;
  prefetch(it: number): void;
  /** Iteration it's batch as a draw for the native iteration job to run (lib/tasks/nativeSampler.ts planDraw). */
  plan(it: number): PlannedDraw | undefined;
  /** Iteration it's planned batch, once the job that drew it has ended: what `take(it)` returns. */
  drawn(it: number, batch: Batch): void;
} {
  // The x arrays of the last two batches taken: when iteration it + 1 is prefetched, iteration it's gradient job may
  // still read its batch, but iteration it - 1's has ended (the loop awaits each job), so its x is drawn into again
  // by a task whose off-thread twin accepts it (the built-in delayed XOR; the same numbers either way).
  const taken: Float32Array[] = [];
  const sample = async (it: number, into?: Float32Array): Promise<Batch> => {
    const seed = deriveSeed(o.seed, TRAIN_STREAM, it);
    const b = sampleOffThread(t.sample, o.batchSize, seed, into);
    return taskBatch(b ? await b : t.sample(o.batchSize, seed), `task.sample(${o.batchSize}, ${seed})`);
  };
  let prefetched: { iteration: number; batch: Promise<Batch> } | undefined;
  return {
    async take(it) {
      const pending = prefetched?.iteration === it ? prefetched.batch : sample(it);
      prefetched = undefined;
      const batch = await pending;
      if (!taken.includes(batch.x)) taken.push(batch.x);
      if (taken.length > 2) taken.shift();
      return batch;
    },
    prefetch(it) {
      // The older of the two taken arrays: its iteration's job has ended.
      const spare = taken.length === 2 ? taken.shift() : undefined;
      prefetched = { iteration: it, batch: sample(it, spare) };
      prefetched.batch.catch(() => undefined); // handled when iteration it takes it
    },
    plan(it) {
      const seed = deriveSeed(o.seed, TRAIN_STREAM, it);
      let planned: PlannedDraw | undefined;
      try {
        planned = planDraw(t.sample, o.batchSize, seed, taken.length === 2 ? taken[0] : undefined);
      } catch {
        return undefined; // drawn by prefetch instead, whose error waits until iteration it takes the batch
      }
      if (planned && planned.batch.x === taken[0]) taken.shift();
      return planned;
    },
    drawn(it, batch) {
      const seed = deriveSeed(o.seed, TRAIN_STREAM, it);
      prefetched = { iteration: it, batch: (async () => taskBatch(batch, `task.sample(${o.batchSize}, ${seed})`))() };
      prefetched.batch.catch(() => undefined); // handled when iteration it takes it
    },
  };
}

function snapshotParams(net: Network): Params {
  const p = net.params;
  return { win: p.win.slice(), wrec: p.wrec.slice(), wout: p.wout.slice(), bout: p.bout.slice() };
}
