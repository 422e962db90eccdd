/** `modprop train`: one network, one rule, one task; the run as JSON (SPEC §6), a summary, optionally a plot. */
import { Command, Option } from 'commander';
import { backend, getThreads } from '../backend';
import { engineNameFor } from '../neurons/engine';
import { Network } from '../network';
import { train, type TrainCallOptions } from '../train';
import type { RuleName } from '../contract';
import type { TrainResult } from '../trainTypes';
import type { NetworkConfig } from '../types';
import { ruleLabel, rule as normalizeRule } from '../validate';
import { version } from '../index';
import {
  TRAINABLE_RULES, UsageError, addEngineOptions, checkWritable, addRuleOptions, addTaskOptions, applyEngineFlags, formatSeconds, intArg,
  json, messageStream, metricOf, numberArg, percent, ruleFromFlags, taskFromFlags, writeOutput,
  addOptimizerOptions, type EngineFlags, type OptimizerFlags, type RuleFlags, type TaskFlags,
} from './common';
import { figureSvg } from '../plot';
import { runFigure } from './figures';
import { Progress, progressMode } from './progress';
import { iterationsTo } from './stats';
import { SIGNAL_EXIT_CODES, curvesCsv, onStopSignals, rerunSettings } from './runFiles';
import { addPresetOptions, networkRecipe, resolvePreset, type RecipeFlags } from './preset';

export interface TrainFlags extends EngineFlags, RuleFlags, TaskFlags, OptimizerFlags, RecipeFlags {
  rule: RuleName;
  iterations?: number;
  evalEvery?: number;
  nRec: number;
  tau?: number;
  seed: number;
  out?: string;
  plot?: string;
  anchor?: boolean;
  checkpoint?: string;
  checkpointEvery?: number;
  resume?: string;
  saveNetwork?: string;
  csv?: string;
  rerun?: string;
  quiet?: boolean;
}

/** The flags that set up a run; --rerun takes all of them from its file. */
const RUN_SETTINGS = ['task', 'delay', 'cue', 'rule', 'mu', 'feedback', 'online', 'window', 'learningSignal', 'iterations',
  'batchSize', 'lr', 'lrDecay', 'lrDecayEvery', 'l2', 'optimizer', 'evalEvery', 'nRec', 'tau', 'seed', 'preset', 'init',
  'recurrentRadius', 'subtypes', 'connectivity'];

const EXAMPLES = `
Examples:
  # the paper's delayed-XOR run with ModProp (μ = 0.25, type feedback), curve and plot beside the reference runs
  $ modprop train --task delayed-xor --rule modprop --iterations 1000 --out run.json --plot run.svg --anchor

  # a quick run: short delay, small network
  $ modprop train --task delayed-xor --delay 20 --n-rec 30 --iterations 200 --eval-every 10 --rule eprop --online

  # the JSON on stdout (the summary then goes to stderr)
  $ modprop train --task pattern-generation --rule bptt --iterations 300 --out - --quiet | jq .final

  # checkpoint every 100 iterations; continue later (iterations count the whole run)
  $ modprop train --task seq-mnist --rule modprop --checkpoint ck.json --checkpoint-every 100
  $ modprop train --task seq-mnist --rule modprop --resume ck.json --iterations 2000

  # the trained network for numpy (numpy.load) or Network.load; the curves as CSV for pandas/R
  $ modprop train --task delayed-xor --rule modprop --save-network net.npz --csv run.csv --out run.json
  # the same run again, every setting (defaults, seeds, engine, threads) read from its JSON
  $ modprop train --rerun run.json --out again.json

Ctrl-C (SIGINT) or SIGTERM stops training, writes --out and --csv with the curve so far and exits with code 130 or
143. An unstable filter or a diverged run also writes them (with the error in config.error) before it fails.`;

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train one network with one learning rule; write the learning curve (JSON), a summary and a plot');
  addTaskOptions(cmd);
  // Checked in runTrain instead: --rerun takes the task from its file.
  cmd.options.find((o) => o.long === '--task')!.mandatory = false;
  cmd.addOption(new Option('--rule <rule>', 'learning rule').choices(TRAINABLE_RULES).default('modprop'));
  addRuleOptions(cmd, false);
  cmd
    .option('--iterations <n>', 'training iterations, counting those of a resumed run (default: 1000)', intArg(0));
  addOptimizerOptions(cmd);
  cmd
    .option('--eval-every <n>', 'evaluate on a fresh batch every n iterations (default: 20)', intArg(1))
    .option('--n-rec <n>', 'recurrent units', intArg(1, 16384), 120)
    .option('--tau <steps>', 'membrane time constant in steps (default: 100)', numberArg('positive'))
    .option('--seed <s>', 'seed of the network and of the data', intArg(0), 1);
  addPresetOptions(cmd);
  addEngineOptions(cmd);
  return cmd
    .option('--out <file>', "write the run as JSON { config, curve, final } ('-': stdout)")
    .option('--plot <file>', 'write an SVG of loss and accuracy (or NMSE) against iteration')
    .option('--anchor', 'draw the public reference runs beside ours (delayed-xor only)')
    .option('--checkpoint <file>', 'write a checkpoint here every --checkpoint-every iterations and at the end')
    .option('--checkpoint-every <n>', 'default: --eval-every', intArg(1))
    .option('--resume <file>', 'continue from a checkpoint')
    .option('--save-network <file>', 'write the trained network as .npz (numpy.load, Network.load)')
    .option('--csv <file>', "write the curve as CSV, one row per point and metric ('-': stdout)")
    .option('--rerun <file>', 'run again with every setting of a train --out file (task, network, rule, optimizer, seeds, engine)')
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: TrainFlags, command: Command) => {
      if (flags.rerun !== undefined) {
        const given = RUN_SETTINGS.filter((k) => command.getOptionValueSource(k) === 'cli');
        if (given.length) throw new UsageError(`--rerun takes every run setting from ${flags.rerun}; leave out ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
      } else if (flags.task === undefined && flags.preset === undefined) {
        throw new UsageError("required option '--task <name>' not specified (or --preset <name>, or --rerun <file>)");
      }
      process.exitCode = await runTrain(flags, command);
    });
}

async function runTrain(f: TrainFlags, cmd: Command): Promise<number> {
  const rerun = f.rerun !== undefined ? rerunSettings(f.rerun) : undefined;
  if (rerun) f.task = rerun.task.name as TrainFlags['task'];
  // A re-run's settings (a preset's among them) all come from its file.
  const preset = rerun ? undefined : resolvePreset(f, cmd);
  if (f.anchor && f.task !== 'delayed-xor') throw new UsageError('--anchor draws the reference runs of delayed-xor; it does not apply to ' + f.task);
  if (f.anchor && !f.plot) throw new UsageError('--anchor needs --plot <file>');
  if ([f.out, f.plot, f.csv].filter((x) => x === '-').length > 1) throw new UsageError('only one of --out, --plot and --csv can be - (stdout)');
  if (f.saveNetwork === '-') throw new UsageError('--save-network needs a file (a .npz is binary)');
  checkWritable([f.out, f.plot, f.checkpoint, f.saveNetwork, f.csv]);
  if (rerun) {
    f.seed = rerun.train.seed as number;
    applyEngineFlags({ backend: f.backend ?? rerun.engine, threads: f.threads ?? (rerun.engine === 'native' ? rerun.threads : undefined) });
  } else {
    applyEngineFlags(f);
  }
  const { task, options: taskOptions } = rerun ? { task: rerun.task, options: rerun.taskOptions } : taskFromFlags(f, f.seed);
  const rule = rerun ? rerun.rule : ruleFromFlags(f.rule, f, false);
  const label = ruleLabel(normalizeRule(rule, 'options'));
  const net = rerun ? Network.create(rerun.network as unknown as NetworkConfig)
    : Network.create({ nIn: task.nIn, nRec: f.nRec, nOut: task.nOut, seed: f.seed, ...(f.tau !== undefined ? { tau: f.tau } : {}), ...networkRecipe(f) });
  const metric = metricOf(task);
  const iterations = rerun ? rerun.train.iterations as number : f.iterations ?? 1000;
  const dataOnStdout = f.out === '-' || f.plot === '-' || f.csv === '-';
  const say = messageStream(dataOnStdout);
  const quietSummary = dataOnStdout && f.quiet;

  const progress = new Progress(progressMode(f.quiet), iterations, label);
  const controller = new AbortController();
  const signals = onStopSignals(() => controller.abort());

  const options = trainCallOptions(f, { ...rule, ...rerun?.train, iterations, seed: f.seed, signal: controller.signal,
    onProgress: (p) => {
      const m = metric === 'accuracy' ? `accuracy ${percent(p.accuracy)}` : `nmse ${p.nmse?.toFixed(4) ?? '—'}`;
      const status = `loss ${p.loss.toFixed(4)} ${m}`;
      progress.update(p.iteration, status, `iteration ${String(p.iteration).padStart(String(p.iterations).length)}/${p.iterations}  ${status}  ${formatSeconds(p.elapsedMs)}`);
    },
  });

  let result: TrainResult;
  let aborted = false;
  let failure: Error | undefined;
  try {
    result = await train(net, task, options);
  } catch (err) {
    const partial = (err as { result?: TrainResult }).result;
    if (!partial) throw err;
    result = partial;
    if ((err as Error).name === 'AbortError') aborted = true;
    else failure = err as Error;
  } finally {
    progress.stop();
    signals.dispose();
  }

  const engine = engineNameFor(net.config.neuron, backend.name, [normalizeRule(rule, 'options')]);
  const threads = engine === 'native' ? getThreads() : 1;
  const run = {
    config: {
      ...result.config, taskOptions, engine, threads, modprop: version,
      ...(preset ? { preset: preset.name, presetSettings: preset.resolved } : {}),
      ...(aborted ? { aborted: true } : {}), ...(failure ? { error: failure.message } : {}),
    },
    metadata: result.metadata,
    curve: result.curve,
    final: result.final,
  };
  const written: string[] = [];
  if (f.out !== undefined) {
    writeOutput(f.out, json(run));
    if (f.out !== '-') written.push(f.out);
  }
  if (f.csv !== undefined) {
    writeOutput(f.csv, curvesCsv([{ run: `${result.config.rule}/${f.seed}`, rule: label, seed: f.seed, curve: result.curve }]));
    if (f.csv !== '-') written.push(f.csv);
  }
  // The run's error is thrown after the curve is written: the command still fails, and says so.
  if (failure) throw failure;
  if (f.saveNetwork !== undefined) {
    net.save(f.saveNetwork);
    written.push(f.saveNetwork);
  }
  if (f.plot !== undefined) {
    const figure = runFigure(result.curve, {
      title: `${label} on ${task.name}`,
      subtitle: [`N = ${net.nRec}, T = ${task.steps}, batch ${options.batchSize ?? 32}, seed ${f.seed}, ${engine} engine${aborted ? ' — interrupted' : ''}`],
      metric, label, anchor: f.anchor === true,
    });
    writeOutput(f.plot, await figureSvg(figure));
    if (f.plot !== '-') written.push(f.plot);
  }

  if (!quietSummary) {
    const head = `${label} on ${task.name} (T = ${task.steps}, N = ${net.nRec}, seed ${f.seed}) — ${engine} engine, ${threads} thread${threads > 1 ? 's' : ''}`;
    const stopped = aborted ? `interrupted (${signals.received() === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C'}) before iteration ${iterations}` : undefined;
    say.write([head, ...summaryLines(result, metric, stopped), ...(written.length ? [`wrote ${written.join(', ')}`] : [])].join('\n') + '\n');
  }
  return aborted ? SIGNAL_EXIT_CODES[signals.received() ?? 'SIGINT'] : 0;
}

/** The library options of the flags given (only those: train resolves the defaults itself). */
function trainCallOptions(f: TrainFlags, base: TrainCallOptions): TrainCallOptions {
  const options = { ...base };
  const pass = <K extends keyof TrainCallOptions>(key: K, value: TrainCallOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  pass('batchSize', f.batchSize);
  pass('lr', f.lr);
  pass('lrDecay', f.lrDecay);
  pass('lrDecayEvery', f.lrDecayEvery);
  pass('l2', f.l2);
  pass('optimizer', f.optimizer);
  pass('evalEvery', f.evalEvery);
  pass('backend', f.backend);
  pass('checkpoint', f.checkpoint);
  pass('checkpointEvery', f.checkpointEvery);
  pass('resume', f.resume);
  return options;
}

/** The end-of-run summary: where it stopped, time per iteration, final metrics, iterations to 95 %. */
function summaryLines(result: TrainResult, metric: 'accuracy' | 'nmse', stopped: string | undefined): string[] {
  const lines: string[] = [];
  const fin = result.final;
  const done = fin ? fin.iteration : 0;
  if (stopped) lines.push(`${stopped}; the curve ends at iteration ${done}`);
  if (fin) {
    const perIt = done > 0 ? `, ${(fin.elapsedMs / done).toFixed(1)} ms/iteration` : '';
    lines.push(`${done} iterations in ${formatSeconds(fin.elapsedMs)}${perIt}`);
    const m = metric === 'accuracy' ? `accuracy ${percent(fin.accuracy)}` : `nmse ${fin.nmse?.toFixed(4) ?? '—'}`;
    const test = fin.testAccuracy !== undefined ? `, test accuracy ${percent(fin.testAccuracy)}` : '';
    lines.push(`final (iteration ${fin.iteration}): loss ${fin.loss.toFixed(4)}, ${m}${test}`);
    if (metric === 'accuracy') {
      const hit = iterationsTo(result.curve);
      lines.push(Number.isFinite(hit) ? `first ≥ 95 % accuracy at iteration ${hit}` : 'never reached 95 % accuracy');
    }
  }
  return lines;
}
