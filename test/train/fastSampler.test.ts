/**
 * train() with the 'fast' task sampler: the run records it, is deterministic, resumes onto the uninterrupted curve,
 * refuses a checkpoint made with the other sampler, and learns (the curve moves); the same with the native and the
 * TypeScript side of the sampler (MODPROP_BACKEND=reference switches the batches to TypeScript: the curve must not move).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, tasks, train, type CurvePoint, type TrainCallOptions } from '../../lib/index';
import { sampleOffThread } from '../../lib/tasks/nativeSampler';
import { loadCheckpoint, saveCheckpoint } from '../../lib/checkpoint';

const fast = tasks.delayedXor({ cueSteps: 10, delaySteps: 20, sampler: 'fast' });
const small = (seed = 1): Network => Network.create({ nIn: 2, nRec: 30, nOut: 2, seed, tau: 20 });
const BASE: TrainCallOptions = { rule: 'modprop', iterations: 40, batchSize: 16, evalEvery: 10, lr: 3e-3, seed: 1 };
const withoutTime = (curve: CurvePoint[]): Omit<CurvePoint, 'elapsedMs'>[] => curve.map(({ elapsedMs: _e, ...rest }) => rest);

describe('train() with the fast sampler', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-fastsampler-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('records the sampler, repeats itself on either engine, and differs from box-muller only through the noise', async () => {
    const a = await train(small(), fast, { ...BASE, backend: 'native' });
    const b = await train(small(), fast, { ...BASE, backend: 'native' });
    const r1 = await train(small(), fast, { ...BASE, backend: 'reference', iterations: 10 });
    const r2 = await train(small(), fast, { ...BASE, backend: 'reference', iterations: 10 });
    assert.deepEqual(withoutTime(r1.curve), withoutTime(r2.curve));
    assert.equal(a.config.sampler, 'fast');
    assert.deepEqual(withoutTime(a.curve), withoutTime(b.curve));
    const old = await train(small(), tasks.delayedXor({ cueSteps: 10, delaySteps: 20, sampler: 'box-muller' }), { ...BASE, backend: 'native' });
    assert.equal(old.config.sampler, 'box-muller');
    assert.notDeepEqual(withoutTime(a.curve), withoutTime(old.curve));
    assert.notEqual(a.curve[0].loss, a.final!.loss, 'the network learned something');
  });

  it('gives the same curve whether the batches are drawn natively or in TypeScript', async () => {
    const saved = process.env.MODPROP_BACKEND;
    const runs = [];
    try {
      for (const engine of ['', 'reference']) {
        process.env.MODPROP_BACKEND = engine;
        runs.push(await train(small(), fast, { ...BASE, backend: 'reference', iterations: 20 }));
      }
    } finally {
      if (saved === undefined) delete process.env.MODPROP_BACKEND;
      else process.env.MODPROP_BACKEND = saved;
    }
    assert.deepEqual(withoutTime(runs[0].curve), withoutTime(runs[1].curve));
  });

  it('resumes onto the uninterrupted curve (native engine and optimizer), and refuses a checkpoint of the other sampler', async () => {
    const file = path.join(tmp, 'fast.json');
    const native: TrainCallOptions = { ...BASE, backend: 'native' };
    const straight = await train(small(), fast, native);
    const controller = new AbortController();
    await assert.rejects(train(small(), fast, {
      ...native, checkpoint: file, checkpointEvery: 10, signal: controller.signal,
      onProgress: (p) => { if (p.iteration === 20) controller.abort(); },
    }), { name: 'AbortError' });
    const resumed = await train(small(7), fast, { ...native, resume: file });
    assert.deepEqual(withoutTime(resumed.curve), withoutTime(straight.curve));
    await assert.rejects(train(small(), tasks.delayedXor({ cueSteps: 10, delaySteps: 20, sampler: 'box-muller' }), { ...BASE, resume: file }), {
      name: 'ModpropError',
      message: `Expected a checkpoint of task 'delayed-xor' with sampler 'box-muller' for options.resume but received sampler 'fast' in ${file}`,
    });
  });

  it('reads a checkpoint that predates the recorded sampler as box-muller (then the only sampler)', async () => {
    const file = path.join(tmp, 'old.json');
    const boxMuller = tasks.delayedXor({ cueSteps: 10, delaySteps: 20, sampler: 'box-muller' });
    await train(small(), boxMuller, { ...BASE, iterations: 10, checkpoint: file, checkpointEvery: 10 });
    const cp = loadCheckpoint(file);
    assert.equal(cp.position.options.sampler, 'box-muller');
    delete cp.position.options.sampler;
    saveCheckpoint(file, cp);
    await assert.rejects(train(small(), tasks.delayedXor({ cueSteps: 10, delaySteps: 20 }), { ...BASE, iterations: 20, resume: file }), {
      name: 'ModpropError',
      message: `Expected a checkpoint of task 'delayed-xor' with sampler 'fast' for options.resume but received sampler 'box-muller' in ${file}`,
    });
    const resumed = await train(small(), boxMuller, { ...BASE, iterations: 20, resume: file });
    const straight = await train(small(), boxMuller, { ...BASE, iterations: 20 });
    assert.deepEqual(withoutTime(resumed.curve), withoutTime(straight.curve));
  });

  it('calls a replaced sample function rather than the native twin of the original', async () => {
    const seeds: number[] = [];
    const wrapped = { ...fast, sample: (b: number, seed: number) => { seeds.push(seed); return fast.sample(b, seed); } };
    const a = await train(small(), wrapped, { ...BASE, iterations: 5 });
    const b = await train(small(), fast, { ...BASE, iterations: 5 });
    assert.equal(seeds.length, 5 + 2, 'five training batches and two evaluation batches');
    assert.deepEqual(withoutTime(a.curve), withoutTime(b.curve));
  });

  it('draws the same batches off the JS thread (native fast, worker-thread Box–Muller and TypeScript fast)', async () => {
    const saved = process.env.MODPROP_BACKEND;
    try {
      for (const engine of ['', 'reference']) {
        process.env.MODPROP_BACKEND = engine;
        for (const o of [{}, { sampler: 'box-muller' as const }, { sampler: 'fast' as const }, { noise: 0, cueSteps: 3, delaySteps: 1 }, { noise: 5, sampler: 'fast' as const }]) {
          const t = tasks.delayedXor(o);
          for (const seed of [0, 5, 2 ** 40]) {
            const off = await sampleOffThread(t.sample, 6, seed);
            assert.ok(off, 'a built-in delayed-XOR task has an off-thread twin');
            assert.deepEqual(off, t.sample(6, seed), `${JSON.stringify(o)} seed ${seed} (MODPROP_BACKEND='${engine}')`);
          }
        }
      }
    } finally {
      if (saved === undefined) delete process.env.MODPROP_BACKEND;
      else process.env.MODPROP_BACKEND = saved;
    }
    assert.equal(sampleOffThread((b: number, s: number) => fast.sample(b, s), 2, 1), undefined, 'no twin for another function');
  });
});
