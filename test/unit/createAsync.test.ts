/**
 * Network.createAsync: the initialisation on a worker thread gives `create`'s parameters bit for bit (both recipes,
 * above the dense-radius size), turns errors of the recipe into ModpropError, and leaves the event loop turning.
 */
import assert from 'node:assert/strict';
import { Network, ModpropError } from '../../lib/index';

const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('Network.createAsync', function () {
  this.timeout(120000);

  for (const init of ['balanced', 'liu2022'] as const) {
    it(`equals Network.create bit for bit (init ${init}, N = 300)`, async () => {
      const config = { nIn: 3, nRec: 300, nOut: 2, seed: 11, init };
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const a = await Network.createAsync(config);
      clearInterval(timer);
      const b = Network.create(config);
      for (const key of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(same(a.params[key], b.params[key]), key);
      assert.ok(a.params.wrec.some((v) => v !== 0));
      assert.ok(ticks > 0, 'the event loop turned while the worker initialised');
    });
  }

  it('rejects with the ModpropError of the recipe and of validation', async () => {
    await assert.rejects(Network.createAsync({ nIn: 1, nRec: 10, nOut: 1, init: 'liu2022', dale: false }),
      (e: unknown) => e instanceof ModpropError && /Dale's law/.test(e.message));
    await assert.rejects(Network.createAsync({ nIn: 0, nRec: 10, nOut: 1 }), ModpropError);
  });
});
