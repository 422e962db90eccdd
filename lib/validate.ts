/**
 * The one place where user input is checked, before any engine runs. Every message has one shape:
 * "Expected <what> for <name> but received <value>", and tests assert the exact text.
 */
import { LOSS_NAMES, RULE_NAMES, type LossName, type RuleName } from './contract';
import type { Batch, Params, RuleConfig } from './types';
import { INIT_NAMES, type InitName } from './init';
import { subtypeIds } from './subtypes';
import { neuronConfig } from './neurons/config';
import type { SpikingNeuron } from './neurons/neuron';
import { DEFAULTS, defaultSignal, onlineForms, quotedList, ruleEntry, rulesTaking, takes, type RuleOptionKey } from './rules';

export class ModpropError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModpropError';
  }
}

/** A short, readable rendering of what the caller passed. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return `'${value.length > 40 ? value.slice(0, 40) + '…' : value}'`;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    return 'length' in value ? `${name} of length ${(value as unknown as { length: number }).length}` : name;
  }
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return `an object`;
}

export function fail(what: string, name: string, received: unknown, raw = false): never {
  throw new ModpropError(`Expected ${what} for ${name} but received ${raw ? String(received) : describe(received)}`);
}

export function integer(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const what = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer between ${min} and ${max}`;
    fail(what, name, value);
  }
  return value;
}

export function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail('a finite number', name, value);
  return value;
}

export function positiveNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail('a positive finite number', name, value);
  return value;
}

export function numberInRange(value: unknown, name: string, lo: number, hi: number, what: string): number {
  if (typeof value !== 'number' || !(value >= lo && value <= hi)) fail(what, name, value);
  return value;
}

export function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') fail('a boolean', name, value);
  return value;
}

export function oneOf<T extends string>(value: unknown, name: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !options.includes(value as T)) {
    fail(`one of ${options.map((o) => `'${o}'`).join(', ')}`, name, value);
  }
  return value as T;
}

/** The prototype of every typed array: objects inheriting it (or proxies of one) throw when their fields are read. */
const TYPED_ARRAY = Object.getPrototypeOf(Int8Array) as abstract new () => unknown;

/** A proxy of a typed array, or an object inheriting a typed array's prototype: reading its length throws. */
function fakeTypedArray(value: object): boolean {
  return value instanceof TYPED_ARRAY && !ArrayBuffer.isView(value);
}

export function plainObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value) || value instanceof TYPED_ARRAY) {
    fail('an object', name, value);
  }
  return value as Record<string, unknown>;
}

/** Throws for keys the caller passed that this option object does not know (a typo would otherwise be ignored). */
export function knownKeys(obj: Record<string, unknown>, name: string, keys: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key) && obj[key] !== undefined) {
      fail(`only the options ${keys.join(', ')}`, name, `unknown option '${key}'`, true);
    }
  }
}

type TypedArrayCtor = Float32ArrayConstructor | Int32ArrayConstructor | Float64ArrayConstructor;

/** A typed array of the given constructor and length, backed by a usable (non-detached) buffer. */
export function typedArray<C extends TypedArrayCtor>(
  value: unknown, name: string, ctor: C, length: number, lengthWhat: string,
): InstanceType<C> {
  const kind = `${/^[AEIOU]/.test(ctor.name) ? 'an' : 'a'} ${ctor.name}`;
  // isView rejects proxies and objects that only inherit from the prototype (reading their .buffer would throw).
  if (!ArrayBuffer.isView(value) || !(value instanceof ctor)) fail(`${kind} of length ${length} (${lengthWhat})`, name, describeNonView(value), true);
  const arr = value as InstanceType<C>;
  if (arr.buffer.byteLength === 0 && length > 0) fail(`${kind} with a live (not detached) buffer`, name, 'a detached buffer', true);
  if (arr.length !== length) fail(`${kind} of length ${length} (${lengthWhat})`, name, value);
  return arr;
}

function describeNonView(value: unknown): string {
  if (ArrayBuffer.isView(value)) return describe(value);
  // A proxy of a typed array, or an object inheriting from one's prototype: reading its length would throw.
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Symbol.toStringTag in Object(value)
    ? 'an object that is not a typed array' : describe(value);
}

/**
 * Output arrays (`outs`, checked for shape already) that a call writes while it reads `inputs`: none may share memory
 * with an input or with another output (views of one buffer that do not overlap are fine).
 */
export function disjointOutputs(outs: [string, ArrayBufferView][], inputs: [string, ArrayBufferView | undefined | null][]): void {
  outs.forEach(([name, a], i) => {
    for (const [what, b] of [...inputs, ...outs.slice(i + 1)]) {
      if (b && a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength) {
        fail(`an array sharing no memory with ${what}`, name, 'a view of the same buffer', true);
      }
    }
  });
}

/** Every value finite; the message names the first offending index. */
export function allFinite(arr: ArrayLike<number>, name: string): void {
  const at = firstNonFinite(arr);
  if (at >= 0) fail('finite values', name, `${describe(arr[at])} at index ${at}`, true);
}

/**
 * The index of the first non-finite entry of arr, or -1: a large Float32Array scanned by the addon when it loads, a
 * float array summed by `everyFinite` first (the index is searched only when that fails), anything else entry by entry.
 */
export function firstNonFinite(arr: ArrayLike<number>): number {
  if (arr instanceof Float32Array && arr.length >= NATIVE_SCAN_MIN) {
    const scan = nativeScan();
    if (scan) return scan(arr);
  }
  if ((arr instanceof Float32Array || arr instanceof Float64Array) && everyFinite(arr)) return -1;
  for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) return i;
  return -1;
}

/**
 * Whether every entry is finite: x·0 is 0 for finite x and NaN for ±Infinity and NaN, so the sums stay 0 exactly
 * when every entry is finite. Four independent sums run ≈ 2.5× faster than a Number.isFinite test per entry.
 */
export function everyFinite(a: Float32Array | Float64Array): boolean {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n4 = a.length - (a.length % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    s0 += a[i] * 0;
    s1 += a[i + 1] * 0;
    s2 += a[i + 2] * 0;
    s3 += a[i + 3] * 0;
  }
  for (; i < a.length; i++) s0 += a[i] * 0;
  return s0 + s1 + s2 + s3 === 0;
}

// From this length on, a Float32Array is scanned by the addon when it loads (Wrec at N = 4096, checked on every
// forward and gradients call: ≈ 3 ms there against 15–25 ms of JavaScript); the same first index either way.
const NATIVE_SCAN_MIN = 1 << 16;
let scanner: { scan?: (a: Float32Array) => number } | undefined;

function nativeScan(): ((a: Float32Array) => number) | undefined {
  if (process.env.MODPROP_BACKEND === 'reference') return undefined;
  if (scanner === undefined) {
    // Loaded lazily: lib/native/addon.ts is not needed (nor loaded) by a process that never checks a large array.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = (require('./native/addon') as typeof import('./native/addon')).loadAddon();
    const scan = 'addon' in loaded ? loaded.addon.firstNonFinite : undefined;
    scanner = scan ? { scan } : {};
  }
  return scanner.scan;
}

// ---------------------------------------------------------------------------------------------------------------
// Network configuration

export interface NormalizedNetworkConfig {
  nIn: number;
  nRec: number;
  nOut: number;
  tau: number;
  dt: number;
  threshold: number;
  dale: boolean;
  excitatoryFraction: number;
  /** Type id of each recurrent unit. */
  types: Int32Array;
  nTypes: number;
  /** Sign (±1) of each type's outgoing weights; null when Dale's law is off and none were given. */
  typeSigns: Int8Array | null;
  seed: number;
  /** Initialisation recipe (lib/init.ts). */
  init: InitName;
  /** Spectral radius Wrec is rescaled to after its diagonal is zeroed; null: the recipe's own. */
  recurrentRadius: number | null;
  /** Random equal subtypes per E and I class (lib/subtypes.ts); 1 with custom cellTypes. */
  subtypes: number;
  /** Probability of each off-diagonal recurrent connection (lib/connectivity.ts); 1: dense. */
  connectivity: number;
  /** The spiking neuron (lib/neurons); absent for the rate unit of SPEC §1. */
  neuron?: SpikingNeuron;
}

const NETWORK_KEYS = ['nIn', 'nRec', 'nOut', 'tau', 'dt', 'threshold', 'dale', 'excitatoryFraction', 'cellTypes',
  'typeSigns', 'seed', 'init', 'recurrentRadius', 'subtypes', 'connectivity', 'neuron'] as const;

/** Largest layer size accepted: keeps N² matrices and their products far from memory and index overflow. */
export const MAX_UNITS = 16384;

export function networkConfig(value: unknown): NormalizedNetworkConfig {
  const c = userForm(plainObject(value, 'config'));
  knownKeys(c, 'config', NETWORK_KEYS);
  const nIn = integer(c.nIn, 'config.nIn', 1, MAX_UNITS);
  const nRec = integer(c.nRec, 'config.nRec', 1, MAX_UNITS);
  const nOut = integer(c.nOut, 'config.nOut', 1, MAX_UNITS);
  const tau = c.tau === undefined ? 100 : positiveNumber(c.tau, 'config.tau');
  const dt = c.dt === undefined ? 1 : positiveNumber(c.dt, 'config.dt');
  const threshold = c.threshold === undefined ? 0 : finiteNumber(c.threshold, 'config.threshold');
  const dale = c.dale === undefined ? true : boolean(c.dale, 'config.dale');
  const excitatoryFraction = c.excitatoryFraction === undefined ? 0.8
    : numberInRange(c.excitatoryFraction, 'config.excitatoryFraction', 0, 1, 'a number between 0 and 1');
  const seed = c.seed === undefined ? 0 : integer(c.seed, 'config.seed', 0);
  const init = c.init === undefined ? 'balanced' : oneOf(c.init, 'config.init', INIT_NAMES);
  const recurrentRadius = c.recurrentRadius === undefined ? null : positiveNumber(c.recurrentRadius, 'config.recurrentRadius');
  const subtypes = c.subtypes === undefined ? 1 : integer(c.subtypes, 'config.subtypes', 1, MAX_UNITS);
  const connectivity = c.connectivity === undefined ? 1
    : numberInRange(c.connectivity, 'config.connectivity', Number.MIN_VALUE, 1, 'a connection probability p with 0 < p ≤ 1');
  const neuron = neuronConfig(c.neuron, dt);

  let types: Int32Array;
  let typeSigns: Int8Array | null = null;
  if (c.cellTypes === undefined) {
    const nInh = nRec - Math.round(excitatoryFraction * nRec);
    types = new Int32Array(nRec);
    for (let i = nInh; i < nRec; i++) types[i] = 1;
    if (c.typeSigns !== undefined) fail('no typeSigns without cellTypes (the default types are inhibitory 0, excitatory 1)', 'config.typeSigns', c.typeSigns);
    typeSigns = Int8Array.from([-1, 1]);
    if (subtypes > 1) {
      if (subtypes > Math.min(nInh, nRec - nInh)) {
        fail(`an integer between 1 and ${Math.min(nInh, nRec - nInh)} (each of the ${nInh} inhibitory and ${nRec - nInh} excitatory units' subtypes needs a unit)`, 'config.subtypes', subtypes);
      }
      ({ types, typeSigns } = subtypeIds(nRec, nInh, subtypes, seed));
    }
  } else {
    if (c.subtypes !== undefined) fail('no subtypes together with cellTypes', 'config.subtypes', c.subtypes);
    const ct = c.cellTypes as ArrayLike<number>;
    if (typeof ct !== 'object' || ct === null || fakeTypedArray(ct) || typeof ct.length !== 'number' || ct.length !== nRec) {
      fail(`an array of ${nRec} type ids (one per recurrent unit)`, 'config.cellTypes', c.cellTypes);
    }
    types = new Int32Array(nRec);
    for (let i = 0; i < nRec; i++) {
      const id = ct[i];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= nRec) {
        fail(`integer type ids between 0 and ${nRec - 1}`, 'config.cellTypes', `${describe(id)} at index ${i}`, true);
      }
      types[i] = id;
    }
    if (c.excitatoryFraction !== undefined) fail('no excitatoryFraction together with cellTypes', 'config.excitatoryFraction', c.excitatoryFraction);
  }
  let nTypes = 0;
  for (let i = 0; i < nRec; i++) nTypes = Math.max(nTypes, types[i] + 1);
  if (c.cellTypes === undefined) nTypes = 2 * subtypes;

  if (c.typeSigns !== undefined) {
    const ts = c.typeSigns as ArrayLike<number>;
    if (typeof ts !== 'object' || ts === null || fakeTypedArray(ts) || typeof ts.length !== 'number' || ts.length !== nTypes) {
      fail(`an array of ${nTypes} signs (one ±1 per cell type)`, 'config.typeSigns', c.typeSigns);
    }
    typeSigns = new Int8Array(nTypes);
    for (let k = 0; k < nTypes; k++) {
      if (ts[k] !== 1 && ts[k] !== -1) fail('signs of +1 or -1', 'config.typeSigns', `${describe(ts[k])} at index ${k}`, true);
      typeSigns[k] = ts[k];
    }
  } else if (c.cellTypes !== undefined && dale) {
    fail(`an array of ${nTypes} signs (one ±1 per cell type) when cellTypes are given with Dale's law`, 'config.typeSigns', undefined);
  }
  return { nIn, nRec, nOut, tau, dt, threshold, dale, excitatoryFraction, types, nTypes, typeSigns, seed, init, recurrentRadius, subtypes, connectivity, ...(neuron ? { neuron } : {}) };
}

/**
 * networkConfig's own output (`types`, `nTypes`, `typeSigns` maybe null) turned back into the form users write, so
 * `Network.fromParams(net.config, …)` and a config read from a saved network validate again: default E/I types
 * stay the default (with their excitatoryFraction), any other types become cellTypes with their signs.
 */
function userForm(c: Record<string, unknown>): Record<string, unknown> {
  if (c.types === undefined && c.nTypes === undefined) return c;
  const { types, nTypes, ...rest } = c;
  // The normalised form spells out defaults that are "not set" in the user's form.
  if (rest.recurrentRadius === null) delete rest.recurrentRadius;
  if (rest.cellTypes !== undefined) fail('either cellTypes or types (the normalised form), not both', 'config.types', types);
  const nRec = rest.nRec;
  const arr = types as ArrayLike<number> | undefined;
  if (typeof nRec !== 'number' || typeof arr !== 'object' || arr === null || typeof arr.length !== 'number') {
    fail('an array of type ids together with nTypes (the normalised form of cellTypes)', 'config.types', types);
  }
  if (rest.typeSigns === null) delete rest.typeSigns;
  const fraction = rest.excitatoryFraction === undefined ? 0.8 : rest.excitatoryFraction;
  const nInh = typeof fraction === 'number' ? nRec - Math.round(fraction * nRec) : -1;
  const signs = rest.typeSigns as ArrayLike<number> | undefined;
  const isDefault = nTypes === 2 && arr.length === nRec && Array.from(arr).every((t, i) => t === (i < nInh ? 0 : 1))
    && signs !== undefined && signs.length === 2 && signs[0] === -1 && signs[1] === 1;
  if (isDefault) {
    delete rest.typeSigns;
    return rest;
  }
  if (typeof rest.subtypes === 'number' && rest.subtypes > 1) {
    // Subtypes are drawn from (nRec, excitatoryFraction, subtypes, seed): the same draw must give these types.
    const drawn = typeof rest.seed === 'number' && nInh >= 0 ? subtypeIds(nRec, nInh, rest.subtypes, rest.seed) : undefined;
    if (!drawn || drawn.types.length !== arr.length || drawn.types.some((t, i) => t !== arr[i])) {
      fail(`the types drawn for subtypes = ${rest.subtypes} and seed = ${describe(rest.seed)}`, 'config.types', types);
    }
    // The signs follow from the subtypes too; a file whose signs say otherwise is refused, not silently overridden.
    if (signs !== undefined && (signs.length !== drawn.typeSigns.length || Array.from(signs).some((s, t) => s !== drawn.typeSigns[t]))) {
      fail(`the type signs of subtypes = ${rest.subtypes} ([${Array.from(drawn.typeSigns).join(', ')}])`, 'config.typeSigns', signs);
    }
    delete rest.typeSigns;
    return rest;
  }
  delete rest.subtypes;
  let maxType = -1;
  for (let i = 0; i < arr.length; i++) maxType = Math.max(maxType, Number(arr[i]));
  if (nTypes !== undefined && nTypes !== maxType + 1) fail(`nTypes = ${maxType + 1} (one more than the largest type id)`, 'config.nTypes', nTypes);
  delete rest.excitatoryFraction;
  return { ...rest, cellTypes: types };
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters and batches

export interface Shape {
  nIn: number;
  nRec: number;
  nOut: number;
}

/** Four weight arrays of the network's shapes; `values`: also finite, with a zero diagonal (false: arrays to write into). */
export function params(value: unknown, shape: Shape, name = 'params', values = true): Params {
  const p = plainObject(value, name);
  const { nIn, nRec, nOut } = shape;
  const win = typedArray(p.win, `${name}.win`, Float32Array, nIn * nRec, `nIn × nRec = ${nIn} × ${nRec}`);
  const wrec = typedArray(p.wrec, `${name}.wrec`, Float32Array, nRec * nRec, `nRec × nRec = ${nRec} × ${nRec}`);
  const wout = typedArray(p.wout, `${name}.wout`, Float32Array, nRec * nOut, `nRec × nOut = ${nRec} × ${nOut}`);
  const bout = typedArray(p.bout, `${name}.bout`, Float32Array, nOut, `nOut = ${nOut}`);
  if (!values) return { win, wrec, wout, bout };
  for (const [key, arr] of [['win', win], ['wrec', wrec], ['wout', wout], ['bout', bout]] as const) {
    allFinite(arr, `${name}.${key}`);
  }
  for (let i = 0; i < nRec; i++) {
    if (wrec[i * nRec + i] !== 0) fail('a zero diagonal (self-connections do not exist)', `${name}.wrec`, `${wrec[i * nRec + i]} at [${i}][${i}]`, true);
  }
  return { win, wrec, wout, bout };
}

/** Upper bound on B·T·max(nIn, nOut) elements of a batch (2^31 - 1: what typed arrays and the addon index). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** The inputs of a batch (x, batchSize, steps), as `forward` needs them; labels and targets are not looked at. */
export function batchInputs(value: unknown, shape: Shape, name = 'batch'): Batch {
  const b = plainObject(value, name);
  knownKeys(b, name, ['x', 'batchSize', 'steps', 'labels', 'targets']);
  const batchSize = integer(b.batchSize, `${name}.batchSize`, 1);
  const steps = integer(b.steps, `${name}.steps`, 1);
  if (batchSize * steps * Math.max(shape.nIn, shape.nOut, shape.nRec) > MAX_ELEMENTS) {
    fail(`batchSize × steps × max(nIn, nRec, nOut) ≤ ${MAX_ELEMENTS}`, name,
      `${batchSize} × ${steps} × ${Math.max(shape.nIn, shape.nOut, shape.nRec)}`, true);
  }
  const x = typedArray(b.x, `${name}.x`, Float32Array, batchSize * steps * shape.nIn,
    `batchSize × steps × nIn = ${batchSize} × ${steps} × ${shape.nIn}`);
  allFinite(x, `${name}.x`);
  return { x, batchSize, steps };
}

export function batch(value: unknown, shape: Shape, loss: LossName | undefined, name = 'batch'): { batch: Batch; loss: LossName } {
  const out = batchInputs(value, shape, name);
  const { batchSize, steps } = out;
  const b = value as Record<string, unknown>;
  let resolved: LossName;
  if (loss !== undefined) resolved = oneOf(loss, 'options.loss', LOSS_NAMES);
  else if (b.labels !== undefined) resolved = 'xent-last';
  else if (b.targets !== undefined) resolved = 'mse';
  else fail('labels (for xent-last) or targets (for mse)', name, 'neither', true);
  if (resolved === 'xent-last') {
    if (b.labels === undefined) fail(`an Int32Array of ${batchSize} labels (the loss is 'xent-last')`, `${name}.labels`, undefined);
    const labels = typedArray(b.labels, `${name}.labels`, Int32Array, batchSize, `batchSize = ${batchSize}`);
    for (let i = 0; i < batchSize; i++) {
      if (labels[i] < 0 || labels[i] >= shape.nOut) fail(`labels between 0 and ${shape.nOut - 1} (nOut = ${shape.nOut})`, `${name}.labels`, `${labels[i]} at index ${i}`, true);
    }
    out.labels = labels;
  } else {
    if (b.targets === undefined) fail(`a Float32Array of targets (the loss is 'mse')`, `${name}.targets`, undefined);
    const targets = typedArray(b.targets, `${name}.targets`, Float32Array, batchSize * steps * shape.nOut,
      `batchSize × steps × nOut = ${batchSize} × ${steps} × ${shape.nOut}`);
    allFinite(targets, `${name}.targets`);
    out.targets = targets;
  }
  return { batch: out, loss: resolved };
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

export interface NormalizedRule {
  rule: RuleName;
  feedback: 'type' | 'cell';
  mu: number;
  online: boolean;
  window: number;
  learningSignal: 'symmetric' | 'random';
}

const RULE_KEYS = ['rule', 'feedback', 'mu', 'online', 'window', 'learningSignal'] as const;

export function rule(value: unknown, name = 'rule'): NormalizedRule {
  const r = plainObject(value, name);
  knownKeys(r, name, RULE_KEYS);
  const ruleName = oneOf(r.rule, `${name}.rule`, RULE_NAMES);
  const entry = ruleEntry(ruleName);
  const notFor = (key: string, what: string): never =>
    fail(`no ${key} option for rule '${ruleName}' (${what})`, `${name}.${key}`, r[key]);
  const appliesTo = (key: RuleOptionKey): string => `it applies to ${quotedList(rulesTaking(key))}`;

  for (const key of ['feedback', 'mu', 'window'] as const) if (r[key] !== undefined && !takes(ruleName, key)) notFor(key, appliesTo(key));
  if (r.learningSignal !== undefined && !takes(ruleName, 'learningSignal')) {
    notFor('learningSignal', entry.exact ? 'exact gradients always feed back through Wout' : appliesTo('learningSignal'));
  }
  if (r.online !== undefined && boolean(r.online, `${name}.online`) && !takes(ruleName, 'online')) notFor('online', onlineForms());

  const feedback = r.feedback === undefined ? DEFAULTS.feedback : oneOf(r.feedback, `${name}.feedback`, ['type', 'cell'] as const);
  const mu = r.mu === undefined ? DEFAULTS.mu : finiteNumber(r.mu, `${name}.mu`);
  if (mu < 0) fail('a finite number ≥ 0', `${name}.mu`, mu);
  const online = r.online === true;
  if (online && ruleName === 'modprop' && feedback !== 'type') {
    fail("feedback 'type' with online: true (the causal filter needs type-averaged feedback)", `${name}.feedback`, feedback);
  }
  let window = 0;
  if (takes(ruleName, 'window')) {
    if (r.window === undefined) fail(`an integer ≥ 1 (the truncation window of ${ruleName})`, `${name}.window`, undefined);
    window = integer(r.window, `${name}.window`, 1, MAX_ELEMENTS); // the engines hold it in an int32
  }
  const learningSignal = r.learningSignal === undefined ? defaultSignal(ruleName)
    : oneOf(r.learningSignal, `${name}.learningSignal`, ['symmetric', 'random'] as const);
  return { rule: ruleName, feedback, mu, online, window, learningSignal };
}

/** The option order of configs and labels (configs keep the key order they always had, so files stay the same). */
const OPTION_ORDER = ['feedback', 'mu', 'window', 'online', 'learningSignal'] as const;

/** The RuleConfig that normalises to `r`, with only the options that apply to its rule (so it validates again). */
export function ruleConfigOf(r: NormalizedRule): RuleConfig {
  const out: RuleConfig = { rule: r.rule };
  for (const key of OPTION_ORDER) {
    if (!takes(r.rule, key)) continue;
    if (key === 'online') {
      if (r.online) out.online = true;
    } else {
      (out as unknown as Record<string, unknown>)[key] = r[key];
    }
  }
  return out;
}

/** A short label for tables: "modprop (type, μ=0.25, online)". */
export function ruleLabel(r: NormalizedRule): string {
  const parts: string[] = [];
  if (takes(r.rule, 'feedback')) parts.push(r.feedback);
  if (takes(r.rule, 'mu')) parts.push(`μ=${r.mu}`);
  if (takes(r.rule, 'window')) parts.push(`W=${r.window}`);
  if (r.online) parts.push('online');
  if (r.learningSignal !== defaultSignal(r.rule)) parts.push(`${r.learningSignal} signal`);
  return parts.length ? `${r.rule} (${parts.join(', ')})` : r.rule;
}
