/**
 * gradientsAsync on the native engine: off the main thread (the event loop keeps ticking), bit-identical to the sync
 * call at the same thread count, safe under concurrency on one network, abortable, and every error a rejected
 * ModpropError. A call in flight must not depend on what the caller does to its arguments afterwards (the reference
 * engine snapshots them); the memory-safety case runs in a child process so that a crash fails one test, not mocha.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  ModpropError, Network, getThreads, gradients, gradientsAsync, setThreads, tasks, type Batch, type GradientResult, type RuleConfig,
} from '../../lib/index';
import { assertBitIdentical, describeNative, label, makeBatch, mediumCase } from './common';

function isModpropError(err: unknown, pattern?: RegExp): boolean {
  assert.ok(err instanceof ModpropError, `expected a ModpropError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  assert.equal((err as Error).name, 'ModpropError');
  if (pattern) assert.match((err as Error).message, pattern);
  return true;
}

/** Calls gradientsAsync, asserting it returns a promise rather than throwing synchronously. */
function callAsync(...args: Parameters<typeof gradientsAsync>): Promise<GradientResult> {
  let p: Promise<GradientResult> | undefined;
  assert.doesNotThrow(() => {
    p = gradientsAsync(...args);
  }, 'gradientsAsync threw synchronously instead of rejecting');
  assert.ok(p instanceof Promise);
  return p!;
}

describeNative('native gradientsAsync', () => {
  let original: number;
  let net: Network;
  let batch: Batch;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  before(() => {
    process.on('unhandledRejection', onUnhandled);
    original = getThreads();
    const task = tasks.delayedXor();
    net = Network.create({ nIn: task.nIn, nRec: 120, nOut: task.nOut, seed: 4 });
    batch = task.sample(32, 4);
  });
  after(async () => {
    setThreads(original);
    await new Promise((r) => setTimeout(r, 50));
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled.map(String), [], 'unhandled rejections during the native async tests');
  });

  it('paper size (B=32, T=900, N=120, bptt): the event loop keeps ticking while it runs', async () => {
    const calls = 8;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = Date.now();
    try {
      for (let i = 0; i < calls; i++) await callAsync(net, batch, { rule: 'bptt' }, { backend: 'native' });
    } finally {
      clearInterval(timer);
    }
    const elapsed = Date.now() - started;
    // A call that blocked the main thread would allow about one tick per call.
    assert.ok(ticks >= 3 * calls && ticks >= elapsed / 10, `only ${ticks} timer ticks during ${calls} calls taking ${elapsed} ms`);
  });

  for (const threads of [1, 2]) {
    it(`paper size, ${threads} thread(s): the result equals sync gradients() bit for bit`, async () => {
      setThreads(threads);
      for (const r of [{ rule: 'bptt' }, { rule: 'modprop', online: true }] as RuleConfig[]) {
        const sync = gradients(net, batch, r, { backend: 'native' });
        const result = await callAsync(net, batch, r, { backend: 'native' });
        assertBitIdentical(result, sync, `${label(r)}, ${threads} thread(s)`);
      }
      setThreads(original);
    });
  }

  it('four concurrent calls on ONE network with different rules all equal their sync results', async () => {
    const rules: RuleConfig[] = [{ rule: 'bptt' }, { rule: 'modprop', online: true }, { rule: 'eprop', online: true }, { rule: 'mdgl' }];
    const sync = rules.map((r) => gradients(net, batch, r, { backend: 'native' }));
    const results = await Promise.all(rules.map((r) => callAsync(net, batch, r, { backend: 'native' })));
    results.forEach((res, i) => assertBitIdentical(res, sync[i], `concurrent ${label(rules[i])}`));
  });

  it('many concurrent small calls (every rule, both losses, sync calls interleaved) all equal their sync results', async () => {
    const { net: small } = mediumCase(41, 5, 40, 20);
    const rules: RuleConfig[] = [
      { rule: 'bptt' }, { rule: 'tbptt', window: 6 }, { rule: 'eprop' }, { rule: 'eprop', online: true }, { rule: 'mdgl' },
      { rule: 'mdgl', feedback: 'cell' }, { rule: 'modprop' }, { rule: 'modprop', feedback: 'cell' }, { rule: 'modprop', online: true },
    ];
    const jobs: { promise: Promise<GradientResult>; expect: GradientResult; what: string }[] = [];
    for (let rep = 0; rep < 3; rep++) {
      for (const loss of ['xent-last', 'mse'] as const) {
        const b = makeBatch(small, 5, 40, loss, 100 + rep);
        for (const r of rules) {
          const promise = callAsync(small, b, r, { backend: 'native' });
          jobs.push({ promise, expect: gradients(small, b, r, { backend: 'native' }), what: `${label(r)} ${loss} rep ${rep}` });
        }
      }
    }
    const results = await Promise.all(jobs.map((j) => j.promise));
    results.forEach((res, i) => assertBitIdentical(res, jobs[i].expect, jobs[i].what));
  });

  it('setThreads while calls are in flight: each call finishes on the thread count it started with', async () => {
    setThreads(2);
    const rules: RuleConfig[] = [{ rule: 'bptt' }, { rule: 'modprop' }, { rule: 'eprop', online: true }];
    const expected2 = rules.map((r) => gradients(net, batch, r, { backend: 'native' }));
    const pending2 = rules.map((r) => callAsync(net, batch, r, { backend: 'native' }));
    setThreads(1);
    const expected1 = rules.map((r) => gradients(net, batch, r, { backend: 'native' }));
    const pending1 = rules.map((r) => callAsync(net, batch, r, { backend: 'native' }));
    setThreads(3);
    const [got2, got1] = await Promise.all([Promise.all(pending2), Promise.all(pending1)]);
    got2.forEach((g, i) => assertBitIdentical(g, expected2[i], `${label(rules[i])} started with 2 threads`));
    got1.forEach((g, i) => assertBitIdentical(g, expected1[i], `${label(rules[i])} started with 1 thread`));
    setThreads(original);
  });

  it('changing the network parameters while a call runs does not change its result', async () => {
    const copy = net.clone();
    const sync = gradients(copy, batch, { rule: 'bptt' }, { backend: 'native' });
    const pending = callAsync(copy, batch, { rule: 'bptt' }, { backend: 'native' });
    copy.params.wrec.fill(0);
    copy.params.win.fill(3);
    copy.params.wout.fill(-1);
    assertBitIdentical(await pending, sync, 'params changed in flight');
  });

  it('changing the batch right after the call does not change its result (it is the batch passed, as on the reference engine)', async () => {
    // A training loop that refills one batch buffer while the previous gradient is computed relies on this; the
    // reference engine copies the batch to its worker at call time.
    const { net: small, batch: sb } = mediumCase(43, 4, 30, 16);
    const refOwn: Batch = { x: sb.x.slice(), batchSize: sb.batchSize, steps: sb.steps, labels: sb.labels!.slice() };
    const refSync = gradients(small, refOwn, { rule: 'bptt' }, { backend: 'reference' });
    const refPending = callAsync(small, refOwn, { rule: 'bptt' }, { backend: 'reference' });
    refOwn.x.fill(5);
    refOwn.labels!.fill(0);
    assertBitIdentical(await refPending, refSync, 'reference engine: batch overwritten right after gradientsAsync returned');
    for (const r of [{ rule: 'bptt' }, { rule: 'modprop', online: true }] as RuleConfig[]) {
      const own: Batch = { x: batch.x.slice(), batchSize: batch.batchSize, steps: batch.steps, labels: batch.labels!.slice() };
      const sync = gradients(net, own, r, { backend: 'native' });
      const pending = callAsync(net, own, r, { backend: 'native' });
      own.x.fill(5);
      own.labels!.fill(0);
      const result = await pending;
      assertBitIdentical(result, sync, `${label(r)}: batch.x and labels overwritten right after gradientsAsync returned`);
    }
  });

  it('detaching a batch buffer while a call runs neither crashes nor changes the result (child process)', function () {
    this.timeout(60_000);
    // structuredClone(buf, { transfer: [buf] }) moves the memory to a new buffer, which is then collected; a call that
    // still reads the old pointer reads freed memory. Run in a child so that a crash fails this test only.
    const script = path.join(__dirname, 'fixtures', 'detachInFlight.ts');
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '--expose-gc', script], {
      cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 50_000,
      env: { ...process.env, MODPROP_BACKEND: '' },
    });
    const out = `${child.stdout}\n${child.stderr}`.trim();
    assert.equal(child.signal, null, `the child was killed by ${child.signal} (a crash) — output:\n${out}`);
    assert.equal(child.status, 0, `the child exited with ${child.status} — output:\n${out}`);
    assert.match(child.stdout, /^ok /m, out);
  });

  describe('abort', () => {
    it('an already aborted signal rejects with AbortError, before any work', async () => {
      const signal = AbortSignal.abort();
      await assert.rejects(callAsync(net, batch, { rule: 'bptt' }, { backend: 'native', signal }), { name: 'AbortError' });
    });

    it('aborting during the call rejects with AbortError promptly, and later calls still work', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const pending = callAsync(net, batch, { rule: 'bptt' }, { backend: 'native', signal: controller.signal });
      setTimeout(() => controller.abort(), 2);
      await assert.rejects(pending, { name: 'AbortError' });
      assert.ok(Date.now() - started < 5_000);
      // The pool is not left broken, and the dropped result does not leak into the next call.
      const sync = gradients(net, batch, { rule: 'bptt' }, { backend: 'native' });
      assertBitIdentical(await callAsync(net, batch, { rule: 'bptt' }, { backend: 'native' }), sync, 'after an abort');
    });

    it('several aborted calls in a row, mixed with completed ones, settle correctly', async () => {
      const { net: small, batch: b } = mediumCase(42, 6, 50, 24);
      const sync = gradients(small, b, { rule: 'modprop' }, { backend: 'native' });
      const outcomes: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        const controller = new AbortController();
        const p = callAsync(small, b, { rule: 'modprop' }, { backend: 'native', signal: controller.signal });
        if (i % 2 === 0) {
          controller.abort();
          outcomes.push(assert.rejects(p, { name: 'AbortError' }));
        } else {
          outcomes.push(p.then((r) => assertBitIdentical(r, sync, `call ${i}`)));
        }
      }
      await Promise.all(outcomes);
    });

    it('aborting after the call settled changes nothing', async () => {
      const controller = new AbortController();
      const sync = gradients(net, batch, { rule: 'eprop', online: true }, { backend: 'native' });
      const result = await callAsync(net, batch, { rule: 'eprop', online: true }, { backend: 'native', signal: controller.signal });
      controller.abort();
      assertBitIdentical(result, sync, 'aborted after settling');
    });
  });

  describe('errors reject with ModpropError (never a synchronous throw, never a crash)', () => {
    it('rtrl is reference-only (with and without a signal)', async () => {
      await assert.rejects(callAsync(net, batch, { rule: 'rtrl' }, { backend: 'native' }), (e) => isModpropError(e, /rtrl.*reference|reference.*rtrl/));
      const controller = new AbortController();
      await assert.rejects(callAsync(net, batch, { rule: 'rtrl' }, { backend: 'native', signal: controller.signal }),
        (e) => isModpropError(e, /rtrl/));
    });
    it('a batch.x of the wrong length', async () => {
      await assert.rejects(callAsync(net, { ...batch, x: batch.x.subarray(1) }, { rule: 'bptt' }, { backend: 'native' }),
        (e) => isModpropError(e, /batch\.x/));
    });
    it('a NaN input', async () => {
      const x = batch.x.slice();
      x[12345] = NaN;
      await assert.rejects(callAsync(net, { ...batch, x }, { rule: 'bptt' }, { backend: 'native' }), (e) => isModpropError(e, /batch\.x/));
    });
    it('labels out of range', async () => {
      const labels = batch.labels!.slice();
      labels[3] = 2;
      await assert.rejects(callAsync(net, { ...batch, labels }, { rule: 'bptt' }, { backend: 'native' }), (e) => isModpropError(e, /labels/));
    });
    it('an unknown rule, and an unstable modprop filter (naming μ)', async () => {
      await assert.rejects(callAsync(net, batch, { rule: 'backprop' as 'bptt' }, { backend: 'native' }), (e) => isModpropError(e, /rule/));
      await assert.rejects(callAsync(net, batch, { rule: 'modprop', mu: 1e6 }, { backend: 'native' }), (e) => isModpropError(e, /mu|μ/));
    });
    it('a signal that is not an AbortSignal, and an unknown option', async () => {
      await assert.rejects(callAsync(net, batch, { rule: 'bptt' }, { backend: 'native', signal: {} as AbortSignal }), (e) => isModpropError(e, /signal/));
      await assert.rejects(callAsync(net, batch, { rule: 'bptt' }, { backend: 'native', threads: 0 }), (e) => isModpropError(e, /threads/));
    });
    it('a network whose parameters were set to NaN', async () => {
      const bad = net.clone();
      bad.params.wout[7] = NaN;
      await assert.rejects(callAsync(bad, batch, { rule: 'bptt' }, { backend: 'native' }), (e) => isModpropError(e, /wout/));
    });
    it('a network whose type ids were tampered with (found by the native core, on the worker thread)', async () => {
      for (const r of [{ rule: 'mdgl' }, { rule: 'modprop' }, { rule: 'modprop', online: true }] as RuleConfig[]) {
        for (const id of [2, 99, -1]) {
          // A fresh network: clone() shares its `types` array with the original.
          const bad = Network.create({ nIn: 2, nRec: 120, nOut: 2, seed: 4 });
          bad.types[5] = id;
          await assert.rejects(callAsync(bad, batch, r, { backend: 'native' }), (e) => isModpropError(e, /type/));
          assert.throws(() => gradients(bad, batch, r, { backend: 'native' }), (e) => isModpropError(e, /type/));
        }
      }
    });
  });
});
