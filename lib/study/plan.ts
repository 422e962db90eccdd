/**
 * A study's plan: rules × seeds × a grid of any training, rule, network or task option, resolved into one run per
 * cell with every setting spelled out (defaults included) and a stable id. The plan is all a shard, a resumed run or
 * a merge needs: they read it from `plan.json` and never from the command line that made it.
 */
import { createHash } from 'node:crypto';
import { TASK_NAMES, parseRuleSpec, taskFromFlags, type OptimizerFlags, type RuleFlags, type TaskFlags, type TaskName } from '../cli/common';
import type { CompareJob } from '../cli/compareWorker';
import type { RuleConfig, RuleName } from '../types';
import type { InitName } from '../init';
import { fail, knownKeys, oneOf, ruleLabel, rule as normalizeRule, type NormalizedRule } from '../validate';

/** What a study varies and holds fixed; every field but `task` has the `compare` command's default. */
export interface StudyOptions extends RuleFlags, OptimizerFlags {
  task: TaskName;
  /** delayed-xor: steps between the cues and length of each cue. */
  delay?: number;
  cue?: number;
  /** Rules as `name[:modifier…]` (e.g. 'modprop:online', 'tbptt:window=50'); default bptt, modprop, mdgl, eprop. */
  rules?: string[];
  /** Seeds 1..seeds per rule and grid point (default 8). */
  seeds?: number;
  iterations?: number;
  evalEvery?: number;
  nRec?: number;
  tau?: number;
  /** Network recipe (`Network.create`'s init, recurrentRadius, subtypes, connectivity); unset means the default network. */
  init?: InitName;
  recurrentRadius?: number;
  subtypes?: number;
  connectivity?: number;
  /**
   * Rule options that apply to one rule name only, beneath the options given for every rule and the grid: how a
   * preset's rule options (e.g. liu2022's cell feedback, μ = 0.25) reach its own rule and no other.
   */
  ruleDefaults?: Partial<Record<RuleName, RuleFlags>>;
  /** The preset these options were resolved from (recorded only). */
  preset?: string;
  /** Values to cross with rules and seeds, e.g. `{ lr: [1e-4, 1e-3], nRec: [60, 120] }` (keys: GRID_KEYS). */
  grid?: Record<string, readonly (number | string | boolean)[]>;
  /** Native threads per run (default 1): part of the plan, since results are bit-identical per thread count. */
  threadsPerRun?: number;
  backend?: 'native' | 'reference';
  /** Every k iterations record each rule's cosine alignment with bptt (a multiple of evalEvery). */
  alignEvery?: number;
  alignBatchSize?: number;
}

export type GridValue = number | string | boolean;

/** Options a grid may vary, with the kind of value each takes. */
export const GRID_KEYS = {
  lr: 'positive', lrDecay: 'positive', lrDecayEvery: 'integer', l2: 'non-negative', batchSize: 'integer',
  optimizer: ['adam', 'sgd'], mu: 'non-negative', feedback: ['type', 'cell'], online: 'boolean', window: 'integer',
  learningSignal: ['symmetric', 'random'], nRec: 'integer', tau: 'positive', delay: 'integer', cue: 'integer',
  init: ['balanced', 'liu2022'], recurrentRadius: 'positive', subtypes: 'integer', connectivity: 'probability',
} as const satisfies Record<string, string | readonly string[]>;
export type GridKey = keyof typeof GRID_KEYS;

/** One run of the plan. */
export interface PlannedRun {
  /** Stable: a readable prefix and a hash of the settings, so it names the same run in every plan that has it. */
  id: string;
  /** Position in the plan; results are always reported in this order. */
  index: number;
  spec: string;
  /** The rule's label followed by the grid point, e.g. 'modprop (type, μ=0.25) · lr=0.001'. */
  group: string;
  rule: string;
  seed: number;
  grid: Record<string, GridValue>;
  /** Every setting of the run, defaults resolved. */
  settings: {
    task: TaskName; taskOptions: Record<string, number | string>; steps: number; rule: NormalizedRule; seed: number;
    nRec: number; tau: number; optimizer: 'adam' | 'sgd'; lr: number; lrDecay: number; lrDecayEvery: number; l2: number;
    batchSize: number; iterations: number; evalEvery: number; threads: number; alignEvery?: number; alignBatchSize?: number;
    init?: InitName; recurrentRadius?: number; subtypes?: number; connectivity?: number;
  };
  /** What the worker thread is given. */
  job: CompareJob;
  /** Expected cost in arbitrary units (multiply-adds of the network), used to balance shards. */
  cost: number;
}

export interface StudyPlan {
  kind: 'modprop-study-plan';
  version: 1;
  /** The options with their defaults filled in. */
  options: Required<Pick<StudyOptions, 'task' | 'rules' | 'seeds' | 'iterations' | 'evalEvery' | 'nRec' | 'threadsPerRun'>> & StudyOptions;
  metric: 'accuracy' | 'nmse';
  /** Grid keys in the order given, and their values. */
  grid: [string, GridValue[]][];
  runs: PlannedRun[];
}

/** The options a study takes: any other key is a typo, reported rather than ignored. */
export const OPTION_KEYS = ['task', 'delay', 'cue', 'rules', 'seeds', 'iterations', 'evalEvery', 'nRec', 'tau', 'batchSize', 'lr', 'lrDecay',
  'lrDecayEvery', 'l2', 'optimizer', 'mu', 'feedback', 'online', 'window', 'learningSignal', 'grid', 'threadsPerRun', 'backend', 'alignEvery',
  'alignBatchSize', 'init', 'recurrentRadius', 'subtypes', 'connectivity', 'ruleDefaults', 'preset'] as const satisfies readonly (keyof StudyOptions)[];
const TRAIN_DEFAULTS = { optimizer: 'adam', lr: 5e-4, lrDecay: 0.8, lrDecayEvery: 300, l2: 5e-4, batchSize: 32 } as const;
const TAU_DEFAULT = 100;

/** A grid value from the command line (`--grid lr=1e-4,1e-3`) or a script, checked against its key's kind. */
export function gridValue(key: string, value: unknown): GridValue {
  const kind = (GRID_KEYS as Record<string, string | readonly string[]>)[key];
  const name = `grid.${key}`;
  if (kind === undefined) fail(`one of ${Object.keys(GRID_KEYS).join(', ')}`, 'a grid key', key);
  if (Array.isArray(kind)) {
    if (!kind.includes(String(value))) fail(`one of ${kind.join(', ')}`, name, value);
    return String(value);
  }
  if (kind === 'boolean') {
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    fail('true or false', name, value);
  }
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) fail('a finite number', name, value);
  if (kind === 'integer' && (!Number.isInteger(n) || n < (key === 'delay' ? 0 : 1))) fail(`an integer ≥ ${key === 'delay' ? 0 : 1}`, name, value);
  if (kind === 'positive' && n <= 0) fail('a positive number', name, value);
  if (kind === 'non-negative' && n < 0) fail('a number ≥ 0', name, value);
  if (kind === 'probability' && !(n > 0 && n <= 1)) fail('a connection probability p with 0 < p ≤ 1', name, value);
  return n;
}

/** `lr=1e-4,5e-4` → ['lr', [0.0001, 0.0005]]. */
export function parseGridArg(text: string): [string, GridValue[]] {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) fail('key=value1,value2,…', '--grid', text);
  const key = text.slice(0, eq).trim();
  const values = text.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
  return [key, values.map((v) => gridValue(key, v))];
}

function checkGrid(grid: StudyOptions['grid']): [string, GridValue[]][] {
  if (grid === undefined) return [];
  if (typeof grid !== 'object' || grid === null || Array.isArray(grid)) fail('an object of key: values[]', 'grid', grid);
  return Object.entries(grid).map(([key, values]) => {
    if (!Array.isArray(values) || values.length === 0) fail('a non-empty array of values', `grid.${key}`, values);
    const parsed = values.map((v) => gridValue(key, v));
    if (new Set(parsed).size !== parsed.length) fail('distinct values', `grid.${key}`, values);
    return [key, parsed];
  });
}

/** Every combination of the grid's values, the first key varying slowest. */
function gridPoints(grid: [string, GridValue[]][]): Record<string, GridValue>[] {
  let points: Record<string, GridValue>[] = [{}];
  for (const [key, values] of grid) points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  return points;
}

export function gridText(point: Record<string, GridValue>): string {
  return Object.entries(point).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Key-sorted JSON, so a hash does not depend on the order fields were set in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function runId(spec: string, point: Record<string, GridValue>, seed: number, settings: unknown): string {
  const hash = createHash('sha256').update(canonical(settings)).digest('hex').slice(0, 10);
  const readable = [spec, ...Object.entries(point).map(([k, v]) => `${k}${v}`), `s${seed}`].join('-').replace(/[^A-Za-z0-9.=+-]+/g, '_');
  return `${readable}-${hash}`;
}

/**
 * Resolves a study into its runs: grid point (slowest), then seed, then rule, as `compare` orders rules × seeds.
 * Throws a ModpropError naming the option when one is not valid.
 */
export function planStudy(options: StudyOptions): StudyPlan {
  knownKeys(options as unknown as Record<string, unknown>, 'options', OPTION_KEYS);
  oneOf(options.task, 'options.task', TASK_NAMES);
  const o = {
    rules: ['bptt', 'modprop', 'mdgl', 'eprop'], seeds: 8, iterations: 1000, evalEvery: 20, nRec: 120, threadsPerRun: 1,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as StudyPlan['options'];
  const int = (v: unknown, name: string, min: number): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`an integer ≥ ${min}`, name, v);
  };
  int(o.seeds, 'options.seeds', 1);
  int(o.iterations, 'options.iterations', 1);
  int(o.evalEvery, 'options.evalEvery', 1);
  int(o.threadsPerRun, 'options.threadsPerRun', 1);
  if (!Array.isArray(o.rules) || o.rules.length === 0) fail('a non-empty array of rule names', 'options.rules', o.rules);
  if (o.alignEvery !== undefined && o.alignEvery % o.evalEvery !== 0) fail(`a multiple of evalEvery (${o.evalEvery})`, 'options.alignEvery', o.alignEvery);
  const grid = checkGrid(o.grid);
  const runs: PlannedRun[] = [];
  let metric: StudyPlan['metric'] = 'accuracy';
  for (const point of gridPoints(grid)) {
    const f = { ...o, ...point } as StudyPlan['options'];
    const taskFlags: TaskFlags = { task: f.task, delay: f.delay, cue: f.cue };
    const { task, options: taskOptions } = taskFromFlags(taskFlags, 1);
    metric = task.metric ?? (task.loss === 'mse' ? 'nmse' : 'accuracy');
    const specs = f.rules.map((s) => parseRuleSpec(s, { ...f, ...(o.ruleDefaults?.[s.split(':')[0] as RuleName] ?? {}), ...point }));
    const rules = specs.map((s) => normalizeRule(s.config, `rule '${s.spec}'`));
    const labels = rules.map(ruleLabel);
    const duplicate = labels.find((l, i) => labels.indexOf(l) !== i);
    if (duplicate) fail('each rule once', 'options.rules', o.rules);
    const train = { ...TRAIN_DEFAULTS, ...pick(f, ['optimizer', 'lr', 'lrDecay', 'lrDecayEvery', 'l2', 'batchSize']), iterations: f.iterations, evalEvery: f.evalEvery };
    const tau = f.tau ?? TAU_DEFAULT;
    // Only the fields that are set: a default network's runs keep the ids they had before recipes existed.
    const network = pick(f, ['init', 'recurrentRadius', 'subtypes', 'connectivity']);
    for (let seed = 1; seed <= f.seeds; seed++) {
      specs.forEach((s, i) => {
        const settings: PlannedRun['settings'] = {
          task: f.task, taskOptions: f.task === 'delayed-xor' ? taskOptions : { seed }, steps: task.steps, rule: rules[i], seed,
          nRec: f.nRec, tau, ...network, ...train, threads: f.threadsPerRun,
          ...(f.alignEvery !== undefined ? { alignEvery: f.alignEvery, alignBatchSize: f.alignBatchSize ?? train.batchSize } : {}),
        };
        const job: CompareJob = {
          kind: 'modprop-compare', task: taskFlags, seed, rule: s.config as RuleConfig, nRec: f.nRec, tau: f.tau, threads: f.threadsPerRun,
          backend: f.backend, train, network, alignEvery: f.alignEvery, alignBatchSize: f.alignBatchSize ?? train.batchSize,
        };
        const perStep = f.nRec * f.nRec + f.nRec * (task.nIn + task.nOut);
        const alignFactor = f.alignEvery !== undefined && rules[i].rule !== 'bptt' ? 1 + 2 / f.alignEvery : 1;
        runs.push({
          id: runId(s.spec, point, seed, settings), index: runs.length, spec: s.spec, rule: labels[i],
          group: grid.length ? `${labels[i]} · ${gridText(point)}` : labels[i], seed, grid: point, settings, job,
          cost: f.iterations * train.batchSize * task.steps * perStep * alignFactor,
        });
      });
    }
  }
  const ids = new Set(runs.map((r) => r.id));
  if (ids.size !== runs.length) fail('grid values that change the runs (two runs have the same settings)', 'options.grid', o.grid);
  return { kind: 'modprop-study-plan', version: 1, options: o, metric, grid, runs };
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * Seconds per unit of cost, from issue 14's figure: the delayed-XOR study (32 runs × 1000 iterations, N = 120,
 * T ≈ 900, batch 32) takes ~20 min on 2 cores, ~75 ms per iteration and core; ×3 so a slower node still fits.
 */
const SECONDS_PER_COST = 3 * 0.075 / (32 * 900 * (120 * 120 + 120 * 4));

export function expectedSeconds(runs: readonly PlannedRun[]): number {
  return runs.reduce((s, r) => s + r.cost * SECONDS_PER_COST, 0);
}

/**
 * The runs of share `index` (1-based) of `count`: longest runs first, each to the share with the least expected
 * cost so far (ties to the lowest share), so shares finish at about the same time. Depends on the plan alone.
 */
export function shardRuns(plan: StudyPlan, index: number, count: number): PlannedRun[] {
  if (!Number.isInteger(count) || count < 1) fail('an integer ≥ 1', 'shard count', count);
  if (!Number.isInteger(index) || index < 1 || index > count) fail(`an integer between 1 and ${count}`, 'shard index', index);
  const load = new Array<number>(count).fill(0);
  const mine: PlannedRun[] = [];
  const order = [...plan.runs].sort((a, b) => b.cost - a.cost || a.index - b.index);
  for (const run of order) {
    let best = 0;
    for (let k = 1; k < count; k++) if (load[k] < load[best]) best = k;
    load[best] += run.cost;
    if (best === index - 1) mine.push(run);
  }
  return mine.sort((a, b) => a.index - b.index);
}

/** `2/8` → { index: 2, count: 8 } (1-based, as Slurm numbers array tasks with --array=1-N). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) fail('K/N with 1 ≤ K ≤ N (e.g. 2/4)', '--shard', text);
  return { index, count };
}
