/**
 * The finiteness check of forward results off the JS thread (native/binding/finite.cc): the same first non-finite
 * entry as a plain scan, at block edges and in later arrays, null when all are finite, and forwardAsync's error for
 * an overflowing network naming that entry.
 */
import assert from 'node:assert/strict';
import { Network, ModpropError } from '../../lib/index';
import { failNonFinite } from '../../lib/gradients';
import { loadAddon } from '../../lib/native/addon';
import { Random } from '../../lib/random';

function scanner(ctx: Mocha.Context): (arrays: Float32Array[]) => Promise<[number, number] | null> {
  const loaded = loadAddon();
  const scan = 'addon' in loaded ? loaded.addon.firstNonFiniteAsync : undefined;
  if (scan) return scan;
  if (process.env.MODPROP_ALLOW_NO_NATIVE === '1') ctx.skip();
  assert.fail('the native addon did not load or lacks firstNonFiniteAsync (set MODPROP_ALLOW_NO_NATIVE=1 to skip)');
}

function plainScan(arrays: Float32Array[]): [number, number] | null {
  for (let k = 0; k < arrays.length; k++) for (let i = 0; i < arrays[k].length; i++) if (!Number.isFinite(arrays[k][i])) return [k, i];
  return null;
}

describe('native finite scan', () => {
  it('finds the first non-finite entry as a plain scan does', async function () {
    const scan = scanner(this);
    const rng = new Random(3, 0);
    const make = (n: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 3e38);
    assert.equal(await scan([make(5000), make(0), make(3)]), null);
    for (const [k, i, bad] of [[0, 0, NaN], [0, 1023, Infinity], [0, 1024, -Infinity], [1, 2047, NaN], [2, 2, Infinity], [1, 0, NaN]] as const) {
      const arrays = [make(3000), make(2048), make(3)];
      arrays[k][i] = bad;
      arrays[2][2] = NaN; // a later one must not win
      const want = plainScan(arrays);
      assert.deepEqual(await scan(arrays), want);
      assert.deepEqual(want, [k, i], "the planted entry is the first");
    }
  });

  it("gradients' finiteness check names the first non-finite gradient, for small and large (natively scanned) Wrec, on both paths", function () {
    const rng = new Random(4, 0);
    for (const backend of ['native', 'reference']) {
      const saved = process.env.MODPROP_BACKEND;
      if (backend === 'reference') process.env.MODPROP_BACKEND = 'reference';
      try {
        for (const n of [40, 300]) { // wrec of 1 600 and 90 000 entries: below and above the native scan's threshold
          const grads = () => ({
            win: Float32Array.from({ length: 2 * n }, () => rng.uniform() - 0.5), wrec: Float32Array.from({ length: n * n }, () => rng.uniform() - 0.5),
            wout: Float32Array.from({ length: 2 * n }, () => rng.uniform() - 0.5), bout: Float32Array.of(0.1, -0.2),
          });
          assert.doesNotThrow(() => failNonFinite(0.5, grads()));
          for (const [k, i, bad] of [['wrec', n * n - 1, NaN], ['wrec', 7, -Infinity], ['win', 0, Infinity], ['bout', 1, NaN]] as const) {
            const g = grads();
            g[k][i] = bad;
            if (k !== 'bout') g.wout[3] = NaN; // a later array must not win over an earlier one
            if (k === 'wrec') g.wrec[n * n - 1] = NaN; // nor a later entry over the first
            assert.throws(() => failNonFinite(0.5, g), (err: Error) => err instanceof ModpropError &&
              err.message === `Expected finite gradients (inputs or weights too large for float32?) for the result of gradients but received ${g[k][i]} at grads.${k}[${i}]`);
          }
          assert.throws(() => failNonFinite(NaN, grads()), /a finite loss/);
        }
      } finally {
        if (saved === undefined) delete process.env.MODPROP_BACKEND;
        else process.env.MODPROP_BACKEND = saved;
      }
    }
  });

  it('rejects what is not an array of Float32Arrays', async function () {
    const scan = scanner(this) as (a: unknown) => Promise<unknown>;
    const fails = (value: unknown): boolean => {
      try {
        void scan(value);
      } catch (err) {
        return (err as { code?: string }).code === 'MODPROP_INVALID';
      }
      return false;
    };
    assert.ok(fails([new Float64Array(2)]));
    assert.ok(fails('x'));
  });

  it('makes forwardAsync refuse outputs that overflow float32', async function () {
    scanner(this);
    const net = Network.create({ nIn: 2, nRec: 8, nOut: 2, seed: 1 });
    net.params.wout.fill(3e38);
    net.params.win.fill(3e38);
    const batch = { x: new Float32Array(2 * 5 * 2).fill(1), batchSize: 2, steps: 5 };
    await assert.rejects(net.forwardAsync(batch, { backend: 'native' }), (err: Error) => {
      assert.equal(err.name, 'ModpropError');
      assert.match(err.message, /^Expected finite outputs \(inputs or weights too large for float32\?\) for the result of forward but received (Infinity|-Infinity|NaN) at [vzy]\[\d+\]$/);
      return true;
    });
  });
});
