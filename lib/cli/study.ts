/**
 * The study side of the CLI: `compare` with `--grid`, `--out DIR`, `--shard K/N` or `--slurm` (handed over here by
 * compare.ts), `modprop resume DIR` (what a Slurm array task runs) and `modprop merge DIR`. The work is done by
 * lib/study; this file turns flags into its options and its results into files and messages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { backend } from '../backend';
import { figureSvg } from '../plot';
import { mergeResults, mergeStudy, studyCsv, studyJson, studyTable, studyFigure, studyTitle, type StudyResult } from '../study/merge';
import { OPTION_KEYS, parseGridArg, parseShard, planStudy, shardRuns, type GridValue, type StudyOptions, type StudyPlan } from '../study/plan';
import { runShard, type ShardOutcome } from '../study/run';
import { writeSlurm } from '../study/slurm';
import { loadPlan, savePlan } from '../study/store';
import { ModpropError } from '../validate';
import { UsageError, applyEngineFlags, checkWritable, formatSeconds, intArg, json, messageStream, writeOutput } from './common';
import { Progress, progressMode } from './progress';
import { presetRule, presetRuleOnly, resolvePreset, type RecipeFlags } from './preset';
import type { Band } from './stats';

/** The compare flags this file reads (compare.ts's CompareFlags has them all). */
export interface StudyFlags extends Omit<StudyOptions, 'grid' | 'rules' | 'seeds' | 'iterations' | 'evalEvery' | 'nRec' | 'threadsPerRun'> {
  rules: string[];
  seeds: number;
  iterations: number;
  evalEvery: number;
  nRec: number;
  threadsPerRun: number;
  jobs: number;
  out?: string;
  plot?: string;
  table?: string;
  csv?: string;
  anchor?: boolean;
  band: Band;
  quiet?: boolean;
  grid?: [string, GridValue[]][];
  shard?: { index: number; count: number };
  slurm?: boolean;
  shards?: number;
}

/** commander reports an InvalidArgumentError as a usage error naming the option (exit 2). */
function asArgError<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

export function addStudyOptions(cmd: Command): void {
  cmd
    .option('--grid <key=v1,v2,…>', 'cross rules and seeds with these values of an option (repeatable): lr, lrDecay, lrDecayEvery, l2, batchSize, optimizer, mu, feedback, online, window, learningSignal, nRec, tau, delay, cue',
      (text: string, prev: [string, GridValue[]][] = []) => [...prev, asArgError(parseGridArg)(text)])
    .option('--shard <K/N>', 'with --out DIR: run only share K of N (1-based) of the runs; merge with modprop merge DIR', asArgError(parseShard))
    .option('--slurm', 'with --out DIR: write DIR/study.sbatch (a job array, one task per share, and a dependent merge job) and run nothing')
    .option('--shards <N>', 'with --slurm: array tasks (default: one per run, at most 100)', intArg(1, 100_000))
    .addHelpText('after', `
Studies (--out DIR, a path not ending in .json): DIR gets plan.json and one JSON per run, written as each run ends;
running the same command again runs only what is missing. Then study.json, and the plot, table and CSV if asked.
  $ modprop compare --task delayed-xor --delay 100 --rules bptt,modprop --seeds 4 --grid lr=5e-4,1e-3 --out lr-study
  $ modprop compare … --out lr-study --shard 1/2 & modprop compare … --out lr-study --shard 2/2; modprop merge lr-study --plot lr.svg
  $ modprop compare … --out lr-study --slurm --shards 4 && sbatch lr-study/study.sbatch`);
}

/** '-' and paths ending in .json are the single JSON file of a plain compare; anything else is a study folder. */
export function isStudyFolder(out: string | undefined): out is string {
  return out !== undefined && out !== '-' && !out.toLowerCase().endsWith('.json');
}

export function isStudy(f: Pick<StudyFlags, 'out' | 'grid' | 'shard' | 'slurm'>): boolean {
  return isStudyFolder(f.out) || (f.grid?.length ?? 0) > 0 || f.shard !== undefined || f.slurm === true;
}

function studyOptions(f: StudyFlags): StudyOptions {
  const o: StudyOptions = { task: f.task };
  for (const k of OPTION_KEYS) if (k !== 'task' && k !== 'grid' && f[k] !== undefined) (o as unknown as Record<string, unknown>)[k] = f[k];
  if (f.grid?.length) {
    const keysSeen = f.grid.map(([k]) => k);
    const twice = keysSeen.find((k, i) => keysSeen.indexOf(k) !== i);
    if (twice) throw new UsageError(`--grid ${twice}=… is given twice; list all its values in one --grid`);
    o.grid = Object.fromEntries(f.grid);
  }
  return o;
}

/** Runs (a share of) the plan with a progress display; Ctrl-C stops the runs in flight, which stay missing. */
async function runWithProgress(plan: StudyPlan, dir: string | undefined, f: { shard?: StudyFlags['shard']; jobs: number; quiet?: boolean }): Promise<ShardOutcome & { exitCode: number }> {
  const mine = f.shard ? shardRuns(plan, f.shard.index, f.shard.count) : plan.runs;
  const total = mine.reduce((s, r) => s + r.settings.iterations, 0);
  const share = f.shard ? ` (share ${f.shard.index}/${f.shard.count})` : '';
  const progress = new Progress(progressMode(f.quiet), total, `${mine.length} runs${share}`);
  const at = new Map<string, number>();
  const started = Date.now();
  let finished = 0;
  // SIGTERM is how Slurm ends a task at its time limit or on pre-emption: the runs in flight stop unsaved, and
  // resubmitting the array runs them again.
  const controller = new AbortController();
  let signalled = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled = signal === 'SIGTERM' ? 143 : 130;
    if (controller.signal.aborted) process.exit(signalled);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runShard(plan, {
      dir, shard: f.shard, jobs: f.jobs, signal: controller.signal,
      onPoint: (run, p) => {
        at.set(run.id, p.iteration);
        progress.update([...at.values()].reduce((s, x) => s + x, 0), `${finished}/${mine.length} runs done, ${formatSeconds(Date.now() - started)}`);
      },
      onRunEnd: (run, r) => {
        finished += 1;
        at.set(run.id, run.settings.iterations);
        const fin = r.final;
        const what = r.status === 'failed' ? `failed: ${r.error}` : `loss ${fin?.loss.toFixed(4)}${fin?.accuracy !== undefined ? `, accuracy ${(100 * fin.accuracy).toFixed(1)} %` : ''}`;
        progress.update([...at.values()].reduce((s, x) => s + x, 0), `${finished}/${mine.length} runs done`, `${run.group}, seed ${run.seed}: ${what}`);
      },
    });
    return { ...outcome, exitCode: outcome.interrupted ? signalled || 130 : 0 };
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

interface OutputFlags { out?: string; plot?: string; table?: string; csv?: string; band: Band; anchor?: boolean }

/** Writes the merged study where asked; returns the files written (stdout, '-', not listed). */
async function writeOutputs(result: StudyResult, f: OutputFlags): Promise<string[]> {
  const written: string[] = [];
  const put = (file: string | undefined, text: string): void => {
    if (file === undefined) return;
    writeOutput(file, text);
    if (file !== '-') written.push(file);
  };
  put(f.out, json(studyJson(result)));
  put(f.table, studyTable(result, { anchor: f.anchor }));
  put(f.csv, studyCsv(result));
  if (f.plot !== undefined) put(f.plot, await figureSvg(studyFigure(result, { band: f.band, anchor: f.anchor })));
  return written;
}

/** `silent`: no summary at all (merge -q); otherwise, like compare, -q only keeps it off stderr. */
function report(result: StudyResult, written: string[], quiet: boolean | undefined, dataOnStdout: boolean, silent = false): number {
  const say = messageStream(dataOnStdout);
  const lines = [studyTable(result).trimEnd()];
  if (written.length) lines.push('', `wrote ${written.join(', ')}`);
  if (!silent && !(quiet && say === process.stderr)) say.write(lines.join('\n') + '\n');
  const failed = result.runs.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    throw new ModpropError(`${failed.length} of ${result.plan.runs.length} runs failed (first: ${failed[0].group}, seed ${failed[0].seed}: ${failed[0].error})`);
  }
  return 0;
}

function shareReport(dir: string, o: ShardOutcome & { exitCode: number }, shard: StudyFlags['shard']): number {
  const share = shard ? `share ${shard.index}/${shard.count}` : 'study';
  const failed = o.results.filter((r) => r.status === 'failed').length;
  process.stderr.write(`${share} of ${dir}: ${o.ran.length} runs ran, ${o.skipped.length} were done already, ${failed} failed, ${o.unfinished.length} unfinished` +
    `${o.interrupted ? ' (interrupted)' : ''}; when every share is done: modprop merge ${dir}\n`);
  return o.interrupted ? o.exitCode : failed > 0 ? 1 : 0;
}

/** `compare` with --grid, --out DIR, --shard or --slurm. */
export async function runStudyCompare(f: StudyFlags & RecipeFlags & { firstSeed?: number }, cmd?: Command): Promise<number> {
  const preset = cmd ? resolvePreset(f, cmd) : undefined;
  if (f.firstSeed !== undefined && f.firstSeed !== 1) throw new UsageError('--first-seed is for a single-file compare; a study folder runs seeds 1..S and shares them with --shard');
  if (preset && cmd) {
    const rule = presetRule(f);
    if (rule) f.ruleDefaults = { [rule]: presetRuleOnly(f, cmd) };
    f.preset = preset.name;
  }
  const folder = isStudyFolder(f.out) ? f.out : undefined;
  if ((f.shard || f.slurm) && folder === undefined) throw new UsageError('--shard and --slurm need --out DIR, a study folder (a path not ending in .json)');
  if (f.shard && f.slurm) throw new UsageError('--slurm writes a job array that runs every share; it does not take --shard');
  if (f.shards !== undefined && !f.slurm) throw new UsageError('--shards is the number of array tasks of --slurm; use --shard K/N to run one share here');
  if (f.anchor && f.task !== 'delayed-xor') throw new UsageError(`--anchor draws the reference runs of delayed-xor; it does not apply to ${f.task}`);
  if ([f.out, f.plot, f.table, f.csv].filter((x) => x === '-').length > 1) throw new UsageError('only one of --out, --plot, --table and --csv can be - (stdout)');
  checkWritable([folder === undefined ? f.out : undefined, f.plot, f.table, f.csv]);
  if (folder !== undefined && fs.existsSync(folder) && !fs.statSync(folder).isDirectory()) throw new UsageError(`--out ${folder} is a file; a study folder must be a folder (or give a path ending in .json)`);
  applyEngineFlags({ backend: f.backend });
  if (f.threadsPerRun > 1 && backend.name !== 'native') throw new UsageError('--threads-per-run applies to the native engine, which is not in use');
  const plan = planStudy(studyOptions(f));
  if (folder !== undefined) {
    fs.mkdirSync(folder, { recursive: true });
    savePlan(folder, plan);
  }
  if (f.slurm) {
    const abs = (file: string | undefined, dflt: string): string => path.resolve(file ?? path.join(folder!, dflt));
    const mergeArgs = ['--plot', abs(f.plot, 'study.svg'), '--table', abs(f.table, 'study.md'), '--csv', abs(f.csv, 'study.csv'), '--band', f.band, ...(f.anchor ? ['--anchor'] : [])];
    const shards = Math.min(f.shards ?? Math.min(plan.runs.length, 100), plan.runs.length);
    const s = writeSlurm(plan, folder!, { shards, mergeArgs });
    process.stdout.write(`${studyTitle(plan)}\n${plan.runs.length} runs in ${shards} array tasks (${s.cpusPerTask} CPU, ${s.memMb} MB, ${s.time} each)\n` +
      `wrote ${path.join(folder!, 'plan.json')}, ${path.join(folder!, 'study.sbatch')}, ${path.join(folder!, 'merge.sbatch')}\n` +
      `submit with: sbatch ${path.join(folder!, 'study.sbatch')}\n`);
    return 0;
  }
  const outcome = await runWithProgress(plan, folder, f);
  if (f.shard) return shareReport(folder!, outcome, f.shard);
  const result = mergeResults(plan, outcome.results);
  const written = await writeOutputs(result, { ...f, out: folder !== undefined ? path.join(folder, 'study.json') : f.out });
  if (outcome.interrupted) {
    process.stderr.write(`interrupted: ${result.runs.length} of ${plan.runs.length} runs finished${folder ? `; run the same command again to finish the rest` : ''}\n`);
    return outcome.exitCode;
  }
  return report(result, written, f.quiet, [f.out, f.table, f.plot, f.csv].includes('-'));
}

export function resumeCommand(): Command {
  return new Command('resume')
    .description("run the runs of a study folder (or of one share) that have no result yet: what each task of compare --slurm's job array runs")
    .argument('<dir>', 'the study folder (compare --out DIR)')
    .option('--shard <K/N>', 'only share K of N (1-based)', asArgError(parseShard))
    .option('--jobs <n>', 'runs at a time (worker threads)', intArg(1, 1024), 1)
    .option('-q, --quiet', 'no progress output')
    .action(async (dir: string, f: { shard?: StudyFlags['shard']; jobs: number; quiet?: boolean }) => {
      const plan = loadPlan(dir);
      applyEngineFlags({ backend: plan.options.backend });
      process.exitCode = shareReport(dir, await runWithProgress(plan, dir, f), f.shard);
    });
}

export function mergeCommand(): Command {
  return new Command('merge')
    .description('merge the run files of a study folder into study.json and the figure, table and CSV that compare would write')
    .argument('<dir>', 'the study folder (compare --out DIR)')
    .option('--out <file>', "the merged JSON ('-': stdout)", undefined)
    .option('--plot <file>', 'write an SVG: loss and accuracy (or NMSE) per rule, one pair of panels per grid point')
    .option('--table <file>', 'write the summary table as markdown')
    .option('--csv <file>', 'write the curves in long format (one row per run and evaluation point)')
    .addOption(new Option('--band <kind>', 'line and band per rule: median and interquartile range, mean ± 1 s.d., or mean and min–max over seeds').choices(['iqr', 'sd', 'minmax']).default('iqr'))
    .option('--anchor', 'draw (and tabulate) the public reference runs beside ours (delayed-xor only)')
    .option('-q, --quiet', 'no summary on stdout')
    .action(async (dir: string, f: OutputFlags & { quiet?: boolean }) => {
      if ([f.out, f.plot, f.table, f.csv].filter((x) => x === '-').length > 1) throw new UsageError('only one of --out, --plot, --table and --csv can be - (stdout)');
      const result = mergeStudy(dir);
      if (f.anchor && result.plan.options.task !== 'delayed-xor') throw new UsageError(`--anchor draws the reference runs of delayed-xor; it does not apply to ${result.plan.options.task}`);
      const written = await writeOutputs(result, { ...f, out: f.out ?? path.join(dir, 'study.json') });
      process.exitCode = report(result, written, f.quiet, [f.out, f.table, f.plot, f.csv].includes('-'), f.quiet === true);
      if (result.missing.length > 0) {
        process.stderr.write(`modprop: ${result.missing.length} of ${result.plan.runs.length} runs have no result yet (first: ${result.missing[0]}); ` +
          `run them with modprop resume ${dir} (or resubmit the Slurm array), then merge again\n`);
        process.exitCode = 1;
      }
    });
}
