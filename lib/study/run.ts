/**
 * Running a study's runs (all of them, or one shard) on a pool of worker threads, one run per thread, each result
 * written to its own file as soon as it is done. Runs whose file is already there are skipped, so running the same
 * shard again after a crash or a pre-emption does only what is missing.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { runMetadata } from '../metadata';
import type { CurvePoint } from '../trainTypes';
import type { CompareControl, CompareJob, CompareMessage } from '../cli/compareWorker';
import { shardRuns, type PlannedRun, type StudyPlan } from './plan';
import { loadRun, saveRun, type Cosines, type RunResult } from './store';

/** The worker script: the .ts source under tsx (tests, development), else the compiled .js. */
export function startCompareWorker(job: CompareJob): Worker {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, '..', 'cli', `compareWorker${ext}`);
  if (ext !== '.ts') return new Worker(file, { workerData: job });
  // tsx is resolved here, not in the worker: an eval'd worker resolves modules from the current directory.
  const tsx = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(file)});`, { eval: true, workerData: job });
}

export interface RunShardOptions {
  /** The study folder (`plan.json` must be there): results are read from and written to it. Without it, nothing is stored. */
  dir?: string;
  /** Only share `index` (1-based) of `count`. */
  shard?: { index: number; count: number };
  /** Runs at a time (default 1). */
  jobs?: number;
  /** Stops the runs in flight; they are not stored and count as not done. */
  signal?: AbortSignal;
  /** Every evaluation point of every run, and every run that ends (for progress displays). */
  onPoint?: (run: PlannedRun, point: CurvePoint) => void;
  onRunEnd?: (run: PlannedRun, result: RunResult) => void;
}

export interface ShardOutcome {
  /** Results of this shard's runs, finished now or before, in plan order. */
  results: RunResult[];
  /** Ids of the runs that ran now, and of those found done and skipped. */
  ran: string[];
  skipped: string[];
  /** Ids of the runs not finished (interrupted, or never started after an interruption). */
  unfinished: string[];
  interrupted: boolean;
}

/**
 * Runs the plan's runs (or one shard's) that have no stored result yet. A run that fails is stored with its error and
 * its curve up to the failure, and is run again on the next call, like a missing one.
 */
export async function runShard(plan: StudyPlan, options: RunShardOptions = {}): Promise<ShardOutcome> {
  const mine = options.shard ? shardRuns(plan, options.shard.index, options.shard.count) : plan.runs;
  const results = new Map<string, RunResult>();
  const skipped: string[] = [];
  const todo: PlannedRun[] = [];
  for (const run of mine) {
    const stored = options.dir !== undefined ? loadRun(options.dir, run) : undefined;
    if (stored?.status === 'done') {
      results.set(run.id, stored);
      skipped.push(run.id);
    } else {
      todo.push(run);
    }
  }
  const live = new Set<Worker>();
  let interrupted = options.signal?.aborted === true;
  const onAbort = (): void => {
    interrupted = true;
    for (const w of live) w.postMessage({ type: 'abort' } satisfies CompareControl);
  };
  options.signal?.addEventListener('abort', onAbort);
  const ran: string[] = [];

  const runOne = (run: PlannedRun): Promise<void> => new Promise((resolve) => {
    const curve: CurvePoint[] = [];
    const alignment: { iteration: number; cosine: Cosines }[] = [];
    let outcome: { status: 'done' | 'failed'; final?: CurvePoint; curve?: CurvePoint[]; error?: string; engine?: string } | undefined;
    let aborted = false;
    const worker = startCompareWorker(run.job);
    live.add(worker);
    const end = (): void => worker.postMessage({ type: 'exit' } satisfies CompareControl);
    worker.on('message', (m: CompareMessage) => {
      if (m.type === 'point') {
        curve.push(m.point);
        options.onPoint?.(run, m.point);
      } else if (m.type === 'alignment') {
        alignment.push({ iteration: m.iteration, cosine: m.cosine });
      } else {
        if (m.type === 'done') outcome = { status: 'done', final: m.result.final, curve: m.result.curve, engine: m.engine };
        else if (m.type === 'aborted') aborted = true;
        else outcome = { status: 'failed', error: m.message };
        end();
      }
    });
    worker.on('error', (err) => {
      outcome ??= { status: 'failed', error: err.message };
    });
    worker.on('exit', () => {
      live.delete(worker);
      if (aborted || interrupted) {
        resolve();
        return;
      }
      outcome ??= { status: 'failed', error: 'the worker stopped without a result' };
      const result: RunResult = {
        kind: 'modprop-study-run', id: run.id, index: run.index, spec: run.spec, rule: run.rule, group: run.group, seed: run.seed,
        grid: run.grid, settings: run.settings, status: outcome.status, curve: outcome.curve ?? curve,
        ...(outcome.final ? { final: outcome.final } : {}),
        ...(run.settings.alignEvery !== undefined && run.settings.rule.rule !== 'bptt' ? { alignment } : {}),
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
        // The worker chose its engine itself (from the job or MODPROP_BACKEND): record that one, not this thread's.
        metadata: runMetadata({ threads: run.settings.threads, engine: outcome.engine ?? run.job.backend }),
      };
      if (options.dir !== undefined) saveRun(options.dir, result);
      results.set(run.id, result);
      ran.push(run.id);
      options.onRunEnd?.(run, result);
      resolve();
    });
  });

  let next = 0;
  const lane = async (): Promise<void> => {
    while (!interrupted && next < todo.length) await runOne(todo[next++]);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(Math.max(1, options.jobs ?? 1), todo.length) }, lane));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const done = mine.filter((r) => results.has(r.id));
  return {
    results: done.map((r) => results.get(r.id)!), ran, skipped,
    unfinished: mine.filter((r) => !results.has(r.id)).map((r) => r.id), interrupted,
  };
}
