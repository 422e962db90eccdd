/** Worker-thread entry of `Network.createAsync`: the seeded initialisation of lib/network.ts, one job per message. */
import { parentPort } from 'node:worker_threads';
import { initialParams } from './network';
import type { NormalizedNetworkConfig } from './validate';

parentPort!.on('message', (config: NormalizedNetworkConfig) => {
  try {
    const p = initialParams(config);
    parentPort!.postMessage({ ok: true, result: p }, [p.win.buffer, p.wrec.buffer, p.wout.buffer, p.bout.buffer] as ArrayBuffer[]);
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({ ok: false, message: e.message, name: e.name });
  }
});
