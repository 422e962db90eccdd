/**
 * The scaling phase (issue 13 goal 2): every native job at N = 512 … 4096 on the dense control (threshold −10: every
 * unit active, nothing skipped), B = 32 and T = 900·(512/N)² (≥ 16), so each bptt call is the same ≈ 45 GFLOP; its
 * GFLOP/s as a fraction of the same run's sgemm rate; a PyTorch-CPU BPTT step at the same N, B, T (bench/torch_peer.py --no-optimizer,
 * its own minimal peer); `Network.create` time per N; and the peak RSS of one gradient per N and T (B = 1) from
 * fresh processes (bench/memory.ts).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ModpropError, Network, tasks } from '../lib/index';
import { flops, type JobName, type Shape } from './flops';
import { sgemmNow, type GemmReport } from './gemm';
import { runMemory, type MemoryResults } from './memory';
import { JOBS, callOf, quantile, runSuite, type SuiteOptions } from './suites';

export const SCALING_SIZES = { full: [512, 1024, 2048, 4096], quick: [512, 1024] };
/** Memory phase per N: T values (B = 1); the longest only where a step is cheap. */
const MEMORY_STEPS_AT = (n: number, quick: boolean): number[] => (quick ? [200, 2000] : n <= 1024 ? [200, 2000, 20000] : [200, 2000]);
const PYTHON = '/usr/bin/python3';
const TORCH_MAX_STEPS = 64;
const BATCH = 32;
const DENSE_THRESHOLD = -10;
/** Network.create is timed once per seed: its cost depends on the matrix (the Arnoldi iteration's restarts). */
const CREATE_SEEDS = { full: [1, 2, 3, 4, 5], quick: [1, 2] };
/** Repetitions of the 1024³ sgemm probe beside each scaling job. */
const BESIDE_REPS = 5;

/** T at N: the paper's T = 900 at N = 512, then fewer steps so every size costs bptt the same FLOPs. */
export const stepsAt = (n: number): number => Math.max(16, Math.round(900 * (512 / n) ** 2));

export interface ScalingRow {
  nRec: number; steps: number; job: JobName; label: string; threads: number;
  ms: number; gflop: number; gflops: number;
  /** GFLOP/s over the same run's sgemm rate (1024³, same thread count), when measured. */
  fracGemm?: number;
  /**
   * The sgemm rate (same product and kernel) measured right before and right after this job's timing, their mean,
   * and GFLOP/s over it: a denominator the VM's drift between the gemm phase and this row does not move.
   */
  gemmBeside?: { before: number; after: number; gflops: number };
  fracGemmBeside?: number;
}

export interface TorchRow {
  nRec: number; steps: number; threads: number;
  /** Best ms of one forward+backward at min(T, 64) steps, scaled to T (the per-step cost is constant). */
  ms?: number; measuredSteps?: number; blas?: string; torch?: string; note?: string;
}

export interface ScalingResults {
  sizes: number[]; batch: number; threads: number;
  /** One call per seed, in order (seed 1 first, the process's first call at that N); `ms` is their median. */
  create: { nRec: number; ms: number; seedsMs?: number[] }[];
  rows: ScalingRow[];
  torch: TorchRow[];
  memory: { nRec: number; results: MemoryResults }[];
  /** Jobs the library refuses at that N (absent in results from before this field). */
  refused: { nRec: number; job: JobName; label: string; reason: string }[];
}

function torchAvailable(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `no PyTorch for ${PYTHON} (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
}

function torchStep(nRec: number, steps: number, threads: number, missing: string | undefined): TorchRow {
  if (missing) return { nRec, steps, threads, note: missing };
  const measuredSteps = Math.min(steps, TORCH_MAX_STEPS);
  const args = [path.join(__dirname, 'torch_peer.py'), '--n-rec', String(nRec), '--batch', String(BATCH), '--steps', String(measuredSteps),
    '--threads', String(threads), '--reps', '2', '--threshold', String(DENSE_THRESHOLD), '--no-optimizer'];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { nRec, steps, threads, note: `torch_peer.py failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { bestMs: number; blas: string; torch: string };
  return { nRec, steps, threads, measuredSteps, ms: (out.bestMs * steps) / measuredSteps, blas: out.blas, torch: out.torch };
}

export function runScaling(opts: { quick: boolean; threads: number; gemm: GemmReport; suite: SuiteOptions; memoryLimitGB: number },
  log: (line: string) => void): ScalingResults {
  const sizes = opts.quick ? SCALING_SIZES.quick : SCALING_SIZES.full;
  const out: ScalingResults = { sizes, batch: BATCH, threads: opts.threads, create: [], rows: [], torch: [], memory: [], refused: [] };
  const gemmRate = opts.gemm.large[opts.threads]?.gflopsMedian;
  const missingTorch = torchAvailable();
  for (const nRec of sizes) {
    const steps = stepsAt(nRec);
    const cueSteps = Math.max(2, Math.floor(steps / 8));
    const task = tasks.delayedXor({ cueSteps, delaySteps: steps - 2 * cueSteps });
    const seedsMs: number[] = [];
    let net: Network | undefined;
    for (const seed of opts.quick ? CREATE_SEEDS.quick : CREATE_SEEDS.full) {
      const t0 = performance.now();
      const made = Network.create({ nIn: task.nIn, nRec, nOut: task.nOut, seed });
      seedsMs.push(performance.now() - t0);
      net ??= made;
    }
    if (!net) throw new Error('no Network.create seed');
    const createMs = quantile([...seedsMs].sort((a, b) => a - b), 0.5);
    out.create.push({ nRec, ms: createMs, seedsMs });
    log(`\nN = ${nRec}: Network.create ${createMs.toFixed(0)} ms (median; seeds ${seedsMs.map((x) => x.toFixed(0)).join(', ')} ms); dense control, B = ${BATCH}, T = ${steps}, ${opts.threads} threads`);
    const dense = Network.fromParams({ nIn: net.nIn, nRec, nOut: net.nOut, threshold: DENSE_THRESHOLD }, net.params);
    const batch = task.sample(BATCH, 1);
    const shape: Shape = { batch: BATCH, steps, nRec, nIn: net.nIn, nOut: net.nOut, nTypes: net.nTypes, errorSteps: 1 };
    // A job the library refuses at this size (e.g. online rflo's per-synapse traces beyond 2^28 numbers) is listed
    // as refused, with the reason, and the others still run.
    const runnable = JOBS.filter((j) => {
      try {
        callOf(j, dense, batch, 'native')();
        return true;
      } catch (err) {
        if (!(err instanceof ModpropError)) throw err;
        out.refused.push({ nRec, job: j.name, label: j.label, reason: err.message });
        log(`  ${j.label.padEnd(24)} refused: ${err.message}`);
        return false;
      }
    });
    // One job at a time, with the sgemm probe between jobs: each row's rate is divided by the probes on either side.
    const like = opts.gemm.large[opts.threads];
    let before = like ? sgemmNow(like, BESIDE_REPS) : undefined;
    for (const job of runnable) {
      const [t] = runSuite(`scaling N=${nRec}`, [job], (j) => callOf(j, dense, batch, 'native'), opts.suite, log);
      const after = like ? sgemmNow(like, BESIDE_REPS) : undefined;
      const gflop = flops(t.job, shape).total / 1e9;
      const gflops = gflop / (t.medianMs / 1000);
      const beside = before !== undefined && after !== undefined ? { before, after, gflops: (before + after) / 2 } : undefined;
      out.rows.push({ nRec, steps, job: t.job, label: t.label, threads: opts.threads, ms: t.medianMs, gflop, gflops,
        fracGemm: gemmRate ? gflops / gemmRate : undefined, ...(beside ? { gemmBeside: beside, fracGemmBeside: gflops / beside.gflops } : {}) });
      if (beside) log(`  ${''.padEnd(24)} sgemm beside it ${before!.toFixed(0)} / ${after!.toFixed(0)} GFLOP/s: ${(100 * gflops / beside.gflops).toFixed(1)} %`);
      before = after;
    }
    const torch = torchStep(nRec, steps, opts.threads, missingTorch);
    out.torch.push(torch);
    log(`  PyTorch BPTT step: ${torch.ms !== undefined ? `${torch.ms.toFixed(0)} ms (${torch.measuredSteps} steps measured, BLAS ${torch.blas})` : torch.note}`);
    log(`  memory (B = 1, fresh processes):`);
    const memory = runMemory({ steps: MEMORY_STEPS_AT(nRec, opts.quick), limitGB: opts.memoryLimitGB, threads: opts.threads,
      shape: { batch: 1, nRec, nIn: net.nIn, nOut: net.nOut } }, (line) => log(`  ${line}`));
    out.memory.push({ nRec, results: memory });
  }
  return out;
}

const f = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));

/** The markdown of the phase for bench/RESULTS.md. */
export function scalingLines(s: ScalingResults | undefined): string[] {
  if (!s) return ['Not measured in this run (`--phases` without scaling).'];
  const lines = [
    `Dense control (threshold ${DENSE_THRESHOLD}: every unit active), B = ${s.batch}, T = 900·(512/N)² (at least 16: every size costs`,
    `bptt the same FLOPs), ${s.threads} threads. "% of sgemm" divides by this run's OpenBLAS rate at 1024³ with the same threads`,
    '(the gemm phase, at the start of the run); "beside it" divides by the same sgemm probe run right before and right after',
    'the job (the mean of the two, listed): the VM\'s speed moves within minutes, and the goal (≥ 60 %) is a ratio.',
    '"× PyTorch" is the PyTorch-CPU BPTT step (bench/torch_peer.py --no-optimizer: Python loop over t, autograd, float32, same N, B, T and',
    `threads; timed at min(T, ${TORCH_MAX_STEPS}) steps and scaled to T) over the job's time.`,
    '',
    '| N | T | rule | ms / call | GFLOP / call | GFLOP/s | % of sgemm | % of sgemm beside it (before / after, GFLOP/s) | × PyTorch |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of s.rows) {
    const torch = s.torch.find((t) => t.nRec === r.nRec)?.ms;
    lines.push(`| ${r.nRec} | ${r.steps} | ${r.label} | ${f(r.ms)} | ${f(r.gflop, 2)} | ${f(r.gflops)} | ` +
      `${r.fracGemm === undefined ? '—' : `${(100 * r.fracGemm).toFixed(1)} %`} | ` +
      `${r.fracGemmBeside === undefined || !r.gemmBeside ? '—' : `${(100 * r.fracGemmBeside).toFixed(1)} % (${f(r.gemmBeside.before, 0)} / ${f(r.gemmBeside.after, 0)})`} | ` +
      `${torch === undefined ? '—' : `${(torch / r.ms).toFixed(1)}×`} |`);
  }
  for (const r of s.refused ?? []) lines.push(`| ${r.nRec} | ${stepsAt(r.nRec)} | ${r.label} | refused | | | | | |`);
  const reasons = [...new Set((s.refused ?? []).map((r) => `${r.label} at N = ${r.nRec}: ${r.reason}`))];
  if (reasons.length) lines.push('', ...reasons.map((r) => `Refused: ${r}.`));
  const notes = [...new Set(s.torch.filter((t) => t.note).map((t) => t.note))];
  if (notes.length) lines.push('', ...notes.map((n) => `PyTorch: ${n}.`));
  const blas = [...new Set(s.torch.filter((t) => t.blas).map((t) => `torch ${t.torch}, BLAS_INFO ${t.blas}`))];
  if (blas.length) lines.push('', `PyTorch peer: ${blas.join('; ')} (Debian's libblas.so.3 alternative decides which BLAS runs).`);
  lines.push('', '`Network.create` (balanced init, main thread; `Network.createAsync` runs the same on a worker thread), one call per',
    'seed in order, the first the process\'s first at that N; its cost depends on the matrix (the number of Arnoldi restarts):', '',
    '| N | ms (median) | per seed (ms) |', '|---:|---:|---|',
    ...s.create.map((c) => `| ${c.nRec} | ${c.ms.toFixed(0)} | ${c.seedsMs ? c.seedsMs.map((x) => x.toFixed(0)).join(', ') : '—'} |`), '',
    'Peak RSS (MB) of one gradient per N and T, B = 1 (fresh processes, as in "Memory"; bptt skipped above the memory limit):', '');
  const steps = [...new Set(s.memory.flatMap((m) => m.results.steps))].sort((a, b) => a - b);
  lines.push(`| N | rule | ${steps.map((t) => `T = ${t}`).join(' | ')} |`, `|---:|---|${steps.map(() => '---:').join('|')}|`);
  for (const m of s.memory) {
    const cell = (x: { peakMB?: number; status?: string } | undefined): string => (!x ? '—' : x.peakMB !== undefined ? f(x.peakMB) : x.status ?? '—');
    lines.push(`| ${m.nRec} | baseline | ${steps.map((t) => cell(m.results.baselines.find((b) => b.steps === t))).join(' | ')} |`);
    for (const label of [...new Set(m.results.rows.map((r) => r.label))]) {
      lines.push(`| ${m.nRec} | ${label} | ${steps.map((t) => cell(m.results.rows.find((r) => r.label === label && r.steps === t))).join(' | ')} |`);
    }
  }
  return lines;
}
