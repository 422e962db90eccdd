/**
 * train()'s one-job iteration (lib/trainStep.ts nativeIteration: the gradient and the optimizer step in one native
 * call) against the separate path it replaces (gradientsAsync, then applyStep; MODPROP_TRAIN_ONE_JOB=0): the same
 * parameters, curve and optimizer state bit for bit, the same errors, and proof that the one-job path ran at all.
 */
import assert from 'node:assert/strict';
import { Network, tasks, train, type CurvePoint, type Task, type TrainCallOptions } from '../../lib/index';
import { loadAddon, type NativeAddon } from '../../lib/native/addon';
import { preparedGradients } from '../../lib/gradients';
import { createOptimizer } from '../../lib/optimizer';
import { nativeIteration } from '../../lib/trainStep';
import { loadNativeSampler } from '../../lib/tasks/nativeSampler';
import { describeNative } from '../native/common';

const xor = tasks.delayedXor({ cueSteps: 10, delaySteps: 20 });
const pattern = tasks.patternGeneration({ steps: 60 });
const withoutTime = (curve: CurvePoint[]): Omit<CurvePoint, 'elapsedMs'>[] => curve.map(({ elapsedMs: _e, ...rest }) => rest);

interface Outcome { params: Network['params']; curve: Omit<CurvePoint, 'elapsedMs'>[]; error?: string; calls: number }

describeNative('train(): the gradient and the step in one native job', () => {
  let addon: NativeAddon;
  let original: NativeAddon['trainStepAsync'];
  let calls = 0;
  before(() => {
    const loaded = loadAddon();
    addon = (loaded as { addon: NativeAddon }).addon;
    original = addon.trainStepAsync;
    assert.equal(typeof original, 'function', 'the addon exports trainStepAsync');
    addon.trainStepAsync = (...args) => {
      calls++;
      return original!(...args);
    };
  });
  after(() => {
    if (addon) addon.trainStepAsync = original;
    delete process.env.MODPROP_TRAIN_ONE_JOB;
  });

  async function run(oneJob: boolean, make: () => Network, task: Task, options: TrainCallOptions): Promise<Outcome> {
    if (oneJob) delete process.env.MODPROP_TRAIN_ONE_JOB;
    else process.env.MODPROP_TRAIN_ONE_JOB = '0';
    calls = 0;
    const net = make();
    let curve: CurvePoint[] = [];
    let error: string | undefined;
    try {
      curve = (await train(net, task, { backend: 'native', ...options, onProgress: () => undefined })).curve;
    } catch (err) {
      error = (err as Error).message;
    }
    const params = { win: net.params.win.slice(), wrec: net.params.wrec.slice(), wout: net.params.wout.slice(), bout: net.params.bout.slice() };
    return { params, curve: withoutTime(curve), error, calls };
  }

  const rate = (extra: object = {}) => (): Network => Network.create({ nIn: 2, nRec: 40, nOut: 2, seed: 3, tau: 20, ...extra });
  const cases: [string, () => Network, Task, TrainCallOptions][] = [
    ['bptt, Adam', rate(), xor, { rule: 'bptt', iterations: 30, batchSize: 8, evalEvery: 10, lr: 3e-3, seed: 1 }],
    ['online modprop, L2, lr decay', rate(), xor, { rule: 'modprop', mu: 0.25, online: true, iterations: 30, batchSize: 8, evalEvery: 7, lr: 5e-3, l2: 1e-4, lrDecay: 0.5, lrDecayEvery: 10, seed: 2 }],
    ['eprop, SGD, Dale', rate({ dale: true }), xor, { rule: 'eprop', optimizer: 'sgd', iterations: 25, batchSize: 8, evalEvery: 10, lr: 0.05, seed: 3 }],
    ['mdgl on pattern generation (mse), 1 thread', (): Network => Network.create({ nIn: pattern.nIn, nRec: 30, nOut: pattern.nOut, seed: 4 }), pattern,
      { rule: 'mdgl', iterations: 20, batchSize: 2, evalEvery: 10, lr: 5e-3, seed: 4, threads: 1 }],
    ['bptt on lif neurons', rate({ neuron: { model: 'lif' } }), xor, { rule: 'bptt', iterations: 15, batchSize: 8, evalEvery: 5, lr: 5e-3, seed: 5 }],
  ];
  for (const [label, make, task, options] of cases) {
    it(`${label}: bit-identical to gradientsAsync + applyStep`, async () => {
      const initial = make().params.wrec;
      const separate = await run(false, make, task, options);
      const one = await run(true, make, task, options);
      assert.equal(separate.error, undefined, separate.error);
      assert.equal(one.error, undefined, one.error);
      assert.equal(separate.calls, 0, 'MODPROP_TRAIN_ONE_JOB=0 keeps the separate path');
      assert.equal(one.calls, options.iterations, 'every iteration ran as one job');
      assert.ok(one.params.wrec.some((w, i) => w !== initial[i]), 'training moved the weights');
      for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.deepEqual(one.params[k], separate.params[k], `params.${k}`);
      assert.deepEqual(one.curve, separate.curve);
    });
  }

  describe("the next batch drawn by the iteration's job (MODPROP_TRAIN_JOB_DRAWS)", () => {
    const drawsRun = async (draws: boolean, task: Task, options: TrainCallOptions): Promise<Outcome & { withDraw: number; asyncDraws: number }> => {
      let withDraw = 0;
      let asyncDraws = 0;
      // The objects train() calls now: the kernels' addon (nativeIteration loads it per run) and the tasks' cached
      // sampler (another file may have loaded the addon again since this file's before()).
      const kernels = (loadAddon() as { addon: NativeAddon }).addon;
      const sampler = loadNativeSampler() as unknown as NativeAddon;
      const step = kernels.trainStepAsync!;
      const asyncSample = sampler.delayedXorFastAsync!;
      kernels.trainStepAsync = (...args) => {
        if (args[11] !== undefined) withDraw++;
        return step(...args);
      };
      sampler.delayedXorFastAsync = (...args) => {
        asyncDraws++;
        return asyncSample(...args);
      };
      // Other test files set MODPROP_BACKEND=reference at load, which keeps the tasks off the native sampler.
      const savedBackend = process.env.MODPROP_BACKEND;
      delete process.env.MODPROP_BACKEND;
      if (draws) delete process.env.MODPROP_TRAIN_JOB_DRAWS;
      else process.env.MODPROP_TRAIN_JOB_DRAWS = '0';
      try {
        return { ...(await run(true, rate(), task, options)), withDraw, asyncDraws };
      } finally {
        kernels.trainStepAsync = step;
        sampler.delayedXorFastAsync = asyncSample;
        delete process.env.MODPROP_TRAIN_JOB_DRAWS;
        if (savedBackend !== undefined) process.env.MODPROP_BACKEND = savedBackend;
      }
    };

    for (const [label, options] of [
      ['online modprop, 2 threads', { rule: 'modprop', mu: 0.25, online: true, iterations: 24, batchSize: 8, evalEvery: 10, lr: 5e-3, seed: 6 }],
      ['bptt, 1 thread', { rule: 'bptt', iterations: 12, batchSize: 4, evalEvery: 5, lr: 3e-3, seed: 7, threads: 1 }],
    ] as [string, TrainCallOptions][]) {
      it(`${label}: the same parameters and curve as batches drawn off the JS thread, with every later batch drawn in the job`, async () => {
        const initial = rate()().params.wrec;
        const inJob = await drawsRun(true, xor, options);
        const apart = await drawsRun(false, xor, options);
        assert.equal(inJob.error, undefined, inJob.error);
        assert.equal(apart.error, undefined, apart.error);
        const iterations = options.iterations!;
        const evaluations = Math.floor(iterations / options.evalEvery!) + (iterations % options.evalEvery! === 0 ? 0 : 1) + 1;
        assert.equal(inJob.withDraw, iterations - 1, 'each job but the last drew the next batch');
        assert.equal(apart.withDraw, 0);
        // Off the JS thread: iteration 1's batch and the evaluations' (and, without draws in the job, every batch).
        assert.equal(inJob.asyncDraws, 1 + evaluations);
        assert.equal(apart.asyncDraws, iterations + evaluations);
        assert.ok(inJob.params.wrec.some((w, i) => w !== initial[i]), 'training moved the weights');
        for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.deepEqual(inJob.params[k], apart.params[k], `params.${k}`);
        assert.deepEqual(inJob.curve, apart.curve);
      });
    }

    it('a task without a native plan (Box–Muller, or a copy with its own sample) draws as before', async () => {
      const options: TrainCallOptions = { rule: 'eprop', iterations: 6, batchSize: 4, evalEvery: 3, lr: 3e-3, seed: 8 };
      const boxMuller = await drawsRun(true, tasks.delayedXor({ cueSteps: 10, delaySteps: 20, sampler: 'box-muller' }), options);
      const copied = await drawsRun(true, { ...xor, sample: (b: number, s: number) => xor.sample(b, s) }, options);
      assert.equal(boxMuller.error, undefined, boxMuller.error);
      assert.equal(copied.error, undefined, copied.error);
      assert.equal(boxMuller.withDraw, 0);
      assert.equal(copied.withDraw, 0);
    });

    it("the binding refuses a draw into the iteration's own batch", async () => {
      const net = rate()();
      const batch = xor.sample(4, 1);
      const job = nativeIteration(preparedGradients(net, batch, { rule: 'bptt' } as never, { loss: xor.loss, backend: 'native' }, 'options'),
        createOptimizer('adam', net.params), 0)!;
      assert.equal(job.draws, true);
      const args = [new Uint32Array([1, 2, 3, 4]), new Uint8Array(8), new Float64Array(10).fill(0.5), batch.x, batch.steps, 0.02, 0.01] as const;
      await assert.rejects(job(batch, 1e-3, [...args]), /Expected the draw's x to share no memory with the batch/);
      const wrongLength = [args[0], args[1], args[2], new Float32Array(3), args[4], args[5], args[6]] as const;
      await assert.rejects(job(batch, 1e-3, [...wrongLength]), /x/);
    });
  });

  it('a masked network keeps the separate path (its Wrec gradient is masked in TypeScript) and still trains', async () => {
    const make = rate({ connectivity: 0.3 });
    const one = await run(true, make, xor, { rule: 'bptt', iterations: 10, batchSize: 8, evalEvery: 5, lr: 3e-3, seed: 1 });
    assert.equal(one.error, undefined, one.error);
    assert.equal(one.calls, 0);
    const mask = make().mask!;
    assert.ok(one.params.wrec.every((w, i) => mask[i] !== 0 || w === 0), 'weights outside the mask stay 0');
  });

  it('divergence stops both paths at the same iteration with the same error and the same kept parameters', async () => {
    const options: TrainCallOptions = { rule: 'bptt', optimizer: 'sgd', lr: 1e38, iterations: 20, batchSize: 8, evalEvery: 1, seed: 1 };
    const separate = await run(false, rate(), xor, options);
    const one = await run(true, rate(), xor, options);
    assert.match(one.error ?? '', /^Expected (a )?finite (parameters|loss|gradients).*the network keeps the parameters of iteration \d+/);
    assert.equal(one.error, separate.error);
    assert.ok(one.calls >= 1);
    for (const k of ['win', 'wrec', 'wout', 'bout'] as const) {
      assert.ok(one.params[k].every(Number.isFinite), `${k} stays finite`);
      assert.deepEqual(one.params[k], separate.params[k], `params.${k}`);
    }
  });

  it('an unstable ModProp filter found mid-run gives the same error on both paths', async () => {
    const options: TrainCallOptions = { rule: 'modprop', mu: 0.25, iterations: 20, batchSize: 8, evalEvery: 5, lr: 3e-3, seed: 1 };
    const drift = (net: Network): void => {
      for (let i = 0; i < net.nRec; i++) for (let j = 0; j < net.nRec; j++) if (i !== j && net.types[i] === 1) net.params.wrec[i * net.nRec + j] += 2;
    };
    const outcome = async (oneJob: boolean): Promise<string | undefined> => {
      if (oneJob) delete process.env.MODPROP_TRAIN_ONE_JOB;
      else process.env.MODPROP_TRAIN_ONE_JOB = '0';
      const net = rate()();
      try {
        await train(net, xor, { backend: 'native', ...options, onProgress: (p) => { if (p.iteration === 10) drift(net); } });
      } catch (err) {
        return (err as Error).message;
      }
      return undefined;
    };
    const separate = await outcome(false);
    const one = await outcome(true);
    assert.match(one ?? '', /stable ModProp filter.*\(at iteration 11; the network keeps the parameters of iteration 10\)/);
    assert.equal(one, separate);
  });
});
