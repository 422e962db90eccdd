/**
 * `options.out` (issue 13 goal 2): gradients and forward results written into caller-owned arrays, so that a loop over large networks
 * does not allocate and fault in nRec² new floats per call. The result must be the same numbers as without `out`
 * whatever the arrays held before, on both engines, sync and async; arrays of the wrong shape, or sharing memory with
 * the weights, the batch or each other, are refused naming the argument.
 */
import assert from 'node:assert/strict';
import { ModpropError, Network, gradients, gradientsAsync, type ForwardResult, type Params, type RuleConfig } from '../../lib/index';
import { pooledFloat32Bytes } from '../../lib/backends/bufferPool';
import { describeNative, makeBatch, norm } from './common';

const KEYS = ['win', 'wrec', 'wout', 'bout'] as const;

function outFor(net: Network, fill = Number.NaN): Params {
  const p = net.params;
  return {
    win: new Float32Array(p.win.length).fill(fill), wrec: new Float32Array(p.wrec.length).fill(fill),
    wout: new Float32Array(p.wout.length).fill(fill), bout: new Float32Array(p.bout.length).fill(fill),
  };
}

function assertSame(a: Params, b: Params, what: string): void {
  for (const k of KEYS) assert.deepEqual(a[k], b[k], `${what}: ${k}`);
}

describeNative('gradients into options.out', () => {
  const net = Network.create({ nIn: 3, nRec: 24, nOut: 2, seed: 4 });
  const batch = makeBatch(net, 4, 30, 'xent-last', 5);
  const rules: RuleConfig[] = [{ rule: 'bptt' }, { rule: 'modprop', online: true }];

  for (const backend of ['native', 'reference'] as const) {
    for (const rule of rules) {
      it(`${backend}, ${rule.rule}${rule.online ? ' online' : ''}: sync and async write the same numbers into out as without it, over stale contents`, async () => {
        const plain = gradients(net, batch, rule, { backend });
        assert.ok(norm(plain.grads.wrec) > 1e-6, 'a non-trivial gradient');
        const out = outFor(net);
        const sync = gradients(net, batch, rule, { backend, out });
        for (const k of KEYS) assert.equal(sync.grads[k], out[k], `the result's ${k} is out.${k}`);
        assert.equal(sync.loss, plain.loss);
        assertSame(sync.grads, plain.grads, 'sync');
        for (const k of KEYS) out[k].fill(7);
        const async = await gradientsAsync(net, batch, rule, { backend, out });
        for (const k of KEYS) assert.equal(async.grads[k], out[k]);
        assertSame(async.grads, plain.grads, 'async');
      });
    }
  }

  it('async calls at nRec = 512 reuse pooled buffers (stale contents overwritten), concurrent calls kept apart', async () => {
    const big = Network.create({ nIn: 2, nRec: 512, nOut: 2, seed: 6 });
    const b1 = makeBatch(big, 2, 10, 'xent-last', 1);
    const b2 = makeBatch(big, 2, 10, 'xent-last', 2);
    const rule: RuleConfig = { rule: 'eprop', online: true };
    const want1 = gradients(big, b1, rule, { backend: 'native' });
    const want2 = gradients(big, b2, rule, { backend: 'native' });
    assert.ok(norm(want1.grads.wrec) > 0 && norm(want2.grads.wrec) > 0);
    const o1 = outFor(big);
    const o2 = outFor(big);
    for (let round = 0; round < 3; round++) {
      const [r1, r2] = await Promise.all([
        gradientsAsync(big, b1, rule, { backend: 'native', out: o1 }),
        gradientsAsync(big, b2, rule, { backend: 'native', out: o2 }),
      ]);
      assertSame(r1.grads, want1.grads, `round ${round}, first`);
      assertSame(r2.grads, want2.grads, `round ${round}, second`);
      assert.ok(pooledFloat32Bytes() >= 512 * 512 * 4, 'the weights copy and the gradient buffer went back to the pool');
    }
  });

  it('an aborted gradientsAsync leaves out untouched, also when its job finishes later', async () => {
    const big = Network.create({ nIn: 2, nRec: 512, nOut: 2, seed: 7 });
    const b = makeBatch(big, 4, 60, 'xent-last', 3);
    const out = outFor(big, 5);
    const controller = new AbortController();
    const pending = gradientsAsync(big, b, { rule: 'bptt' }, { backend: 'native', out, signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (e: unknown) => (e as Error).name === 'AbortError');
    // The job itself runs to its end; once a later call on the same engine has finished, it has too.
    await gradientsAsync(big, b, { rule: 'bptt' }, { backend: 'native' });
    for (const k of KEYS) assert.ok(out[k].every((v) => v === 5), `out.${k} untouched`);
  });

  it('refuses arrays of the wrong shape or kind, naming options.out.<key>', () => {
    const bad: [string, (o: Params) => unknown, RegExp][] = [
      ['short wrec', (o) => ({ ...o, wrec: new Float32Array(10) }), /options\.out\.wrec/],
      ['float64 win', (o) => ({ ...o, win: new Float64Array(o.win.length) }), /options\.out\.win/],
      ['missing bout', (o) => ({ win: o.win, wrec: o.wrec, wout: o.wout }), /options\.out\.bout/],
      ['not an object', () => 3, /options\.out/],
    ];
    for (const [what, make, re] of bad) {
      assert.throws(() => gradients(net, batch, { rule: 'bptt' }, { backend: 'native', out: make(outFor(net)) as Params }),
        (e: unknown) => e instanceof ModpropError && re.test(e.message), what);
    }
  });

  it('refuses out arrays that share memory with the weights, the batch or each other', async () => {
    const p = net.params;
    const shared = new Float32Array(p.win.length + p.wout.length + 4);
    const cases: [string, Params, RegExp][] = [
      ['the weights', { ...outFor(net), wrec: p.wrec }, /^Expected an array sharing no memory with the network's wrec for options\.out\.wrec/],
      ['the batch', { ...outFor(net), win: new Float32Array(batch.x.buffer, 0, p.win.length) }, /^Expected an array sharing no memory with batch\.x for options\.out\.win/],
      ['each other', { ...outFor(net), win: shared.subarray(0, p.win.length), wout: shared.subarray(p.win.length - 2, p.win.length - 2 + p.wout.length) },
        /^Expected an array sharing no memory with options\.out\.wout for options\.out\.win/],
    ];
    for (const [what, out, re] of cases) {
      assert.throws(() => gradients(net, batch, { rule: 'bptt' }, { backend: 'native', out }), (e: unknown) => e instanceof ModpropError && re.test(e.message), what);
      await assert.rejects(gradientsAsync(net, batch, { rule: 'bptt' }, { backend: 'reference', out }), (e: unknown) => e instanceof ModpropError && re.test(e.message), what);
    }
    // Views of one buffer that do not overlap are fine.
    const ok = { ...outFor(net), win: shared.subarray(0, p.win.length), wout: shared.subarray(p.win.length, p.win.length + p.wout.length) };
    const g = gradients(net, batch, { rule: 'bptt' }, { backend: 'native', out: ok });
    assertSame(g.grads, gradients(net, batch, { rule: 'bptt' }, { backend: 'native' }).grads, 'disjoint views');
  });

  describe('forward', () => {
    const outOf = (b: { batchSize: number; steps: number }, fill = Number.NaN): ForwardResult => ({
      v: new Float32Array(b.batchSize * b.steps * net.nRec).fill(fill), z: new Float32Array(b.batchSize * b.steps * net.nRec).fill(fill),
      y: new Float32Array(b.batchSize * b.steps * net.nOut).fill(fill),
    });
    for (const backend of ['native', 'reference'] as const) {
      it(`${backend}: forward and forwardAsync write the same numbers into out, over stale contents`, async () => {
        const plain = net.forward(batch, { backend });
        assert.ok(norm(plain.z) > 0);
        const out = outOf(batch);
        const sync = net.forward(batch, { backend, out });
        for (const k of ['v', 'z', 'y'] as const) assert.equal(sync[k], out[k], `the result's ${k} is out.${k}`);
        for (const k of ['v', 'z', 'y'] as const) assert.deepEqual(sync[k], plain[k], k);
        for (let round = 0; round < 2; round++) {
          out.v.fill(3);
          const r = await net.forwardAsync(batch, { backend, out });
          for (const k of ['v', 'z', 'y'] as const) assert.equal(r[k], out[k]);
          for (const k of ['v', 'z', 'y'] as const) assert.deepEqual(r[k], plain[k], `async round ${round}: ${k}`);
        }
      });
    }

    it('pooled buffers at a large batch: concurrent forwardAsync calls kept apart, stale contents overwritten', async () => {
      const b1 = makeBatch(net, 64, 200, 'xent-last', 1); // 64 · 200 · 24 floats ≥ the pool's 1 MB minimum
      const b2 = makeBatch(net, 64, 200, 'xent-last', 2);
      const want1 = net.forward(b1, { backend: 'native' });
      const want2 = net.forward(b2, { backend: 'native' });
      const o1 = outOf(b1);
      const o2 = outOf(b2);
      for (let round = 0; round < 3; round++) {
        const [r1, r2] = await Promise.all([net.forwardAsync(b1, { backend: 'native', out: o1 }), net.forwardAsync(b2, { backend: 'native', out: o2 })]);
        for (const k of ['v', 'z', 'y'] as const) {
          assert.deepEqual(r1[k], want1[k], `round ${round}, first: ${k}`);
          assert.deepEqual(r2[k], want2[k], `round ${round}, second: ${k}`);
        }
      }
    });

    it('refuses out arrays of the wrong shape, or sharing memory with the weights, the batch or each other', () => {
      const good = outOf(batch);
      const cases: [string, unknown, RegExp][] = [
        ['short z', { ...good, z: new Float32Array(3) }, /^Expected a Float32Array of length \d+ \(batchSize × steps × nRec = 4 × 30 × 24\) for options\.out\.z/],
        ['missing y', { v: good.v, z: good.z }, /options\.out\.y/],
        ['y on batch.x', { ...good, y: new Float32Array(batch.x.buffer, 0, good.y.length) }, /sharing no memory with batch\.x for options\.out\.y/],
        ['v is z', { ...good, v: good.z }, /sharing no memory with options\.out\.z for options\.out\.v/],
      ];
      for (const [what, out, re] of cases) {
        assert.throws(() => net.forward(batch, { backend: 'native', out: out as ForwardResult }), (e: unknown) => e instanceof ModpropError && re.test(e.message), what);
      }
    });
  });
});
