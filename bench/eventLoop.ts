/**
 * Event-loop delay while training at paper size (issue 11 "Load"): N = 120, B = 32, delayed XOR, for online ModProp
 * and BPTT, with perf_hooks.monitorEventLoopDelay sampling every 1 ms. Prints p50 / p99 / max in ms per rule.
 *
 *   npx tsx bench/eventLoop.ts [iterations=60] [threads]
 *
 * With as many native threads as CPUs the kernels compete with the JS thread for the cores, which shows up as
 * event-loop delay too; pass a thread count to leave a core free.
 *
 * `MODPROP_ROOT=/path/to/another/checkout` measures that checkout's library instead (for before/after numbers).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const m = require(path.join(process.env.MODPROP_ROOT ?? path.join(__dirname, '..'), 'lib', 'index.ts')) as typeof import('../lib/index');

async function measure(rule: Record<string, unknown>, iterations: number): Promise<string> {
  const task = m.tasks.delayedXor();
  const net = m.Network.create({ nIn: task.nIn, nRec: 120, nOut: task.nOut, seed: 1 });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const started = Date.now();
  await m.train(net, task, { ...rule, iterations, batchSize: 32, evalEvery: 20, seed: 1 } as never);
  h.disable();
  const ms = (ns: number): string => (ns / 1e6).toFixed(1);
  return `${JSON.stringify(rule)}: ${iterations} iterations in ${Date.now() - started} ms; event-loop delay p50 ${ms(h.percentile(50))} ms, p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms`;
}

(async () => {
  const iterations = Number(process.argv[2] ?? 60);
  const threads = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  if (threads !== undefined) m.setThreads(threads); // setThreads, not the threads option: older checkouts lack it
  console.log(`engine ${m.backend.name}, threads ${m.getThreads()}`);
  for (const rule of [{ rule: 'modprop', online: true }, { rule: 'bptt' }]) console.log(await measure(rule, iterations));
})();
