/**
 * train() leaves the event loop free: the gradients, the 'fast' batches, evaluation and (for large networks) the
 * optimizer step run off the JS thread, so a callback queued with setImmediate runs between every two iterations.
 * A count of loop turns, never a timing: it holds on any machine, however loaded.
 */
import assert from 'node:assert/strict';
import { Network, tasks, train } from '../../lib/index';

async function ticksPerIteration(sampler: 'fast' | 'box-muller', backend: 'native' | 'reference', nRec: number): Promise<number[]> {
  const task = tasks.delayedXor({ cueSteps: 20, delaySteps: 60, sampler });
  const net = Network.create({ nIn: 2, nRec, nOut: 2, seed: 1 });
  let ticks = 0;
  let running = true;
  const tick = (): void => {
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const seen: number[] = [];
  try {
    await train(net, task, {
      rule: 'modprop', mu: 0.25, online: true, iterations: 12, batchSize: 8, evalEvery: 3, seed: 1, backend,
      onProgress: () => seen.push(ticks),
    });
  } finally {
    running = false;
  }
  return seen.slice(1).map((t, i) => t - seen[i]);
}

describe('train() and the event loop', () => {
  it('lets the loop turn between evaluations (native, fast sampler, optimizer on a worker at N = 260)', async function () {
    this.timeout(60000);
    for (const gaps of [await ticksPerIteration('fast', 'native', 24), await ticksPerIteration('fast', 'native', 260)]) {
      assert.equal(gaps.length, 4);
      // Three iterations per gap, each awaiting at least its gradient: the loop turned at least once per iteration.
      for (const g of gaps) assert.ok(g >= 3, `loop turns between evaluations: ${gaps.join(', ')}`);
    }
  });

  it('lets the loop turn with the reference engine and Box–Muller batches too', async function () {
    this.timeout(60000);
    const gaps = await ticksPerIteration('box-muller', 'reference', 16);
    for (const g of gaps) assert.ok(g >= 3, `loop turns between evaluations: ${gaps.join(', ')}`);
  });
});
