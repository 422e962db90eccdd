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
import { measureTraining, trainRowLine, type TrainRow } from './trainPhase';
import { peerRatios, runTorchPeer, type TorchPeer } from './torch';
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
  train: { short: number; long: number; repeats: number; gradientCalls: number }; torchReps: number; scaling: SuiteOptions;
}
const FULL: Settings = {
  native: { minSamples: 20, maxTime: 6 }, small: { minSamples: 10, maxTime: 1 }, reference: { minSamples: 5, maxTime: 5 },
  gemmReps: 9, placementPools: 8, train: { short: 5, long: 45, repeats: 3, gradientCalls: 20 }, torchReps: 5,
  scaling: { minSamples: 3, maxTime: 1 },
};
const QUICK: Settings = {
  native: { minSamples: 3, maxTime: 0.5 }, small: { minSamples: 3, maxTime: 0.2 }, reference: { minSamples: 2, maxTime: 0.3 },
  gemmReps: 3, placementPools: 4, train: { short: 2, long: 8, repeats: 1, gradientCalls: 3 }, torchReps: 1,
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

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      quick: { type: 'boolean', default: false }, threads: { type: 'string' }, name: { type: 'string' },
      'skip-reference': { type: 'boolean', default: false }, 'skip-train': { type: 'boolean', default: false },
      report: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
      'no-pin': { type: 'boolean', default: false }, phases: { type: 'string' }, out: { type: 'string' },
      'memory-limit-gb': { type: 'string' },
    },
  });
  if (values.help) return void console.log(USAGE);
  const outDir = values.out === undefined ? undefined : path.resolve(values.out);
  if (outDir) fs.mkdirSync(outDir, { recursive: true });
  if (values.report) {
    const results = JSON.parse(fs.readFileSync(values.report, 'utf8')) as Results;
    return void console.log(`wrote ${path.relative(process.cwd(), writeMarkdown(results, BENCH, outDir))}`);
  }
  const phases = parsePhases(values.phases, { reference: values['skip-reference'] ?? false, train: values['skip-train'] ?? false });
  const run = (p: Phase): boolean => phases.includes(p);
  const memoryLimitGB = positiveNumber(values['memory-limit-gb'], '--memory-limit-gb', 3);
  const complete = !values.quick && phases.length === PHASES.length;

  const started = performance.now();
  const settings = values.quick ? QUICK : FULL;
  const m = machine();
  const threadCounts = parseThreads(values.threads, m.cores);
  const name = values.name ?? (values.quick ? 'quick' : complete ? `${slug(m.cpu)}-${m.cores}c-node${process.versions.node.split('.')[0]}` : `partial-${phases.join('-')}`);
  const log = (line: string): void => console.log(line);
  log(`modprop bench${values.quick ? ' (quick)' : ''}: ${m.cpu}, ${m.cores} cores, Node ${m.node}; native threads ${threadCounts.join(', ')}; phases ${phases.join(', ')}`);
  if (m.loadAvgStart[0] > 0.5) log(`warning: load average ${m.loadAvgStart[0].toFixed(2)}: other processes are running and will skew the timings`);

  let nativeUnavailable: string | undefined;
  const defaultThreads = getThreads();
  try {
    setThreads(defaultThreads);
  } catch (err) {
    nativeUnavailable = (err as Error).message;
    log(`native engine: not available (${nativeUnavailable}); only the reference engine is timed`);
  }
  const addon = backend.native ? { ...backend.native } : undefined;
  if (addon && typeof addon.path === 'string') addon.path = path.relative(ROOT, addon.path);

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
  let gemm: GemmReport = { available: false, note: 'not measured in this run (--phases)', runs: [], large: {}, step: {} };
  if (run('gemm')) {
    log('\nsgemm rate (OpenBLAS) ...');
    const endGemm = watch('gemm');
    gemm = measureGemm(threadCounts, { size: 1024, batch: PAPER.batch, nRec: PAPER.nRec, reps: settings.gemmReps });
    for (const line of gemm.available ? gemm.runs.map((r) => `  ${r.m}×${r.k}×${r.n} ×${r.concurrent} thr ${r.openblasThreads} ${r.core}: ${r.gflopsMedian.toFixed(1)} GFLOP/s`) : [`  ${gemm.note}`]) log(line);
    endGemm();
  }

  const paperTask = tasks.delayedXor();
  const net = Network.create({ nIn: paperTask.nIn, nRec: PAPER.nRec, nOut: paperTask.nOut, seed: 1 });
  const batch = paperTask.sample(PAPER.batch, 1);
  const shape = shapeOf(net, batch);
  // The kernels skip units that are silent (ReLU zeros) on every row of a block, so their speed depends on how active
  // the network is. The control: the same weights with threshold −10, where every unit is active at every step.
  const activeFraction = fractionActive(net, batch);
  const denseNet = Network.fromParams({ nIn: net.nIn, nRec: net.nRec, nOut: net.nOut, threshold: DENSE_THRESHOLD }, net.params);
  const denseActive = fractionActive(denseNet, batch);
  const smallTask = tasks.delayedXor(REFERENCE_TASK);
  const smallBatch = smallTask.sample(PAPER.batch, 1);
  const smallShape = shapeOf(net, smallBatch);

  const native: Results['native'] = [];
  const nativeDense: Results['native'] = [];
  let nativeSmall: Results['nativeSmall'];
  const placement: Results['placement'] = [];
  const cpus = allowedCpus(m.cores);
  const pin = !nativeUnavailable && !values['no-pin'] && (run('native') || run('train')) && canPin() && cpus.length > 1;
  if (!nativeUnavailable && run('native')) {
    const multi = threadCounts.filter((t) => t > 1);
    if (multi.length) {
      log('\nthread placement, unpinned: fresh pools, median ms per call and cores busy');
      for (const rule of JOBS.filter((j) => j.name === 'bptt' || j.name === 'modprop-online').map((j) => j.rule!)) {
        const probe = placementProbe(net, batch, rule, Math.max(...multi), settings.placementPools, 4);
        placement.push(probe);
        log(`  ${probe.rule.padEnd(16)} ${probe.threads} threads: ${probe.pools.map((p) => `${p.ms.toFixed(1)} ms/${p.coresBusy.toFixed(2)}`).join('  ')}`);
      }
    }
    for (const threads of threadCounts) {
      const pinned = setThreadsPlaced(threads, pin, cpus);
      log(`\nnative, B=${shape.batch} T=${shape.steps} N=${shape.nRec}, ${threads} thread${threads > 1 ? 's' : ''}` +
        (pin ? ` (pinned: JS thread to CPU ${cpus[0]}, ${pinned} pool thread${pinned === 1 ? '' : 's'} to the next)` : ' (unpinned)'));
      const end = watch(nativePhase(threads));
      const timings = runSuite(`native T=${shape.steps} threads=${threads}`, JOBS, (j) => callOf(j, net, batch, 'native'), settings.native, log);
      end();
      native.push({ threads, shape, pinned: pin, rows: measured(timings, shape, gemm, threads) });
      log(`  control: every unit active (threshold ${DENSE_THRESHOLD}), ${threads} thread${threads > 1 ? 's' : ''}`);
      const endDense = watch(`${nativePhase(threads)} dense`);
      const dense = runSuite(`native dense T=${shape.steps} threads=${threads}`, DENSE_JOBS, (j) => callOf(j, denseNet, batch, 'native'), settings.native, log);
      endDense();
      nativeDense.push({ threads, shape, pinned: pin, rows: measured(dense, shape, gemm, threads) });
    }
    const threads = Math.max(...threadCounts);
    setThreadsPlaced(threads, pin, cpus);
    log(`\nnative at the reference's size, T=${smallShape.steps}, ${threads} threads`);
    const end = watch(`native T=${smallShape.steps}`);
    const timings = runSuite(`native T=${smallShape.steps}`, JOBS, (j) => callOf(j, net, smallBatch, 'native'), settings.small, log);
    end();
    nativeSmall = { threads, shape: smallShape, rows: measured(timings, smallShape, gemm, threads) };
  }

  let reference: Results['reference'];
  if (run('reference')) {
    const scale = shape.steps / smallShape.steps;
    log(`\nreference (TypeScript, float64), T=${smallShape.steps}, scaled ×${scale}`);
    const end = watch('reference');
    const timings = runSuite(`reference T=${smallShape.steps}`, JOBS, (j) => callOf(j, net, smallBatch, 'reference'), settings.reference, log);
    end();
    reference = { shape: smallShape, scale, rows: timings.map((t) => ({ ...t, scaledMs: t.medianMs * scale })) };
  }

  const train: TrainRow[] = [];
  if (!nativeUnavailable && run('train')) {
    const threads = Math.max(...threadCounts);
    // The gradients of train() run on a libuv thread, not the JS thread: let that one and the JS thread go anywhere.
    setThreadsPlaced(threads, pin, cpus);
    if (pin) unpinCaller(cpus);
    log(`\nend-to-end training iteration, ${threads} threads: train() ÷ its gradient, event-loop delay while training`);
    const end = watch('training iteration');
    // Every rule with the 'fast' sampler; Box–Muller (the default until the study is regenerated) for two of them.
    // Spiking rows beside them (docs/neurons.md): bptt and offline e-prop on lif and alif, the 'fast' sampler.
    const runs = [...JOBS.filter((j) => j.rule).map((j) => [j, 'fast', undefined] as const),
      ...JOBS.filter((j) => j.name === 'bptt' || j.name === 'modprop-online').map((j) => [j, 'box-muller', undefined] as const),
      ...(['lif', 'alif'] as const).flatMap((neuron) => JOBS.filter((j) => j.name === 'bptt' || j.name === 'eprop').map((j) => [j, 'fast', neuron] as const))];
    for (const [job, sampler, neuron] of runs) {
      const t = await measureTraining(job, sampler, { nRec: PAPER.nRec, batch: PAPER.batch, threads, ...settings.train, ...(neuron ? { neuron } : {}) });
      train.push(t);
      log(trainRowLine(t));
    }
    end();
  }
  if (!nativeUnavailable) setThreads(defaultThreads);
  if (pin) unpinCaller(cpus);

  let torch: TorchPeer | undefined;
  if (run('torch')) {
    log('\nPyTorch peer: a BPTT training step of the same network (/usr/bin/python3, bench/torch_peer.py)');
    const end = watch('torch');
    torch = runTorchPeer({ batch: PAPER.batch, steps: paperTask.steps, nRec: PAPER.nRec, threads: [...new Set([1, Math.min(2, m.cores)])], reps: settings.torchReps });
    end();
    if (!torch.available) log(`  skipped: ${torch.reason}`);
    else {
      log(`  torch ${torch.torch}, ${torch.blas}: best step ${torch.bestMs.toFixed(1)} ms (${torch.bestThreads} thread${torch.bestThreads > 1 ? 's' : ''})`);
      for (const p of peerRatios(torch, train)) log(`  ${p.label} (${p.sampler}): training iteration ${p.trainMs.toFixed(2)} ms, ${p.ratio.toFixed(1)}× faster than PyTorch (goal ≥ ${p.goal}×)`);
    }
  }

  let memory: Results['memory'];
  if (run('memory')) {
    const steps = values.quick ? MEMORY_STEPS.quick : MEMORY_STEPS.full;
    log(`\nmemory: peak RSS of a fresh process per rule and T (B = 1), bptt up to an estimated ${memoryLimitGB} GB`);
    memory = runMemory({ steps, limitGB: memoryLimitGB, threads: defaultThreads }, log);
  }
  let typeScaling: Results['typeScaling'];
  if (run('types') && !nativeUnavailable) {
    log('\ntypes: ModProp and MDGL with C = 2 … N cell types (bench/types.ts)');
    typeScaling = runTypeScaling(values.quick ?? false, log);
  }
  let sparse: Results['sparse'];
  if (run('sparse') && !nativeUnavailable) {
    log('\nsparse: dense kernels and the sparse path on sparse networks (bench/types.ts)');
    sparse = runSparse(values.quick ?? false, log);
  }

  let scaling: Results['scaling'];
  if (!nativeUnavailable && run('scaling')) {
    log(`\nscaling: N = ${values.quick ? '512, 1024' : '512 … 4096'}, dense control, ${defaultThreads} threads (bench/scaling.ts)`);
    const end = watch('scaling');
    scaling = runScaling({ quick: values.quick ?? false, threads: defaultThreads, gemm, suite: settings.scaling, memoryLimitGB }, log);
    end();
  }

  const noNative = nativeUnavailable ? 'no native engine' : 'native phase not run (--phases)';
  const targets = [
    ...judge(native, reference?.rows ?? [], gemm, m.cores, contention, noNative),
    judgeMemory(memory, 'memory phase not run (--phases)'),
  ];
  const results: Results = {
    name, date: new Date().toISOString(), command: commandLine(argv), quick: values.quick ?? false, phases, metadata: runMetadata(),
    machine: { ...m, loadAvgEnd: os.loadavg() }, git: gitState(), addon, nativeUnavailable, gemm,
    flopModel: 'bench/README.md#flop-model (bench/flops.ts)', pinned: pin, contention, placement, native, nativeSmall, reference, train, torch,
    activity: { fraction: activeFraction, dense: { threshold: DENSE_THRESHOLD, fraction: denseActive, runs: nativeDense } },
    memory, scaling, targets, typeScaling, sparse,
    durationSec: (performance.now() - started) / 1000,
  };
  const dir = outDir ?? path.join(BENCH, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

  const md = renderMarkdown(results, undefined);
  log(`\n${md.slice(md.indexOf('## Targets'), md.indexOf('## GEMM rate'))}`);
  log(`wrote ${path.relative(process.cwd(), file)}`);
  if (outDir || complete) log(`wrote ${path.relative(process.cwd(), writeMarkdown(results, BENCH, outDir))}`);
  log(`done in ${Math.round(results.durationSec!)} s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
});
