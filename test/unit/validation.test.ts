/**
 * Every bad input to the public API fails with one exact message ("Expected <what> for <name> but received
 * <value>", lib/validate.ts), and the same calls with correct input succeed — so an error test never passes
 * because of some other, earlier error.
 */
process.env.MODPROP_BACKEND = 'reference';

import assert from 'node:assert/strict';
import { ModpropError, Network, alignment, filterTaps, gradients, gradientsAsync, type Batch, type NetworkConfig, type Params } from '../../lib/index';

/** The exact error: a ModpropError with exactly this message. */
function throwsExactly(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ModpropError, `expected a ModpropError, got ${String(err)}`);
    assert.equal(err.name, 'ModpropError');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

const NET_KEYS = 'nIn, nRec, nOut, tau, dt, threshold, dale, excitatoryFraction, cellTypes, typeSigns, seed, init, recurrentRadius, subtypes, connectivity, neuron';
const RULES = "'bptt', 'tbptt', 'rtrl', 'eprop', 'mdgl', 'modprop', 'rflo'";

// nRec = 10 with the default E/I split: units 0, 1 inhibitory, 2..9 excitatory.
const CONFIG: NetworkConfig = { nIn: 2, nRec: 10, nOut: 2, seed: 1 };
const B = 2;
const T = 5;

function seededValues(n: number, seed: number): Float32Array {
  // A small LCG so the batch does not depend on lib/random.
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function goodBatch(): Batch {
  return { x: seededValues(B * T * CONFIG.nIn, 7), batchSize: B, steps: T, labels: Int32Array.from([0, 1]) };
}

function mseBatch(): Batch {
  return { x: seededValues(B * T * CONFIG.nIn, 7), batchSize: B, steps: T, targets: seededValues(B * T * CONFIG.nOut, 9) };
}

function copyParams(p: Params): Params {
  return { win: p.win.slice(), wrec: p.wrec.slice(), wout: p.wout.slice(), bout: p.bout.slice() };
}

function assertFiniteResult(r: { loss: number; grads: Params }): void {
  assert.ok(Number.isFinite(r.loss), `loss ${r.loss}`);
  for (const k of ['win', 'wrec', 'wout', 'bout'] as const) {
    assert.ok(r.grads[k] instanceof Float32Array);
    assert.ok(r.grads[k].every(Number.isFinite), `${k} finite`);
  }
}

/** ρ(Φ) for C = 2, Φ = αI + μ(1−α) diag(n) Ω, with Ω the Wrec block means; eigenvalues of a 2×2 in closed form. */
function phiRadius2(net: Network, mu: number): number {
  const n = net.nRec;
  const types = net.types;
  const counts = [0, 0];
  const sums = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) counts[types[i]]++;
  for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) sums[types[p] * 2 + types[j]] += net.params.wrec[p * n + j];
  const omega = sums.map((s, k) => s / (counts[Math.floor(k / 2)] * counts[k % 2]));
  const a = net.alpha;
  const g = mu * (1 - a);
  const p00 = a + g * counts[0] * omega[0];
  const p01 = g * counts[0] * omega[1];
  const p10 = g * counts[1] * omega[2];
  const p11 = a + g * counts[1] * omega[3];
  const tr = p00 + p11;
  const det = p00 * p11 - p01 * p10;
  const disc = (tr * tr) / 4 - det;
  if (disc >= 0) {
    const r = Math.sqrt(disc);
    return Math.max(Math.abs(tr / 2 + r), Math.abs(tr / 2 - r));
  }
  return Math.sqrt(det); // complex pair: |λ|² = det
}

/** A network with strong recurrent excitation (E→E weights large, inhibition weak), Dale-consistent. */
function excitedNetwork(): Network {
  const base = Network.create(CONFIG);
  const n = CONFIG.nRec;
  const wrec = new Float32Array(n * n);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < n; j++) if (p !== j) wrec[p * n + j] = base.types[p] === 0 ? -0.05 : 0.5;
  }
  return Network.fromParams(CONFIG, { ...copyParams(base.params), wrec });
}

function radiusIn(message: string): number {
  const m = /which gives spectral radius ([0-9.]+); lower mu$/.exec(message);
  assert.ok(m, `no radius in: ${message}`);
  return Number(m[1]);
}

describe('validation: NetworkConfig', () => {
  it('accepts the valid configurations used below', () => {
    assert.doesNotThrow(() => Network.create(CONFIG));
    assert.doesNotThrow(() => Network.create({ ...CONFIG, tau: 0.5, dt: 0.1, threshold: -0.2, excitatoryFraction: 0 }));
    assert.doesNotThrow(() => Network.create({ ...CONFIG, excitatoryFraction: 1 }));
    assert.doesNotThrow(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 1, 0], typeSigns: [-1, 1] }));
    assert.doesNotThrow(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 1, 0], dale: false }));
  });

  for (const [value, shown] of [[0, '0'], [2.5, '2.5'], ['x', "'x'"], [NaN, 'NaN'], [undefined, 'undefined'], [16385, '16385']] as const) {
    it(`nRec = ${shown}`, () => {
      throwsExactly(() => Network.create({ ...CONFIG, nRec: value as number }),
        `Expected an integer between 1 and 16384 for config.nRec but received ${shown}`);
    });
  }

  it('nIn = -1 and nOut = 1.5', () => {
    throwsExactly(() => Network.create({ ...CONFIG, nIn: -1 }), 'Expected an integer between 1 and 16384 for config.nIn but received -1');
    throwsExactly(() => Network.create({ ...CONFIG, nOut: 1.5 }), 'Expected an integer between 1 and 16384 for config.nOut but received 1.5');
  });

  it('a typo in an option key (nrec) is an error, not a silently ignored option', () => {
    const typo = { nIn: 2, nrec: 10, nOut: 2 } as unknown as NetworkConfig;
    throwsExactly(() => Network.create(typo), `Expected only the options ${NET_KEYS} for config but received unknown option 'nrec'`);
    const typo2 = { ...CONFIG, Tau: 5 } as unknown as NetworkConfig;
    throwsExactly(() => Network.create(typo2), `Expected only the options ${NET_KEYS} for config but received unknown option 'Tau'`);
  });

  it('config that is not an object', () => {
    throwsExactly(() => Network.create(null as unknown as NetworkConfig), 'Expected an object for config but received null');
    throwsExactly(() => Network.create([] as unknown as NetworkConfig), 'Expected an object for config but received an Array of length 0');
  });

  it('tau ≤ 0, non-finite tau and dt', () => {
    throwsExactly(() => Network.create({ ...CONFIG, tau: 0 }), 'Expected a positive finite number for config.tau but received 0');
    throwsExactly(() => Network.create({ ...CONFIG, tau: -3 }), 'Expected a positive finite number for config.tau but received -3');
    throwsExactly(() => Network.create({ ...CONFIG, tau: Infinity }), 'Expected a positive finite number for config.tau but received Infinity');
    throwsExactly(() => Network.create({ ...CONFIG, dt: 0 }), 'Expected a positive finite number for config.dt but received 0');
  });

  it('threshold, dale and seed of the wrong kind', () => {
    throwsExactly(() => Network.create({ ...CONFIG, threshold: NaN }), 'Expected a finite number for config.threshold but received NaN');
    throwsExactly(() => Network.create({ ...CONFIG, dale: 'yes' as unknown as boolean }), "Expected a boolean for config.dale but received 'yes'");
    throwsExactly(() => Network.create({ ...CONFIG, seed: -1 }), 'Expected an integer ≥ 0 for config.seed but received -1');
    throwsExactly(() => Network.create({ ...CONFIG, seed: 0.5 }), 'Expected an integer ≥ 0 for config.seed but received 0.5');
  });

  it('cellTypes of the wrong length', () => {
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 1], typeSigns: [-1, 1] }),
      'Expected an array of 4 type ids (one per recurrent unit) for config.cellTypes but received an Array of length 3');
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: Int32Array.from([0, 1, 1, 0, 1]), typeSigns: [-1, 1] }),
      'Expected an array of 4 type ids (one per recurrent unit) for config.cellTypes but received Int32Array of length 5');
  });

  it('cellTypes out of range or not integers', () => {
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 4, 0], typeSigns: [-1, 1] }),
      'Expected integer type ids between 0 and 3 for config.cellTypes but received 4 at index 2');
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, -1, 1, 0], typeSigns: [-1, 1] }),
      'Expected integer type ids between 0 and 3 for config.cellTypes but received -1 at index 1');
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 0.5, 0], typeSigns: [-1, 1] }),
      'Expected integer type ids between 0 and 3 for config.cellTypes but received 0.5 at index 2');
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 1, NaN], typeSigns: [-1, 1] }),
      'Expected integer type ids between 0 and 3 for config.cellTypes but received NaN at index 3');
  });

  it('custom cellTypes with Dale but no typeSigns', () => {
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 2, 0] }),
      "Expected an array of 3 signs (one ±1 per cell type) when cellTypes are given with Dale's law for config.typeSigns but received undefined");
  });

  it('typeSigns not ±1, of the wrong length, or without cellTypes', () => {
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 1, 0], typeSigns: [-1, 0] }),
      'Expected signs of +1 or -1 for config.typeSigns but received 0 at index 1');
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 1, 0], typeSigns: [-2, 1] }),
      'Expected signs of +1 or -1 for config.typeSigns but received -2 at index 0');
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 1, 0], typeSigns: [-1, 1, 1] }),
      'Expected an array of 2 signs (one ±1 per cell type) for config.typeSigns but received an Array of length 3');
    throwsExactly(() => Network.create({ ...CONFIG, typeSigns: [-1, 1] }),
      'Expected no typeSigns without cellTypes (the default types are inhibitory 0, excitatory 1) for config.typeSigns but received an Array of length 2');
  });

  it('excitatoryFraction outside [0, 1], or together with cellTypes', () => {
    for (const [v, shown] of [[-0.1, '-0.1'], [1.5, '1.5'], [NaN, 'NaN']] as const) {
      throwsExactly(() => Network.create({ ...CONFIG, excitatoryFraction: v }),
        `Expected a number between 0 and 1 for config.excitatoryFraction but received ${shown}`);
    }
    throwsExactly(() => Network.create({ ...CONFIG, nRec: 4, cellTypes: [0, 1, 1, 0], typeSigns: [-1, 1], excitatoryFraction: 0.5 }),
      'Expected no excitatoryFraction together with cellTypes for config.excitatoryFraction but received 0.5');
  });
});

describe('validation: Network.fromParams', () => {
  const net = Network.create(CONFIG);
  const n = CONFIG.nRec;
  const with_ = (patch: Partial<Record<keyof Params, unknown>>): Params => ({ ...copyParams(net.params), ...patch }) as Params;

  it('accepts the parameters of a created network', () => {
    assert.doesNotThrow(() => Network.fromParams(CONFIG, copyParams(net.params)));
  });

  it('wrong lengths of win, wrec, wout, bout', () => {
    throwsExactly(() => Network.fromParams(CONFIG, with_({ win: new Float32Array(19) })),
      'Expected a Float32Array of length 20 (nIn × nRec = 2 × 10) for params.win but received Float32Array of length 19');
    throwsExactly(() => Network.fromParams(CONFIG, with_({ wrec: new Float32Array(99) })),
      'Expected a Float32Array of length 100 (nRec × nRec = 10 × 10) for params.wrec but received Float32Array of length 99');
    throwsExactly(() => Network.fromParams(CONFIG, with_({ wout: new Float32Array(21) })),
      'Expected a Float32Array of length 20 (nRec × nOut = 10 × 2) for params.wout but received Float32Array of length 21');
    throwsExactly(() => Network.fromParams(CONFIG, with_({ bout: new Float32Array(3) })),
      'Expected a Float32Array of length 2 (nOut = 2) for params.bout but received Float32Array of length 3');
  });

  it('a Float64Array, a plain Array or nothing instead of a Float32Array', () => {
    throwsExactly(() => Network.fromParams(CONFIG, with_({ win: Float64Array.from(net.params.win) })),
      'Expected a Float32Array of length 20 (nIn × nRec = 2 × 10) for params.win but received Float64Array of length 20');
    throwsExactly(() => Network.fromParams(CONFIG, with_({ wout: Array.from(net.params.wout) })),
      'Expected a Float32Array of length 20 (nRec × nOut = 10 × 2) for params.wout but received an Array of length 20');
    throwsExactly(() => Network.fromParams(CONFIG, with_({ bout: undefined })),
      'Expected a Float32Array of length 2 (nOut = 2) for params.bout but received undefined');
    throwsExactly(() => Network.fromParams(CONFIG, null as unknown as Params), 'Expected an object for params but received null');
  });

  it('NaN or Infinity in a weight names the index', () => {
    const win = net.params.win.slice();
    win[13] = NaN;
    throwsExactly(() => Network.fromParams(CONFIG, with_({ win })), 'Expected finite values for params.win but received NaN at index 13');
    const wrec = net.params.wrec.slice();
    wrec[57] = Infinity;
    throwsExactly(() => Network.fromParams(CONFIG, with_({ wrec })), 'Expected finite values for params.wrec but received Infinity at index 57');
    const bout = new Float32Array(2);
    bout[1] = -Infinity;
    throwsExactly(() => Network.fromParams(CONFIG, with_({ bout })), 'Expected finite values for params.bout but received -Infinity at index 1');
  });

  it('a non-zero diagonal of wrec', () => {
    const wrec = net.params.wrec.slice();
    wrec[3 * n + 3] = 0.5; // unit 3 is excitatory, so the sign is Dale-consistent: only the diagonal is wrong
    throwsExactly(() => Network.fromParams(CONFIG, with_({ wrec })),
      'Expected a zero diagonal (self-connections do not exist) for params.wrec but received 0.5 at [3][3]');
  });

  it("a Dale's law sign violation in wrec or wout", () => {
    const wrec = net.params.wrec.slice();
    wrec[0 * n + 4] = 0.5; // unit 0 is inhibitory
    throwsExactly(() => Network.fromParams(CONFIG, with_({ wrec })),
      "Expected weights with the sign of their presynaptic type (≤ 0 for unit 0, Dale's law) for params.wrec but received 0.5 at [0][4]");
    const wout = net.params.wout.slice();
    wout[5 * 2 + 1] = -0.25; // unit 5 is excitatory
    throwsExactly(() => Network.fromParams(CONFIG, with_({ wout })),
      "Expected weights with the sign of their presynaptic type (≥ 0 for unit 5, Dale's law) for params.wout but received -0.25 at [5][1]");
    // Without Dale's law the same weights are fine.
    assert.doesNotThrow(() => Network.fromParams({ ...CONFIG, dale: false }, with_({ wrec, wout })));
  });
});

describe('validation: batches (through gradients and forward)', () => {
  const net = Network.create(CONFIG);
  const bptt = { rule: 'bptt' } as const;

  it('valid xent-last and mse batches give finite results', () => {
    assertFiniteResult(gradients(net, goodBatch(), bptt));
    assertFiniteResult(gradients(net, mseBatch(), bptt, { loss: 'mse' }));
    assertFiniteResult(gradients(net, mseBatch(), bptt));
    const f = net.forward(goodBatch());
    assert.equal(f.y.length, B * T * CONFIG.nOut);
  });

  it('x of the wrong length', () => {
    throwsExactly(() => gradients(net, { ...goodBatch(), x: new Float32Array(19) }, bptt),
      'Expected a Float32Array of length 20 (batchSize × steps × nIn = 2 × 5 × 2) for batch.x but received Float32Array of length 19');
    throwsExactly(() => net.forward({ ...goodBatch(), x: new Float32Array(21) }),
      'Expected a Float32Array of length 20 (batchSize × steps × nIn = 2 × 5 × 2) for batch.x but received Float32Array of length 21');
  });

  it('x that is not a Float32Array', () => {
    throwsExactly(() => gradients(net, { ...goodBatch(), x: new Float64Array(20) as unknown as Float32Array }, bptt),
      'Expected a Float32Array of length 20 (batchSize × steps × nIn = 2 × 5 × 2) for batch.x but received Float64Array of length 20');
    throwsExactly(() => gradients(net, { ...goodBatch(), x: Array.from(goodBatch().x) as unknown as Float32Array }, bptt),
      'Expected a Float32Array of length 20 (batchSize × steps × nIn = 2 × 5 × 2) for batch.x but received an Array of length 20');
  });

  it('NaN in x names the index', () => {
    const b = goodBatch();
    b.x[11] = NaN;
    throwsExactly(() => gradients(net, b, bptt), 'Expected finite values for batch.x but received NaN at index 11');
    throwsExactly(() => net.forward(b), 'Expected finite values for batch.x but received NaN at index 11');
  });

  it('batchSize 0, steps -1, steps 2.5', () => {
    throwsExactly(() => gradients(net, { ...goodBatch(), batchSize: 0 }, bptt), 'Expected an integer ≥ 1 for batch.batchSize but received 0');
    throwsExactly(() => gradients(net, { ...goodBatch(), steps: -1 }, bptt), 'Expected an integer ≥ 1 for batch.steps but received -1');
    throwsExactly(() => net.forward({ ...goodBatch(), steps: 2.5 }), 'Expected an integer ≥ 1 for batch.steps but received 2.5');
  });

  it('a typo in a batch key (label) is an error', () => {
    const { labels, ...rest } = goodBatch();
    const typo = { ...rest, label: labels } as unknown as Batch;
    throwsExactly(() => gradients(net, typo, bptt),
      "Expected only the options x, batchSize, steps, labels, targets for batch but received unknown option 'label'");
  });

  it('missing labels for xent-last', () => {
    const { labels: _unused, ...noLabels } = goodBatch();
    throwsExactly(() => gradients(net, noLabels, bptt), 'Expected labels (for xent-last) or targets (for mse) for batch but received neither');
    throwsExactly(() => gradients(net, noLabels, bptt, { loss: 'xent-last' }),
      "Expected an Int32Array of 2 labels (the loss is 'xent-last') for batch.labels but received undefined");
  });

  it('labels out of range', () => {
    throwsExactly(() => gradients(net, { ...goodBatch(), labels: Int32Array.from([0, 2]) }, bptt),
      'Expected labels between 0 and 1 (nOut = 2) for batch.labels but received 2 at index 1');
    throwsExactly(() => gradients(net, { ...goodBatch(), labels: Int32Array.from([-1, 0]) }, bptt),
      'Expected labels between 0 and 1 (nOut = 2) for batch.labels but received -1 at index 0');
  });

  it('labels of the wrong length or type', () => {
    // "an Int32Array", as in the missing-labels message above (lib/validate.ts typedArray writes "a Int32Array").
    throwsExactly(() => gradients(net, { ...goodBatch(), labels: Int32Array.from([0, 1, 1]) }, bptt),
      'Expected an Int32Array of length 2 (batchSize = 2) for batch.labels but received Int32Array of length 3');
    throwsExactly(() => gradients(net, { ...goodBatch(), labels: [0, 1] as unknown as Int32Array }, bptt),
      'Expected an Int32Array of length 2 (batchSize = 2) for batch.labels but received an Array of length 2');
  });

  it("missing targets for options.loss 'mse'", () => {
    throwsExactly(() => gradients(net, goodBatch(), bptt, { loss: 'mse' }),
      "Expected a Float32Array of targets (the loss is 'mse') for batch.targets but received undefined");
  });

  it('targets of the wrong length, and NaN in targets', () => {
    throwsExactly(() => gradients(net, { ...mseBatch(), targets: new Float32Array(10) }, bptt),
      'Expected a Float32Array of length 20 (batchSize × steps × nOut = 2 × 5 × 2) for batch.targets but received Float32Array of length 10');
    const b = mseBatch();
    b.targets![7] = NaN;
    throwsExactly(() => gradients(net, b, bptt, { loss: 'mse' }), 'Expected finite values for batch.targets but received NaN at index 7');
  });

  it('a detached x buffer', () => {
    const b = goodBatch();
    structuredClone(b.x.buffer, { transfer: [b.x.buffer] });
    assert.equal(b.x.length, 0, 'the transfer detached the buffer');
    throwsExactly(() => gradients(net, b, bptt),
      'Expected a Float32Array with a live (not detached) buffer for batch.x but received a detached buffer');
    throwsExactly(() => net.forward(b),
      'Expected a Float32Array with a live (not detached) buffer for batch.x but received a detached buffer');
  });

  it('a batch or a network of the wrong kind', () => {
    throwsExactly(() => gradients(net, null as unknown as Batch, bptt), 'Expected an object for batch but received null');
    throwsExactly(() => gradients({} as Network, goodBatch(), bptt),
      'Expected a Network (from Network.create or Network.fromParams) for net but received an object');
  });

  it('a weight made NaN after creation is caught before any engine runs', () => {
    const broken = Network.create(CONFIG);
    broken.params.wrec[12] = NaN;
    throwsExactly(() => gradients(broken, goodBatch(), bptt), 'Expected finite values for net.params.wrec but received NaN at index 12');
  });

  it('a large Wrec (scanned by the addon from 65 536 entries) names the first non-finite index, as the JavaScript scan does', () => {
    // N = 300: 90 000 entries. The scan finds the first of several bad entries, on the native path and the reference one.
    const big = { nIn: 2, nRec: 300, nOut: 2, seed: 1 };
    for (const backend of [undefined, 'reference']) {
      const saved = process.env.MODPROP_BACKEND;
      if (backend === undefined) delete process.env.MODPROP_BACKEND;
      else process.env.MODPROP_BACKEND = backend;
      try {
        const broken = Network.create(big);
        broken.params.wrec[89_999] = NaN;
        broken.params.wrec[70_001] = -Infinity;
        const x = new Float32Array(3 * 2 * 2);
        throwsExactly(() => broken.forward({ x, batchSize: 3, steps: 2 }),
          'Expected finite values for net.params.wrec but received -Infinity at index 70001');
        broken.params.wrec[70_001] = 0;
        throwsExactly(() => broken.forward({ x, batchSize: 3, steps: 2 }),
          'Expected finite values for net.params.wrec but received NaN at index 89999');
        broken.params.wrec[89_999] = 0;
        assert.equal(broken.forward({ x, batchSize: 3, steps: 2 }).y.length, 3 * 2 * 2, 'finite again: the call runs');
      } finally {
        if (saved === undefined) delete process.env.MODPROP_BACKEND;
        else process.env.MODPROP_BACKEND = saved;
      }
    }
  });
});

describe('validation: rules, losses, backends', () => {
  const net = Network.create(CONFIG);

  it('every valid rule form runs and gives finite numbers', () => {
    for (const r of [
      { rule: 'bptt' }, { rule: 'rtrl' }, { rule: 'tbptt', window: 2 }, { rule: 'eprop' }, { rule: 'eprop', online: true },
      { rule: 'mdgl', feedback: 'cell' }, { rule: 'modprop', mu: 0.5 }, { rule: 'modprop', online: true },
      { rule: 'modprop', feedback: 'cell', mu: 0 }, { rule: 'eprop', learningSignal: 'random' }, { rule: 'bptt', online: false },
    ] as const) {
      assertFiniteResult(gradients(net, goodBatch(), r, { backend: 'reference' }));
    }
  });

  it("unknown rule 'foo', and a rule that is not an object", () => {
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'foo' } as never), `Expected one of ${RULES} for rule.rule but received 'foo'`);
    throwsExactly(() => gradients(net, goodBatch(), {} as never), `Expected one of ${RULES} for rule.rule but received undefined`);
    throwsExactly(() => gradients(net, goodBatch(), 'bptt' as never), "Expected an object for rule but received 'bptt'");
  });

  it('options that do not apply to the rule', () => {
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'bptt', online: true }),
      "Expected no online option for rule 'bptt' (online forms exist for 'eprop', 'rflo' and for 'modprop' with type feedback) for rule.online but received true");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'bptt', window: 3 }),
      "Expected no window option for rule 'bptt' (it applies to 'tbptt') for rule.window but received 3");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'eprop', mu: 0.5 }),
      "Expected no mu option for rule 'eprop' (it applies to 'modprop') for rule.mu but received 0.5");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'bptt', feedback: 'type' }),
      "Expected no feedback option for rule 'bptt' (it applies to 'mdgl' and 'modprop') for rule.feedback but received 'type'");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'bptt', learningSignal: 'random' }),
      "Expected no learningSignal option for rule 'bptt' (exact gradients always feed back through Wout) for rule.learningSignal but received 'random'");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'rtrl', learningSignal: 'symmetric' }),
      "Expected no learningSignal option for rule 'rtrl' (exact gradients always feed back through Wout) for rule.learningSignal but received 'symmetric'");
  });

  it('tbptt without a window, window 0, window 2.5', () => {
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'tbptt' }),
      'Expected an integer ≥ 1 (the truncation window of tbptt) for rule.window but received undefined');
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'tbptt', window: 0 }), 'Expected an integer between 1 and 2147483647 for rule.window but received 0');
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'tbptt', window: 2.5 }), 'Expected an integer between 1 and 2147483647 for rule.window but received 2.5');
    // The engines hold the window in an int32: 2^31 used to wrap to a negative window inside the native core.
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'tbptt', window: 2 ** 31 }), 'Expected an integer between 1 and 2147483647 for rule.window but received 2147483648');
  });

  it("online modprop with feedback 'cell'", () => {
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'modprop', online: true, feedback: 'cell' }),
      "Expected feedback 'type' with online: true (the causal filter needs type-averaged feedback) for rule.feedback but received 'cell'");
  });

  it('online, feedback and learningSignal of the wrong kind', () => {
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'eprop', online: 'yes' as never }), "Expected a boolean for rule.online but received 'yes'");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'mdgl', feedback: 'types' as never }),
      "Expected one of 'type', 'cell' for rule.feedback but received 'types'");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'eprop', learningSignal: 'rand' as never }),
      "Expected one of 'symmetric', 'random' for rule.learningSignal but received 'rand'");
  });

  it('an unknown key in the rule object', () => {
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'modprop', Mu: 0.5 } as never),
      "Expected only the options rule, feedback, mu, online, window, learningSignal for rule but received unknown option 'Mu'");
  });

  it('mu negative, NaN or infinite', () => {
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'modprop', mu: -0.1 }), 'Expected a finite number ≥ 0 for rule.mu but received -0.1');
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'modprop', mu: NaN }), 'Expected a finite number for rule.mu but received NaN');
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'modprop', mu: Infinity }), 'Expected a finite number for rule.mu but received Infinity');
  });

  it('unknown loss, unknown option key, options.backend gpu', () => {
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'bptt' }, { loss: 'xent' as never }),
      "Expected one of 'xent-last', 'mse' for options.loss but received 'xent'");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'bptt' }, { backend: 'gpu' as never }),
      "Expected one of 'native', 'reference' for options.backend but received 'gpu'");
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'bptt' }, { los: 'mse' } as never),
      "Expected only the options loss, backend, threads, out for options but received unknown option 'los'");
  });
});

describe('validation: gradientsAsync rejects with the same messages', () => {
  const net = Network.create(CONFIG);

  it('bad batch, bad rule, bad signal', async () => {
    const b = goodBatch();
    b.x[3] = NaN;
    await assert.rejects(gradientsAsync(net, b, { rule: 'bptt' }),
      { name: 'ModpropError', message: 'Expected finite values for batch.x but received NaN at index 3' });
    await assert.rejects(gradientsAsync(net, goodBatch(), { rule: 'tbptt' }),
      { name: 'ModpropError', message: 'Expected an integer ≥ 1 (the truncation window of tbptt) for rule.window but received undefined' });
    await assert.rejects(gradientsAsync(net, goodBatch(), { rule: 'bptt' }, { signal: 'stop' as never }),
      { name: 'ModpropError', message: "Expected an AbortSignal for options.signal but received 'stop'" });
    await assert.rejects(gradientsAsync(excitedNetwork(), goodBatch(), { rule: 'modprop', mu: 50 }),
      { name: 'ModpropError', message: /^Expected a stable ModProp filter \(spectral radius of Φ < 1\) for rule\.mu but received mu = 50, which gives spectral radius [0-9.]+; lower mu$/ });
  });
});

describe('validation: ModProp stability', () => {
  const unstableMessage = /^Expected a stable ModProp filter \(spectral radius of Φ < 1\) for rule\.mu but received mu = 50, which gives spectral radius [0-9.]+; lower mu$/;

  it('a strongly excited network is refused at mu = 50 with the radius in the message', () => {
    const net = excitedNetwork();
    const rho = phiRadius2(net, 50);
    assert.ok(rho >= 1, `precondition: ρ(Φ) = ${rho} ≥ 1`);
    let message = '';
    throwsExactly(() => {
      try {
        return gradients(net, goodBatch(), { rule: 'modprop', mu: 50 });
      } catch (e) {
        message = (e as Error).message;
        throw e;
      }
    }, unstableMessage);
    assert.ok(Math.abs(radiusIn(message) - rho) <= 1e-5 * rho, `message radius ${radiusIn(message)} vs ${rho}`);
    // Online ModProp runs the same filter: refused too.
    throwsExactly(() => gradients(net, goodBatch(), { rule: 'modprop', mu: 50, online: true }), unstableMessage);
  });

  it('the same network is accepted where ρ(Φ) < 1, and by rules without the type filter', () => {
    const net = excitedNetwork();
    const mu = 0.25;
    assert.ok(phiRadius2(net, mu) < 1, 'precondition: stable at mu = 0.25');
    assertFiniteResult(gradients(net, goodBatch(), { rule: 'modprop', mu }));
    assertFiniteResult(gradients(net, goodBatch(), { rule: 'modprop', mu: 50, feedback: 'cell' }));
  });

  it('strong inhibitory feedback (a created network at a very large mu) is refused too', () => {
    const net = Network.create({ ...CONFIG, nRec: 40, tau: 10 });
    let mu = 1;
    while (phiRadius2(net, mu) < 1) mu *= 2; // the first power of two where the filter is unstable
    const rho = phiRadius2(net, mu);
    assert.ok(phiRadius2(net, mu / 2) < 1);
    assertFiniteResult(gradients(net, goodBatch(), { rule: 'modprop', mu: mu / 2 }));
    let message = '';
    assert.throws(() => gradients(net, goodBatch(), { rule: 'modprop', mu }), (e: unknown) => {
      assert.ok(e instanceof ModpropError);
      message = e.message;
      return true;
    });
    assert.match(message, new RegExp(`^Expected a stable ModProp filter \\(spectral radius of Φ < 1\\) for rule\\.mu but received mu = ${mu}, which gives spectral radius [0-9.]+; lower mu$`));
    assert.ok(Math.abs(radiusIn(message) - rho) <= 1e-5 * rho, `message radius ${radiusIn(message)} vs ${rho}`);
  });

  it('alignment names the offending entry of its rules array', () => {
    const net = excitedNetwork();
    throwsExactly(() => alignment(net, goodBatch(), [{ rule: 'eprop' }, { rule: 'foo' } as never]),
      `Expected one of ${RULES} for rules[1].rule but received 'foo'`);
    throwsExactly(() => alignment(net, goodBatch(), []), 'Expected a non-empty array of rule configs for rules but received an Array of length 0');
    throwsExactly(() => alignment(net, goodBatch(), [{ rule: 'eprop' }, { rule: 'modprop', mu: 50 }]),
      /^Expected a stable ModProp filter \(spectral radius of Φ < 1\) for rules\[1\]\.mu but received mu = 50, which gives spectral radius [0-9.]+; lower mu$/);
  });
});

describe('validation: filterTaps', () => {
  it('valid taps are finite and shaped [length][C][C]', () => {
    const taps = filterTaps(excitedNetwork(), { mu: 0.25, length: 4 });
    assert.ok(taps instanceof Float32Array);
    assert.equal(taps.length, 4 * 2 * 2);
    assert.ok(taps.every(Number.isFinite));
  });

  it('length 0, 2.5 and missing', () => {
    const net = excitedNetwork();
    throwsExactly(() => filterTaps(net, { mu: 0.25, length: 0 }), 'Expected an integer between 1 and 1000000 for options.length but received 0');
    throwsExactly(() => filterTaps(net, { mu: 0.25, length: 2.5 }), 'Expected an integer between 1 and 1000000 for options.length but received 2.5');
    throwsExactly(() => filterTaps(net, { mu: 0.25 } as never), 'Expected an integer between 1 and 1000000 for options.length but received undefined');
  });

  it('mu negative, unknown key', () => {
    const net = excitedNetwork();
    throwsExactly(() => filterTaps(net, { mu: -1, length: 3 }), 'Expected a finite number ≥ 0 for options.mu but received -1');
    throwsExactly(() => filterTaps(net, { mu: 0.2, length: 3, lenght: 4 } as never),
      "Expected only the options mu, length for options but received unknown option 'lenght'");
  });

  it('unstable mu names options.mu and the radius', () => {
    const net = excitedNetwork();
    const rho = phiRadius2(net, 50);
    let message = '';
    assert.throws(() => filterTaps(net, { mu: 50, length: 3 }), (e: unknown) => {
      assert.ok(e instanceof ModpropError);
      message = e.message;
      return true;
    });
    assert.match(message, /^Expected a stable ModProp filter \(spectral radius of Φ < 1\) for options\.mu but received mu = 50, which gives spectral radius [0-9.]+; lower mu$/);
    assert.ok(Math.abs(radiusIn(message) - rho) <= 1e-5 * rho);
  });
});
