/**
 * The 'fast' normal sampler of the tasks: its tables (one set of literals per side, the same numbers, every layer of
 * area V), its exp/log (accurate, and bit-identical between TypeScript and C++), its normals (bit-identical between
 * the two sides over many seeds, and normally distributed), and delayed-XOR batches drawn with it (native ==
 * reference, same seed → same batch, the same bits as 'box-muller', only the noise differs).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModpropError, tasks } from '../../lib/index';
import { Random, STREAMS } from '../../lib/random';
import { expNonPositive, fastNormal, logUnit } from '../../lib/tasks/fastNormal';
import { loadNativeSampler, samplerError, type NativeSampler } from '../../lib/tasks/nativeSampler';
import { ZIGGURAT_F, ZIGGURAT_R, ZIGGURAT_X } from '../../lib/tasks/zigguratTables';

const V = 0.00492867323397465534736; // volume of each layer (scripts/ziggurat_tables.py, 60 digits)

function native(ctx: Mocha.Context): NativeSampler {
  const s = loadNativeSampler();
  if (s) return s;
  if (process.env.MODPROP_ALLOW_NO_NATIVE === '1') ctx.skip();
  assert.fail('the native addon did not load or lacks the sampler (set MODPROP_ALLOW_NO_NATIVE=1 to skip)');
}

function headerArray(text: string, name: string): number[] {
  const m = new RegExp(`${name}\\[\\d+\\] = \\{([^}]*)\\}`).exec(text);
  assert.ok(m, `${name} in the header`);
  return m[1].split(',').map((v) => v.trim()).filter((v) => v !== '').map(Number);
}

function bits(a: Float64Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('fast sampler', () => {
  it('has the same table literals on both sides, and every layer has area V', () => {
    const header = fs.readFileSync(path.join(__dirname, '../../native/core/ziggurat_tables.h'), 'utf8');
    assert.deepEqual(headerArray(header, 'kX'), Array.from(ZIGGURAT_X));
    assert.deepEqual(headerArray(header, 'kF'), Array.from(ZIGGURAT_F));
    assert.equal(Number(/kR = ([0-9.e-]+);/.exec(header)![1]), ZIGGURAT_R);
    assert.equal(ZIGGURAT_X.length, 257);
    assert.equal(ZIGGURAT_X[1], ZIGGURAT_R);
    assert.equal(ZIGGURAT_X[256], 0);
    for (let i = 1; i < 256; i++) {
      assert.ok(ZIGGURAT_X[i + 1] < ZIGGURAT_X[i], `x decreasing at ${i}`);
      assert.ok(Math.abs(ZIGGURAT_F[i] - Math.exp(-0.5 * ZIGGURAT_X[i] ** 2)) < 1e-15, `f = exp(-x²/2) at ${i}`);
      const area = ZIGGURAT_X[i] * (ZIGGURAT_F[i + 1] - ZIGGURAT_F[i]);
      assert.ok(Math.abs(area / V - 1) < 1e-12, `layer ${i} has area ${area}`);
    }
    // The base strip: the rectangle under f(R) and the tail beyond R, V together.
    assert.ok(Math.abs((ZIGGURAT_X[0] * ZIGGURAT_F[1]) / V - 1) < 1e-15);
  });

  it('computes exp and log to within 2 ulp of Math.exp / Math.log', () => {
    const rng = new Random(5, 0);
    for (let i = 0; i < 20000; i++) {
      const x = -40 * rng.uniform();
      assert.ok(Math.abs(expNonPositive(x) / Math.exp(x) - 1) < 5e-16, `exp(${x})`);
      const u = 1 - rng.uniform() ** 6;
      const l = Math.log(u);
      assert.ok(Math.abs(logUnit(u) - l) <= 5e-16 * Math.max(Math.abs(l), 1e-300) + 1e-300, `log(${u})`);
    }
    assert.equal(expNonPositive(0), 1);
    assert.equal(logUnit(1), 0);
    assert.ok(Math.abs(logUnit(2 ** -53) / (-53 * Math.LN2) - 1) < 5e-16);
  });

  it('computes exp and log bit-identically in C++', function () {
    const s = native(this);
    const rng = new Random(6, 0);
    const xs = Float64Array.from({ length: 50000 }, (_, i) => (i < 4 ? [0, -0, -1e-300, -744][i] : -50 * rng.uniform() ** 2));
    const us = Float64Array.from({ length: 50000 }, (_, i) => (i < 4 ? [1, 2 ** -53, 5e-324, 0.7071067811865476][i] : 1 - rng.uniform() ** 3));
    const nx = xs.slice();
    const nu = us.slice();
    s.samplerMath(0, nx);
    s.samplerMath(1, nu);
    assert.deepEqual(bits(nx), bits(xs.map(expNonPositive)));
    assert.deepEqual(bits(nu), bits(us.map(logUnit)));
  });

  it('draws bit-identical normals in TypeScript and C++, over many seeds', function () {
    this.timeout(60000);
    const s = native(this);
    let tails = 0;
    for (let seed = 0; seed < 300; seed++) {
      const count = seed < 100 ? 1 + seed : 4000;
      const ts = new Random(seed * 7919 + 3, STREAMS.taskNoise);
      const state = new Random(seed * 7919 + 3, STREAMS.taskNoise).state();
      const out = new Float64Array(count);
      s.fastNormals(state, out);
      const expected = Float64Array.from({ length: count }, () => fastNormal(ts));
      assert.deepEqual(bits(out), bits(expected), `seed ${seed}`);
      for (const z of out) if (Math.abs(z) > ZIGGURAT_R) tails++;
    }
    assert.ok(tails > 50, `the tail path ran (${tails} draws beyond R)`);
  });

  it('draws standard normals (moments, tail mass, central mass)', () => {
    const rng = new Random(11, STREAMS.taskNoise);
    const n = 400_000;
    let s1 = 0, s2 = 0, s3 = 0, s4 = 0, within1 = 0, beyondR = 0;
    for (let i = 0; i < n; i++) {
      const z = fastNormal(rng);
      s1 += z; s2 += z * z; s3 += z ** 3; s4 += z ** 4;
      if (Math.abs(z) < 1) within1++;
      if (Math.abs(z) > ZIGGURAT_R) beyondR++;
    }
    // Bounds of about 5 standard errors at n = 400 000.
    assert.ok(Math.abs(s1 / n) < 0.008, `mean ${s1 / n}`);
    assert.ok(Math.abs(s2 / n - 1) < 0.012, `variance ${s2 / n}`);
    assert.ok(Math.abs(s3 / n) < 0.02, `third moment ${s3 / n}`);
    assert.ok(Math.abs(s4 / n - 3) < 0.07, `fourth moment ${s4 / n}`);
    assert.ok(Math.abs(within1 / n - 0.682689492) < 0.004, `P(|z| < 1) = ${within1 / n}`);
    assert.ok(Math.abs(beyondR / n - 0.000258) < 0.00013, `P(|z| > R) = ${beyondR / n}`);
  });

  it('draws delayed-XOR batches bit-identical on both sides, for many seeds, sizes and options', function () {
    this.timeout(60000);
    native(this);
    const options = [{}, { noise: 0 }, { noise: 1e6 }, { cueSteps: 1, delaySteps: 0 }, { cueSteps: 7, delaySteps: 3, noise: 0.5 }, { cueSteps: 100, delaySteps: 700 }];
    for (const o of options) {
      const task = tasks.delayedXor({ ...o, sampler: 'fast' });
      for (const [batch, seed] of [[1, 0], [3, 1], [32, 12345], [5, 2 ** 32 + 7], [2, Number.MAX_SAFE_INTEGER]]) {
        const a = task.sampleOn('native', batch, seed);
        const b = task.sampleOn('reference', batch, seed);
        assert.deepEqual(bits(a.x), bits(b.x), `${JSON.stringify(o)} batch ${batch} seed ${seed}`);
        assert.deepEqual(a.labels, b.labels);
        assert.deepEqual(task.sample(batch, seed), a);
      }
    }
  });

  it('keeps the bits of box-muller and changes only the noise', () => {
    const fast = tasks.delayedXor({ sampler: 'fast' });
    const old = tasks.delayedXor({ sampler: 'box-muller' });
    assert.equal(old.sampler, 'box-muller');
    assert.equal(fast.sampler, 'fast');
    assert.equal(tasks.delayedXor().sampler, 'fast', "the default is 'fast'");
    assert.deepEqual(tasks.delayedXor().sample(8, 42), fast.sample(8, 42), "the default draws what 'fast' draws");
    const a = fast.sample(8, 42);
    const b = old.sample(8, 42);
    assert.deepEqual(a.labels, b.labels);
    assert.notDeepEqual(a.x, b.x);
    assert.deepEqual(a, fast.sample(8, 42), 'same seed, same batch');
    assert.notDeepEqual(a.x, fast.sample(8, 43).x);
    // Without noise both samplers give the clean inputs, the same floats.
    assert.deepEqual(tasks.delayedXor({ sampler: 'fast', noise: 0 }).sample(4, 9), tasks.delayedXor({ sampler: 'box-muller', noise: 0 }).sample(4, 9));
    const seq = fast.sample(1, 42).x;
    assert.ok(seq.every(Number.isFinite));
  });

  it('rejects a bad sampler option and bad input to the native bindings with a ModpropError', function () {
    assert.throws(() => tasks.delayedXor({ sampler: 'ziggurat' as never }), {
      name: 'ModpropError', message: "Expected one of 'box-muller', 'fast' for options.sampler but received 'ziggurat'",
    });
    const s = native(this);
    const state = new Random(1, 0).state();
    const call = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (err) {
        return samplerError(err);
      }
      return undefined;
    };
    const bump = new Float64Array(2);
    const cases: [() => unknown, string][] = [
      [() => s.fastNormals(new Uint32Array(4), new Float64Array(1)), 'Expected a Uint32Array of 4 state words, not all 0 for state but received a Uint32Array of length 4'],
      [() => s.fastNormals(state, new Float32Array(1) as never), 'Expected a Float64Array for out but received a Float32Array of length 1'],
      [() => s.delayedXorFast(state, new Uint8Array(3), bump, new Float32Array(0), 4, 0, 0), 'Expected a non-empty Uint8Array of 2 bits per sequence for bits but received a Uint8Array of length 3'],
      [() => s.delayedXorFast(state, new Uint8Array(2), bump, new Float32Array(7), 4, 0, 0), 'Expected a Float32Array of bits.length / 2 × steps × 2 elements for x but received a Float32Array of length 7'],
      [() => s.delayedXorFast(state, new Uint8Array(2), bump, new Float32Array(8), 1, 0, 0), 'Expected an integer ≥ bump.length for steps but received 1'],
      [() => s.delayedXorFast(state, new Uint8Array(2), bump, new Float32Array(8), 4, 0, -1), 'Expected a finite number ≥ 0 for noise but received -1'],
      [() => s.delayedXorFast(state, new Uint8Array(2), bump, new Float32Array(8), 4, NaN, 0), 'Expected a finite number for baseline but received NaN'],
      [() => (s.delayedXorFast as (...a: unknown[]) => void)(state, new Uint8Array(2), bump), 'Expected a Float32Array for x but received undefined'],
      [() => s.samplerMath(1, Float64Array.of(0.5, 0)), 'Expected values in (0, 1] for values[1] but received 0'],
    ];
    for (const [fn, message] of cases) {
      const err = call(fn);
      assert.ok(err instanceof ModpropError, `${fn}: ${err}`);
      assert.equal((err as Error).message, message);
    }
  });

  it('draws a batch off the JS thread (delayedXorFastAsync) with the same numbers', async function () {
    const s = native(this);
    const task = tasks.delayedXor({ sampler: 'fast' });
    const want = task.sampleOn('reference', 4, 77);
    const rng = new Random(77, STREAMS.taskNoise);
    const bitsRng = new Random(77, STREAMS.taskBits);
    const b = Uint8Array.from({ length: 8 }, () => (bitsRng.uniform() < 0.5 ? 1 : 0));
    const x = new Float32Array(want.x.length);
    const bump = Float64Array.from({ length: 100 }, (_, i) => {
      const u = -50 + (100 * i) / 99;
      return 2 * Math.exp(-(u * u) / (2 * 25 * 25)) + 0.02; // the task's bump, as lib/tasks/delayedXor.ts makes it
    });
    await s.delayedXorFastAsync(rng.state(), b, bump, x, 900, 0.02, 0.01);
    assert.deepEqual(bits(x), bits(want.x));
  });
});
