/**
 * The results of one run (written as bench/results/<name>.json) and their rendering: the console tables and
 * bench/RESULTS.md. RESULTS.md is generated from the JSON alone, so `--report <file>` can redo it without re-running;
 * its "Where the time goes" section is bench/profile.md, included verbatim (it comes from a profiler, not this run).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlopCount, Shape } from './flops';
import type { GemmRate, GemmReport } from './gemm';
import type { Load } from './load';
import type { MemoryResults } from './memory';
import { scalingLines, type ScalingResults } from './scaling';
import type { PlacementProbe } from './placement';
import type { Timing, TrainTiming } from './suites';
import { peerRatios, type TorchPeer } from './torch';
import type { TrainRow } from './trainPhase';
import type { Row, TargetResult } from './targets';
import type { RunMetadata } from '../lib/metadata';
import { sparseLines, typeScalingLines, type SparseRow, type TypeRow } from './types';

export interface Machine {
  cpu: string; cores: number; avx2: boolean; avx512f: boolean; memGiB: number; os: string; node: string;
  compiler?: string; loadAvgStart: number[]; loadAvgEnd?: number[];
}

export type MeasuredRow = Row & Timing & { gflop: number; flops: FlopCount; vsBptt?: number };

export interface Results {
  name: string;
  date: string;
  command: string;
  quick: boolean;
  /** The phases run (`--phases`); absent in results from before the option, which ran every phase but memory. */
  phases?: string[];
  /** The record every result file carries (lib/metadata.ts); absent in results from before it. */
  metadata?: RunMetadata;
  durationSec?: number;
  machine: Machine;
  git?: { commit: string; dirty: boolean };
  /** backend.native: what the addon reports about itself (absent when it did not load). */
  addon?: Record<string, unknown>;
  /** Why there is no native engine, when there is none. */
  nativeUnavailable?: string;
  gemm: GemmReport;
  flopModel: string;
  native: { threads: number; shape: Shape; pinned: boolean; rows: MeasuredRow[] }[];
  /** Whether the native suites pinned the JS thread and the pool's workers to distinct CPUs. */
  pinned: boolean;
  /** Per phase: CPU used by other processes (and steal) while it ran, in cores. */
  contention?: Record<string, Load>;
  /** Unpinned fresh pools: how often the OS let the pool's threads share one core. */
  placement: PlacementProbe[];
  /** Fraction of non-zero rates on the bench batch, and the same jobs on a network where every unit is active. */
  activity?: { fraction: number; dense: { threshold: number; fraction: number; runs: Results['native'] } };
  /** Native at the reference's size, for a same-size ratio. */
  nativeSmall?: { threads: number; shape: Shape; rows: MeasuredRow[] };
  reference?: { shape: Shape; scale: number; rows: (Timing & { scaledMs: number })[] };
  /** Older results lack the sampler, gradient, ratio and event-loop fields. */
  train: (TrainTiming & { threads: number } & Partial<TrainRow>)[];
  /** The PyTorch peer (bench/torch.ts); absent when the phase did not run. */
  torch?: TorchPeer;
  /** bench/types.ts: the C-scaling and sparse-connectivity tables; absent in results from before them. */
  typeScaling?: TypeRow[];
  sparse?: SparseRow[];
  /** Peak RSS per rule and T (bench/memory.ts). */
  memory?: MemoryResults;
  /** Large networks: jobs per N, the PyTorch peer, Network.create and peak RSS per N (bench/scaling.ts). */
  scaling?: ScalingResults;
  targets: TargetResult[];
}

const f = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const pct = (x: number | undefined): string => (x === undefined ? '—' : `${(100 * x).toFixed(1)} %`);
const shapeText = (s: Shape): string => `B = ${s.batch}, T = ${s.steps}, N = ${s.nRec}, I = ${s.nIn}, K = ${s.nOut}, C = ${s.nTypes}`;

function gemmLine(r: GemmRate): string {
  const how = r.concurrent > 1 ? `${r.concurrent} products at once, 1 thread each` : `${r.openblasThreads} OpenBLAS thread${r.openblasThreads > 1 ? 's' : ''}`;
  return `| ${r.m}×${r.k}×${r.n} | ${how} | ${r.core}${r.coretype ? ' (forced)' : ''} | ${f(r.gflopsMedian)} | ${f(r.gflopsMin)}–${f(r.gflopsMax)} |`;
}

export function gemmTable(g: GemmReport): string[] {
  if (!g.available) return [`**No GEMM rate:** ${g.note}. The "% of GEMM" columns and the first target are left empty.`];
  return [
    '| product (m×k×n) | threads | OpenBLAS kernel | GFLOP/s (median) | range |',
    '|---|---|---|---:|---|',
    ...g.runs.map(gemmLine),
  ];
}

function nativeTable(runs: Results['native']): string[] {
  const lines = [
    '| rule | threads | ms / call (median) | IQR | cores busy | GFLOP / call | GFLOP/s | % of sgemm (large) | % of sgemm (step shape) | speed-up vs bptt |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of runs)
    for (const row of run.rows)
      lines.push(`| ${row.label} | ${run.threads} | ${f(row.medianMs, 2)} | ±${f(row.iqrPct / 2)} % | ${f(row.coresBusy, 2)} | ${f(row.gflop, 3)} | ${f(row.gflops)} | ` +
        `${pct(row.fracGemm)} | ${pct(row.fracStep)} | ${row.vsBptt === undefined ? '—' : `${f(row.vsBptt, 2)}×`} |`);
  return lines;
}

function referenceTable(r: Results): string[] {
  if (!r.reference) return ['The reference engine was not measured in this run (`--skip-reference` or `--phases`).'];
  const ref = r.reference;
  const full = r.native.length ? r.native.reduce((a, b) => (b.threads > a.threads ? b : a)) : undefined;
  const lines = [
    `Reference (pure TypeScript, float64, one thread) at ${shapeText(ref.shape)}, scaled ×${ref.scale} to T = ${ref.shape.steps * ref.scale}` +
      ` (every rule's cost is linear in T). "same size" divides by the native engine at the reference's T.`,
    '',
    `| rule | reference ms @ T = ${ref.shape.steps} | ×${ref.scale} → T = ${ref.shape.steps * ref.scale} | native ms @ T = ${full?.shape.steps ?? '—'} (${full?.threads ?? '—'} threads) | native speed-up | native ms @ T = ${r.nativeSmall?.shape.steps ?? '—'} | speed-up, same size |`,
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of ref.rows) {
    const n = full?.rows.find((x) => x.job === row.job);
    const s = r.nativeSmall?.rows.find((x) => x.job === row.job);
    lines.push(`| ${row.label} | ${f(row.medianMs, 1)} | ${f(row.scaledMs, 0)} | ${f(n?.medianMs, 2)} | ${n ? `${f(row.scaledMs / n.medianMs)}×` : '—'} | ` +
      `${f(s?.medianMs, 3)} | ${s ? `${f(row.medianMs / s.medianMs)}×` : '—'} |`);
  }
  return lines;
}

function placementLines(r: Results): string[] {
  if (!r.placement?.length) return [];
  const lines = [
    '## Thread placement (unpinned)',
    '',
    'Fresh pools with the OS left to place the threads (no pinning), 4 calls each: median ms / cores busy per pool.',
    'A pool at ≈ 1.0 cores busy had its two threads on one core (see bench/README.md, "Thread placement").',
    '',
    '| rule | threads | per pool: ms / cores busy | pools with < 1.5 cores busy |',
    '|---|---:|---|---:|',
  ];
  for (const p of r.placement)
    lines.push(`| ${p.rule} | ${p.threads} | ${p.pools.map((x) => `${f(x.ms, 1)} / ${f(x.coresBusy, 2)}`).join(', ')} | ` +
      `${p.pools.filter((x) => x.coresBusy < 1.5).length} of ${p.pools.length} |`);
  return [...lines, ''];
}

function trainTable(r: Results): string[] {
  if (!r.train.length) return ['Not measured.'];
  const loop = (t: Results['train'][number]): string => (t.eventLoop ? `${f(t.eventLoop.p50)} / ${f(t.eventLoop.p99)} / ${f(t.eventLoop.max)}${t.idleLoop ? ` (idle worker ${f(t.idleLoop.max)})` : ''}` : '—');
  return [
    '| rule | sampler | threads | ms / training iteration (median) | gradient ms (trained networks, their batches) | iteration ÷ gradient (goal ≤ 1.15) | its 95 % interval: goal | gradient ms, one batch / its ratio | gradient ms (untrained network) | event loop p50 / p99 / max ms (goal p99 < 10; the max an idle worker thread saw in the same run) | iterations timed | runs |',
    '|---|---|---:|---:|---:|---:|---|---|---:|---|---:|---|',
    ...r.train.map((t) => `| ${t.label} | ${t.sampler ?? 'box-muller'} | ${t.threads} | ${f(t.medianMs, 2)} | ${f(t.gradientMs, 2)} | ${f(t.ratio, 2)} | ${ratioVerdict(t.ratioInterval)} | ${t.gradientOneBatchMs === undefined || t.oneBatchRatio === undefined ? '—' : `${f(t.gradientOneBatchMs, 2)} / ${f(t.oneBatchRatio, 2)}`} | ${t.gradientFreshMs === undefined ? '—' : f(t.gradientFreshMs, 2)} | ${loop(t)} | ${t.long !== undefined && t.short !== undefined ? t.long - t.short : '—'} | ${t.runsMs.map((x, i) => (t.ratios ? `${f(x, 1)} (${f(t.ratios[i], 2)})` : f(x, 1))).join(', ')} |`),
  ];
}

/** The sign test's coverage for the train rows' intervals, e.g. "97.3 % coverage with 21 repeats" (one line for the design). */
function coverageText(rows: Results['train']): string {
  const designs = [...new Set(rows.filter((t) => t.ratioInterval).map((t) => `${f(100 * t.ratioInterval!.coverage, 1)} % coverage with ${t.runsMs.length} repeats`))];
  return designs.length ? designs.join('; ') : 'no row had enough repeats for one';
}

/** The sign test's interval for the median ratio, and what it says of the goal ≤ 1.15 (met, missed, or undecided). */
function ratioVerdict(ci: TrainRow['ratioInterval']): string {
  if (!ci) return '—';
  const verdict = ci.hi <= 1.15 ? 'met' : ci.lo > 1.15 ? 'missed' : 'undecided';
  return `${f(ci.lo, 2)}–${f(ci.hi, 2)}: ${verdict}`;
}

function torchLines(r: Results): string[] {
  if (!r.torch) return ['Not measured in this run (`--phases`).'];
  if (!r.torch.available) return [`Skipped: ${r.torch.reason}.`];
  const t = r.torch;
  return [
    `PyTorch ${t.torch} (${t.blas}): one BPTT training step of the same network (Python loop over T = ${t.shape.steps}, B = ${t.shape.batch},`,
    `N = ${t.shape.nRec}, autograd, Adam), best of ${Object.keys(t.stepMs).join(' and ')} threads: **${f(t.bestMs, 1)} ms** (${Object.entries(t.stepMs).map(([n, ms]) => `${n} thread${n === '1' ? '' : 's'} ${f(ms, 1)} ms`).join(', ')}).`,
    '',
    '| rule | sampler | training iteration ms | PyTorch step ÷ training iteration | goal |',
    '|---|---|---:|---:|---:|',
    ...peerRatios(t, r.train.filter((x): x is TrainRow => x.sampler !== undefined)).map((p) => `| ${p.label} | ${p.sampler} | ${f(p.trainMs, 2)} | ${f(p.ratio, 1)}× | ≥ ${p.goal}× |`),
    '',
    ...pairedLines(t.paired),
  ];
}

/** The paired PyTorch comparison (bench/torch.ts pairedPeer), with the sign test's verdict on each goal. */
function pairedLines(p: Extract<TorchPeer, { available: true }>['paired']): string[] {
  if (!p) return ['Paired comparison: not measured in this run.'];
  const verdict = (row: (typeof p.rows)[number]): string => {
    if (!row.interval) return '—';
    const v = row.interval.lo >= row.goal ? 'met' : row.interval.hi < row.goal ? 'missed' : 'undecided';
    return `${f(row.interval.lo, 1)}–${f(row.interval.hi, 1)}: ${v}`;
  };
  return [
    `The table above divides numbers from different phases of the run, minutes apart, and this VM's speed moves by up to`,
    `1.6× in minutes. Paired: one Python process serves the peer's steps (bench/torch_peer.py --serve, ${p.threads} thread${p.threads > 1 ? 's' : ''}); each of`,
    `${p.rounds} rounds takes the best of ${p.stepsPerRound} steps, then the rule's marginal training iteration (two train() runs, 'fast' sampler,`,
    `unpinned) and divides. The ratio is the median over the rounds; the interval, the sign test's 95 % interval for it:`,
    `the goal counts as met where its lower end is at least the goal, missed where its upper end is below.`,
    '',
    '| rule | PyTorch step ÷ training iteration (median) | its 95 % interval: goal | goal | rounds (PyTorch ms / iteration ms) |',
    '|---|---:|---|---:|---|',
    ...p.rows.map((row) => `| ${row.label} | ${f(row.ratio, 1)}× | ${verdict(row)} | ≥ ${row.goal}× | ${row.torchMs.map((t, i) => `${f(t, 0)} / ${f(row.trainMs[i], 2)}`).join(', ')} |`),
  ];
}

export function targetLines(targets: TargetResult[]): string[] {
  return [
    '| target (SPEC §7) | result | value | detail |',
    '|---|---|---:|---|',
    ...targets.map((t) => `| ${t.target} | **${t.status}** | ${targetValue(t)} | ${t.detail} |`),
  ];
}

function targetValue(t: TargetResult): string {
  if (t.value === undefined) return '—';
  if (t.id === 'bptt-gemm-fraction') return pct(t.value);
  if (t.id === 'online-memory') return `${f(t.value)} MB`;
  return `${f(t.value, 2)}×`;
}

const stepsText = (t: number): string => t.toLocaleString('en-US').replace(/,/g, ' ');

function memoryLines(r: Results): string[] {
  const m = r.memory;
  if (!m) return ['Not measured in this run (`--phases` without memory).'];
  const s = m.shape;
  const jobs = [...new Map(m.rows.map((x) => [x.job, x.label])).entries()];
  const cell = (x: { status?: string; peakMB?: number } | undefined): string =>
    (!x ? '—' : x.peakMB !== undefined ? f(x.peakMB) : x.status ?? 'failed');
  const lines = [
    `Peak RSS (VmHWM of \`/proc/self/status\`, which starts afresh at exec, unlike getrusage's maxRSS) of a fresh Node process (bench/memoryChild.ts, run with tsx) that builds the`,
    `delayed-XOR network (N = ${s.nRec}, I = ${s.nIn}, K = ${s.nOut}, default cell types), one batch of B = ${s.batch} × T steps, and calls`,
    '`gradients()` once on the native engine; "baseline" is the same process without the call (Node, tsx, the addon and',
    'its thread pool, the network, the batch). Online rules keep O(B·N·C²) state whatever T; bptt stores z and g for',
    `every step (≈ 8·T·B·N bytes, "estimate" = its native workspace) and is not run where that exceeds ${m.limitGB} GB`,
    '(`--memory-limit-gb`). "added by the call" is the peak RSS after the call minus the peak before it in the same',
    'process (a lower bound: start-up may have peaked higher); the baseline is a separate process, and start-up varies',
    'by a few MB from one process to the next. MB = 10⁶ bytes.',
    '',
    `| peak RSS (MB) | ${m.steps.map((t) => `T = ${stepsText(t)}`).join(' | ')} |`,
    `|---|${m.steps.map(() => '---:').join('|')}|`,
    `| baseline | ${m.steps.map((t) => cell(m.baselines.find((b) => b.steps === t))).join(' | ')} |`,
    ...jobs.map(([job, label]) => `| ${label} | ${m.steps.map((t) => cell(m.rows.find((x) => x.job === job && x.steps === t))).join(' | ')} |`),
    '',
    '| rule | T | peak RSS (MB) | baseline (MB) | added by the call (MB) | input batch (MB) | bptt estimate (MB) | gradients() (s) | note |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const order = (job: string): number => jobs.findIndex(([j]) => j === job);
  for (const x of [...m.rows].sort((a, b) => order(a.job) - order(b.job) || a.steps - b.steps)) {
    const extra = x.peakMB !== undefined && x.beforeMB !== undefined ? x.peakMB - x.beforeMB : undefined;
    lines.push(`| ${x.label} | ${stepsText(x.steps)} | ${f(x.peakMB)} | ${f(x.baselineMB)} | ${f(extra)} | ${f(x.batchMB, 3)} | ` +
      `${f(x.estimateMB)} | ${f(x.ms === undefined ? undefined : x.ms / 1000, 2)} | ${x.detail ?? ''} |`);
  }
  const failedBase = m.baselines.filter((b) => b.detail);
  if (failedBase.length) lines.push('', ...failedBase.map((b) => `Baseline at T = ${stepsText(b.steps)} failed: ${b.detail}`));
  return lines;
}

function machineLines(r: Results): string[] {
  const m = r.machine;
  const addon = r.addon
    ? `${r.addon.compiler ?? '?'}, SIMD ${r.addon.simd ?? '?'}, portable ${r.addon.portable ?? '?'}, ${r.addon.hardwareThreads ?? '?'} hardware threads`
    : `not loaded (${r.nativeUnavailable ?? 'unknown reason'})`;
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores (AVX2 ${m.avx2 ? 'yes' : 'no'}, AVX-512F ${m.avx512f ? 'yes' : 'no'}), ${f(m.memGiB, 0)} GiB`,
    `- ${m.os}; Node ${m.node}; ${m.compiler ?? 'no g++'}`,
    `- addon: ${addon}`,
    `- load average at start ${m.loadAvgStart.map((x) => x.toFixed(2)).join(' ')}${m.loadAvgEnd ? `, at end ${m.loadAvgEnd.map((x) => x.toFixed(2)).join(' ')}` : ''}`,
    ...(r.contention ? [`- CPU used by other processes while each phase ran (cores; steal in brackets): ${Object.entries(r.contention)
      .map(([phase, l]) => `${phase} ${l.othersCores.toFixed(2)} (${l.stealCores.toFixed(2)})`).join(', ')}`] : []),
    `- commit ${r.git ? `${r.git.commit.slice(0, 12)}${r.git.dirty ? ' (with uncommitted changes)' : ''}` : 'unknown'}; ${r.date}${r.durationSec ? `; the run took ${Math.round(r.durationSec)} s` : ''}`,
  ];
}

/** The speed targets again on the dense-activity control, so a reader sees what the skipped zeros are worth. */
function controlLines(r: Results): string[] {
  const runs = r.activity?.dense.runs ?? [];
  const full = runs.length ? runs.reduce((a, b) => (b.threads > a.threads ? b : a)) : undefined;
  const bptt = full?.rows.find((x) => x.job === 'bptt');
  const online = full?.rows.find((x) => x.job === 'modprop-online');
  if (!full || !bptt || !online) return [];
  return [
    `The kernels skip ReLU zeros (${pct(r.activity!.fraction)} of the rates are non-zero on the bench batch). With every unit`,
    `active (the control under the native table), at ${full.threads} threads: bptt ${f(bptt.gflops)} GFLOP/s = ${pct(bptt.fracGemm)} of the`,
    `sgemm rate, modprop online ${f(online.vsBptt, 2)}× faster than bptt.`,
    '',
  ];
}

/** How active the bench network is, and the control where no ReLU zero can be skipped. */
function activityLines(r: Results): string[] {
  const a = r.activity;
  if (!a) return [];
  return [
    `The kernels skip a unit for a block of rows when its rate is 0 in all of them (exact zeros, so the sums are unchanged).`,
    `On this batch ${pct(a.fraction)} of the rates z are non-zero, so part of the work is skipped, while "GFLOP / call" counts`,
    `the dense products. The control below runs the same weights and batch with threshold ${a.dense.threshold}, where`,
    `${pct(a.dense.fraction)} of the rates are non-zero and nothing can be skipped:`,
    '',
    ...nativeTable(a.dense.runs),
    '',
  ];
}

export function renderMarkdown(r: Results, profile: string | undefined): string {
  const full = r.native[0]?.shape;
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`${r.command}\` (bench/index.ts; results in \`bench/results/${r.name}.json\`). Timings on a shared 2-core VM are`,
    'noisy: compare the ratios within one run, not across runs. Each number is a median; IQR is ± half the interquartile',
    'range of the samples. The FLOP model (what "GFLOP / call" counts) is in [bench/README.md](README.md#flop-model).',
    '',
    '## Machine',
    '',
    ...machineLines(r),
    '',
    '## Targets',
    '',
    ...targetLines(r.targets),
    '',
    ...controlLines(r),
    `## Native engine, delayed XOR at the paper's size${full ? ` (${shapeText(full)})` : ''}`,
    '',
    ...(r.native.length ? [
      r.pinned ? 'Threads pinned: the JS thread to the first CPU, the pool\'s worker(s) to the next (see "Thread placement").'
        : 'Threads not pinned (`--no-pin`, or no taskset here): the OS placed them.',
      '',
      ...nativeTable(r.native),
      '',
      ...activityLines(r),
      '"% of sgemm (large)" divides by the OpenBLAS rate at 1024³ with the same number of threads; "step shape" by the',
      'rate of the products the kernel is made of, (B / threads) × N × N, one per thread at once. "cores busy" is the',
      'process\'s CPU time over wall time while the job ran (≈ threads when every thread worked).',
    ] : [r.nativeUnavailable ? `No native engine: ${r.nativeUnavailable}.` : 'Not measured in this run (`--phases`).']),
    '',
    '## Native vs reference',
    '',
    ...referenceTable(r),
    '',
    ...placementLines(r),
    '## End-to-end training iteration',
    '',
    'train() on delayed XOR at the paper\'s size: batch sampling, gradientsAsync, L2, Adam, Dale projection; the marginal',
    'cost per iteration (two runs differing only in their number of iterations, so set-up cancels: 5 and 5 + 80·k, k',
    'the least that makes the measured iterations last about a second, so cheap rules are not timed over a fraction of',
    'one; both evaluate every 20 iterations, train\'s default, so evaluation is included), the gradient alone',
    '(gradientsAsync on the networks those iterations train, the parameters after the short and after the long run,',
    'on the batches the measured iterations drew, as many single calls in all as measured iterations: their mean;',
    'the kernels skip ReLU zeros, so a batch\'s cost depends',
    'on its cues, and an untrained network, the "untrained" column, computes a different amount; "one batch" is the',
    'earlier denominator, one batch per network timed over and over, with the ratio it gives) and the',
    'event-loop delay while train() ran (bench/trainPhase.ts; beside the worst max, the max an idle worker thread saw in',
    'the same run, bench/idleProbe.ts: a delay both saw was the machine stalling, not the library). Each repeat divides its own iteration cost by the gradient',
    'measured on its own networks right after its runs (the machine\'s speed drifts within minutes); the ratio column is',
    'the median of those, and "runs" lists each repeat\'s ms per iteration with its ratio in brackets. The interval is',
    `the sign test's distribution-free 95 % interval for that median (order statistics; ${coverageText(r.train)}):`,
    'the goal counts as met where its upper end is ≤ 1.15, missed where its lower end is above, undecided otherwise. Rows ending in lif',
    'or alif train a spiking network of those neurons (docs/neurons.md) on the native engine, beside the rate rows.',
    'The goal is for train() as it runs by default, with the task\'s default \'fast\' sampler; the box-muller rows, the',
    'sampler before 0.1 kept for re-running old records (drawn in TypeScript on a worker thread, which competes with',
    'the pool for the two cores), show what the fast sampler saves.',
    '',
    ...trainTable(r),
    '',
    '## PyTorch peer',
    '',
    ...torchLines(r),
    '',
    '## Memory',
    '',
    ...memoryLines(r),
    '',
    '## Large networks (N-scaling)',
    '',
    ...scalingLines(r.scaling),
    '',
    '## Many cell types (C-scaling)',
    '',
    ...typeScalingLines(r.typeScaling),
    '',
    '## Sparse connectivity',
    '',
    ...sparseLines(r.sparse),
    '',
    '## GEMM rate (same run)',
    '',
    ...gemmTable(r.gemm),
    '',
  ];
  if (r.gemm.available && r.gemm.runs.some((x) => x.coretype))
    lines.push('Kernel "(forced)": run with OPENBLAS_CORETYPE set (inherited from the environment, or SkylakeX on an AVX-512',
      'CPU); the others use OpenBLAS\'s own choice. The fractions use the fastest run per thread count.', '');
  if (profile) lines.push('## Where the time goes', '', profile.trim(), '');
  return lines.join('\n');
}

/** Writes `outDir`/RESULTS.md (default: `benchDir`, next to profile.md). */
export function writeMarkdown(r: Results, benchDir: string, outDir = benchDir): string {
  const profileFile = path.join(benchDir, 'profile.md');
  const profile = fs.existsSync(profileFile) ? fs.readFileSync(profileFile, 'utf8') : undefined;
  const out = path.join(outDir, 'RESULTS.md');
  fs.writeFileSync(out, renderMarkdown(r, profile));
  return out;
}
