/** Loss falls on every task at small sizes with every rule (issue "Training"): pattern generation and seq-MNIST. */
import assert from 'node:assert/strict';
import { Network, tasks, train, type RuleConfig } from '../../lib/index';

const RULES: RuleConfig[] = [{ rule: 'bptt' }, { rule: 'eprop', online: true }, { rule: 'mdgl' }, { rule: 'modprop', mu: 0.25, online: true }];

describe('training on pattern-generation and seq-mnist', () => {
  for (const r of RULES) {
    it(`pattern-generation: normalised MSE falls with ${JSON.stringify(r)}`, async () => {
      const task = tasks.patternGeneration({ steps: 200, seed: 1 });
      const net = Network.create({ nIn: task.nIn, nRec: 40, nOut: task.nOut, seed: 1, tau: 20 });
      const run = await train(net, task, { ...r, iterations: 60, batchSize: 1, evalEvery: 20, lr: 1e-2, l2: 0, seed: 1 });
      const first = run.curve[0].nmse!;
      const last = run.final.nmse!;
      assert.ok(Number.isFinite(first) && last < 0.8 * first, `nmse ${first} → ${last}`);
    });

    it(`seq-mnist: the held-out loss falls with ${JSON.stringify(r)}`, async () => {
      const task = tasks.seqMnist({ seed: 1, trainSize: 2000, testSize: 300 });
      const net = Network.create({ nIn: task.nIn, nRec: 40, nOut: task.nOut, seed: 1, tau: 5 });
      const run = await train(net, task, { ...r, iterations: 60, batchSize: 32, evalEvery: 20, lr: 5e-3, seed: 1 });
      const first = run.curve[0].testLoss!;
      const last = run.final.testLoss!;
      assert.ok(last < 0.9 * first, `held-out loss ${first} → ${last}`);
      assert.ok(run.final.testAccuracy! > 0.15, `held-out accuracy ${run.final.testAccuracy}`);
    });
  }
});
