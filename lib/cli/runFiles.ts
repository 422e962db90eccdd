/**
 * What `train` and `compare` share about their result files beyond JSON: the curves in long format for pandas/R
 * (`--csv`), the recipe to re-run a `train --out` file (`--rerun`), and stopping on SIGINT or SIGTERM (Slurm,
 * `timeout`, `docker stop`) with the outputs written.
 */
import * as fs from 'node:fs';
import * as taskFactories from '../tasks/index';
import type { Task } from '../tasks/task';
import type { CurvePoint } from '../trainTypes';
import type { RuleConfig } from '../types';
import { ruleConfigOf, type NormalizedRule } from '../validate';
import { UsageError } from './common';

// ---------------------------------------------------------------------------------------------------------------
// --csv: one row per curve point and metric

export interface CsvRun {
  /** Unique within the file, e.g. 'modprop/3'. */
  run: string;
  rule: string;
  seed: number;
  curve: readonly CurvePoint[];
}

const METRICS = ['loss', 'accuracy', 'nmse', 'testLoss', 'testAccuracy', 'trainLoss', 'elapsedMs'] as const;

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** run,rule,seed,iteration,metric,value — tidy data: `pd.read_csv(f).pivot_table(...)` or `read.csv` + ggplot. */
export function curvesCsv(runs: readonly CsvRun[]): string {
  const lines = ['run,rule,seed,iteration,metric,value'];
  for (const r of runs) {
    for (const p of r.curve) {
      for (const m of METRICS) {
        const v = p[m];
        if (typeof v === 'number' && Number.isFinite(v)) lines.push([r.run, r.rule, r.seed, p.iteration, m, v].map(csvCell).join(','));
      }
    }
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
// --rerun: the settings of a `train --out` file

export interface RerunSettings {
  task: Task;
  taskOptions: Record<string, unknown>;
  network: Record<string, unknown>;
  rule: RuleConfig;
  /** Resolved training options (iterations, lr, batch size, seeds …), every default spelled out. */
  train: Record<string, unknown>;
  /** The engine and thread count that computed the recorded curve (bit-identical results need both). */
  engine?: 'native' | 'reference';
  threads?: number;
}

const TRAIN_KEYS = ['optimizer', 'lr', 'lrDecay', 'lrDecayEvery', 'l2', 'iterations', 'batchSize', 'evalEvery', 'evalBatchSize', 'seed'] as const;
const TASKS: Record<string, (o: Record<string, unknown>) => Task> = {
  'delayed-xor': (o) => taskFactories.delayedXor(o),
  'pattern-generation': (o) => taskFactories.patternGeneration(o),
  'seq-mnist': (o) => taskFactories.seqMnist(o),
};

export function rerunSettings(file: string): RerunSettings {
  const wrong = (why: string): never => { throw new UsageError(`cannot re-run ${file}: ${why}`); };
  let data: { config?: Record<string, unknown>; metadata?: { engine?: unknown; threads?: unknown } };
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return wrong((err as NodeJS.ErrnoException).code ?? `not JSON (${(err as Error).message})`);
  }
  const c = data?.config;
  if (typeof c !== 'object' || c === null) return wrong('it has no config (expected the JSON of modprop train --out)');
  const taskName = String(c.task);
  if (!(taskName in TASKS)) wrong(`its task is ${JSON.stringify(c.task)} (expected one of ${Object.keys(TASKS).join(', ')})`);
  if (typeof c.network !== 'object' || c.network === null) wrong('its config has no network (written by an older modprop?)');
  for (const k of [...TRAIN_KEYS, 'rule']) if (c[k] === undefined) wrong(`its config has no ${k} (written by an older modprop?)`);
  const taskOptions = (c.taskOptions ?? {}) as Record<string, unknown>;
  // The sampler the run drew its noise with (config.sampler; box-muller for runs written before it was recorded), so
  // the rerun draws the same batches whatever the default has become.
  const sampler = taskName === 'delayed-xor' && taskOptions.sampler === undefined ? { sampler: c.sampler ?? 'box-muller' } : {};
  const train: Record<string, unknown> = {};
  for (const k of TRAIN_KEYS) train[k] = c[k];
  const meta = data.metadata;
  return {
    task: TASKS[taskName]({ ...taskOptions, ...sampler }),
    taskOptions,
    network: c.network as Record<string, unknown>,
    rule: ruleConfigOf(c as unknown as NormalizedRule),
    train,
    ...(meta?.engine === 'native' || meta?.engine === 'reference' ? { engine: meta.engine } : {}),
    ...(typeof meta?.threads === 'number' ? { threads: meta.threads } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// SIGINT and SIGTERM

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

/**
 * Calls `stop` on the first SIGINT or SIGTERM so the command can write what it has and exit with 128 + the signal
 * number; a second signal exits at once. `received()` says which signal came, `dispose()` removes the handlers.
 */
export function onStopSignals(stop: (signal: StopSignal) => void): { received: () => StopSignal | undefined; dispose: () => void } {
  let first: StopSignal | undefined;
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]).map((sig) => {
    const handler = (): void => {
      if (first !== undefined) process.exit(SIGNAL_EXIT_CODES[sig]);
      first = sig;
      stop(sig);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return {
    received: () => first,
    dispose: () => { for (const [sig, handler] of handlers) process.off(sig, handler); },
  };
}
