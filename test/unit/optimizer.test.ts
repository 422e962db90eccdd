/**
 * The native optimizer step (native/core/optimizer.cc) against lib/optimizer.ts, its specification: the same
 * parameters and Adam moments bit for bit over hundreds of steps (Adam and SGD, with and without L2 and Dale's law,
 * gradients from 1e-12 to 1e3, the lr decaying), the same report and the same restored parameters when a gradient or
 * a new parameter is not finite, and bad input to the raw binding as a MODPROP_INVALID error (applyStep raises it as
 * ModpropError).
 */
import assert from 'node:assert/strict';
import { Network } from '../../lib/index';
import { PARAM_KEYS, createOptimizer, type OptimizerState } from '../../lib/optimizer';
import { Random } from '../../lib/random';
import { applyStep, nativeOptimizer } from '../../lib/trainStep';
import type { Params } from '../../lib/types';

function native(ctx: Mocha.Context): NonNullable<ReturnType<typeof nativeOptimizer>> {
  const s = nativeOptimizer();
  if (s) return s;
  if (process.env.MODPROP_ALLOW_NO_NATIVE === '1') ctx.skip();
  assert.fail('the native addon did not load or lacks optimizerStep (set MODPROP_ALLOW_NO_NATIVE=1 to skip)');
}

const bytes = (a: Float32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function randomGrads(net: Network, rng: Random, scale: number): Params {
  const g = {} as Params;
  for (const k of PARAM_KEYS) g[k] = Float32Array.from(net.params[k], () => (rng.uniform() - 0.5) * scale * (rng.uniform() < 0.1 ? 1e3 : 1));
  return g;
}

function assertSameState(a: Network, b: Network, oa: OptimizerState, ob: OptimizerState, at: string): void {
  for (const k of PARAM_KEYS) {
    assert.ok(bytes(a.params[k]).equals(bytes(b.params[k])), `params.${k} at ${at}`);
    if (oa.m) {
      assert.ok(bytes(oa.m[k]).equals(bytes(ob.m![k])), `m.${k} at ${at}`);
      assert.ok(bytes(oa.v![k]).equals(bytes(ob.v![k])), `v.${k} at ${at}`);
    }
  }
  assert.equal(oa.step, ob.step);
}

describe('native optimizer step', () => {
  for (const kind of ['adam', 'sgd'] as const) {
    for (const [dale, l2] of [[true, 5e-4], [false, 0], [true, 0], [false, 1e-2]] as const) {
      it(`matches lib/optimizer.ts bit for bit: ${kind}, dale ${dale}, l2 ${l2}`, function () {
        const s = native(this);
        const config = { nIn: 3, nRec: 24, nOut: 3, seed: 4, dale };
        const a = Network.create(config);
        const b = Network.create(config);
        const oa = createOptimizer(kind, a.params);
        const ob = createOptimizer(kind, b.params);
        const rng = new Random(kind === 'adam' ? 1 : 2, dale ? 3 : 4);
        const start = a.params.wrec.slice();
        return (async () => {
          for (let it = 1; it <= 300; it++) {
            const lr = 5e-3 * 0.8 ** Math.floor((it - 1) / 50);
            const scale = [1e-12, 1e-3, 1, 1e3][it % 4];
            const g = randomGrads(a, rng, scale);
            const h: Params = { win: g.win.slice(), wrec: g.wrec.slice(), wout: g.wout.slice(), bout: g.bout.slice() };
            const ra = await applyStep(a, oa, g, lr, l2, s);
            const rb = await applyStep(b, ob, h, lr, l2, undefined);
            assert.deepEqual(ra, rb);
            assert.ok(bytes(g.wrec).equals(bytes(h.wrec)), `L2 added the same at ${it}`);
            assertSameState(a, b, oa, ob, `step ${it}`);
          }
          assert.ok(!bytes(start).equals(bytes(a.params.wrec)), 'the weights moved');
          const offDiagonalZeros = a.params.wrec.filter((w, i) => w === 0 && i % 25 !== 0).length;
          if (dale) assert.ok(offDiagonalZeros > 0, 'Dale zeroed some weights');
        })();
      });
    }
  }

  it('reports the same non-finite gradient and changes nothing, on both sides', async function () {
    const s = native(this);
    for (const side of [s, undefined]) {
      const net = Network.create({ nIn: 2, nRec: 10, nOut: 2, seed: 1 });
      const o = createOptimizer('adam', net.params);
      const g = randomGrads(net, new Random(1, 1), 1);
      g.wout[3] = NaN;
      const before = net.params.wrec.slice();
      assert.deepEqual(await applyStep(net, o, g, 1e-3, 5e-4, side), { ok: false, what: 'gradient', where: 'wout[3]' });
      assert.deepEqual(net.params.wrec, before);
    }
  });

  it('puts the parameters back when the step overflows, on both sides', async function () {
    const s = native(this);
    for (const side of [s, undefined]) {
      const net = Network.create({ nIn: 2, nRec: 10, nOut: 2, seed: 1, dale: false });
      const o = createOptimizer('sgd', net.params);
      const g = randomGrads(net, new Random(1, 2), 1);
      g.win.fill(0);
      g.wrec.fill(0);
      g.wout.fill(0);
      g.bout[1] = -3e38;
      const before = net.params.bout.slice();
      assert.deepEqual(await applyStep(net, o, g, 1e10, 0, side), { ok: false, what: 'parameter', where: 'bout[1]' });
      assert.deepEqual(net.params.bout, before);
    }
  });

  it('runs large networks on a worker with the same numbers', async function () {
    this.timeout(30000);
    const s = native(this);
    const config = { nIn: 2, nRec: 300, nOut: 2, seed: 2 };
    const a = Network.create(config);
    const b = Network.create(config);
    const oa = createOptimizer('adam', a.params);
    const ob = createOptimizer('adam', b.params);
    for (let it = 1; it <= 3; it++) {
      const g = randomGrads(a, new Random(it, 9), 1e-2);
      const h: Params = { win: g.win.slice(), wrec: g.wrec.slice(), wout: g.wout.slice(), bout: g.bout.slice() };
      await applyStep(a, oa, g, 1e-3, 5e-4, s);
      await applyStep(b, ob, h, 1e-3, 5e-4, undefined);
      assertSameState(a, b, oa, ob, `step ${it}`);
    }
  });

  it('rejects bad input to the raw binding with a ModpropError', async function () {
    const s = native(this);
    const net = Network.create({ nIn: 2, nRec: 4, nOut: 2, seed: 1 });
    const o = createOptimizer('adam', net.params);
    const list = (p: Params): Float32Array[] => PARAM_KEYS.map((k) => p[k]);
    const floats = Float64Array.of(1, 1e-3, 0, 0.1, 0.001);
    const ok = [floats, list(net.params), list(net.params).map((a) => a.slice()), PARAM_KEYS.map((k) => o.m![k]), PARAM_KEYS.map((k) => o.v![k]), net.types, null, 2] as const;
    const cases: [number, unknown, string][] = [
      [0, Float64Array.of(2, 1e-3, 0, 0.1, 0.001), 'Expected 0 (sgd) or 1 (adam) for floats[0] but received 2'],
      [0, Float64Array.of(1, NaN, 0, 0.1, 0.001), 'Expected a finite number for floats[1] but received NaN'],
      [2, list(net.params).slice(0, 3), 'Expected an array of 4 Float32Arrays (win, wrec, wout, bout) for grads but received an array of length 3'],
      [2, [net.params.win, new Float32Array(3), net.params.wout, net.params.bout], 'Expected a Float32Array of the length of params[1] (16) for grads[1] but received a Float32Array of length 3'],
      [3, null, 'Expected an array of 4 Float64Arrays (win, wrec, wout, bout) for m but received null'],
      [5, new Int32Array(3), 'Expected wrec of types.length² elements for params[1] but received a Float32Array of length 16'],
      [6, new Int8Array(1), 'Expected type ids between 0 and typeSigns.length − 1 for types[0] but received 1'],
      [7, 0.5, 'Expected an integer ≥ 1 for nOut but received 0.5'],
    ];
    if (net.types[0] !== 1) cases.splice(6, 1); // the default types put inhibitory (0) first
    for (const [at, value, message] of cases) {
      const args = [...ok] as unknown[];
      args[at] = value;
      for (const call of [() => (s.optimizerStep as (...a: unknown[]) => unknown)(...args), () => (s.optimizerStepAsync as (...a: unknown[]) => Promise<unknown>)(...args)]) {
        let err: unknown;
        try {
          await call();
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof Error, `${message}: threw`);
        assert.equal((err as { code?: string }).code, 'MODPROP_INVALID');
        assert.equal((err as Error).message, message);
      }
    }
  });
});
