/**
 * bench/idleProbe.ts: the idle worker measures its own event loop, so a stall of the main thread alone (here a
 * synchronous busy loop) shows in the main thread's delay and not in the worker's, while a run without one shows
 * neither; that is what lets the bench tell the library's stalls from the machine's.
 */
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { IdleProbe } from '../../bench/idleProbe';

const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* the main thread stalls */ }
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('bench idle probe', function () {
  this.timeout(20_000);
  let probe: IdleProbe;
  before(() => { probe = new IdleProbe(); });
  after(async () => { await probe.close(); });

  it('sees a stall of the main thread in the main thread\'s delay, not in its own', async () => {
    const main = monitorEventLoopDelay({ resolution: 1 });
    await probe.start();
    main.enable();
    await sleep(50);
    busy(300);
    await sleep(50);
    main.disable();
    const idle = await probe.stop();
    assert.ok(main.max / 1e6 >= 250, `main thread max ${main.max / 1e6} ms: the 300 ms stall should show`);
    assert.ok(idle.max < 150, `idle worker max ${idle.max} ms: the main thread's stall should not show there`);
    assert.ok(idle.p50 > 0 && idle.p50 < 50, `idle worker p50 ${idle.p50} ms: a working histogram`);
  });

  it('starts a fresh histogram each time (an earlier stall does not carry over)', async () => {
    await probe.start();
    await sleep(100);
    const first = await probe.stop();
    await sleep(300); // between two watched stretches, not inside one
    await probe.start();
    await sleep(100);
    const second = await probe.stop();
    assert.ok(first.max < 150 && second.max < 150, `maxima ${first.max} and ${second.max} ms: the gap between stretches must not count`);
  });
});
