/**
 * Fuzzing the public API with the native engine: well over 1 000 seeded, randomly malformed calls (sync gradients,
 * gradientsAsync and forward), each built from a valid call by one to three mutations that each make it invalid on
 * their own. Every one must fail with a ModpropError whose message starts with "Expected" or names the argument —
 * never another error type, never a crash, never a silent result. Valid-but-unusual input (typed arrays on a
 * SharedArrayBuffer, views at an offset, subclasses) must succeed and equal the plain result.
 */
import assert from 'node:assert/strict';
import {
  ModpropError, Network, gradients, gradientsAsync, type Batch, type GradientResult, type NetworkConfig, type RuleConfig,
} from '../../lib/index';
import { Random } from '../../lib/random';
import { LAYOUTS, MATRICES, assertBitIdentical, describeNative, makeBatch } from './common';

type Kind = 'sync' | 'async' | 'forward';
type Loss = 'xent-last' | 'mse';

/** A call under construction: everything is a plain, freely replaceable value. */
interface Call {
  kind: Kind;
  loss: Loss;
  net: unknown;
  batch: Record<string, unknown> | unknown;
  rule: unknown;
  options: unknown;
  /** The config the network was built from (to build a fresh one for destructive mutations). */
  config: NetworkConfig;
  /** The network is this call's own (safe to corrupt), not a shared base network. */
  ownsNet?: boolean;
  /** A mutation already replaced the rule (later mutations must not set a valid one back). */
  ruleMutated?: boolean;
}

interface Mutation {
  name: string;
  /** A substring the error message should contain when this is the only mutation (the argument's name). */
  arg: string;
  applies(c: Call): boolean;
  apply(c: Call, rng: Random): string;
}

const pick = <T>(rng: Random, xs: readonly T[]): T => xs[rng.int(xs.length)];

function batchOf(c: Call): Record<string, unknown> {
  // Mutations that reach into the batch need it to still be an object; replace it by a fresh copy first.
  const b = c.batch as Record<string, unknown>;
  const copy: Record<string, unknown> = { ...b };
  c.batch = copy;
  return copy;
}

function isBatchObject(c: Call): boolean {
  return typeof c.batch === 'object' && c.batch !== null && !Array.isArray(c.batch) && !ArrayBuffer.isView(c.batch);
}

function freshNet(c: Call): Network {
  return Network.create(c.config);
}

function netObject(c: Call): Network | undefined {
  return c.net instanceof Network ? c.net : undefined;
}

/** The call's own network, made on first use (fresh, not clone(): clone() shares `types` with the original). */
function ownNet(c: Call): Network {
  if (!c.ownsNet) {
    c.net = freshNet(c);
    c.ownsNet = true;
  }
  return c.net as Network;
}

/** A real, live typed array of this constructor (not a proxy, not detached). */
function live(v: unknown, ctor: Float32ArrayConstructor | Int32ArrayConstructor): boolean {
  return ArrayBuffer.isView(v) && v instanceof ctor && v.buffer.byteLength > 0;
}

function detached<T extends ArrayBufferView>(arr: T): T {
  const copy = (arr as unknown as { slice(): T }).slice();
  structuredClone(copy.buffer, { transfer: [copy.buffer as ArrayBuffer] });
  assert.equal(copy.buffer.byteLength, 0);
  return copy;
}

function withNonFinite(arr: Float32Array, rng: Random): { arr: Float32Array; what: string } {
  const copy = arr.slice();
  const i = rng.int(copy.length);
  const v = pick(rng, [NaN, Infinity, -Infinity]);
  copy[i] = v;
  return { arr: copy, what: `${v} at ${i}` };
}

/** Values that are not a Float32Array of the right length, whatever the expected length. */
function wrongFloatArray(rng: Random, len: number): { value: unknown; what: string } {
  const choices: [string, () => unknown][] = [
    ['Float64Array', () => new Float64Array(len)],
    ['Int32Array', () => new Int32Array(len)],
    ['Uint8Array', () => new Uint8Array(len)],
    ['Float32Array+1', () => new Float32Array(len + 1)],
    ['Float32Array-1', () => new Float32Array(Math.max(0, len - 1))],
    ['Float32Array(0)', () => new Float32Array(0)],
    ['Float32Array(huge)', () => new Float32Array(len + 1_000_000)],
    ['shared Float32Array+1', () => new Float32Array(new SharedArrayBuffer(4 * (len + 1)))],
    ['plain array', () => Array.from({ length: len }, () => 0.5)],
    ['string', () => 'x'],
    ['null', () => null],
    ['number', () => 42],
    ['object', () => ({ length: len })],
    ['DataView', () => new DataView(new ArrayBuffer(4 * len))],
    ['ArrayBuffer', () => new ArrayBuffer(4 * len)],
    ['Proxy of a Float32Array', () => new Proxy(new Float32Array(len), {})],
    ['object with Float32Array.prototype', () => Object.create(Float32Array.prototype)],
  ];
  const [what, make] = pick(rng, choices);
  return { value: make(), what };
}

function wrongIntArray(rng: Random, len: number): { value: unknown; what: string } {
  const choices: [string, () => unknown][] = [
    ['Float32Array', () => new Float32Array(len)],
    ['Uint32Array', () => new Uint32Array(len)],
    ['Int16Array', () => new Int16Array(len)],
    ['BigInt64Array', () => new BigInt64Array(len)],
    ['Int32Array+1', () => new Int32Array(len + 1)],
    ['Int32Array-1', () => new Int32Array(Math.max(0, len - 1))],
    ['Int32Array(0)', () => new Int32Array(0)],
    ['plain array', () => new Array(len).fill(0)],
    ['string', () => '0'],
    ['null', () => null],
    ['Proxy of an Int32Array', () => new Proxy(new Int32Array(len), {})],
  ];
  const [what, make] = pick(rng, choices);
  return { value: make(), what };
}

const BAD_COUNTS: readonly unknown[] = [0, -1, -0, 2.5, NaN, Infinity, -Infinity, 1e9, 2 ** 31, 2 ** 53, 1e300, '3', null, undefined, true, [3], {}];

function isGradientCall(c: Call): boolean {
  return c.kind !== 'forward';
}

const MUTATIONS: Mutation[] = [
  // ---- batch.x
  {
    name: 'x: wrong type or length', arg: 'batch.x', applies: isBatchObject,
    apply(c, rng) {
      const b = batchOf(c);
      const len = (b.x as { length?: unknown } | null | undefined)?.length;
      const { value, what } = wrongFloatArray(rng, typeof len === 'number' && len >= 0 && len < 1e7 ? len : 30);
      b.x = value;
      return `x = ${what}`;
    },
  },
  {
    name: 'x: non-finite entry', arg: 'batch.x', applies: (c) => isBatchObject(c) && live((c.batch as Batch).x, Float32Array),
    apply(c, rng) {
      const b = batchOf(c);
      const { arr, what } = withNonFinite(b.x as Float32Array, rng);
      b.x = arr;
      return `x has ${what}`;
    },
  },
  {
    name: 'x: detached', arg: 'batch.x', applies: (c) => isBatchObject(c) && live((c.batch as Batch).x, Float32Array),
    apply(c) {
      const b = batchOf(c);
      b.x = detached(b.x as Float32Array);
      return 'x detached';
    },
  },
  {
    name: 'x: missing', arg: 'batch.x', applies: isBatchObject,
    apply(c) {
      delete batchOf(c).x;
      return 'x missing';
    },
  },
  // ---- batchSize / steps
  ...(['batchSize', 'steps'] as const).map((key): Mutation => ({
    name: `${key}: bad value`, arg: 'batch', applies: isBatchObject,
    apply(c, rng) {
      const b = batchOf(c);
      const current = b[key] as number;
      const options = [...BAD_COUNTS, typeof current === 'number' ? current + 1 : 5, typeof current === 'number' && current > 1 ? current - 1 : 0];
      const v = pick(rng, options);
      b[key] = v;
      return `${key} = ${typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? '[3]' : typeof v === 'object' && v !== null ? '{}' : String(v)}`;
    },
  })),
  {
    name: 'batch: huge sizes with a small x', arg: 'batch', applies: isBatchObject,
    apply(c, rng) {
      const b = batchOf(c);
      const [bs, st] = pick(rng, [[1e9, 1], [1, 1e9], [1e6, 1e6], [2 ** 30, 2], [65536, 65536], [2 ** 20, 3]] as const);
      b.batchSize = bs;
      b.steps = st;
      return `batchSize = ${bs}, steps = ${st}`;
    },
  },
  {
    name: 'batch: not an object / unknown key', arg: 'batch', applies: () => true,
    apply(c, rng) {
      const v = pick(rng, ['null', 'undefined', 'string', 'array', 'number', 'Float32Array', 'unknown key', 'function']);
      switch (v) {
        case 'null': c.batch = null; break;
        case 'undefined': c.batch = undefined; break;
        case 'string': c.batch = 'batch'; break;
        case 'array': c.batch = [c.batch]; break;
        case 'number': c.batch = 1; break;
        case 'Float32Array': c.batch = new Float32Array(4); break;
        case 'function': c.batch = () => c.batch; break;
        default:
          if (isBatchObject(c)) batchOf(c).lables = new Int32Array(3);
          else c.batch = { lables: new Int32Array(3) };
      }
      return `batch = ${v}`;
    },
  },
  // ---- labels (xent-last)
  {
    name: 'labels: out of range', arg: 'batch.labels',
    applies: (c) => isGradientCall(c) && c.loss === 'xent-last' && isBatchObject(c) && live((c.batch as Batch).labels, Int32Array),
    apply(c, rng) {
      const b = batchOf(c);
      const labels = (b.labels as Int32Array).slice();
      const i = rng.int(labels.length);
      const nOut = c.config.nOut;
      labels[i] = pick(rng, [nOut, nOut + 1, -1, 1e9, 2 ** 31 - 1, -(2 ** 31)]);
      b.labels = labels;
      return `labels[${i}] = ${labels[i]}`;
    },
  },
  {
    name: 'labels: wrong type or length', arg: 'batch.labels',
    applies: (c) => isGradientCall(c) && c.loss === 'xent-last' && isBatchObject(c),
    apply(c, rng) {
      const b = batchOf(c);
      const len = (b.labels as { length?: unknown } | null | undefined)?.length;
      const { value, what } = wrongIntArray(rng, typeof len === 'number' && len >= 0 && len < 1e7 ? len : 3);
      b.labels = value;
      return `labels = ${what}`;
    },
  },
  {
    name: 'labels: detached or missing', arg: 'batch',
    applies: (c) => isGradientCall(c) && c.loss === 'xent-last' && isBatchObject(c) && live((c.batch as Batch).labels, Int32Array),
    apply(c, rng) {
      const b = batchOf(c);
      if (rng.uniform() < 0.5) {
        b.labels = detached(b.labels as Int32Array);
        return 'labels detached';
      }
      delete b.labels;
      return 'labels missing';
    },
  },
  // ---- targets (mse)
  {
    name: 'targets: non-finite, wrong type or length, detached, missing', arg: 'batch',
    applies: (c) => isGradientCall(c) && c.loss === 'mse' && isBatchObject(c) && live((c.batch as Batch).targets, Float32Array),
    apply(c, rng) {
      const b = batchOf(c);
      const t = b.targets as Float32Array;
      const r = rng.uniform();
      if (r < 0.35) {
        const { arr, what } = withNonFinite(t, rng);
        b.targets = arr;
        return `targets has ${what}`;
      }
      if (r < 0.75) {
        const { value, what } = wrongFloatArray(rng, t.length);
        b.targets = value;
        return `targets = ${what}`;
      }
      if (r < 0.9) {
        b.targets = detached(t);
        return 'targets detached';
      }
      delete b.targets;
      return 'targets missing';
    },
  },
  // ---- options.loss
  {
    name: 'options.loss: unknown or mismatched', arg: 'options',
    applies: (c) => isGradientCall(c) && typeof c.options === 'object' && c.options !== null && !Array.isArray(c.options),
    apply(c, rng) {
      const o = { ...(c.options as Record<string, unknown>) };
      // A loss that the batch has no data for, or not a loss at all.
      const mismatched = c.loss === 'xent-last' ? 'mse' : 'xent-last';
      o.loss = pick(rng, [mismatched, mismatched, 'mae', 'MSE', 'xent', '', 0, null, true]);
      c.options = o;
      return `options.loss = ${JSON.stringify(o.loss)}`;
    },
  },
  // ---- the rule
  {
    name: 'rule: invalid', arg: 'rule', applies: isGradientCall,
    apply(c, rng) {
      const bad: unknown[] = [
        null, undefined, 'bptt', 42, [], {}, [{ rule: 'bptt' }], { rule: 'BPTT' }, { rule: 'rtrl' }, { rule: '' }, { rule: 'backprop' },
        { rule: null }, { rule: 'bptt', lr: 0.1 }, { rule: 'bptt', Online: true },
        { rule: 'tbptt' }, { rule: 'tbptt', window: 0 }, { rule: 'tbptt', window: -1 }, { rule: 'tbptt', window: 2.5 },
        { rule: 'tbptt', window: NaN }, { rule: 'tbptt', window: '5' }, { rule: 'tbptt', window: Infinity }, { rule: 'tbptt', window: null },
        { rule: 'modprop', mu: -0.1 }, { rule: 'modprop', mu: NaN }, { rule: 'modprop', mu: Infinity }, { rule: 'modprop', mu: '0.25' },
        { rule: 'modprop', mu: null }, { rule: 'modprop', mu: 1e6 }, { rule: 'modprop', mu: 1e6, online: true },
        { rule: 'modprop', feedback: 'types' }, { rule: 'mdgl', feedback: 'Cell' }, { rule: 'mdgl', feedback: null }, { rule: 'mdgl', feedback: 1 },
        { rule: 'bptt', feedback: 'type' }, { rule: 'eprop', feedback: 'cell' }, { rule: 'tbptt', window: 3, feedback: 'type' },
        { rule: 'bptt', online: true }, { rule: 'tbptt', window: 3, online: true }, { rule: 'mdgl', online: true },
        { rule: 'eprop', online: 'yes' }, { rule: 'eprop', online: 1 }, { rule: 'modprop', online: true, feedback: 'cell' },
        { rule: 'rtrl', online: true }, { rule: 'bptt', learningSignal: 'random' }, { rule: 'tbptt', window: 2, learningSignal: 'symmetric' },
        { rule: 'eprop', learningSignal: 'Random' }, { rule: 'modprop', learningSignal: 'feedback' }, { rule: 'eprop', mu: 0.25 },
        { rule: 'mdgl', mu: 0.1 }, { rule: 'bptt', window: 5 }, { rule: 'eprop', window: 5 }, { rule: 'modprop', mu: 0.25, window: 3 },
        Object.assign(Object.create({ rule: 'bptt' }), { online: 'x' }),
      ];
      const i = rng.int(bad.length);
      c.rule = bad[i];
      c.ruleMutated = true;
      let shown: string;
      try {
        shown = JSON.stringify(bad[i]) ?? String(bad[i]);
      } catch {
        shown = String(bad[i]);
      }
      return `rule = ${shown}`;
    },
  },
  // ---- options
  {
    name: 'options: invalid', arg: 'options', applies: () => true,
    apply(c, rng) {
      const bad: [string, unknown][] = [
        ['string', 'native'], ['number', 42], ['array', []], ['null', null], ['true', true],
        ["backend 'gpu'", { backend: 'gpu' }], ["backend 'Native'", { backend: 'Native' }], ['backend 1', { backend: 1 }],
        ['backend null', { backend: null }], ['unknown key thread', { backend: 'native', thread: 2 }],
      ];
      if (c.kind === 'sync') bad.push(['signal on a sync call', { backend: 'native', signal: new AbortController().signal }]);
      if (c.kind === 'forward') bad.push(['loss on forward', { backend: 'native', loss: 'mse' }]);
      if (c.kind === 'async') {
        bad.push(['signal {}', { backend: 'native', signal: {} }], ["signal 'abort'", { backend: 'native', signal: 'abort' }],
          ['signal: an AbortController', { backend: 'native', signal: new AbortController() }], ['signal null', { backend: 'native', signal: null }]);
      }
      const [what, value] = pick(rng, bad);
      c.options = value;
      return `options = ${what}`;
    },
  },
  // ---- the network
  {
    name: 'net: not a Network', arg: 'net', applies: isGradientCall,
    apply(c, rng) {
      const real = netObject(c) ?? freshNet(c);
      const bad: [string, unknown][] = [
        ['null', null], ['undefined', undefined], ['{}', {}], ['string', 'net'], ['the Network class', Network],
        ['a plain copy', { ...real, params: real.params, config: real.config, types: real.types, nIn: real.nIn, nRec: real.nRec, nOut: real.nOut }],
        ['the batch', c.batch], ['params object', real.params],
      ];
      const [what, value] = pick(rng, bad);
      c.net = value;
      return `net = ${what}`;
    },
  },
  {
    name: 'net.params: corrupted', arg: 'params', applies: (c) => netObject(c) !== undefined,
    apply(c, rng) {
      const net = ownNet(c);
      const key = pick(rng, MATRICES);
      const r = rng.uniform();
      if (r < 0.4) {
        const arr = net.params[key];
        const i = rng.int(arr.length);
        arr[i] = pick(rng, [NaN, Infinity, -Infinity]);
        return `params.${key}[${i}] = ${arr[i]}`;
      }
      if (r < 0.5) {
        const n = net.nRec;
        const i = rng.int(n);
        net.params.wrec[i * n + i] = 0.5;
        return `params.wrec diagonal [${i}][${i}] = 0.5`;
      }
      if (r < 0.65) {
        (net.params as unknown as Record<string, unknown>)[key] = detached(net.params[key]);
        return `params.${key} detached`;
      }
      if (r < 0.95) {
        const { value, what } = wrongFloatArray(rng, net.params[key].length);
        (net.params as unknown as Record<string, unknown>)[key] = value;
        return `params.${key} = ${what}`;
      }
      (net as unknown as { params: unknown }).params = pick(rng, [null, undefined, {}, 'params']);
      return 'params replaced';
    },
  },
  {
    name: 'net internals: type ids out of range (type-feedback rules)', arg: 'type',
    applies: (c) => isGradientCall(c) && netObject(c) !== undefined && !c.ruleMutated,
    apply(c, rng) {
      const net = ownNet(c);
      const i = rng.int(net.nRec);
      net.types[i] = pick(rng, [net.nTypes, net.nTypes + 5, -1, 2 ** 31 - 1, -(2 ** 31)]);
      c.ruleMutated = true;
      c.rule = pick(rng, [{ rule: 'mdgl' }, { rule: 'modprop' }, { rule: 'modprop', online: true }, { rule: 'mdgl', learningSignal: 'random' }]);
      return `types[${i}] = ${net.types[i]}, rule ${JSON.stringify(c.rule)}`;
    },
  },
  {
    name: 'net internals: random feedback corrupted (random learning signal)', arg: 'randomFeedback',
    applies: (c) => isGradientCall(c) && netObject(c) !== undefined && !c.ruleMutated,
    apply(c, rng) {
      const net = ownNet(c);
      c.ruleMutated = true;
      c.rule = pick(rng, [{ rule: 'eprop', learningSignal: 'random' }, { rule: 'modprop', learningSignal: 'random' },
        { rule: 'mdgl', learningSignal: 'random' }, { rule: 'eprop', online: true, learningSignal: 'random' }]);
      if (rng.uniform() < 0.5 || net.randomFeedback.buffer.byteLength === 0) {
        if (net.randomFeedback.buffer.byteLength === 0) return `randomFeedback detached, rule ${JSON.stringify(c.rule)}`;
        const i = rng.int(net.randomFeedback.length);
        net.randomFeedback[i] = pick(rng, [NaN, Infinity, -Infinity]);
        return `randomFeedback[${i}] = ${net.randomFeedback[i]}, rule ${JSON.stringify(c.rule)}`;
      }
      structuredClone(net.randomFeedback.buffer, { transfer: [net.randomFeedback.buffer as ArrayBuffer] });
      return `randomFeedback detached, rule ${JSON.stringify(c.rule)}`;
    },
  },
];

interface Base {
  net: Network;
  config: NetworkConfig;
  batches: Record<Loss, Batch>;
}

function bases(): Base[] {
  const out: Base[] = [];
  const shapes = [
    { nIn: 2, nRec: 6, nOut: 2, B: 3, T: 5 },
    { nIn: 3, nRec: 9, nOut: 3, B: 4, T: 7 },
    { nIn: 1, nRec: 12, nOut: 2, B: 2, T: 6 },
  ];
  shapes.forEach((s, k) => {
    const layout = LAYOUTS[[0, 1, 3][k]]; // C = 1, 2, 3
    const config: NetworkConfig = { nIn: s.nIn, nRec: s.nRec, nOut: s.nOut, seed: 50 + k, tau: 5, ...layout.config(s.nRec) };
    const net = Network.create(config);
    out.push({ net, config, batches: { 'xent-last': makeBatch(net, s.B, s.T, 'xent-last', 60 + k), mse: makeBatch(net, s.B, s.T, 'mse', 70 + k) } });
  });
  return out;
}

const VALID_RULES: RuleConfig[] = [
  { rule: 'bptt' }, { rule: 'tbptt', window: 2 }, { rule: 'eprop' }, { rule: 'eprop', online: true }, { rule: 'mdgl' },
  { rule: 'mdgl', feedback: 'cell' }, { rule: 'modprop' }, { rule: 'modprop', online: true }, { rule: 'modprop', feedback: 'cell' },
  { rule: 'modprop', learningSignal: 'random' },
];

function validCall(rng: Random, all: Base[]): Call {
  const base = pick(rng, all);
  const kind = pick(rng, ['sync', 'sync', 'async', 'async', 'forward'] as const);
  const loss = pick(rng, ['xent-last', 'mse'] as const);
  const b = base.batches[loss];
  const options: Record<string, unknown> = { backend: 'native' };
  if (kind !== 'forward' && rng.uniform() < 0.5) options.loss = loss;
  if (kind === 'async' && rng.uniform() < 0.3) options.signal = new AbortController().signal;
  return {
    kind, loss, net: base.net, config: base.config,
    batch: { ...b },
    rule: kind === 'forward' ? undefined : { ...pick(rng, VALID_RULES) },
    options,
  };
}

function invoke(c: Call): { sync?: unknown; promise?: Promise<unknown> } {
  if (c.kind === 'forward') return { sync: (c.net as Network).forward(c.batch as Batch, c.options as { backend: 'native' }) };
  if (c.kind === 'sync') return { sync: gradients(c.net as Network, c.batch as Batch, c.rule as RuleConfig, c.options as never) };
  return { promise: gradientsAsync(c.net as Network, c.batch as Batch, c.rule as RuleConfig, c.options as never) };
}

function checkError(err: unknown, args: string[], single: boolean): string | undefined {
  if (!(err instanceof Error)) return `threw a non-Error: ${String(err)}`;
  if (err.name !== 'ModpropError' || !(err instanceof ModpropError)) return `threw ${err.name}: ${err.message}`;
  const msg = err.message;
  if (!msg.startsWith('Expected') && !args.some((a) => msg.includes(a))) {
    return `message neither starts with "Expected" nor names ${args.join(' / ')}: ${msg}`;
  }
  if (single && !args.some((a) => msg.includes(a)) && !/Expected .* for \S+/.test(msg)) {
    return `message names no argument: ${msg}`;
  }
  return undefined;
}

describeNative('fuzz: malformed calls through the public API (native engine)', () => {
  it('≥ 1 000 seeded malformed calls (sync, async, forward) all fail with a clear ModpropError', async function () {
    this.timeout(120_000);
    const rng = new Random(20_250_601, 5);
    const all = bases();
    const failures: string[] = [];
    let calls = 0;
    const byKind: Record<Kind, number> = { sync: 0, async: 0, forward: 0 };
    const byMutation: Record<string, number> = {};
    let slowest = 0;
    // A reference result, recomputed every so often: errors must not leave the engine in a bad state.
    const probeBase = all[1];
    const probe = (): GradientResult => gradients(probeBase.net, probeBase.batches.mse, { rule: 'bptt' }, { backend: 'native' });
    const expectedProbe = probe();
    let pending: Promise<void>[] = [];

    const TARGET = 1_500;
    for (let n = 0; n < TARGET; n++) {
      const call = validCall(rng, all);
      const count = 1 + (rng.uniform() < 0.3 ? 1 + rng.int(2) : 0);
      const done: string[] = [];
      const args: string[] = [];
      for (let m = 0; m < count; m++) {
        const usable = MUTATIONS.filter((mu) => mu.applies(call));
        const mu = pick(rng, usable);
        byMutation[mu.name] = (byMutation[mu.name] ?? 0) + 1;
        done.push(mu.apply(call, rng));
        args.push(mu.arg);
      }
      const what = `#${n} ${call.kind}: ${done.join('; ')}`;
      calls++;
      byKind[call.kind]++;
      const started = Date.now();
      let out: ReturnType<typeof invoke>;
      try {
        out = invoke(call);
      } catch (err) {
        if (call.kind === 'async') failures.push(`${what}: gradientsAsync threw synchronously (${String(err)})`);
        else {
          const problem = checkError(err, args, count === 1);
          if (problem) failures.push(`${what}: ${problem}`);
        }
        slowest = Math.max(slowest, Date.now() - started);
        continue;
      }
      if (out.promise) {
        pending.push(out.promise.then(
          () => { failures.push(`${what}: resolved (a silent result)`); },
          (err: unknown) => {
            const problem = checkError(err, args, count === 1);
            if (problem) failures.push(`${what}: ${problem}`);
          },
        ));
        if (pending.length >= 25) {
          await Promise.all(pending);
          pending = [];
        }
      } else {
        failures.push(`${what}: returned a result (a silent result)`);
      }
      slowest = Math.max(slowest, Date.now() - started);
      if (n % 100 === 99) assertBitIdentical(probe(), expectedProbe, `the engine after ${n + 1} malformed calls`);
    }
    await Promise.all(pending);
    assertBitIdentical(probe(), expectedProbe, 'the engine after all malformed calls');

    assert.ok(calls >= 1000, `only ${calls} calls`);
    assert.ok(byKind.sync >= 200 && byKind.async >= 200 && byKind.forward >= 100, JSON.stringify(byKind));
    for (const mu of MUTATIONS) assert.ok((byMutation[mu.name] ?? 0) >= 10, `mutation '${mu.name}' used only ${byMutation[mu.name] ?? 0} times`);
    assert.ok(slowest < 5_000, `a malformed call took ${slowest} ms (an allocation attempt?)`);
    const shown = failures.slice(0, 40).join('\n');
    assert.equal(failures.length, 0, `${failures.length} of ${calls} malformed calls misbehaved (first 40):\n${shown}`);
  });

  it('huge sizes are refused at once, without allocating (batchSize 1e9, steps 1e9, both 65536)', () => {
    const base = bases()[0];
    const b = base.batches['xent-last'];
    for (const [batchSize, steps] of [[1e9, 1], [1, 1e9], [65536, 65536], [1e9, 1e9]]) {
      for (const kind of ['sync', 'forward'] as const) {
        const started = Date.now();
        const call = (): unknown => (kind === 'sync'
          ? gradients(base.net, { ...b, batchSize, steps }, { rule: 'bptt' }, { backend: 'native' })
          : base.net.forward({ x: b.x, batchSize, steps }, { backend: 'native' }));
        assert.throws(call, (err: unknown) => err instanceof ModpropError && /^Expected/.test(err.message) && /batch/.test(err.message));
        assert.ok(Date.now() - started < 500, `${kind} with batchSize ${batchSize}, steps ${steps} took ${Date.now() - started} ms`);
      }
    }
  });
});

describeNative('fuzz: valid but unusual input (shared memory, offsets, subclasses) equals the plain result', () => {
  function shared<T extends Float32Array | Int32Array>(arr: T): T {
    const Ctor = arr.constructor as { new (buf: SharedArrayBuffer): T };
    const out = new Ctor(new SharedArrayBuffer(arr.byteLength));
    out.set(arr as never);
    return out;
  }
  function offset<T extends Float32Array | Int32Array>(arr: T, pad: number): T {
    const Ctor = arr.constructor as { new (n: number): T };
    const big = new Ctor(arr.length + 2 * pad);
    big.set(arr as never, pad);
    return big.subarray(pad, pad + arr.length) as T;
  }

  it('batch and parameters on SharedArrayBuffers, at byte offsets, and as subclasses: sync, async and forward', async () => {
    const rng = new Random(77, 1);
    const all = bases();
    let calls = 0;
    for (let n = 0; n < 120; n++) {
      const base = pick(rng, all);
      const loss = pick(rng, ['xent-last', 'mse'] as const);
      const rule = pick(rng, VALID_RULES);
      const plain = base.batches[loss];
      const wrap = <T extends Float32Array | Int32Array>(arr: T): T => {
        const r = rng.uniform();
        if (r < 0.4) return shared(arr);
        if (r < 0.7) return offset(arr, 1 + rng.int(5));
        if (r < 0.8) {
          class Sub extends (arr.constructor as Float32ArrayConstructor) {}
          return Sub.from(arr as Float32Array) as unknown as T;
        }
        return arr;
      };
      const batch: Batch = { x: wrap(plain.x), batchSize: plain.batchSize, steps: plain.steps };
      if (plain.labels) batch.labels = wrap(plain.labels);
      if (plain.targets) batch.targets = wrap(plain.targets);
      const net = base.net.clone();
      for (const k of MATRICES) (net.params as unknown as Record<string, Float32Array>)[k] = wrap(base.net.params[k]);

      const expected = gradients(base.net, plain, rule, { backend: 'native' });
      const what = `#${n} ${JSON.stringify(rule)} ${loss}`;
      assertBitIdentical(gradients(net, batch, rule, { backend: 'native' }), expected, `${what} sync`);
      assertBitIdentical(await gradientsAsync(net, batch, rule, { backend: 'native' }), expected, `${what} async`);
      const f = net.forward(batch, { backend: 'native' });
      const g = base.net.forward(plain, { backend: 'native' });
      for (const k of ['v', 'z', 'y'] as const) assert.deepEqual(f[k], g[k], `${what} forward ${k}`);
      // The inputs were not written to.
      assert.deepEqual(Array.from(batch.x), Array.from(plain.x), `${what}: x unchanged`);
      calls += 3;
    }
    assert.ok(calls >= 300);
  });
});

describeNative('extreme but well-formed input: no silent NaN/Infinity', () => {
  // Finite inputs that overflow float32 inside the engine: the contract of the fuzz above (a clear error, never a
  // silent unusable result) applied to values that pass validation. Either a ModpropError or finite numbers.
  function finiteOrError(fn: () => GradientResult, what: string): void {
    let r: GradientResult;
    try {
      r = fn();
    } catch (err) {
      assert.ok(err instanceof ModpropError, `${what}: threw ${String(err)}`);
      return;
    }
    assert.ok(Number.isFinite(r.loss), `${what}: loss ${r.loss}`);
    for (const k of MATRICES) {
      const bad = r.grads[k].findIndex((v) => !Number.isFinite(v));
      assert.equal(bad, -1, `${what}: grads.${k}[${bad}] = ${r.grads[k][bad]} returned silently`);
    }
  }

  it('inputs of 1e20 with the mse loss', () => {
    const base = bases()[0];
    const b = base.batches.mse;
    const x = b.x.map((v) => v * 1e20);
    finiteOrError(() => gradients(base.net, { ...b, x }, { rule: 'bptt' }, { backend: 'native' }), 'x × 1e20, bptt, mse');
  });
});
