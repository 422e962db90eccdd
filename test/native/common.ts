/**
 * Shared fixtures of the native-engine tests: the availability guard, random networks with C = 1, 2, 3 cell types
 * (created or from scaled parameters), random batches for both losses, and norm-based comparisons.
 *
 * Every call in these tests passes `backend: 'native'` or `backend: 'reference'` explicitly: other test files set
 * MODPROP_BACKEND=reference for the whole mocha process, so the default engine says nothing about what runs.
 */
import assert from 'node:assert/strict';
import { Network, backend, gradients, type Batch, type GradientResult, type NetworkConfig, type Params, type RuleConfig } from '../../lib/index';
import { engineFor } from '../../lib/backend';
import { Random } from '../../lib/random';

export const MATRICES = ['win', 'wrec', 'wout', 'bout'] as const;

/** Why the native engine cannot run, or undefined when it can. */
export function nativeUnavailable(): string | undefined {
  try {
    if (backend.native === undefined) return `the native addon did not load: ${backend.reason ?? 'no reason given'}`;
    engineFor('native');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * `describe`, guarded: without a native engine the block FAILS (one failing test naming the reason), unless
 * MODPROP_ALLOW_NO_NATIVE=1, in which case it is skipped. CI builds the addon, so a missing engine is a real failure.
 */
export function describeNative(title: string, body: () => void): void {
  const reason = nativeUnavailable();
  if (reason === undefined) {
    describe(title, body);
  } else if (process.env.MODPROP_ALLOW_NO_NATIVE === '1') {
    describe.skip(`${title} (native engine unavailable: ${reason})`, body);
  } else {
    describe(title, () => {
      it('needs the native engine (set MODPROP_ALLOW_NO_NATIVE=1 to skip)', () => {
        assert.fail(`the native engine is not available: ${reason}`);
      });
    });
  }
}

export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** ‖a − b‖ / ‖b‖ (Infinity when b is 0 and a is not; NaN propagates). */
export function relNormError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let d = 0;
  for (let i = 0; i < b.length; i++) d += (a[i] - b[i]) ** 2;
  const nb = norm(b);
  if (nb === 0) return d === 0 ? 0 : Infinity;
  return Math.sqrt(d) / nb;
}

/** Asserts that two results are bit-identical (loss and every gradient entry, NaN never equal). */
export function assertBitIdentical(a: GradientResult, b: GradientResult, what: string): void {
  assert.ok(Object.is(a.loss, b.loss), `${what}: loss ${a.loss} !== ${b.loss}`);
  for (const k of MATRICES) {
    const x = a.grads[k];
    const y = b.grads[k];
    assert.ok(x instanceof Float32Array && y instanceof Float32Array, `${what}: ${k} is a Float32Array`);
    assert.equal(x.length, y.length, `${what}: ${k} length`);
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], y[i])) assert.fail(`${what}: ${k}[${i}] differs: ${x[i]} vs ${y[i]}`);
    }
  }
}

/** Cell-type layouts: C = 1 (all excitatory), C = 2 (default E/I, and interleaved with flipped signs), C = 3. */
export interface TypeLayout {
  label: string;
  nTypes: number;
  config(nRec: number): Pick<NetworkConfig, 'cellTypes' | 'typeSigns'>;
}

export const LAYOUTS: TypeLayout[] = [
  { label: 'C=1 (all type 0, sign +1)', nTypes: 1, config: (n) => ({ cellTypes: new Array(n).fill(0), typeSigns: [1] }) },
  { label: 'C=2 (default E/I)', nTypes: 2, config: () => ({}) },
  { label: 'C=2 (i%2, signs [+1,-1])', nTypes: 2, config: (n) => ({ cellTypes: Array.from({ length: n }, (_, i) => i % 2), typeSigns: [1, -1] }) },
  { label: 'C=3 (i%3, signs [-1,+1,+1])', nTypes: 3, config: (n) => ({ cellTypes: Array.from({ length: n }, (_, i) => i % 3), typeSigns: [-1, 1, 1] }) },
];

export interface NetSpec {
  nIn: number;
  nRec: number;
  nOut: number;
  seed: number;
  tau: number;
  layout: TypeLayout;
  /** Rebuild with Network.fromParams: Wrec × wrecScale, Win × winScale, random bout (more activity). */
  scaled?: { wrecScale: number; winScale: number };
}

export function makeNet(s: NetSpec): Network {
  const config: NetworkConfig = { nIn: s.nIn, nRec: s.nRec, nOut: s.nOut, seed: s.seed, tau: s.tau, ...s.layout.config(s.nRec) };
  const net = Network.create(config);
  if (!s.scaled) return net;
  const rng = new Random(s.seed, 900);
  const p = net.params;
  const params: Params = {
    win: p.win.map((w) => w * s.scaled!.winScale),
    wrec: p.wrec.map((w) => w * s.scaled!.wrecScale),
    wout: p.wout.slice(),
    bout: Float32Array.from(p.bout, () => rng.normal() * 0.3),
  };
  return Network.fromParams(config, params);
}

/** A random batch: inputs N(0.3, 1), labels uniform over the classes (xent-last) or N(0, 1) targets (mse). */
export function makeBatch(net: Network, batchSize: number, steps: number, loss: 'xent-last' | 'mse', seed: number): Batch {
  const rng = new Random(seed, 901);
  const x = Float32Array.from({ length: batchSize * steps * net.nIn }, () => 0.3 + rng.normal());
  if (loss === 'xent-last') {
    // Every class at least once when the batch is big enough, so the xent gradient is not one-sided.
    const labels = Int32Array.from({ length: batchSize }, (_, b) => (b < net.nOut ? b : rng.int(net.nOut)));
    return { x, batchSize, steps, labels };
  }
  const targets = Float32Array.from({ length: batchSize * steps * net.nOut }, () => rng.normal());
  return { x, batchSize, steps, targets };
}

/** Every rule configuration the native engine supports (rtrl is reference-only); test/unit/rules.test.ts checks it covers the registry. */
export const NATIVE_RULES: RuleConfig[] = [
  { rule: 'bptt' },
  { rule: 'tbptt', window: 7 },
  { rule: 'tbptt', window: 1 },
  { rule: 'eprop' },
  { rule: 'eprop', online: true },
  { rule: 'eprop', learningSignal: 'random' },
  { rule: 'eprop', online: true, learningSignal: 'random' },
  { rule: 'mdgl' },
  { rule: 'mdgl', feedback: 'cell' },
  { rule: 'mdgl', learningSignal: 'random' },
  { rule: 'modprop' },
  { rule: 'modprop', mu: 0 },
  { rule: 'modprop', feedback: 'cell', mu: 0.5 },
  { rule: 'modprop', online: true },
  { rule: 'modprop', online: true, mu: 0.1 },
  { rule: 'modprop', learningSignal: 'random' },
  { rule: 'modprop', online: true, learningSignal: 'random' },
  { rule: 'rflo' },
  { rule: 'rflo', online: true },
  { rule: 'rflo', learningSignal: 'symmetric' },
  { rule: 'rflo', online: true, learningSignal: 'symmetric' },
];

export function label(r: RuleConfig): string {
  return JSON.stringify(r);
}

/** Sync gradients on the native engine. */
export function nativeGradients(net: Network, batch: Batch, rule: RuleConfig, loss?: 'xent-last' | 'mse'): GradientResult {
  return gradients(net, batch, rule, { backend: 'native', ...(loss ? { loss } : {}) });
}

/** A delayed-XOR-free, fully random paper-size-ish case for the thread and async tests. */
export function mediumCase(seed: number, batchSize = 8, steps = 60, nRec = 32): { net: Network; batch: Batch } {
  const net = makeNet({ nIn: 3, nRec, nOut: 2, seed, tau: 15, layout: LAYOUTS[1], scaled: { wrecScale: 1.3, winScale: 1.5 } });
  return { net, batch: makeBatch(net, batchSize, steps, 'xent-last', seed) };
}

/** A network with `nTypes` cell types scattered over its units ((7i + offset) mod C), both signs among the types. */
export function netWithTypes(nRec: number, nTypes: number, seed: number, offset = 0): Network {
  return Network.create({
    nIn: 2, nRec, nOut: 2, seed,
    cellTypes: Array.from({ length: nRec }, (_, i) => (i * 7 + offset) % nTypes),
    typeSigns: Array.from({ length: nTypes }, (_, c) => (c % 4 === 3 ? -1 : 1)),
  });
}

/** A two-input xent-last batch of normal inputs shifted by 0.5, labels alternating. */
export function twoInputBatch(batchSize: number, steps: number, seed: number): Batch {
  const rng = new Random(seed, 11);
  return {
    x: Float32Array.from({ length: batchSize * steps * 2 }, () => rng.normal() + 0.5), batchSize, steps,
    labels: Int32Array.from({ length: batchSize }, (_, b) => b % 2),
  };
}
