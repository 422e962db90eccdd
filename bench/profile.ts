/**
 * `node --require tsx/cjs bench/profile.ts <job> [calls] [threads]`: calls one job (a name of bench/flops.ts: bptt,
 * modprop-online, …) at the paper's size on the native engine in a loop, for a profiler to watch
 * (bench/profile.sh). Prints the median ms per call.
 */
import { Network, setThreads, tasks } from '../lib/index';
import { JOBS, callOf } from './suites';

const [name = 'bptt', callsText = '100', threadsText] = process.argv.slice(2);
const job = JOBS.find((j) => j.name === name);
if (!job) throw new Error(`Expected one of ${JOBS.map((j) => j.name).join(', ')} for the job but received '${name}'`);
if (threadsText) setThreads(Number(threadsText));
const task = tasks.delayedXor();
const net = Network.create({ nIn: task.nIn, nRec: 120, nOut: task.nOut, seed: 1 });
const call = callOf(job, net, task.sample(32, 1), 'native');
const ms: number[] = [];
for (let i = 0; i < Number(callsText); i++) {
  const t0 = performance.now();
  call();
  ms.push(performance.now() - t0);
}
ms.sort((a, b) => a - b);
console.log(`${job.label}: ${ms[Math.floor(ms.length / 2)].toFixed(2)} ms median over ${ms.length} calls`);
