/**
 * Training at paper size per rule (issue 11 "Load", issue 13 goal 1): N = 120, B = 32, delayed XOR; for each rule the
 * gradient alone, train()'s marginal ms per iteration, their ratio (goal ≤ 1.15) and the event-loop delay while
 * training (perf_hooks, 1 ms resolution: p50 / p99 / max; goal p99 < 10 ms). The same measurement as the bench's
 * training-iteration phase (bench/trainPhase.ts), runnable alone:
 *
 *   npx tsx bench/eventLoop.ts [sampler=fast|box-muller] [threads] [--quick]
 *
 * With as many native threads as CPUs the kernels compete with the JS thread for the cores, which shows up as
 * event-loop delay too; pass a thread count to leave a core free. Run it under `flock /work/bench.lock` beside others.
 */
import { getThreads } from '../lib/index';
import type { TaskSampler } from '../lib/tasks/delayedXor';
import { JOBS } from './suites';
import { measureTraining, trainRowLine } from './trainPhase';

(async () => {
  const args = process.argv.slice(2).filter((a) => a !== '--quick');
  const quick = process.argv.includes('--quick');
  const sampler = (args[0] ?? 'fast') as TaskSampler;
  if (sampler !== 'fast' && sampler !== 'box-muller') throw new Error(`Expected fast or box-muller for the sampler but received '${sampler}'`);
  const threads = args[1] === undefined ? getThreads() : Number(args[1]);
  const settings = quick ? { short: 2, long: 10, measuredMs: 0, repeats: 1, gradientCalls: 3, gradientBatches: 3 } : { short: 5, long: 45, measuredMs: 0, repeats: 3, gradientCalls: 10, gradientBatches: 20 };
  console.log(`delayed XOR, N = 120, B = 32, T = 900, ${threads} threads, sampler ${sampler}`);
  for (const job of JOBS.filter((j) => j.rule)) {
    console.log(trainRowLine(await measureTraining(job, sampler, { nRec: 120, batch: 32, threads, ...settings })));
  }
})().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
});
