/**
 * A study as a Slurm job array: `DIR/study.sbatch` runs one share of the plan per array task (`--array=1-N`, so the
 * 1-based task id is the share), and its first task submits `DIR/merge.sbatch` to run once the whole array has ended
 * (afterany: the merge also reports what is missing when a task failed or was pre-empted). The time and memory
 * requests come from the plan's expected costs; each task's runs use the plan's thread count, so results do not depend
 * on the allocation.
 */
import * as path from 'node:path';
import { packageRoot } from '../native/addon';
import { expectedSeconds, shardRuns, type StudyPlan } from './plan';
import { writeAtomic } from './store';

export interface SlurmOptions {
  /** Array tasks (shares of the plan). */
  shards: number;
  /** Arguments of `modprop merge` after the folder (e.g. ['--plot', 'DIR/study.svg']). */
  mergeArgs?: string[];
  /** How a node starts the CLI (default: this Node binary on this package's CLI, by absolute path). */
  command?: string[];
}

/** The command that runs this package's CLI: dist/cli.js, or lib/cli.ts under tsx when running from source. */
export function cliCommand(): string[] {
  if (path.extname(__filename) === '.ts') {
    return [process.execPath, '--require', require.resolve('tsx/cjs'), path.join(__dirname, '..', 'cli.ts')];
  }
  const root = packageRoot(__dirname) ?? path.join(__dirname, '..', '..');
  return [process.execPath, path.join(root, 'dist', 'cli.js')];
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** HH:MM:SS (or D-HH:MM:SS), Slurm's --time format. */
export function slurmTime(seconds: number): string {
  const s = Math.ceil(seconds);
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((x) => String(x).padStart(2, '0')).join(':');
  return d > 0 ? `${d}-${hms}` : hms;
}

/**
 * Resident memory of one run in MB: Node and the addon (~150 MB per worker thread with its heap), plus the offline
 * rules' stored states and traces (a few arrays of batch × steps × nRec floats).
 */
function runMemoryMb(plan: StudyPlan): number {
  const worst = Math.max(...plan.runs.map((r) => 12 * 4 * r.settings.batchSize * r.settings.steps * r.settings.nRec));
  return 150 + Math.ceil(worst / 2 ** 20);
}

export interface SlurmScripts {
  study: string;
  merge: string;
  /** The requests written into study.sbatch. */
  cpusPerTask: number;
  memMb: number;
  time: string;
}

/** The two scripts' text (nothing is written). */
export function slurmScripts(plan: StudyPlan, dir: string, o: SlurmOptions): SlurmScripts {
  const abs = path.resolve(dir);
  const cli = (o.command ?? cliCommand()).map(quote).join(' ');
  const threads = plan.options.threadsPerRun;
  // The slowest share at one run at a time, with a floor for start-up and the data; expectedSeconds is already generous.
  const slowest = Math.max(...Array.from({ length: o.shards }, (_, k) => expectedSeconds(shardRuns(plan, k + 1, o.shards))));
  const time = slurmTime(Math.max(600, 300 + slowest));
  const memMb = 100 * Math.ceil((200 + runMemoryMb(plan)) / 100);
  const logs = path.join(abs, 'slurm');
  const study = `#!/bin/bash
# modprop study: ${plan.runs.length} runs in ${o.shards} shares, one job-array task per share.
# Submit on a login node with:  sbatch ${quote(path.join(abs, 'study.sbatch'))}
# Sbatch options on the command line override these (e.g. sbatch --partition=cpu --account=lab …).
# Resubmitting the whole array after a failure or a pre-emption runs only the runs that have no result yet.
#SBATCH --job-name=modprop-study
#SBATCH --array=1-${o.shards}
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=${threads}
#SBATCH --mem=${memMb}M
#SBATCH --time=${time}
#SBATCH --output=${logs}/study-%A_%a.out
set -euo pipefail
shards=${o.shards}
if [ "\${SLURM_ARRAY_TASK_COUNT:-}" != "$shards" ]; then
  echo "modprop: submit the whole array (--array=1-$shards): the plan is split into $shards shares" >&2
  exit 2
fi
# Threads for the native engine from the allocation; each run still uses the plan's ${threads} (results depend on it).
export MODPROP_THREADS="\${SLURM_CPUS_PER_TASK:-${threads}}"
jobs=$(( MODPROP_THREADS / ${threads} ))
if [ "$jobs" -lt 1 ]; then jobs=1; fi
if [ "$SLURM_ARRAY_TASK_ID" = "\${SLURM_ARRAY_TASK_MIN:-1}" ]; then
  # The merge waits for every task of this array, whatever their outcome, and says what is missing.
  sbatch --parsable --dependency=afterany:"$SLURM_ARRAY_JOB_ID" ${quote(path.join(abs, 'merge.sbatch'))}
fi
exec ${cli} resume ${quote(abs)} --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" --jobs "$jobs" --quiet
`;
  const merge = `#!/bin/bash
# modprop study: merges the runs of ${quote(abs)} into study.json (and the figure, table and CSV).
# study.sbatch submits it; to merge by hand, run the last line on a login node.
#SBATCH --job-name=modprop-merge
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem=1000M
#SBATCH --time=00:15:00
#SBATCH --output=${logs}/merge-%j.out
set -euo pipefail
exec ${cli} merge ${quote(abs)}${(o.mergeArgs ?? []).map((a) => ' ' + quote(a)).join('')}
`;
  return { study, merge, cpusPerTask: threads, memMb, time };
}

/** Writes DIR/study.sbatch and DIR/merge.sbatch (and creates DIR/slurm for the logs); returns the requests. */
export function writeSlurm(plan: StudyPlan, dir: string, o: SlurmOptions): SlurmScripts {
  const s = slurmScripts(plan, dir, o);
  writeAtomic(path.join(dir, 'slurm', '.keep'), '');
  writeAtomic(path.join(dir, 'study.sbatch'), s.study);
  writeAtomic(path.join(dir, 'merge.sbatch'), s.merge);
  return s;
}
