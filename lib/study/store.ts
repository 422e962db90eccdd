/**
 * A study directory: `plan.json`, then one `runs/<id>.json` per finished run. Every file is written to a temporary
 * name and renamed into place, so a file that exists is complete: a run killed mid-write (pre-emption, Ctrl-C,
 * a node failure) leaves at most a temporary file, which is ignored, and the run counts as not done.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runMetadata, type RunMetadata } from '../metadata';
import type { CurvePoint } from '../trainTypes';
import { fail } from '../validate';
import type { GridValue, PlannedRun, StudyPlan } from './plan';

export type Cosines = { win: number; wrec: number; wout: number; all: number };

/** One run's result, as stored in `runs/<id>.json`. */
export interface RunResult {
  kind: 'modprop-study-run';
  id: string;
  index: number;
  spec: string;
  rule: string;
  group: string;
  seed: number;
  grid: Record<string, GridValue>;
  settings: PlannedRun['settings'];
  status: 'done' | 'failed';
  curve: CurvePoint[];
  final?: CurvePoint;
  alignment?: { iteration: number; cosine: Cosines }[];
  error?: string;
  metadata: RunMetadata;
}

export const PLAN_FILE = 'plan.json';
export const RUNS_DIR = 'runs';

function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Write to `<file>.<pid>.tmp` in the same folder, then rename: readers see the old file or the whole new one. */
export function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export function runFile(dir: string, id: string): string {
  return path.join(dir, RUNS_DIR, `${id}.json`);
}

/** Without the record of the machine and time it was made: two plans are the same study when these are equal. */
function planKey(plan: StudyPlan): string {
  return JSON.stringify({ options: plan.options, runs: plan.runs.map((r) => [r.id, r.job]) });
}

/**
 * Writes the plan into `dir`, or checks that the plan already there is the same study (a resume or another shard);
 * a different study in the same folder is an error rather than a mix of two studies' runs.
 */
export function savePlan(dir: string, plan: StudyPlan): void {
  const file = path.join(dir, PLAN_FILE);
  if (fs.existsSync(file)) {
    const old = loadPlan(dir);
    if (planKey(old) !== planKey(plan)) {
      fail(`the same study as the one in ${file} (to resume it or run another shard)`, '--out', 'different settings; use a new folder', true);
    }
    return;
  }
  writeAtomic(file, toJson({ ...plan, metadata: runMetadata() }));
}

export function loadPlan(dir: string): StudyPlan {
  const file = path.join(dir, PLAN_FILE);
  let plan: StudyPlan;
  try {
    plan = JSON.parse(fs.readFileSync(file, 'utf8')) as StudyPlan;
  } catch (err) {
    fail(`a study folder with a readable ${PLAN_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'the study folder', dir);
  }
  if (plan.kind !== 'modprop-study-plan' || plan.version !== 1 || !Array.isArray(plan.runs)) {
    fail('a modprop study plan (version 1)', file, `a file of kind ${JSON.stringify(plan.kind)}, version ${JSON.stringify(plan.version)}`, true);
  }
  return plan;
}

export function saveRun(dir: string, result: RunResult): void {
  writeAtomic(runFile(dir, result.id), toJson(result));
}

/**
 * The stored result of a run, or undefined when there is none, it is unreadable or it is not this run's (then the run
 * is simply run again). JSON has no NaN: a null in a curve was a non-finite number and is read back as NaN.
 */
export function loadRun(dir: string, run: PlannedRun): RunResult | undefined {
  let r: RunResult;
  try {
    r = JSON.parse(fs.readFileSync(runFile(dir, run.id), 'utf8'), (_k, v: unknown) => (v === null ? NaN : v)) as RunResult;
  } catch {
    return undefined;
  }
  return r.kind === 'modprop-study-run' && r.id === run.id && Array.isArray(r.curve) ? r : undefined;
}
