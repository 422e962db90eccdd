/** The gradient-level public API (SPEC §6): gradients, gradientsAsync, alignment, filterTaps. */
import { engineFor } from './backend';
import type { Engine } from './backends/engine';
import { applyMask } from './connectivity';
import { checkFilterStability, checkOnlineFilterCost, checkTapsCost, filterMatrices, filterTapsOf } from './filter';
import { Network } from './network';
import type { AsyncGradientOptions, Batch, GradientOptions, GradientResult, Params, RuleConfig } from './types';
import * as validate from './validate';
import type { LossName } from './contract';
import { ruleEntry } from './rules';
import { threadCount } from './threads';
import { checkSpikingRule, engineForNeuron } from './neurons/engine';

/**
 * One validated call: the network, batch, loss, engine and threads checked once, then handed to the engine as they
 * are (engines never validate). `alignment` makes one for all its rules.
 */
export interface PreparedCall {
  engine: Engine;
  net: Network;
  batch: Batch;
  loss: LossName;
  threads?: number;
}

export function network(value: unknown, name = 'net'): Network {
  if (!(value instanceof Network)) validate.fail('a Network (from Network.create or Network.fromParams)', name, value);
  validate.params(value.params, value, `${name}.params`);
  // The other arrays a network exposes are public too, so they are checked like its parameters.
  const fb = validate.typedArray(value.randomFeedback, `${name}.randomFeedback`, Float32Array, value.nRec * value.nOut, `nRec × nOut = ${value.nRec} × ${value.nOut}`);
  validate.allFinite(fb, `${name}.randomFeedback`);
  const types = validate.typedArray(value.types, `${name}.types`, Int32Array, value.nRec, `nRec = ${value.nRec}`);
  for (let i = 0; i < types.length; i++) {
    if (types[i] < 0 || types[i] >= value.nTypes) validate.fail(`type ids between 0 and ${value.nTypes - 1}`, `${name}.types`, `${types[i]} at index ${i}`, true);
  }
  return value;
}

/** Throws for an unstable ModProp type filter; a no-op for other rules. */
export function checkRuleStability(net: Network, rule: validate.NormalizedRule, name = 'rule.mu'): void {
  if (rule.rule !== 'modprop' || rule.feedback !== 'type') return;
  checkFilterStability(filterMatrices(net.params.wrec, net.types, net.nTypes, net.alpha, rule.mu), rule.mu, name);
}

/** The options object (only `keys`), the batch, the engine and the thread count of one call. */
function prepareCall(n: Network, batch: unknown, o: Record<string, unknown>, rules: readonly validate.NormalizedRule[]): PreparedCall {
  const b = validate.batch(batch, n, o.loss as LossName | undefined);
  const requested = o.backend === undefined ? undefined : validate.oneOf(o.backend, 'options.backend', ['native', 'reference'] as const);
  const engine = engineForNeuron(engineFor, requested, n.config, rules);
  const threads = o.threads === undefined ? undefined : threadCount(o.threads, 'options.threads');
  return { engine, net: n, batch: b.batch, loss: b.loss, threads };
}

/** What a rule needs of this call: an engine that runs it, a stable filter, an online filter that fits. */
function checkRuleFor(call: PreparedCall, r: validate.NormalizedRule, ruleName: string, stability = true): void {
  const { engine, net: n } = call;
  checkSpikingRule(n.config, r, ruleName);
  // The C++ core makes the same check with the same message (native/core/gradients.cc), so only the reference needs it.
  if (stability && engine.name !== 'native') checkRuleStability(n, r, `${ruleName}.mu`);
  if (r.rule === 'modprop' && r.online && r.feedback === 'type') {
    // The native engine runs rate networks with many types in Φ's eigenbasis (lib/filter.ts MODAL_MIN_TYPES).
    const modal = engine.name === 'native' && n.config.neuron === undefined;
    checkOnlineFilterCost(n.nTypes, call.batch.batchSize, n.nRec, n.nIn, call.batch.steps, modal);
  }
  if (!ruleEntry(r.rule).engines.includes(engine.name)) {
    validate.fail(`a rule the ${engine.name} engine implements ('${r.rule}' is ${ruleEntry(r.rule).engines.join(', ')}-only: pass { backend: '${ruleEntry(r.rule).engines[0]}' })`, `${ruleName}.rule`, r.rule);
  }
}

function prepare(net: unknown, batch: unknown, rule: unknown, options: unknown, keys: readonly string[]): { call: PreparedCall; rule: validate.NormalizedRule } {
  const n = network(net);
  const o = options === undefined ? {} : validate.plainObject(options, 'options');
  validate.knownKeys(o, 'options', keys);
  const r = validate.rule(rule, 'rule');
  const call = prepareCall(n, batch, o, [r]);
  checkRuleFor(call, r, 'rule');
  return { call, rule: r };
}

/**
 * Float32 can overflow on finite but extreme input (huge inputs or weights); such a result is an error, never a
 * silently returned Infinity or NaN. With sparse connectivity the Wrec gradient is zeroed outside the mask here, for
 * every rule and engine (lib/connectivity.ts).
 */
function checkFinite(result: GradientResult, net: Network): GradientResult {
  applyMask(result.grads.wrec, net.mask);
  failNonFinite(result.loss, result.grads);
  return result;
}

/** The error of a non-finite loss or gradient (nothing when both are finite); train's native step reports its own with it. */
export function failNonFinite(loss: number, grads: Params): void {
  if (!Number.isFinite(loss)) validate.fail('a finite loss (inputs or weights too large for float32?)', 'the result of gradients', loss);
  for (const k of ['win', 'wrec', 'wout', 'bout'] as const) {
    // Scanned natively for Wrec at large N (a JavaScript loop took 16 ms per call at N = 4096).
    const i = validate.firstNonFinite(grads[k]);
    if (i >= 0) validate.fail('finite gradients (inputs or weights too large for float32?)', 'the result of gradients', `${grads[k][i]} at grads.${k}[${i}]`, true);
  }
}

/**
 * The loss of `net` on `batch` and the gradient of every parameter under a learning rule (SPEC §3–4).
 * Exact rules (`bptt`, `rtrl`, `tbptt` with a window ≥ T) give dE/dθ; the others give their approximation.
 *
 * @example
 * const g = gradients(net, batch, { rule: 'modprop', mu: 0.25 });
 * console.log(g.loss, g.grads.wrec);
 */
export function gradients(net: Network, batch: Batch, rule: RuleConfig, options?: GradientOptions): GradientResult {
  const { call: c, rule: r } = prepare(net, batch, rule, options, ['loss', 'backend', 'threads', 'out']);
  const out = outArrays(options, c);
  return checkFinite(into(c.engine.gradients(c.net, c.batch, r, c.loss, c.threads, out), out), c.net);
}

/** `gradients` on a worker thread; rejects with an AbortError when `options.signal` aborts. */
export async function gradientsAsync(net: Network, batch: Batch, rule: RuleConfig, options?: AsyncGradientOptions): Promise<GradientResult> {
  const { call: c, rule: r } = prepare(net, batch, rule, options, ['loss', 'backend', 'signal', 'threads', 'out']);
  const signal = (options as AsyncGradientOptions | undefined)?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) validate.fail('an AbortSignal', 'options.signal', signal);
  const out = outArrays(options, c);
  return checkFinite(into(await c.engine.gradientsAsync(c.net, c.batch, r, c.loss, signal, c.threads, out), out), c.net);
}

const GRAD_KEYS = ['win', 'wrec', 'wout', 'bout'] as const;

/** options.out checked: the parameters' shapes, and no memory shared with the weights, the batch or one another. */
function outArrays(options: unknown, c: PreparedCall): Params | undefined {
  const value = (options as GradientOptions | undefined)?.out;
  if (value === undefined) return undefined;
  const out = validate.params(value, c.net, 'options.out', false);
  const p = c.net.params;
  validate.disjointOutputs(GRAD_KEYS.map((k) => [`options.out.${k}`, out[k]]), [
    ...GRAD_KEYS.map((k) => [`the network's ${k}`, p[k]] as [string, ArrayBufferView]),
    ['batch.x', c.batch.x], ['batch.labels', c.batch.labels], ['batch.targets', c.batch.targets],
  ]);
  return out;
}

/** The engine's result with its grads in `out` (copied there unless the engine wrote them there). */
function into(result: GradientResult, out: Params | undefined): GradientResult {
  if (out === undefined || result.grads === out) return result;
  for (const k of GRAD_KEYS) if (result.grads[k] !== out[k]) out[k].set(result.grads[k]);
  return { loss: result.loss, grads: out };
}

/**
 * `gradientsAsync` for a training loop: the network, rule and options are checked once (with the run's first batch)
 * instead of on every call; each later batch must come checked by the caller (train validates every task batch).
 * What changes between calls is checked on every call: the filter's stability as the weights move (in the C++ core
 * for the native engine, here for the reference), and the result as `gradientsAsync` checks it.
 */
export function gradientRunner(net: Network, first: Batch, rule: RuleConfig, options: { loss?: LossName; backend?: 'native' | 'reference'; threads?: number },
  ruleName = 'rule'): (batch: Batch, signal?: AbortSignal) => Promise<GradientResult> {
  return preparedGradients(net, first, rule, options, ruleName).run;
}

/** What gradientRunner checked once, and its runner: train's native step (lib/trainStep.ts) makes the same call. */
export interface PreparedGradients {
  engine: Engine['name'];
  net: Network;
  rule: validate.NormalizedRule;
  loss: LossName;
  threads: number | undefined;
  run: (batch: Batch, signal?: AbortSignal) => Promise<GradientResult>;
}

export function preparedGradients(net: Network, first: Batch, rule: RuleConfig, options: { loss?: LossName; backend?: 'native' | 'reference'; threads?: number },
  ruleName = 'rule'): PreparedGradients {
  const n = network(net);
  const r = validate.rule(rule, ruleName);
  const call = prepareCall(n, first, options as Record<string, unknown>, [r]);
  checkRuleFor(call, r, ruleName);
  return {
    engine: call.engine.name, net: n, rule: r, loss: call.loss, threads: call.threads,
    run: async (batch, signal) => {
      if (call.engine.name !== 'native') checkRuleStability(n, r, `${ruleName}.mu`);
      return checkFinite(await call.engine.gradientsAsync(n, batch, r, call.loss, signal, call.threads), n);
    },
  };
}

export interface Alignment {
  /** A short label, e.g. "modprop (type, μ=0.25)". */
  label: string;
  rule: validate.NormalizedRule;
  /** Cosine similarity with bptt's gradient per matrix, and over all of Win, Wrec and Wout together. NaN where either norm is 0. */
  cosine: { win: number; wrec: number; wout: number; all: number };
}

/** Cosine similarity of each rule's gradient with bptt's, per matrix (SPEC §6). Validates its input once. */
export function alignment(net: Network, batch: Batch, rules: RuleConfig[], options?: GradientOptions): Alignment[] {
  if (!Array.isArray(rules) || rules.length === 0) validate.fail('a non-empty array of rule configs', 'rules', rules);
  const n = network(net);
  // Array.from visits holes (map skips them and would hand back a sparse array).
  const normalized = Array.from(rules, (r, i) => validate.rule(r, `rules[${i}]`));
  // Every engine's stability first, so an unstable entry is named before any gradient runs.
  normalized.forEach((r, i) => checkRuleStability(n, r, `rules[${i}].mu`));
  const o = options === undefined ? {} : validate.plainObject(options, 'options');
  validate.knownKeys(o, 'options', ['loss', 'backend', 'threads']);
  const call = prepareCall(n, batch, o, [validate.rule({ rule: 'bptt' }), ...normalized]);
  normalized.forEach((r, i) => checkRuleFor(call, r, `rules[${i}]`, false));
  const run = (r: validate.NormalizedRule): Params => checkFinite(call.engine.gradients(n, call.batch, r, call.loss, call.threads), n).grads;
  const reference = run(validate.rule({ rule: 'bptt' }));
  return normalized.map((r) => ({ label: validate.ruleLabel(r), rule: r, cosine: cosineByMatrix(run(r), reference) }));
}

export function cosineByMatrix(a: Params, b: Params): Alignment['cosine'] {
  const parts = (['win', 'wrec', 'wout'] as const).map((k) => dots(a[k], b[k]));
  const cos = (d: number[]): number => (d[1] > 0 && d[2] > 0 ? d[0] / Math.sqrt(d[1] * d[2]) : NaN);
  const sum = parts.reduce((s, d) => [s[0] + d[0], s[1] + d[1], s[2] + d[2]], [0, 0, 0]);
  return { win: cos(parts[0]), wrec: cos(parts[1]), wout: cos(parts[2]), all: cos(sum) };
}

function dots(a: Float32Array, b: Float32Array): number[] {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return [ab, aa, bb];
}

/**
 * ModProp's causal filter taps K_1..K_length as [length][C][C] (SPEC §4): K_s[a][c] weighs the neuromodulator
 * released by type c, s steps after a unit presynaptic trace increment, onto a synapse whose postsynaptic unit has
 * type a. Throws when the filter is unstable (ρ(Φ) ≥ 1).
 */
export function filterTaps(net: Network, options: { mu?: number; length: number }): Float32Array {
  const n = network(net);
  const o = validate.plainObject(options, 'options');
  validate.knownKeys(o, 'options', ['mu', 'length']);
  const mu = o.mu === undefined ? 0.25 : validate.finiteNumber(o.mu, 'options.mu');
  if (mu < 0) validate.fail('a finite number ≥ 0', 'options.mu', mu);
  const length = validate.integer(o.length, 'options.length', 1, 1_000_000);
  checkTapsCost(n.nTypes, length);
  const f = filterMatrices(n.params.wrec, n.types, n.nTypes, n.alpha, mu);
  checkFilterStability(f, mu, 'options.mu');
  const taps = Float32Array.from(filterTapsOf(f, n.alpha, length));
  // A stable filter can still have taps beyond float32 (a huge μ on nilpotent type means keeps ρ(Φ) = α).
  const bad = taps.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const c2 = n.nTypes * n.nTypes;
    validate.fail('a mu whose filter taps fit in float32', 'options.mu', `mu = ${mu}, whose tap K_${Math.floor(bad / c2) + 1} reaches ${taps[bad]}; lower mu`, true);
  }
  return taps;
}
