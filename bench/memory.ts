/**
 * The memory phase (SPEC §7: online rules keep memory flat in T; T = 1 000 000 steps runs in < 200 MB RSS): the peak
 * RSS of a fresh child process (bench/memoryChild.ts) that computes one gradient of a B = 1 delayed-XOR batch of T
 * steps, for the online rules and bptt, next to a baseline child that only builds the network and the batch.
 *
 * bptt keeps z and g for every step (native/core/offline.cc), so its memory grows as 8·T·B·N bytes; it is estimated
 * first and not run where the estimate exceeds the limit. A child that fails (crash, out of memory, no addon) is a
 * failed row with the reason, never an error of the bench.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import type { JobName } from './flops';
import { CUE_STEPS, type ChildReport } from './memoryChild';
import { JOBS, type Job } from './suites';

const CHILD = path.join(__dirname, 'memoryChild.ts');
const ROOT = path.dirname(__dirname);
const MB = 1e6, GB = 1e9;

/** The rules measured, in table order. */
export const MEMORY_JOBS: readonly Job[] = (['modprop-online', 'eprop-online', 'bptt'] as const).map((name) => JOBS.find((j) => j.name === name)!);
export const MEMORY_STEPS = { full: [1e3, 1e4, 1e5, 1e6], quick: [1e3, 1e4, 1e5] };
export const MIN_STEPS = 2 * CUE_STEPS;

/** The network and batch of every child (delayed XOR: I = K = 2), T aside. */
export interface MemoryShape { batch: number; nRec: number; nIn: number; nOut: number }
export const MEMORY_SHAPE: MemoryShape = { batch: 1, nRec: 120, nIn: 2, nOut: 2 };

export interface MemoryRow {
  job: JobName;
  label: string;
  steps: number;
  status: 'ok' | 'skipped' | 'failed';
  /** Peak RSS of the child that called gradients(), and of the baseline child at the same T (MB = 10⁶ bytes). */
  peakMB?: number;
  baselineMB?: number;
  /** The same child's peak RSS just before the call: peakMB − beforeMB is what the call added. */
  beforeMB?: number;
  /** bptt only: the native workspace it allocates (bpttWorkspaceBytes). */
  estimateMB?: number;
  /** The input batch (x and labels). */
  batchMB: number;
  /** Wall time of the gradients() call. */
  ms?: number;
  threads?: number;
  /** Why the row was skipped or failed. */
  detail?: string;
}

export interface MemoryResults {
  shape: MemoryShape;
  steps: number[];
  limitGB: number;
  /** The baseline child per T: its peak RSS, or why it failed. */
  baselines: { steps: number; peakMB?: number; detail?: string }[];
  rows: MemoryRow[];
}

const round64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/**
 * The bytes one chunk of `rows` sequences asks of its Workspace in offlineChunk (native/core/offline.cc), float32:
 * z and g for every step (2·T·rows·N), the copied inputs x (T·rows·I) and output errors δ (T·rows·K), four one-step
 * blocks (v_{t-1}, v_t, ℓ_t, ℓ_{t+1}), y and the alignment slack.
 */
export function bpttChunkBytes(rows: number, steps: number, s: Pick<MemoryShape, 'nRec' | 'nIn' | 'nOut'>): number {
  const real = 4, block = rows * s.nRec;
  return real * 2 * block * steps + round64(real * rows * s.nIn * steps) + round64(real * rows * s.nOut * steps) +
    4 * round64(real * block) + round64(real * rows * s.nOut) + 64 * 8;
}

/** What bptt allocates for one batch: one workspace per chunk, min(threads, B) chunks (native/core/gradients.cc). */
export function bpttWorkspaceBytes(shape: MemoryShape, steps: number, threads: number): number {
  const chunks = Math.max(1, Math.min(threads, shape.batch));
  let total = 0;
  for (let c = 0; c < chunks; c++) {
    const rows = Math.floor((shape.batch * (c + 1)) / chunks) - Math.floor((shape.batch * c) / chunks);
    total += bpttChunkBytes(rows, steps, shape);
  }
  return total;
}

/** The input batch a child builds: x (B·T·I float32) and the labels (B int32). */
export const inputBytes = (shape: MemoryShape, steps: number): number => 4 * shape.batch * steps * shape.nIn + 4 * shape.batch;

export interface Plan {
  /** bptt's workspace estimate (bytes); absent for the online rules, whose state does not depend on T. */
  estimateBytes?: number;
  /** Set when the row is not run. */
  skip?: string;
}

/** Whether to run `job` at T = steps: bptt is skipped where its estimate exceeds `limitBytes`. */
export function planMemoryRun(job: JobName, shape: MemoryShape, steps: number, threads: number, limitBytes: number): Plan {
  if (job !== 'bptt' && job !== 'tbptt') return {};
  const estimateBytes = bpttWorkspaceBytes(shape, steps, threads);
  if (estimateBytes <= limitBytes) return { estimateBytes };
  return { estimateBytes, skip: `skipped: estimated ${(estimateBytes / GB).toFixed(2)} GB > limit ${+(limitBytes / GB).toFixed(2)} GB` };
}

export type ChildOutcome = { ok: true; report: ChildReport } | { ok: false; error: string };
type SpawnResult = Pick<SpawnSyncReturns<string>, 'status' | 'signal' | 'stdout' | 'stderr' | 'error'>;

function lastLine(text: string | undefined): string {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines[lines.length - 1] ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** A child's result: its report, or one line saying why there is none. */
export function childOutcome(r: SpawnResult): ChildOutcome {
  const said = lastLine(r.stderr);
  const tail = said ? `: ${said}` : '';
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { ok: false, error: code === 'ETIMEDOUT' ? `timed out${tail}` : `could not run the child (${r.error.message})` };
  }
  if (r.signal) return { ok: false, error: `killed by ${r.signal}${r.signal === 'SIGKILL' ? ' (out of memory?)' : ''}${tail}` };
  if (r.status !== 0) return { ok: false, error: `exit code ${r.status}${tail}` };
  try {
    const report = JSON.parse(lastLine(r.stdout)) as ChildReport;
    if (typeof report.maxRssKb === 'number' && report.maxRssKb > 0) return { ok: true, report };
  } catch {
    // falls through: no report
  }
  return { ok: false, error: `no report on stdout${tail}` };
}

/** Runs a command as a memory child (exported for the tests). */
export function runChild(command: string, args: string[], timeoutSec: number): ChildOutcome {
  return childOutcome(spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: timeoutSec * 1000, maxBuffer: 1 << 20 }));
}

function measure(shape: MemoryShape, steps: number, job: Job | undefined, timeoutSec: number): ChildOutcome {
  const args = ['--require', 'tsx/cjs', CHILD, '--steps', String(steps), '--nrec', String(shape.nRec), '--batch', String(shape.batch)];
  if (job?.rule) args.push('--rule', JSON.stringify(job.rule));
  return runChild(process.execPath, args, timeoutSec);
}

export interface MemoryOptions {
  steps: number[];
  limitGB: number;
  /** The children's native thread count, for bptt's estimate (one chunk per thread, at most B). */
  threads: number;
  timeoutSec?: number;
  shape?: MemoryShape;
}

const kbToMB = (kb: number): number => (kb * 1024) / MB;

export function runMemory(opts: MemoryOptions, log: (line: string) => void): MemoryResults {
  const shape = opts.shape ?? MEMORY_SHAPE;
  const timeoutSec = opts.timeoutSec ?? 900;
  const results: MemoryResults = { shape, steps: opts.steps, limitGB: opts.limitGB, baselines: [], rows: [] };
  for (const steps of opts.steps) {
    const base = measure(shape, steps, undefined, timeoutSec);
    const baselineMB = base.ok ? kbToMB(base.report.maxRssKb) : undefined;
    results.baselines.push(base.ok ? { steps, peakMB: baselineMB } : { steps, detail: base.error });
    log(`  T = ${steps}: baseline ${base.ok ? `${baselineMB!.toFixed(1)} MB` : `FAILED (${base.error})`}`);
    for (const job of MEMORY_JOBS) {
      const plan = planMemoryRun(job.name, shape, steps, opts.threads, opts.limitGB * GB);
      const row: MemoryRow = {
        job: job.name, label: job.label, steps, status: 'skipped', baselineMB, batchMB: inputBytes(shape, steps) / MB,
        estimateMB: plan.estimateBytes === undefined ? undefined : plan.estimateBytes / MB, detail: plan.skip,
      };
      if (!plan.skip) {
        const out = measure(shape, steps, job, timeoutSec);
        if (out.ok) {
          const r = out.report;
          Object.assign(row, { status: 'ok', peakMB: kbToMB(r.maxRssKb), beforeMB: kbToMB(r.rssBeforeKb), ms: r.ms, threads: r.threads });
        }
        else Object.assign(row, { status: 'failed', detail: `failed: ${out.error}` });
      }
      results.rows.push(row);
      log(`    ${job.label.padEnd(24)} ${row.status === 'ok' ? `${row.peakMB!.toFixed(1).padStart(8)} MB peak RSS, ${(row.ms! / 1000).toFixed(2)} s` : row.detail}`);
    }
  }
  return results;
}
