/**
 * One measurement of the memory phase (bench/memory.ts), in a fresh process so that its peak RSS is its own:
 *
 *   node --require tsx/cjs bench/memoryChild.ts --steps T --nrec N --batch B [--rule JSON]
 *
 * Loads the native addon and starts its thread pool, builds the delayed-XOR network (N units, seed 1) and one batch
 * of B sequences of T steps (`delaySteps` = T − 2 × the default cue length), then, with --rule, calls gradients()
 * once on the native engine. Without --rule it is the baseline: the same process without the call. Prints one JSON
 * line (ChildReport) on stdout; any error is one line on stderr and exit code 1.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Network, getThreads, gradients, setThreads, tasks, type RuleConfig } from '../lib/index';

/** delayedXor's default cue length: T = 2 × CUE + delaySteps. */
export const CUE_STEPS = 100;

export interface ChildReport {
  steps: number;
  threads: number;
  /** Peak RSS (peakRssKb) after building the network and batch, and at the end (kB). */
  rssBeforeKb: number;
  maxRssKb: number;
  /** Wall time of the gradients() call (absent in the baseline). */
  ms?: number;
  loss?: number;
}

/**
 * This process's peak RSS in kB: VmHWM from /proc/self/status, which starts afresh at exec. getrusage's maxRSS
 * (process.resourceUsage) does not on Linux: a child keeps the peak of the parent it was forked from, so a bench
 * process holding 200 MB would make every child report at least that. maxRSS is the fallback where /proc is absent.
 */
export function peakRssKb(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // no procfs (macOS, Windows)
  }
  return process.resourceUsage().maxRSS;
}

function integerArg(text: string | undefined, name: string, min: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < min) throw new Error(`Expected an integer ≥ ${min} for --${name} but received '${text}'`);
  return n;
}

function main(): void {
  const { values } = parseArgs({
    strict: true,
    options: { steps: { type: 'string' }, nrec: { type: 'string' }, batch: { type: 'string' }, rule: { type: 'string' } },
  });
  const steps = integerArg(values.steps, 'steps', 2 * CUE_STEPS);
  const nRec = integerArg(values.nrec, 'nrec', 1);
  const batchSize = integerArg(values.batch, 'batch', 1);
  setThreads(getThreads());  // the addon and its pool, in the baseline as well
  const task = tasks.delayedXor({ cueSteps: CUE_STEPS, delaySteps: steps - 2 * CUE_STEPS });
  const net = Network.create({ nIn: task.nIn, nRec, nOut: task.nOut, seed: 1 });
  const batch = task.sample(batchSize, 1);
  const report: ChildReport = { steps, threads: getThreads(), rssBeforeKb: peakRssKb(), maxRssKb: 0 };
  if (values.rule !== undefined) {
    const rule = JSON.parse(values.rule) as RuleConfig;
    const t0 = performance.now();
    const { loss } = gradients(net, batch, rule, { backend: 'native' });
    report.ms = performance.now() - t0;
    if (!Number.isFinite(loss)) throw new Error(`gradients() returned the loss ${loss}`);
    report.loss = loss;
  }
  report.maxRssKb = peakRssKb();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`memoryChild: ${(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ')}\n`);
    process.exitCode = 1;
  }
}
