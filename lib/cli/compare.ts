/**
 * `modprop compare`: rules × seeds on one task, each run on a worker thread (a pool of --jobs), then one plot of
 * mean and spread per rule and a table of final loss / accuracy and iterations to 95 % accuracy.
 */
import * as os from 'node:os';
import { Command, Option } from 'commander';
import { backend } from '../backend';
import { engineNameFor } from '../neurons/engine';
import { version } from '../index';
import { figureSvg } from '../plot';
import type { CurvePoint } from '../trainTypes';
import type { RuleConfig } from '../types';
import type { EngineName } from '../backends/engine';
import { ModpropError, networkConfig, ruleLabel, rule as normalizeRule, type NormalizedRule } from '../validate';
import { runMetadata } from '../metadata';
import { networkRecord } from '../runRecord';
import { resolvedTrainOptions } from '../train';
import { SIGNAL_EXIT_CODES, curvesCsv } from './runFiles';
import { anchorCurves, anchorLabel, loadAnchor } from './anchor';
import {
  RULES_HELP, UsageError, addRuleOptions, checkWritable, addTaskOptions, applyEngineFlags, formatSeconds, intArg, json, listArg,
  messageStream, metricOf, numberArg, parseRuleSpec, taskFromFlags, writeOutput,
  addOptimizerOptions, type EngineFlags, type RuleFlags, type TaskChoice, type TaskFlags,
} from './common';
import type { CompareJob } from './compareWorker';
import { runComparePool, type PoolOutcome } from './compareRunner';
import { compareFigure } from './figures';
import { markdownTable, meanSd, medianIterationsTo, spread } from './stats';
import { addStudyOptions, isStudy, runStudyCompare, type StudyFlags } from './study';
import { addPresetOptions, networkRecipe, presetRule, presetRuleFlags, resolvePreset, type RecipeFlags } from './preset';

/** compare's flags: the study's (lib/cli/study.ts) plus the engine, the preset and a first seed for single-file runs. */
interface CompareFlags extends Omit<StudyFlags, 'preset'>, EngineFlags, RuleFlags, TaskFlags, RecipeFlags {
  firstSeed: number;
}

export interface RunRecord {
  spec: string;
  label: string;
  seed: number;
  curve: CurvePoint[];
  final?: CurvePoint;
  alignment?: { iteration: number; cosine: { win: number; wrec: number; wout: number; all: number } }[];
  error?: string;
  /** The engine that ran it (from the worker's result; absent until it is done, and in files written before). */
  engine?: string;
  status: 'pending' | 'running' | 'done' | 'failed' | 'interrupted';
}

const EXAMPLES = `
Runs go to a pool of --jobs worker threads; each run uses --threads-per-run native threads. Seeds 1..S set both the
network and the data. Iterations to 95 %: the first evaluation point with accuracy ≥ 0.95, median over seeds
("—" when the median run never got there).

Examples:
  # the delayed-XOR study of the ModProp paper, beside the public reference runs
  $ modprop compare --task delayed-xor --rules bptt,modprop,mdgl,eprop --seeds 8 --iterations 1000 \\
      --plot compare.svg --table compare.md --out compare.json --anchor

  # a quick look: short delay, small network, alignment with bptt every 20 iterations
  $ modprop compare --task delayed-xor --delay 50 --n-rec 40 --seeds 3 --iterations 200 --eval-every 10 \\
      --rules bptt,modprop,modprop:online,eprop --align-every 20 --plot quick.svg

With --align-every, the table and plot show the cosine between each rule's Wrec gradient and bptt's (Wout's gradient
is the same for every rule, so it would only dilute the comparison); --out has Win, Wrec, Wout and all.`;

export function compareCommand(): Command {
  const cmd = new Command('compare').description('train several rules × seeds on one task in parallel; one plot (mean and spread per rule) and a table');
  addTaskOptions(cmd);
  cmd
    .addOption(new Option('--rules <list>', RULES_HELP)
      .argParser(listArg).default(['bptt', 'modprop', 'mdgl', 'eprop'], 'bptt,modprop,mdgl,eprop'))
    .option('--seeds <S>', 'seeds 1..S per rule', intArg(1, 10_000), 8)
    .option('--first-seed <s>', 'start at this seed instead (runs are deterministic per seed: shards of one study agree bit for bit)', intArg(0), 1)
    .option('--iterations <n>', 'training iterations per run', intArg(1), 1000);
  addRuleOptions(cmd, true);
  addOptimizerOptions(cmd);
  cmd
    .option('--eval-every <n>', 'evaluate on a fresh batch every n iterations', intArg(1), 20)
    .option('--n-rec <n>', 'recurrent units', intArg(1, 16384), 120)
    .option('--tau <steps>', 'membrane time constant in steps (default: 100)', numberArg('positive'))
    .option('--threads-per-run <n>', 'native threads per run', intArg(1, 1024), 1)
    .addOption(new Option('--jobs <n>', 'runs at a time (worker threads)').argParser(intArg(1, 1024)).default(os.availableParallelism(), 'the number of CPUs'))
    .addOption(new Option('--backend <engine>', 'force an engine (default: native when the addon loads)').choices(['native', 'reference']))
    .option('--out <file>', "write every run and the summary as JSON ('-': stdout); a path not ending in .json is a study folder (see below)")
    .option('--plot <file>', 'write an SVG: loss and accuracy (or NMSE) per rule, mean and spread over seeds')
    .option('--table <file>', 'write the summary table as markdown')
    .option('--csv <file>', "write every run's curve as CSV, one row per point and metric ('-': stdout)")
    .option('--anchor', 'draw (and tabulate) the public reference runs beside ours (delayed-xor only)')
    .addOption(new Option('--band <kind>', 'line and band per rule: median and interquartile range, mean ± 1 s.d., or mean and min–max over seeds').choices(['iqr', 'sd', 'minmax']).default('iqr'))
    .option('--align-every <k>', "every k iterations record each rule's cosine alignment with bptt (a multiple of --eval-every)", intArg(1))
    .option('--align-batch-size <n>', 'sequences in each alignment batch (default: --batch-size)', intArg(1))
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', EXAMPLES)
    .action(async (f: CompareFlags, command: Command) => {
      process.exitCode = isStudy(f) ? await runStudyCompare(f, command) : await runCompare(f, command);
    });
  addStudyOptions(cmd);
  addPresetOptions(cmd);
  return cmd;
}

async function runCompare(f: CompareFlags, cmd: Command): Promise<number> {
  const setup = prepareCompare(f, cmd);
  const { runs, outcome } = await runCompareJobs(f, setup);
  const result = compareResult(f, setup, runs, outcome);
  const written = await writeCompareFiles(f, result);
  return printCompare(f, result, outcome, written);
}

/** What compare runs, resolved from its flags. */
interface CompareSetup {
  preset: ReturnType<typeof resolvePreset>;
  task: TaskChoice['task'];
  taskOptions: TaskChoice['options'];
  metric: 'accuracy' | 'nmse';
  /** Per --rules entry: its spec, label, configuration and the engine that runs it. */
  rules: { spec: string; label: string; config: RuleConfig; engine: EngineName }[];
  /** The engine of every rule, or MIXED. */
  engine: string;
  trainOptions: CompareJob['train'];
}

/** Every check of the flags, before any worker starts: the task, the rules and the engine must all be valid. */
function prepareCompare(f: CompareFlags, cmd: Command): CompareSetup {
  const preset = resolvePreset(f, cmd);
  if (f.anchor && f.task !== 'delayed-xor') throw new UsageError(`--anchor draws the reference runs of delayed-xor; it does not apply to ${f.task}`);
  if (f.alignEvery !== undefined && f.alignEvery % f.evalEvery !== 0) {
    throw new UsageError(`--align-every (${f.alignEvery}) must be a multiple of --eval-every (${f.evalEvery}): alignment is measured at evaluation points`);
  }
  if ([f.out, f.plot, f.table, f.csv].filter((x) => x === '-').length > 1) throw new UsageError('only one of --out, --plot, --table and --csv can be - (stdout)');
  checkWritable([f.out, f.plot, f.table, f.csv]);
  applyEngineFlags({ backend: f.backend });
  // Fail here, once, rather than in every worker: the task, the rules and the engine must all be valid.
  const { task, options: taskOptions } = taskFromFlags(f, 1);
  const metric = metricOf(task);
  const specs = f.rules.map((s) => parseRuleSpec(s, s.split(':')[0] === presetRule(f) ? presetRuleFlags(f, cmd) : f));
  const normalized = specs.map((s) => normalizeRule(s.config, `rule '${s.spec}'`));
  const labels = normalized.map(ruleLabel);
  const duplicate = labels.find((l, i) => labels.indexOf(l) !== i);
  if (duplicate) throw new UsageError(`the rule ${duplicate} is listed twice in --rules`);
  const { engines, engine } = ruleEngines(f.neuron, backend.name, normalized);
  if (f.threadsPerRun > 1 && !engines.includes('native')) throw new UsageError('--threads-per-run applies to the native engine, which is not in use');

  const trainOptions: CompareJob['train'] = { iterations: f.iterations, evalEvery: f.evalEvery };
  for (const k of ['batchSize', 'lr', 'lrDecay', 'lrDecayEvery', 'l2', 'optimizer'] as const) {
    if (f[k] !== undefined) (trainOptions as Record<string, unknown>)[k] = f[k];
  }
  const rules = specs.map((s, i) => ({ spec: s.spec, label: labels[i], config: s.config, engine: engines[i] }));
  return { preset, task, taskOptions, metric, rules, engine, trainOptions };
}

/** One job per seed × rule on the worker pool; each run's record, filled as its points arrive. */
async function runCompareJobs(f: CompareFlags, setup: CompareSetup): Promise<{ runs: RunRecord[]; outcome: PoolOutcome }> {
  const runs: RunRecord[] = [];
  const jobs: CompareJob[] = [];
  for (let seed = f.firstSeed; seed < f.firstSeed + f.seeds; seed++) {
    for (const s of setup.rules) {
      runs.push({ spec: s.spec, label: s.label, seed, curve: [], status: 'pending', ...(f.alignEvery !== undefined && s.config.rule !== 'bptt' ? { alignment: [] } : {}) });
      jobs.push({
        kind: 'modprop-compare', task: { task: f.task, delay: f.delay, cue: f.cue, ...(f.sampler !== undefined ? { sampler: f.sampler } : {}) }, seed, rule: s.config, nRec: f.nRec, tau: f.tau, network: networkRecipe(f),
        threads: f.threadsPerRun, backend: f.backend, train: setup.trainOptions, alignEvery: f.alignEvery,
        alignBatchSize: f.alignBatchSize ?? f.batchSize ?? 32,
      });
    }
  }
  const outcome = await runComparePool(jobs, runs, { lanes: f.jobs, iterations: f.iterations, quiet: f.quiet, metric: setup.metric });
  return { runs, outcome };
}

/** What compare writes and prints: the run's config, the summary rows, the title and the table. */
interface CompareResult {
  config: Record<string, unknown>; engine: string; engines: string; summary: RuleSummary[]; anchorRow?: RuleSummary; runs: RunRecord[];
  title: string; table: string; metric: 'accuracy' | 'nmse'; steps: number;
  groups: { label: string; runs: RunRecord[] }[];
}

function compareResult(f: CompareFlags, setup: CompareSetup, runs: RunRecord[], outcome: PoolOutcome): CompareResult {
  const { task, taskOptions, metric, trainOptions, preset, engine } = setup;
  const groups = setup.rules.map((s) => ({ ...s, runs: runs.filter((r) => r.label === s.label && r.curve.length > 0) }));
  const summary = groups.map((g) => summarize(g.label, g.spec, g.runs, metric, f.iterations, g.engine));
  const anchorRow = f.anchor ? anchorSummary(f.iterations) : undefined;
  // Every setting each run resolved, defaults included; each run's seed (1..S) seeds its network and its data.
  const settings = (rule: RuleConfig): Record<string, unknown> => {
    const { seed: _seed, ...rest } = resolvedTrainOptions({ ...rule, ...trainOptions });
    return rest;
  };
  const { seed: _netSeed, ...network } = networkRecord(networkConfig({ nIn: task.nIn, nRec: f.nRec, nOut: task.nOut, ...(f.tau !== undefined ? { tau: f.tau } : {}), ...networkRecipe(f) }));
  const config = {
    task: task.name, taskOptions, steps: task.steps,
    rules: groups.map((g) => ({ spec: g.spec, label: g.label, config: g.config, settings: settings(g.config), engine: g.engine })), network,
    seeds: f.seeds, ...(f.firstSeed !== 1 ? { firstSeed: f.firstSeed } : {}), iterations: f.iterations, evalEvery: f.evalEvery, ...trainOptions, nRec: f.nRec, ...(f.tau !== undefined ? { tau: f.tau } : {}),
    ...networkRecipe(f), ...(preset ? { preset: preset.name, presetSettings: preset.resolved } : {}),
    engine, threadsPerRun: f.threadsPerRun, jobs: f.jobs, band: f.band, ...(f.alignEvery !== undefined ? { alignEvery: f.alignEvery } : {}),
    modprop: version, elapsedMs: outcome.elapsedMs, ...(outcome.interrupted ? { interrupted: true } : {}),
  };
  const title = `${task.name}: ${setup.rules.map((r) => r.label).join(' vs ')} — ${f.seeds} seed${f.seeds > 1 ? 's' : ''} × ${f.iterations} iterations`;
  const table = summaryTable(summary, metric, anchorRow);
  return { config, engine, engines: enginesText(groups), summary, anchorRow, runs, title, table, metric, steps: task.steps, groups };
}

/** The title, table and what went wrong, on stdout (stderr when data goes there); the exit code. */
function printCompare(f: CompareFlags, o: CompareResult, outcome: PoolOutcome, written: string[]): number {
  const { runs } = o;
  const { interrupted, elapsedMs, signal } = outcome;
  const dataOnStdout = f.out === '-';
  const say = messageStream(dataOnStdout || f.table === '-' || f.plot === '-' || f.csv === '-');
  const failed = runs.filter((r) => r.status === 'failed');
  const lines = [`${o.title} (${o.engines}, ${f.jobs} job${f.jobs > 1 ? 's' : ''} × ${f.threadsPerRun} thread${f.threadsPerRun > 1 ? 's' : ''}, ${formatSeconds(elapsedMs)})`, '', o.table.trimEnd()];
  if (interrupted) lines.push('', `interrupted: ${runs.filter((r) => r.status === 'done').length} of ${runs.length} runs finished; unfinished runs are in the output with their curves so far`);
  for (const r of failed) lines.push(`failed: ${r.label}, seed ${r.seed}: ${r.error}`);
  if (written.length) lines.push('', `wrote ${written.join(', ')}`);
  if (!(f.quiet && say === process.stderr)) say.write(lines.join('\n') + '\n');
  if (interrupted) return SIGNAL_EXIT_CODES[signal ?? 'SIGINT'];
  if (failed.length > 0) {
    throw new ModpropError(`${failed.length} of ${runs.length} runs failed (first: ${failed[0].label}, seed ${failed[0].seed}: ${failed[0].error})`);
  }
  return 0;
}

/** config.engine of a compare whose rules ran on different engines (config.rules[].engine says which). */
export const MIXED = 'mixed';

/**
 * The engine of each rule and of the whole compare (MIXED when they differ): on a spiking network one rule may run
 * natively while another falls back to the reference engine (lib/neurons/engine.ts).
 */
export function ruleEngines(neuron: string | undefined, requested: EngineName, rules: readonly NormalizedRule[]): { engines: EngineName[]; engine: string } {
  const engines = rules.map((r) => engineNameFor(neuron === undefined ? undefined : { model: neuron }, requested, [r]));
  return { engines, engine: engines.every((e) => e === engines[0]) ? engines[0] : MIXED };
}

/** 'native engine', or per engine its rules: 'native engine for bptt, eprop; reference engine for rtrl'. */
export function enginesText(rules: readonly { label: string; engine: string }[]): string {
  const engines = [...new Set(rules.map((r) => r.engine))];
  if (engines.length === 1) return `${engines[0]} engine`;
  return engines.map((e) => `${e} engine for ${rules.filter((r) => r.engine === e).map((r) => r.label).join(', ')}`).join('; ');
}

/** compare's --out, --csv, --table and --plot; returns the files written (not stdout). */
async function writeCompareFiles(f: CompareFlags, o: CompareResult): Promise<string[]> {
  const written: string[] = [];
  const dataOnStdout = f.out === '-';
  if (f.out !== undefined) {
    writeOutput(f.out, json({
      config: o.config,
      // The native build's record (SIMD level, threads per run) whenever it ran any rule.
      metadata: runMetadata({ engine: o.engine === MIXED ? 'native' : o.engine, threads: o.engine === 'reference' ? 1 : f.threadsPerRun }),
      summary: o.anchorRow ? [...o.summary, o.anchorRow] : o.summary,
      runs: o.runs.map(({ status, ...r }) => ({ ...r, status })),
    }));
    if (!dataOnStdout) written.push(f.out);
  }
  if (f.csv !== undefined) {
    writeOutput(f.csv, curvesCsv(o.runs.map((r) => ({ run: `${r.spec}/${r.seed}`, rule: r.label, seed: r.seed, curve: r.curve }))));
    if (f.csv !== '-') written.push(f.csv);
  }
  if (f.table !== undefined) {
    const failures = o.runs.filter((r) => r.status === 'failed').map((r) => `\n- failed: ${r.label}, seed ${r.seed}: ${r.error}`).join('');
    const notes = failures ? `\nRuns that stopped early are left out of the row (their curves up to the failure are in the plot and JSON):\n${failures}\n` : '';
    writeOutput(f.table, `## ${o.title}\n\nN = ${f.nRec}, T = ${o.steps}, ${o.engines}. ${describeColumns(o.metric)}\n\n${o.table}${notes}`);
    if (f.table !== '-') written.push(f.table);
  }
  if (f.plot !== undefined) {
    const figure = compareFigure(o.groups.map((g) => ({
      label: g.label,
      curves: g.runs.map((r) => r.curve),
      alignment: g.runs.filter((r) => r.alignment).map((r) => r.alignment!.map((a) => ({ iteration: a.iteration, cosine: a.cosine.wrec }))),
    })), {
      title: o.title, metric: o.metric, band: f.band, anchor: f.anchor === true, iterations: f.iterations,
      subtitle: [`N = ${f.nRec}, T = ${o.steps}, batch ${f.batchSize ?? 32}, evaluation on a fresh batch every ${f.evalEvery} iterations; ${o.engines}`],
    });
    writeOutput(f.plot, await figureSvg(figure));
    if (f.plot !== '-') written.push(f.plot);
  }
  return written;
}

export interface RuleSummary {
  rule: string;
  spec: string;
  /** The engine that ran the rule (compare; absent in files written before and in studies). */
  engine?: string;
  runs: number;
  finalIteration?: number;
  finalLoss?: ReturnType<typeof spread>;
  finalAccuracy?: ReturnType<typeof spread>;
  /** On the task's held-out set (seq-mnist), when it has one. */
  finalTestAccuracy?: ReturnType<typeof spread>;
  finalNmse?: ReturnType<typeof spread>;
  iterationsTo95?: { median: number | null; reached: number; runs: number };
  alignment?: ReturnType<typeof spread>;
  msPerIteration?: ReturnType<typeof spread>;
}

export function summarize(label: string, spec: string, runs: RunRecord[], metric: 'accuracy' | 'nmse', iterations: number, engine?: string): RuleSummary {
  const finished = runs.filter((r) => r.status === 'done' && r.final);
  const finals = finished.map((r) => r.final!);
  const out: RuleSummary = { rule: label, spec, ...(engine !== undefined ? { engine } : {}), runs: finished.length, finalIteration: iterations, finalLoss: spread(finals.map((p) => p.loss)) };
  if (metric === 'accuracy') {
    out.finalAccuracy = spread(finals.map((p) => p.accuracy));
    if (finals.some((p) => p.testAccuracy !== undefined)) out.finalTestAccuracy = spread(finals.map((p) => p.testAccuracy));
    const t = medianIterationsTo(finished.map((r) => r.curve));
    out.iterationsTo95 = { median: Number.isFinite(t.median) ? t.median : null, reached: t.reached, runs: t.runs };
  } else {
    out.finalNmse = spread(finals.map((p) => p.nmse));
  }
  const cos = runs.flatMap((r) => (r.alignment ?? []).map((a) => a.cosine.wrec));
  if (cos.length) out.alignment = spread(cos);
  out.msPerIteration = spread(finals.map((p) => p.elapsedMs / Math.max(1, p.iteration)));
  return out;
}

/** The public reference runs at our last iteration (their grid is every 20 iterations up to 2980). */
export function anchorSummary(iterations: number): RuleSummary {
  const curves = anchorCurves();
  const at = curves.map((c) => [...c].reverse().find((p) => p.iteration <= iterations) ?? c[0]);
  const t = medianIterationsTo(curves.map((c) => c.filter((p) => p.iteration <= iterations)));
  return {
    rule: anchorLabel(), spec: 'anchor', runs: curves.length, finalIteration: at[0].iteration,
    finalLoss: spread(at.map((p) => p.loss)), finalAccuracy: spread(at.map((p) => p.accuracy)),
    iterationsTo95: { median: Number.isFinite(t.median) ? t.median : null, reached: t.reached, runs: t.runs },
    msPerIteration: spread(loadAnchor().runs.map((r) => (r.secondsPerIteration ?? NaN) * 1000)),
  };
}

export function describeColumns(metric: 'accuracy' | 'nmse'): string {
  const m = metric === 'accuracy' ? 'accuracy' : 'NMSE';
  return `Final loss and ${m}: on a fresh batch at the last iteration, mean ± s.d. over seeds.` +
    (metric === 'accuracy' ? ' Iterations to 95 %: first evaluation with accuracy ≥ 0.95, median over seeds ("—": the median run never got there).' : '');
}

export function summaryTable(rows: RuleSummary[], metric: 'accuracy' | 'nmse', anchor?: RuleSummary): string {
  const header = ['rule', 'runs', 'final loss', metric === 'accuracy' ? 'final accuracy (%)' : 'final NMSE'];
  const withTest = rows.some((r) => r.finalTestAccuracy);
  if (withTest) header.push('final test accuracy (%)');
  if (metric === 'accuracy') header.push('iterations to 95 % (median)', 'reached 95 %');
  const withAlignment = rows.some((r) => r.alignment);
  if (withAlignment) header.push('Wrec alignment with bptt (mean cosine)');
  header.push('ms / iteration');
  // An engine column only when the rules ran on different engines (otherwise the table's caption names the one).
  const withEngine = new Set(rows.map((r) => r.engine)).size > 1;
  if (withEngine) header.push('engine');
  const line = (r: RuleSummary, isAnchor: boolean): string[] => {
    const cells = [isAnchor ? `${r.rule} at iteration ${r.finalIteration}` : r.rule, String(r.runs), meanSd(r.finalLoss, 1, 4),
      metric === 'accuracy' ? meanSd(r.finalAccuracy, 100, 1) : meanSd(r.finalNmse, 1, 4)];
    if (withTest) cells.push(meanSd(r.finalTestAccuracy, 100, 1));
    if (metric === 'accuracy') {
      const t = r.iterationsTo95!;
      cells.push(t.median === null ? '—' : String(t.median), `${t.reached}/${t.runs}`);
    }
    if (withAlignment) cells.push(r.alignment ? meanSd(r.alignment, 1, 3) : isAnchor ? '' : '1 (exact)');
    cells.push(r.msPerIteration ? `${r.msPerIteration.mean.toFixed(1)}${isAnchor ? ' (TF)' : ''}` : '—');
    if (withEngine) cells.push(r.engine ?? '');
    return cells;
  };
  return markdownTable(header, [...rows.map((r) => line(r, false)), ...(anchor ? [line(anchor, true)] : [])]);
}
