/**
 * `npm run bench [-- --quick] [--phases LIST] [--threads 1,2] [--name NAME] [--out DIR] [--skip-reference] [--skip-train]
 *  [--no-pin] [--memory-limit-gb GB] [--report FILE]`
 *
 * The speed and memory numbers of SPEC §7: the delayed-XOR gradient (B = 32, T = 900, N = 120) of every rule on the
 * native engine at each thread count, its GFLOP/s (FLOP model: bench/flops.ts, bench/README.md) and that as a
 * fraction of the machine's sgemm rate measured in the same run (bench/gemm.ts), the reference engine at T = 90
 * scaled ×10, the end-to-end training iteration, the peak RSS of one gradient at T = 10³ … 10⁶ (bench/memory.ts),
 * and PASS/MISS for each target. Writes bench/results/<name>.json and, for a full run, regenerates bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Network, backend, getThreads, setThreads, tasks, type Batch } from '../lib/index';
import { flops, type Shape } from './flops';
import { cpuHasAvx512, measureGemm, type GemmReport } from './gemm';
import { MEMORY_STEPS, runMemory } from './memory';
import { runScaling } from './scaling';
import { renderMarkdown, writeMarkdown, type Machine, type MeasuredRow, type Results } from './report';
import { JOBS, callOf, runSuite, type SuiteOptions, type Timing } from './suites';
import { marginalIterationMs, measureTraining, trainRowLine, type TrainRow } from './trainPhase';
import { PEER_GOALS, pairedPeer, peerRatios, runTorchPeer, type TorchPeer } from './torch';
import { allowedCpus, canPin, placementProbe, setThreadsPlaced, unpinCaller } from './placement';
import { judge, judgeMemory, nativePhase } from './targets';
import { CONTENDED, watchLoad, type Load } from './load';
import { runMetadata } from '../lib/metadata';
import { runSparse, runTypeScaling } from './types';

const BENCH = __dirname;
const ROOT = path.dirname(BENCH);
const PAPER = { batch: 32, nRec: 120 };
const REFERENCE_TASK = { cueSteps: 10, delaySteps: 70 };  // T = 90: a tenth of the paper's 900 steps

const PHASES = ['gemm', 'native', 'reference', 'train', 'torch', 'memory', 'scaling', 'types', 'sparse'] as const;
type Phase = (typeof PHASES)[number];

const USAGE = `usage: npm run bench -- [--quick] [--phases LIST] [--threads 1,2] [--name NAME] [--out DIR] [--skip-reference]
       [--skip-train] [--no-pin] [--memory-limit-gb GB] [--report FILE]
  --quick           fewer samples, memory up to T = 10⁵, scaling at N = 512 and 1024 only (a smoke run);
                    writes bench/results/quick.json,
                    leaves RESULTS.md alone
  --phases LIST     the phases to run, comma-separated, of ${PHASES.join(', ')} (default: all; types and sparse:
                    bench/types.ts). A run without
                    all of them writes bench/results/partial-<phases>.json and leaves RESULTS.md alone
  --threads LIST    native thread counts to measure (default: 1 and all cores)
  --name NAME       results file NAME.json (default: from the CPU, core count and Node version)
  --out DIR         write NAME.json and RESULTS.md (always) into DIR instead of bench/results/ and bench/
  --skip-reference  do not time the TypeScript reference engine (the same as leaving 'reference' out of --phases)
  --skip-train      do not time the end-to-end training iteration (the same as leaving 'train' out of --phases)
  --no-pin          leave thread placement to the OS (default: pin the JS thread and the pool's workers, Linux)
  --memory-limit-gb GB  do not run bptt in the memory phase where its estimated memory exceeds GB (default 3)
  --report FILE     regenerate bench/RESULTS.md (or DIR/RESULTS.md with --out) from a results file and exit`;

interface Settings {
  native: SuiteOptions; small: SuiteOptions; reference: SuiteOptions; gemmReps: number; placementPools: number;
  train: { short: number; long: number; measuredMs: number; repeats: number; gradientCalls: number; gradientBatches: number }; torchReps: number; torchRounds: number; scaling: SuiteOptions;
}
const FULL: Settings = {
  native: { minSamples: 20, maxTime: 6 }, small: { minSamples: 10, maxTime: 1 }, reference: { minSamples: 5, maxTime: 5 },
  gemmReps: 9, placementPools: 8, train: { short: 5, long: 85, measuredMs: 1000, repeats: 21, gradientCalls: 10, gradientBatches: 20 }, torchReps: 5, torchRounds: 15,
  scaling: { minSamples: 3, maxTime: 1 },
};
const QUICK: Settings = {
  native: { minSamples: 3, maxTime: 0.5 }, small: { minSamples: 3, maxTime: 0.2 }, reference: { minSamples: 2, maxTime: 0.3 },
  gemmReps: 3, placementPools: 4, train: { short: 2, long: 8, measuredMs: 0, repeats: 1, gradientCalls: 3, gradientBatches: 3 }, torchReps: 1, torchRounds: 1,
  scaling: { minSamples: 2, maxTime: 0.1 },
};

function machine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  let avx2 = false;
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? cpu;
    avx2 = /^flags\s*:.*\bavx2\b/m.test(info);
  } catch {
    // Not Linux: the model from os.cpus() will do.
  }
  const gxx = spawnSync('g++', ['--version'], { encoding: 'utf8' });
  return {
    cpu, cores: os.availableParallelism(), avx2, avx512f: cpuHasAvx512(), memGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version,
    compiler: gxx.status === 0 ? gxx.stdout.split('\n')[0] : undefined, loadAvgStart: os.loadavg(),
  };
}

function gitState(): Results['git'] {
  // --no-optional-locks: a read that never refreshes the index.
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const status = spawnSync('git', ['--no-optional-locks', 'status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' });
  if (head.status !== 0) return undefined;
  return { commit: head.stdout.trim(), dirty: status.status === 0 && status.stdout.trim() !== '' };
}

function commandLine(argv: string[]): string {
  const args = argv.length ? ` -- ${argv.join(' ')}` : '';
  return process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args}` : `node --require tsx/cjs bench/index.ts${argv.length ? ` ${argv.join(' ')}` : ''}`;
}

function parseThreads(text: string | undefined, cores: number): number[] {
  if (text === undefined) return [...new Set([1, cores])];
  const list = text.split(',').map((s) => Number(s.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) {
    throw new Error(`Expected a comma-separated list of thread counts (1..1024) for --threads but received '${text}'`);
  }
  return [...new Set(list)];
}

function parsePhases(text: string | undefined, skip: { reference: boolean; train: boolean }): Phase[] {
  const list = text === undefined ? [...PHASES] : text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (!list.length || unknown.length) {
    throw new Error(`Expected a comma-separated list of ${PHASES.join(', ')} for --phases but received '${text}'`);
  }
  return PHASES.filter((p) => list.includes(p) && !(p === 'reference' && skip.reference) && !(p === 'train' && skip.train));
}

function positiveNumber(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`Expected a positive number for ${name} but received '${text}'`);
  return n;
}

function shapeOf(net: Network, batch: Batch): Shape {
  return { batch: batch.batchSize, steps: batch.steps, nRec: net.nRec, nIn: net.nIn, nOut: net.nOut, nTypes: net.nTypes, errorSteps: 1 };
}

/** The threshold of the dense-activity control: far below any membrane potential of the bench batch. */
const DENSE_THRESHOLD = -10;
const DENSE_JOBS = JOBS.filter((j) => j.name === 'bptt' || j.name === 'modprop-online' || j.name === 'eprop-online');

/** Fraction of the (sequence, step, unit) rates z that are non-zero on this batch. */
function fractionActive(net: Network, batch: Batch): number {
  const { z } = net.forward(batch);
  let active = 0;
  for (let i = 0; i < z.length; i++) if (z[i] > 0) active++;
  return active / z.length;
}

function measured(timings: Timing[], shape: Shape, gemm: GemmReport, threads: number): MeasuredRow[] {
  const bptt = timings.find((t) => t.job === 'bptt');
  return timings.map((t) => {
    const count = flops(t.job, shape);
    const gflop = count.total / 1e9;
    const gflops = gflop / (t.medianMs / 1000);
    const large = gemm.large[threads]?.gflopsMedian, step = gemm.step[threads]?.gflopsMedian;
    return {
      ...t, gflop, flops: count, gflops,
      fracGemm: large ? gflops / large : undefined, fracStep: step ? gflops / step : undefined,
      vsBptt: bptt && t.job !== 'forward' ? bptt.medianMs / t.medianMs : undefined,
    };
  });
}

function slug(text: string): string {
  return text.toLowerCase().replace(/\(r\)|\(tm\)|processor|\d+-core/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** The command line, parsed and checked: what to run and how hard. */
interface Run {
  argv: string[];
  /** performance.now() at the start of the measurements (the results' durationSec). */
  started: number;
  quick: boolean;
  phases: Phase[];
  /** Whether a phase is in --phases. */
  run: (p: Phase) => boolean;
  memoryLimitGB: number;
  /** A full run of every phase: it regenerates RESULTS.md. */
  complete: boolean;
  settings: Settings;
  m: Machine;
  threadCounts: number[];
  name: string;
  outDir?: string;
  noPin: boolean;
  log: (line: string) => void;
  /** Starts the contention watch of a phase; the function it returns ends it and records the load. */
  watch: (phase: string) => () => void;
  contention: Record<string, Load>;
  /** Why the native engine is not timed, when it is not. */
  nativeUnavailable?: string;
  defaultThreads: number;
}

/** The paper's network and batch, the dense-activity control and the reference engine's shorter batch. */
interface Workload {
  paperTask: ReturnType<typeof tasks.delayedXor>;
  net: Network;
  batch: Batch;
  shape: Shape;
  activeFraction: number;
  denseNet: Network;
  denseActive: number;
  smallBatch: Batch;
  smallShape: Shape;
}

const OPTIONS = {
  quick: { type: 'boolean', default: false }, threads: { type: 'string' }, name: { type: 'string' },
  'skip-reference': { type: 'boolean', default: false }, 'skip-train': { type: 'boolean', default: false },
  report: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
  'no-pin': { type: 'boolean', default: false }, phases: { type: 'string' }, out: { type: 'string' },
  'memory-limit-gb': { type: 'string' },
} as const;

/** The command line; undefined when it asked only for --help or --report (done here). */
function parseRun(argv: string[]): Run | undefined {
  const { values } = parseArgs({ args: argv, strict: true, options: OPTIONS });
  if (values.help) return void console.log(USAGE);
  const outDir = values.out === undefined ? undefined : path.resolve(values.out);
  if (outDir) fs.mkdirSync(outDir, { recursive: true });
  if (values.report) {
    const results = JSON.parse(fs.readFileSync(values.report, 'utf8')) as Results;
    return void console.log(`wrote ${path.relative(process.cwd(), writeMarkdown(results, BENCH, outDir))}`);
  }
  const phases = parsePhases(values.phases, { reference: values['skip-reference'] ?? false, train: values['skip-train'] ?? false });
  const memoryLimitGB = positiveNumber(values['memory-limit-gb'], '--memory-limit-gb', 3);
  const quick = values.quick ?? false;
  const complete = !quick && phases.length === PHASES.length;
  const started = performance.now();
  const m = machine();
  const threadCounts = parseThreads(values.threads, m.cores);
  const name = values.name ?? (quick ? 'quick' : complete ? `${slug(m.cpu)}-${m.cores}c-node${process.versions.node.split('.')[0]}` : `partial-${phases.join('-')}`);
  const log = (line: string): void => console.log(line);
  const contention: Record<string, Load> = {};
  const watch = (phase: string): (() => void) => {
    const stop = watchLoad();
    return () => {
      const load = stop();
      if (!load) return;
      contention[phase] = load;
      if (load.othersCores > CONTENDED) log(`  warning: other processes used ${load.othersCores.toFixed(2)} cores during ${phase}`);
    };
  };
  return {
    argv, started, quick, phases, run: (p) => phases.includes(p), memoryLimitGB, complete, settings: quick ? QUICK : FULL, m, threadCounts, name, outDir,
    noPin: values['no-pin'] ?? false, log, watch, contention, defaultThreads: getThreads(),
  };
}

/** Whether the native engine can be timed; sets r.nativeUnavailable when not. */
function checkNative(r: Run): void {
  try {
    setThreads(r.defaultThreads);
  } catch (err) {
    r.nativeUnavailable = (err as Error).message;
    r.log(`native engine: not available (${r.nativeUnavailable}); only the reference engine is timed`);
    // A full run without the addon (e.g. build/ cleaned by prebuildify) must not replace the machine's real results.
    if (r.complete && !r.outDir) {
      r.complete = false;
      r.name = 'reference-only';
      r.log('  so this run writes bench/results/reference-only.json and leaves RESULTS.md and the machine\'s results ' +
        'file alone; build the addon (npx node-gyp rebuild) and run again for the full results');
    }
  }
}

function gemmPhase(r: Run): GemmReport {
  r.log('\nsgemm rate (OpenBLAS) ...');
  const endGemm = r.watch('gemm');
  const gemm = measureGemm(r.threadCounts, { size: 1024, batch: PAPER.batch, nRec: PAPER.nRec, reps: r.settings.gemmReps });
  for (const line of gemm.available ? gemm.runs.map((g) => `  ${g.m}×${g.k}×${g.n} ×${g.concurrent} thr ${g.openblasThreads} ${g.core}: ${g.gflopsMedian.toFixed(1)} GFLOP/s`) : [`  ${gemm.note}`]) r.log(line);
  endGemm();
  return gemm;
}

function workload(): Workload {
  const paperTask = tasks.delayedXor();
  const net = Network.create({ nIn: paperTask.nIn, nRec: PAPER.nRec, nOut: paperTask.nOut, seed: 1 });
  const batch = paperTask.sample(PAPER.batch, 1);
  // The kernels skip units that are silent (ReLU zeros) on every row of a block, so their speed depends on how active
  // the network is. The control: the same weights with threshold −10, where every unit is active at every step.
  const activeFraction = fractionActive(net, batch);
  const denseNet = Network.fromParams({ nIn: net.nIn, nRec: net.nRec, nOut: net.nOut, threshold: DENSE_THRESHOLD }, net.params);
  const denseActive = fractionActive(denseNet, batch);
  const smallTask = tasks.delayedXor(REFERENCE_TASK);
  const smallBatch = smallTask.sample(PAPER.batch, 1);
  return { paperTask, net, batch, shape: shapeOf(net, batch), activeFraction, denseNet, denseActive, smallBatch, smallShape: shapeOf(net, smallBatch) };
}

interface NativeResults {
  native: Results['native'];
  nativeDense: Results['native'];
  nativeSmall?: Results['nativeSmall'];
  placement: Results['placement'];
}

/** Every native job at each thread count (and its dense control), then at the reference's size; placement probes first. */
function nativeTimings(r: Run, w: Workload, gemm: GemmReport, pin: boolean, cpus: number[]): NativeResults {
  const { net, batch, shape, denseNet, smallBatch, smallShape } = w;
  const out: NativeResults = { native: [], nativeDense: [], placement: [] };
  const multi = r.threadCounts.filter((t) => t > 1);
  if (multi.length) {
    r.log('\nthread placement, unpinned: fresh pools, median ms per call and cores busy');
    for (const rule of JOBS.filter((j) => j.name === 'bptt' || j.name === 'modprop-online').map((j) => j.rule!)) {
      const probe = placementProbe(net, batch, rule, Math.max(...multi), r.settings.placementPools, 4);
      out.placement.push(probe);
      r.log(`  ${probe.rule.padEnd(16)} ${probe.threads} threads: ${probe.pools.map((p) => `${p.ms.toFixed(1)} ms/${p.coresBusy.toFixed(2)}`).join('  ')}`);
    }
  }
  for (const threads of r.threadCounts) {
    const pinned = setThreadsPlaced(threads, pin, cpus);
    r.log(`\nnative, B=${shape.batch} T=${shape.steps} N=${shape.nRec}, ${threads} thread${threads > 1 ? 's' : ''}` +
      (pin ? ` (pinned: JS thread to CPU ${cpus[0]}, ${pinned} pool thread${pinned === 1 ? '' : 's'} to the next)` : ' (unpinned)'));
    const end = r.watch(nativePhase(threads));
    const timings = runSuite(`native T=${shape.steps} threads=${threads}`, JOBS, (j) => callOf(j, net, batch, 'native'), r.settings.native, r.log);
    end();
    out.native.push({ threads, shape, pinned: pin, rows: measured(timings, shape, gemm, threads) });
    r.log(`  control: every unit active (threshold ${DENSE_THRESHOLD}), ${threads} thread${threads > 1 ? 's' : ''}`);
    const endDense = r.watch(`${nativePhase(threads)} dense`);
    const dense = runSuite(`native dense T=${shape.steps} threads=${threads}`, DENSE_JOBS, (j) => callOf(j, denseNet, batch, 'native'), r.settings.native, r.log);
    endDense();
    out.nativeDense.push({ threads, shape, pinned: pin, rows: measured(dense, shape, gemm, threads) });
  }
  const threads = Math.max(...r.threadCounts);
  setThreadsPlaced(threads, pin, cpus);
  r.log(`\nnative at the reference's size, T=${smallShape.steps}, ${threads} threads`);
  const end = r.watch(`native T=${smallShape.steps}`);
  const timings = runSuite(`native T=${smallShape.steps}`, JOBS, (j) => callOf(j, net, smallBatch, 'native'), r.settings.small, r.log);
  end();
  out.nativeSmall = { threads, shape: smallShape, rows: measured(timings, smallShape, gemm, threads) };
  return out;
}

function referenceTimings(r: Run, w: Workload): Results['reference'] {
  const scale = w.shape.steps / w.smallShape.steps;
  r.log(`\nreference (TypeScript, float64), T=${w.smallShape.steps}, scaled ×${scale}`);
  const end = r.watch('reference');
  const timings = runSuite(`reference T=${w.smallShape.steps}`, JOBS, (j) => callOf(j, w.net, w.smallBatch, 'reference'), r.settings.reference, r.log);
  end();
  return { shape: w.smallShape, scale, rows: timings.map((t) => ({ ...t, scaledMs: t.medianMs * scale })) };
}

async function trainTimings(r: Run, pin: boolean, cpus: number[]): Promise<TrainRow[]> {
  const train: TrainRow[] = [];
  const threads = Math.max(...r.threadCounts);
  // The gradients of train() run on a libuv thread, not the JS thread: let that one and the JS thread go anywhere.
  setThreadsPlaced(threads, pin, cpus);
  if (pin) unpinCaller(cpus);
  r.log(`\nend-to-end training iteration, ${threads} threads: train() ÷ its gradient, event-loop delay while training`);
  const end = r.watch('training iteration');
  // Every rule with the 'fast' sampler; Box–Muller (the default until the study is regenerated) for two of them.
  // Spiking rows beside them (docs/neurons.md): bptt and offline e-prop on lif and alif, the 'fast' sampler.
  const runs = [...JOBS.filter((j) => j.rule).map((j) => [j, 'fast', undefined] as const),
    ...JOBS.filter((j) => j.name === 'bptt' || j.name === 'modprop-online').map((j) => [j, 'box-muller', undefined] as const),
    ...(['lif', 'alif'] as const).flatMap((neuron) => JOBS.filter((j) => j.name === 'bptt' || j.name === 'eprop').map((j) => [j, 'fast', neuron] as const))];
  for (const [job, sampler, neuron] of runs) {
    const t = await measureTraining(job, sampler, { nRec: PAPER.nRec, batch: PAPER.batch, threads, ...r.settings.train, ...(neuron ? { neuron } : {}) });
    train.push(t);
    r.log(trainRowLine(t));
  }
  end();
  return train;
}

async function torchPeer(r: Run, w: Workload, train: TrainRow[], native: boolean): Promise<TorchPeer> {
  r.log('\nPyTorch peer: a BPTT training step of the same network (/usr/bin/python3, bench/torch_peer.py)');
  const end = r.watch('torch');
  const torch = runTorchPeer({ batch: PAPER.batch, steps: w.paperTask.steps, nRec: PAPER.nRec, threads: [...new Set([1, Math.min(2, r.m.cores)])], reps: r.settings.torchReps });
  if (!torch.available) r.log(`  skipped: ${torch.reason}`);
  else {
    r.log(`  torch ${torch.torch}, ${torch.blas}: best step ${torch.bestMs.toFixed(1)} ms (${torch.bestThreads} thread${torch.bestThreads > 1 ? 's' : ''})`);
    for (const p of peerRatios(torch, train)) r.log(`  ${p.label} (${p.sampler}): training iteration ${p.trainMs.toFixed(2)} ms, ${p.ratio.toFixed(1)}× faster than PyTorch (goal ≥ ${p.goal}×)`);
    if (native) {
      // The same ratio with both sides measured in alternation (bench/torch.ts pairedPeer), the peer at its best thread count.
      const { short, long } = r.settings.train;
      torch.paired = await pairedPeer({ batch: PAPER.batch, steps: w.paperTask.steps, nRec: PAPER.nRec, threads: torch.bestThreads,
        rounds: r.settings.torchRounds, stepsPerRound: 3, jobs: JOBS.filter((j) => PEER_GOALS[j.name] !== undefined) },
      (job) => marginalIterationMs(job, { nRec: PAPER.nRec, batch: PAPER.batch, short, long, threads: Math.min(2, r.m.cores) }));
      for (const p of torch.paired.rows) {
        r.log(`  paired, ${p.label}: PyTorch step ÷ training iteration ${p.ratio.toFixed(1)}× (median of ${p.ratios.length} rounds${p.interval ? `, 95 % interval ${p.interval.lo.toFixed(1)}–${p.interval.hi.toFixed(1)}` : ''}; goal ≥ ${p.goal}×)`);
      }
    }
  }
  end();
  return torch;
}

function memoryPhase(r: Run): Results['memory'] {
  const steps = r.quick ? MEMORY_STEPS.quick : MEMORY_STEPS.full;
  r.log(`\nmemory: peak RSS of a fresh process per rule and T (B = 1), bptt up to an estimated ${r.memoryLimitGB} GB`);
  return runMemory({ steps, limitGB: r.memoryLimitGB, threads: r.defaultThreads }, r.log);
}

function scalingPhase(r: Run, gemm: GemmReport): Results['scaling'] {
  r.log(`\nscaling: N = ${r.quick ? '512, 1024' : '512 … 4096'}, dense control, ${r.defaultThreads} threads (bench/scaling.ts)`);
  const end = r.watch('scaling');
  const scaling = runScaling({ quick: r.quick, threads: r.defaultThreads, gemm, suite: r.settings.scaling, memoryLimitGB: r.memoryLimitGB }, r.log);
  end();
  return scaling;
}

/** What the phases measured: the results file without the run's description and the judged targets. */
type Measured = Omit<Results, 'name' | 'date' | 'command' | 'quick' | 'phases' | 'metadata' | 'machine' | 'git' | 'targets' | 'durationSec' | 'flopModel' | 'contention'>;

/** Judges the targets, writes NAME.json (and RESULTS.md for a full run or --out) and prints the targets. */
function writeResults(r: Run, measuredResults: Measured): void {
  const noNative = r.nativeUnavailable ? 'no native engine' : 'native phase not run (--phases)';
  const { native, reference, gemm, memory } = measuredResults;
  const targets = [
    ...judge(native, reference?.rows ?? [], gemm, r.m.cores, r.contention, noNative),
    judgeMemory(memory, 'memory phase not run (--phases)'),
  ];
  const { addon, nativeUnavailable, pinned, placement, nativeSmall, train, torch, activity, scaling, typeScaling, sparse } = measuredResults;
  const results: Results = {
    name: r.name, date: new Date().toISOString(), command: commandLine(r.argv), quick: r.quick, phases: r.phases, metadata: runMetadata(),
    machine: { ...r.m, loadAvgEnd: os.loadavg() }, git: gitState(), addon, nativeUnavailable, gemm,
    flopModel: 'bench/README.md#flop-model (bench/flops.ts)', pinned, contention: r.contention, placement, native, nativeSmall, reference, train, torch,
    activity, memory, scaling, targets, typeScaling, sparse,
    durationSec: (performance.now() - r.started) / 1000,
  };
  const dir = r.outDir ?? path.join(BENCH, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

  const md = renderMarkdown(results, undefined);
  r.log(`\n${md.slice(md.indexOf('## Targets'), md.indexOf('## GEMM rate'))}`);
  r.log(`wrote ${path.relative(process.cwd(), file)}`);
  if (r.outDir || r.complete) r.log(`wrote ${path.relative(process.cwd(), writeMarkdown(results, BENCH, r.outDir))}`);
  r.log(`done in ${Math.round(results.durationSec!)} s`);
}

async function main(): Promise<void> {
  const r = parseRun(process.argv.slice(2));
  if (!r) return;
  const { run, m, log } = r;
  log(`modprop bench${r.quick ? ' (quick)' : ''}: ${m.cpu}, ${m.cores} cores, Node ${m.node}; native threads ${r.threadCounts.join(', ')}; phases ${r.phases.join(', ')}`);
  if (m.loadAvgStart[0] > 0.5) log(`warning: load average ${m.loadAvgStart[0].toFixed(2)}: other processes are running and will skew the timings`);
  checkNative(r);
  const native = !r.nativeUnavailable;
  const addon = backend.native ? { ...backend.native } : undefined;
  if (addon && typeof addon.path === 'string') addon.path = path.relative(ROOT, addon.path);

  const gemm: GemmReport = run('gemm') ? gemmPhase(r) : { available: false, note: 'not measured in this run (--phases)', runs: [], large: {}, step: {} };
  const w = workload();
  const cpus = allowedCpus(m.cores);
  const pin = native && !r.noPin && (run('native') || run('train')) && canPin() && cpus.length > 1;
  const timed: NativeResults = native && run('native') ? nativeTimings(r, w, gemm, pin, cpus) : { native: [], nativeDense: [], placement: [] };
  const reference = run('reference') ? referenceTimings(r, w) : undefined;
  const train = native && run('train') ? await trainTimings(r, pin, cpus) : [];
  if (native) setThreads(r.defaultThreads);
  if (pin) unpinCaller(cpus);
  const torch = run('torch') ? await torchPeer(r, w, train, native) : undefined;
  const memory = run('memory') ? memoryPhase(r) : undefined;
  let typeScaling: Results['typeScaling'];
  if (run('types') && native) {
    log('\ntypes: ModProp and MDGL with C = 2 … N cell types (bench/types.ts)');
    typeScaling = runTypeScaling(r.quick, log);
  }
  let sparse: Results['sparse'];
  if (run('sparse') && native) {
    log('\nsparse: dense kernels and the sparse path on sparse networks (bench/types.ts)');
    sparse = runSparse(r.quick, log);
  }
  const scaling = native && run('scaling') ? scalingPhase(r, gemm) : undefined;

  writeResults(r, {
    addon, nativeUnavailable: r.nativeUnavailable, gemm, pinned: pin, placement: timed.placement, native: timed.native, nativeSmall: timed.nativeSmall,
    reference, train, torch, activity: { fraction: w.activeFraction, dense: { threshold: DENSE_THRESHOLD, fraction: w.denseActive, runs: timed.nativeDense } },
    memory, scaling, typeScaling, sparse,
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
});
