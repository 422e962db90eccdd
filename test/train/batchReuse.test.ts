/**
 * train() draws each training batch of the built-in delayed XOR into the x array of the batch two iterations back
 * (lib/train.ts trainingBatches: a fresh 230 KB array cost ≈ 0.4 ms of the JS thread per iteration at paper size),
 * whether the previous iteration's job draws it (the default) or a separate job off the JS thread does.
 * The reuse must change no number: the same parameters and curve, bit for bit, as a copy of the task without the
 * off-thread twin (fresh arrays drawn on the JS thread), for an online and an offline rule; and it must happen.
 */
import assert from 'node:assert/strict';
import { Network, tasks, train, type CurvePoint, type Task, type TrainCallOptions } from '../../lib/index';
import { loadAddon, type NativeAddon } from '../../lib/native/addon';
import { loadNativeSampler } from '../../lib/tasks/nativeSampler';
import { describeNative } from '../native/common';

const withoutTime = (curve: CurvePoint[]): Omit<CurvePoint, 'elapsedMs'>[] => curve.map(({ elapsedMs: _e, ...rest }) => rest);

describeNative('train(): training batches drawn into spent arrays', () => {
  let addon: NativeAddon;
  let original: NativeAddon['delayedXorFastAsync'];
  const seen = new Set<Float32Array>();
  let calls = 0;
  let savedBackend: string | undefined;
  before(() => {
    // Other test files set MODPROP_BACKEND=reference at load; the native sampler is what this file is about.
    savedBackend = process.env.MODPROP_BACKEND;
    delete process.env.MODPROP_BACKEND;
    // The object the tasks call (nativeSampler's cache): another file may have loaded the addon again since.
    addon = loadNativeSampler() as unknown as NativeAddon;
    assert.ok(addon, 'the native sampler loads');
    original = addon.delayedXorFastAsync;
    assert.equal(typeof original, 'function', 'the addon exports delayedXorFastAsync');
    addon.delayedXorFastAsync = (state, bits, bump, x, ...rest) => {
      calls++;
      seen.add(x);
      return original!(state, bits, bump, x, ...rest);
    };
    // Batches drawn by the iteration's own job (lib/train.ts, trainStepAsync's 12th argument) count as draws too.
    const loaded = loadAddon() as { addon: NativeAddon };
    kernels = loaded.addon;
    step = kernels.trainStepAsync;
    kernels.trainStepAsync = (...args) => {
      if (args[11] !== undefined) {
        calls++;
        jobDraws++;
        seen.add(args[11][3]);
      }
      return step!(...args);
    };
  });
  after(() => {
    if (addon) addon.delayedXorFastAsync = original;
    if (kernels) kernels.trainStepAsync = step;
    delete process.env.MODPROP_TRAIN_JOB_DRAWS;
    if (savedBackend !== undefined) process.env.MODPROP_BACKEND = savedBackend;
  });
  let kernels: NativeAddon;
  let step: NativeAddon['trainStepAsync'];
  let jobDraws = 0;

  const task = tasks.delayedXor({ cueSteps: 10, delaySteps: 30 });
  // The same task without the off-thread twin: train draws every batch with task.sample, fresh, on the JS thread.
  const plain: Task = { ...task, sample: (batchSize: number, seed: number) => task.sample(batchSize, seed) };
  const make = (): Network => Network.create({ nIn: 2, nRec: 40, nOut: 2, seed: 3 });

  for (const [rule, inJob] of [[{ rule: 'eprop', online: true }, true], [{ rule: 'bptt' }, true], [{ rule: 'bptt' }, false]] as const) {
    it(`${rule.rule}${'online' in rule ? ' online' : ''}, drawn ${inJob ? 'by the iteration jobs' : 'off the JS thread (MODPROP_TRAIN_JOB_DRAWS=0)'}: the same parameters and curve as fresh arrays, and the arrays reused`, async () => {
      const options: TrainCallOptions = { ...rule, iterations: 30, evalEvery: 10, batchSize: 8, seed: 5, backend: 'native', lr: 2e-3 };
      if (inJob) delete process.env.MODPROP_TRAIN_JOB_DRAWS;
      else process.env.MODPROP_TRAIN_JOB_DRAWS = '0';
      const a = make();
      seen.clear();
      calls = 0;
      jobDraws = 0;
      const ra = await train(a, task, options);
      const reused = { calls, arrays: seen.size };
      assert.equal(jobDraws, inJob ? 29 : 0, 'batches 2 to 30 drawn by the jobs before them, or none');
      const b = make();
      calls = 0;
      const rb = await train(b, plain, options);
      assert.equal(calls, 0, 'the plain task draws on the JS thread');
      for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.deepEqual(a.params[k], b.params[k], k);
      assert.deepEqual(withoutTime(ra.curve), withoutTime(rb.curve));
      assert.ok(a.params.wrec.some((v, i) => v !== make().params.wrec[i]), 'training moved the weights');
      // 30 training batches and 4 evaluation batches (iterations 0, 10, 20, 30): the training ones share 3 arrays
      // (the first two, then each reused), the evaluations draw fresh ones.
      assert.equal(reused.calls, 34);
      assert.ok(reused.arrays <= 3 + 4, `${reused.arrays} distinct arrays for ${reused.calls} draws`);
    });
  }
});
