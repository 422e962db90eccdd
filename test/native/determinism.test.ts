/**
 * Thread-count determinism of the native engine: the same inputs and the same thread count give bit-identical
 * results (the batch is split into chunks reduced in chunk order); different thread counts agree to rounding;
 * setThreads validates its argument and getThreads reflects it (clamped to the CPUs the process may use). The thread count is restored afterwards.
 */
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { ModpropError, getThreads, gradients, gradientsAsync, setThreads, type RuleConfig } from '../../lib/index';
import { MATRICES, assertBitIdentical, describeNative, label, mediumCase, relNormError } from './common';

const RULES: RuleConfig[] = [
  { rule: 'bptt' },
  { rule: 'tbptt', window: 9 },
  { rule: 'eprop' },
  { rule: 'eprop', online: true },
  { rule: 'mdgl' },
  { rule: 'mdgl', feedback: 'cell' },
  { rule: 'modprop' },
  { rule: 'modprop', feedback: 'cell' },
  { rule: 'modprop', online: true },
  { rule: 'modprop', online: true, learningSignal: 'random' },
];

describeNative('native determinism and thread count', () => {
  let original: number;
  before(() => {
    original = getThreads();
  });
  after(() => {
    setThreads(original);
    assert.equal(getThreads(), original);
  });

  it('the thread count is a positive integer', () => {
    assert.ok(Number.isInteger(original) && original >= 1, `getThreads() = ${original}`);
  });

  for (const threads of [1, 2, 3]) {
    it(`${threads} thread(s): two runs of every rule are bit-identical (sync, and async equals sync)`, async () => {
      setThreads(threads);
      assert.equal(getThreads(), Math.min(threads, os.availableParallelism()));
      const { net, batch } = mediumCase(31, 7);
      for (const r of RULES) {
        const a = gradients(net, batch, r, { backend: 'native' });
        const b = gradients(net, batch, r, { backend: 'native' });
        assertBitIdentical(a, b, `${label(r)}, ${threads} thread(s), run 1 vs 2`);
        const c = await gradientsAsync(net, batch, r, { backend: 'native' });
        assertBitIdentical(c, a, `${label(r)}, ${threads} thread(s), async vs sync`);
      }
    });
  }

  it('interleaving thread counts does not change what a given thread count gives', () => {
    const { net, batch } = mediumCase(32, 8);
    const r: RuleConfig = { rule: 'bptt' };
    setThreads(1);
    const one = gradients(net, batch, r, { backend: 'native' });
    setThreads(2);
    const two = gradients(net, batch, r, { backend: 'native' });
    setThreads(1);
    assertBitIdentical(gradients(net, batch, r, { backend: 'native' }), one, '1 thread, after running with 2');
    setThreads(2);
    assertBitIdentical(gradients(net, batch, r, { backend: 'native' }), two, '2 threads, after running with 1');
  });

  it('1 vs 2 (and 4) threads agree within 1e-5 relative norm for every rule', () => {
    const { net, batch } = mediumCase(33, 9);
    for (const r of RULES) {
      setThreads(1);
      const one = gradients(net, batch, r, { backend: 'native' });
      for (const threads of [2, 4]) {
        setThreads(threads);
        const many = gradients(net, batch, r, { backend: 'native' });
        assert.ok(Math.abs(many.loss - one.loss) <= 1e-6 * Math.abs(one.loss), `${label(r)} loss, 1 vs ${threads} threads`);
        for (const k of MATRICES) {
          const err = relNormError(many.grads[k], one.grads[k]);
          assert.ok(err <= 1e-5, `${label(r)} ${k}: 1 vs ${threads} threads relative error ${err}`);
        }
      }
    }
  });

  it('more threads than sequences (B = 1, 2) works and is deterministic', () => {
    for (const batchSize of [1, 2]) {
      const { net, batch } = mediumCase(34, batchSize);
      setThreads(1);
      const one = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
      setThreads(4);
      const a = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
      const b = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
      assertBitIdentical(a, b, `B=${batchSize}, 4 threads`);
      for (const k of MATRICES) assert.ok(relNormError(a.grads[k], one.grads[k]) <= 1e-5, `B=${batchSize} ${k}`);
    }
  });

  it('forward() is bit-identical across runs and thread counts', () => {
    const { net, batch } = mediumCase(35, 6);
    setThreads(1);
    const one = net.forward(batch, { backend: 'native' });
    setThreads(2);
    const two = net.forward(batch, { backend: 'native' });
    const again = net.forward(batch, { backend: 'native' });
    for (const k of ['v', 'z', 'y'] as const) {
      assert.deepEqual(two[k], again[k], `${k}: 2 threads, two runs`);
      assert.ok(relNormError(two[k], one[k]) <= 1e-6, `${k}: 1 vs 2 threads`);
    }
  });

  describe('setThreads validation', () => {
    const bad: unknown[] = [0, -1, 2.5, 1025, 1e6, NaN, Infinity, -Infinity, '2', null, undefined, true, {}, [2], 2n];
    for (const value of bad) {
      const shown = typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? `'${value}'`
        : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
      it(`setThreads(${shown}) throws a ModpropError naming threads, and leaves the count unchanged`, () => {
        setThreads(2);
        assert.throws(() => setThreads(value as number), (err: unknown) => {
          assert.ok(err instanceof ModpropError, `expected a ModpropError, got ${String(err)}`);
          assert.equal((err as Error).name, 'ModpropError');
          assert.match((err as Error).message, /threads/);
          assert.match((err as Error).message, /^Expected/);
          return true;
        });
        assert.equal(getThreads(), 2);
      });
    }

    it('a count above the available CPUs is clamped to them, and still runs correctly', () => {
      const { net, batch } = mediumCase(36, 4, 20, 16);
      setThreads(2);
      const two = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
      setThreads(1000);
      assert.equal(getThreads(), os.availableParallelism());
      const many = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
      for (const k of MATRICES) assert.ok(relNormError(many.grads[k], two.grads[k]) <= 1e-5, k);
      setThreads(2);
    });

    it('getThreads reflects every accepted setThreads', () => {
      for (const n of [1, 3, 2, 1024, 7, 1]) {
        setThreads(n);
        assert.equal(getThreads(), Math.min(n, os.availableParallelism()));
      }
    });
  });
});
