/**
 * Studies from a script: `compare(options)` runs rules × seeds × a grid and returns the merged result; the pieces
 * (`planStudy`, `runShard`, `mergeStudy`, `studyTable`, `studyFigure`, `studyCsv`) let a script or a scheduler split
 * the work, as `modprop compare --out DIR --shard K/N` and `modprop merge DIR` do.
 *
 * @example
 * import { compare, studyTable } from 'modprop';
 * const study = await compare({ task: 'delayed-xor', delay: 20, rules: ['bptt', 'modprop'], seeds: 2,
 *   iterations: 50, nRec: 20, grid: { lr: [5e-4, 1e-3] }, out: 'lr-study', jobs: 2 });
 * console.log(studyTable(study));
 */
import * as fs from 'node:fs';
import { mergeResults, type StudyResult } from './merge';
import { planStudy, type StudyOptions } from './plan';
import { runShard, type RunShardOptions } from './run';
import { savePlan } from './store';

export interface CompareOptions extends StudyOptions {
  /** A study folder: the plan and one file per run go there, and runs already there are not run again. */
  out?: string;
  /** Runs at a time (worker threads; default 1). */
  jobs?: number;
  signal?: AbortSignal;
  onRunEnd?: RunShardOptions['onRunEnd'];
}

/**
 * Plans the study, runs every run that has no result yet (in `out`, when given) and merges them. Resolves with the
 * merged study; runs that failed are in it with their error, and interrupted ones are listed as missing.
 */
export async function compare(options: CompareOptions): Promise<StudyResult> {
  const { out, jobs, signal, onRunEnd, ...study } = options;
  const plan = planStudy(study);
  if (out !== undefined) {
    fs.mkdirSync(out, { recursive: true });
    savePlan(out, plan);
  }
  const outcome = await runShard(plan, { dir: out, jobs, signal, onRunEnd });
  return mergeResults(plan, outcome.results);
}

export { planStudy, shardRuns, parseGridArg, GRID_KEYS, type StudyOptions, type StudyPlan, type PlannedRun, type GridValue } from './plan';
export { runShard, type RunShardOptions, type ShardOutcome } from './run';
export { mergeStudy, mergeResults, studyTable, studyFigure, studyCsv, studyJson, reproducible, type StudyResult } from './merge';
export { savePlan, loadPlan, type RunResult } from './store';
export { writeSlurm, slurmScripts, type SlurmOptions, type SlurmScripts } from './slurm';
