/** train(): learning, determinism, abort, checkpoints (round trip, resume, corruption) and failure handling. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, getThreads, loadCheckpoint, tasks, train, type CurvePoint, type RuleConfig, type TrainCallOptions } from '../../lib/index';

const task = tasks.delayedXor({ cueSteps: 10, delaySteps: 20 });
const small = (seed = 1): Network => Network.create({ nIn: 2, nRec: 30, nOut: 2, seed, tau: 20 });
const BASE: TrainCallOptions = { rule: 'modprop', iterations: 60, batchSize: 16, evalEvery: 10, lr: 3e-3, seed: 1 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-train-'));
const withoutTime = (curve: CurvePoint[]): Omit<CurvePoint, 'elapsedMs'>[] => curve.map(({ elapsedMs: _e, ...rest }) => rest);

describe('train()', () => {
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const rules: RuleConfig[] = [
    { rule: 'bptt' }, { rule: 'tbptt', window: 10 }, { rule: 'eprop' }, { rule: 'eprop', online: true },
    { rule: 'mdgl' }, { rule: 'modprop', mu: 0.25 }, { rule: 'modprop', mu: 0.25, online: true },
  ];
  for (const r of rules) {
    it(`lowers the training loss with ${JSON.stringify(r)}`, async () => {
      const net = small(3);
      const before = net.params.wrec.slice();
      const run = await train(net, task, { ...BASE, ...r, iterations: 80, lr: 5e-3 });
      assert.equal(run.curve[0].iteration, 0);
      assert.equal(run.final.iteration, 80);
      const firstTrain = run.curve[1].trainLoss!;
      const lastTrain = run.final.trainLoss!;
      assert.ok(lastTrain < firstTrain * 0.9, `training loss ${firstTrain} → ${lastTrain}`);
      assert.ok(net.params.wrec.some((w, i) => w !== before[i]), 'the weights moved');
    });
  }

  it('samples each training batch once, in order, and a failing sample stops training before its iteration', async () => {
    const seeds: number[] = [];
    const steps: number[] = [];
    const failing = {
      ...task,
      sample(batchSize: number, seed: number) {
        if (batchSize === BASE.batchSize) {
          seeds.push(seed);
          if (seeds.length === 5) throw new Error('task broke at its fifth training batch');
        }
        return task.sample(batchSize, seed);
      },
    };
    const net = small(5);
    let kept: Float32Array | undefined;
    await assert.rejects(
      train(net, failing, { ...BASE, evalEvery: 1, evalBatchSize: 8, onProgress: (p) => { steps.push(p.iteration); kept = net.params.wrec.slice(); } }),
      /^Error: task broke at its fifth training batch$/,
    );
    assert.deepEqual(steps, [0, 1, 2, 3, 4], 'iterations 1–4 finished, 5 never started');
    assert.equal(new Set(seeds).size, 5, 'no batch sampled twice');
    assert.deepEqual(net.params.wrec, kept, 'the network keeps the parameters of iteration 4');
    // The same seeds as a run that never fails: prefetching draws nothing extra and nothing out of order.
    const plain: number[] = [];
    await train(small(5), { ...task, sample: (b: number, seed: number) => { if (b === BASE.batchSize) plain.push(seed); return task.sample(b, seed); } },
      { ...BASE, iterations: 4, evalEvery: 1, evalBatchSize: 8 });
    assert.deepEqual(seeds.slice(0, 4), plain);
  });

  it('keeps Dale signs and the zero diagonal after every step', async () => {
    const net = small(4);
    await train(net, task, { ...BASE, iterations: 30, lr: 5e-2 });
    const n = net.nRec;
    for (let p = 0; p < n; p++) {
      assert.equal(net.params.wrec[p * n + p], 0);
      const s = net.config.typeSigns![net.types[p]];
      for (let j = 0; j < n; j++) assert.ok(net.params.wrec[p * n + j] * s >= 0);
      for (let k = 0; k < net.nOut; k++) assert.ok(net.params.wout[p * net.nOut + k] * s >= 0);
    }
  });

  it('same seed and thread count → the identical curve; another seed → another curve', async () => {
    const a = await train(small(), task, BASE);
    const b = await train(small(), task, BASE);
    const c = await train(small(), task, { ...BASE, seed: 2 });
    assert.deepEqual(withoutTime(a.curve), withoutTime(b.curve));
    assert.notDeepEqual(withoutTime(a.curve), withoutTime(c.curve));
    assert.ok(getThreads() >= 1);
  });

  it('reports progress at every evaluation, the last one final', async () => {
    const seen: number[] = [];
    let finals = 0;
    await train(small(), task, { ...BASE, iterations: 25, onProgress: (p) => { seen.push(p.iteration); if (p.final) finals++; } });
    assert.deepEqual(seen, [0, 10, 20, 25]);
    assert.equal(finals, 1);
  });

  it('an AbortSignal stops it with an AbortError that carries the curve so far', async () => {
    const controller = new AbortController();
    const run = train(small(), task, { ...BASE, onProgress: (p) => { if (p.iteration === 20) controller.abort(); }, signal: controller.signal });
    await assert.rejects(run, (err: Error & { result?: { curve: CurvePoint[] } }) => {
      assert.equal(err.name, 'AbortError');
      assert.deepEqual(err.result!.curve.map((p) => p.iteration), [0, 10, 20]);
      return true;
    });
  });

  it('checkpoints round-trip, and a resumed run continues the same curve', async () => {
    const file = path.join(tmp, 'resume.json');
    const straight = await train(small(), task, BASE);
    const controller = new AbortController();
    await assert.rejects(train(small(), task, {
      ...BASE, checkpoint: file, checkpointEvery: 10, signal: controller.signal,
      onProgress: (p) => { if (p.iteration === 30) controller.abort(); },
    }), { name: 'AbortError' });
    const cp = loadCheckpoint(file);
    assert.equal(cp.position.iteration, 30);
    assert.equal(cp.optimizer.step, 30);
    const fresh = small(99); // different weights: resuming must replace them
    const resumed = await train(fresh, task, { ...BASE, resume: file });
    assert.deepEqual(withoutTime(resumed.curve), withoutTime(straight.curve));
    const ends = Network.fromParams({ nIn: 2, nRec: 30, nOut: 2, seed: 1, tau: 20 }, fresh.params);
    assert.ok(ends.params.wrec.length > 0);
  });

  it('refuses corrupted, truncated, foreign, mismatched and missing checkpoints with clear errors', async () => {
    const file = path.join(tmp, 'good.json');
    await train(small(), task, { ...BASE, iterations: 10, checkpoint: file });
    const text = fs.readFileSync(file, 'utf8');
    const write = (name: string, content: string): string => { const p = path.join(tmp, name); fs.writeFileSync(p, content); return p; };
    const flipped = text.slice(0, text.length - 20) + (text[text.length - 20] === 'A' ? 'B' : 'A') + text.slice(text.length - 19);
    const cases: [string, RegExp][] = [
      [write('flipped.json', flipped), /the checksum does not match/],
      [write('truncated.json', text.slice(0, Math.floor(text.length / 2))), /truncated/],
      [write('noheader.json', '{"hello": 1}'), /header line is missing/],
      [write('foreign.json', '{"format":"other"}\n{}'), /the format is "other"/],
      [write('future.json', text.replace('"version":1', '"version":99')), /the version is 99/],
      [path.join(tmp, 'missing.json'), /Expected a readable checkpoint file for .*missing\.json but received ENOENT/],
    ];
    for (const [p, message] of cases) {
      assert.throws(() => loadCheckpoint(p), (err: Error) => err.name === 'ModpropError' && message.test(err.message), p);
      await assert.rejects(train(small(), task, { ...BASE, resume: p }), { name: 'ModpropError' });
    }
    const bigger = Network.create({ nIn: 2, nRec: 31, nOut: 2, seed: 1 });
    await assert.rejects(train(bigger, task, { ...BASE, resume: file }), /Expected a checkpoint of a network with nRec = 31 for options.resume but received nRec = 30/);
  });

  it('a diverging run stops with a clear error, keeps its last good parameters and leaves the checkpoint intact', async () => {
    const file = path.join(tmp, 'diverge.json');
    const net = small(5);
    await train(net, task, { ...BASE, rule: 'bptt', iterations: 10, checkpoint: file });
    const saved = fs.readFileSync(file, 'utf8');
    let lastGood: Float32Array | undefined;
    await assert.rejects(
      train(net, task, { ...BASE, rule: 'bptt', optimizer: 'sgd', lr: 1e38, evalEvery: 1, checkpoint: file, checkpointEvery: 1000, onProgress: () => { lastGood = net.params.wrec.slice(); } }),
      (err: Error) => err.name === 'ModpropError' && /^Expected (a )?finite (parameters|loss|gradients)/.test(err.message) && /the network keeps the parameters of iteration/.test(err.message),
    );
    for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(net.params[k].every(Number.isFinite), `${k} stays finite`);
    if (lastGood) assert.deepEqual(net.params.wrec, lastGood);
    assert.equal(fs.readFileSync(file, 'utf8'), saved, 'the checkpoint is untouched');
    loadCheckpoint(file);
  });

  it('an unstable ModProp filter stops training, at the start and when the weights drift there', async () => {
    await assert.rejects(train(small(), task, { ...BASE, mu: 5000 }), /^ModpropError: Expected a stable ModProp filter \(spectral radius of Φ < 1\) for options\.mu but received mu = 5000, which gives spectral radius [0-9.]+; lower mu$/);
    const net = small(6);
    let drifted: Float32Array | undefined;
    await assert.rejects(train(net, task, {
      ...BASE, mu: 0.25, evalEvery: 5,
      onProgress: (p) => {
        if (p.iteration !== 10) return;
        // Push the excitatory block hard (what a drift towards runaway excitation looks like to the filter).
        const n = net.nRec;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && net.types[i] === 1) net.params.wrec[i * n + j] += 2;
        drifted = net.params.wrec.slice();
      },
    }), /spectral radius .*lower mu \(at iteration 11; the network keeps the parameters of iteration 10\)/);
    assert.deepEqual(net.params.wrec, drifted);
  });

  it('validates its options', async () => {
    await assert.rejects(train(small(), task, { ...BASE, lr: -1 }), { message: 'Expected a positive finite number for options.lr but received -1' });
    await assert.rejects(train(small(), task, { ...BASE, iterations: 1.5 }), { message: 'Expected an integer between 0 and 100000000 for options.iterations but received 1.5' });
    await assert.rejects(train(small(), task, { ...BASE, rule: 'bptt', mu: 0.2 } as TrainCallOptions), /for options\.mu/);
    await assert.rejects(train(small(), { ...task, nIn: 3 }, BASE), { message: "Expected a task with nIn = 2 (the network's) for task.nIn but received 3" });
    await assert.rejects(train(small(), task, { ...BASE, optimiser: 'adam' } as unknown as TrainCallOptions), /unknown option 'optimiser'/);
  });
});
