/**
 * Pieces every `modprop` command shares: argument parsers (commander), the engine options, tasks and rules from
 * flags, output files (`-` is stdout) and the mapping of library option names back to the flags a user typed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { setThreads } from '../backend';
import type { RuleName } from '../contract';
import { DEFAULTS, TRAINABLE_RULES, defaultSignal, rulesTaking, takes } from '../rules';
import * as taskFactories from '../tasks/index';
import { TASK_SAMPLERS, type TaskSampler } from '../tasks/delayedXor';
import type { Task } from '../tasks/task';
import type { RuleConfig } from '../types';

/** A mistake in how the command was called (exit code 2, like commander's own usage errors). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const TASK_NAMES = ['delayed-xor', 'pattern-generation', 'seq-mnist'] as const;
export type TaskName = (typeof TASK_NAMES)[number];
export { TRAINABLE_RULES };

// ---------------------------------------------------------------------------------------------------------------
// Argument parsers: commander turns an InvalidArgumentError into "option '--x <n>' argument 'v' is invalid. <msg>".

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `Expected an integer ≥ ${min}.` : `Expected an integer between ${min} and ${max}.`);
    }
    return n;
  };
}

export function numberArg(what: 'positive' | 'non-negative' | 'any'): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    const ok = value.trim() !== '' && Number.isFinite(n) && (what === 'any' || (what === 'positive' ? n > 0 : n >= 0));
    if (!ok) throw new InvalidArgumentError(`Expected a ${what === 'any' ? 'finite' : what} number.`);
    return n;
  };
}

export function listArg(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError('Expected a comma-separated list.');
  return items;
}

// ---------------------------------------------------------------------------------------------------------------
// Engine options

export interface EngineFlags {
  threads?: number;
  backend?: 'native' | 'reference';
}

export function addEngineOptions(cmd: Command, threads = true): Command {
  if (threads) cmd.option('--threads <n>', 'native engine threads (default: all cores)', intArg(1, 1024));
  return cmd.addOption(new Option('--backend <engine>', 'force an engine (default: native when the addon loads)').choices(['native', 'reference']));
}

/**
 * Applied before anything resolves the engine: the choice is made once, at first use, from MODPROP_BACKEND.
 * Worker threads copy process.env when they start, so `compare` workers see the same choice.
 */
export function applyEngineFlags(flags: EngineFlags): void {
  if (flags.backend !== undefined) process.env.MODPROP_BACKEND = flags.backend;
  if (flags.threads !== undefined) setThreads(flags.threads);
}

// ---------------------------------------------------------------------------------------------------------------
// Tasks

export interface TaskFlags {
  task: TaskName;
  delay?: number;
  cue?: number;
  sampler?: TaskSampler;
}

export function addTaskOptions(cmd: Command, defaultTask?: TaskName): Command {
  const task = new Option('--task <name>', 'task (SPEC §5)').choices(TASK_NAMES);
  if (defaultTask) task.default(defaultTask);
  else task.makeOptionMandatory();
  return cmd
    .addOption(task)
    .option('--delay <steps>', 'delayed-xor: steps between the two cues (default: 700)', intArg(0))
    .option('--cue <steps>', 'delayed-xor: length of each cue window (default: 100)', intArg(1))
    .addOption(new Option('--sampler <name>', "delayed-xor: normal sampler of the input noise (default: fast)").choices(TASK_SAMPLERS));
}

export interface TaskChoice {
  task: Task;
  /** The factory options, recorded in outputs. */
  options: Record<string, number | string>;
}

/** The task a command's flags name; the data seed of pattern-generation and seq-mnist is `seed`. */
export function taskFromFlags(flags: TaskFlags, seed: number): TaskChoice {
  if (flags.task !== 'delayed-xor' && (flags.delay !== undefined || flags.cue !== undefined || flags.sampler !== undefined)) {
    throw new UsageError(`--delay, --cue and --sampler apply to the delayed-xor task, not to ${flags.task}`);
  }
  if (flags.task === 'delayed-xor') {
    const options: Record<string, number | string> = {};
    // Recorded only when chosen, so the ids of planned study runs stay; train's config records it always.
    if (flags.sampler !== undefined) options.sampler = flags.sampler;
    if (flags.delay !== undefined) options.delaySteps = flags.delay;
    if (flags.cue !== undefined) options.cueSteps = flags.cue;
    return { task: taskFactories.delayedXor(options), options };
  }
  if (flags.task === 'pattern-generation') return { task: taskFactories.patternGeneration({ seed }), options: { seed } };
  return { task: taskFactories.seqMnist({ seed }), options: { seed } };
}

/** 'accuracy' for classification tasks, 'nmse' for regression. */
export function metricOf(task: Task): 'accuracy' | 'nmse' {
  return task.metric ?? (task.loss === 'mse' ? 'nmse' : 'accuracy');
}

// ---------------------------------------------------------------------------------------------------------------
// Optimizer (shared by train and compare)

export interface OptimizerFlags {
  batchSize?: number;
  lr?: number;
  lrDecay?: number;
  lrDecayEvery?: number;
  l2?: number;
  optimizer?: 'adam' | 'sgd';
}

export function addOptimizerOptions(cmd: Command): void {
  cmd
    .option('--batch-size <n>', 'sequences per batch (default: 32)', intArg(1))
    .option('--lr <rate>', 'learning rate (default: 5e-4)', numberArg('positive'))
    .option('--lr-decay <factor>', 'multiply the learning rate by this … (default: 0.8)', numberArg('positive'))
    .option('--lr-decay-every <n>', '… every n iterations (default: 300)', intArg(1))
    .option('--l2 <coef>', 'L2 coefficient on Win, Wrec, Wout (default: 5e-4)', numberArg('non-negative'))
    .addOption(new Option('--optimizer <name>', 'optimizer (default: adam)').choices(['adam', 'sgd']));
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

export interface RuleFlags {
  mu?: number;
  feedback?: 'type' | 'cell';
  online?: boolean;
  window?: number;
  learningSignal?: 'symmetric' | 'random';
}

/** "symmetric", or "symmetric; rflo: random" where a rule's own default differs. */
function signalDefaults(): string {
  const own = rulesTaking('learningSignal').filter((r) => defaultSignal(r) !== DEFAULTS.learningSignal);
  return [DEFAULTS.learningSignal, ...own.map((r) => `${r}: ${defaultSignal(r)}`)].join('; ');
}

/** With `shared`, the flags go to every listed rule that takes them (compare, align); the help says so once. */
export function addRuleOptions(cmd: Command, shared: boolean): Command {
  if (shared) cmd.addHelpText('after', '\nThe rule options (--mu, --feedback, --online, --window, --learning-signal) apply to each listed rule that takes them;\na modifier in --rules (e.g. modprop:online:mu=0.5) overrides them for that rule.');
  const who = (key: Parameters<typeof rulesTaking>[0]): string => rulesTaking(key).filter((r) => TRAINABLE_RULES.includes(r)).join(', ');
  return cmd
    .option('--mu <mu>', `${who('mu')}: μ, the constant standing in for relu' (default: 0.25)`, numberArg('non-negative'))
    .addOption(new Option('--feedback <kind>', `${who('feedback')}: feedback weights, the type average of Wrec or Wrec itself (default: type)`).choices(['type', 'cell']))
    .option('--online', `${who('online')}: the causal online form (memory independent of T)`)
    .option('--window <steps>', `${who('window')}: truncation window`, intArg(1))
    .addOption(new Option('--learning-signal <kind>', `${who('learningSignal')}: feedback of the output error (default: ${signalDefaults()})`).choices(['symmetric', 'random']));
}

/**
 * A rule config from a name and the flags. With `sharedOnly`, a flag is used only by the rules it applies to (compare
 * and align take one set of flags for several rules); otherwise every given flag is passed and the library rejects
 * one that does not apply, naming it.
 */
export function ruleFromFlags(name: RuleName, flags: RuleFlags, sharedOnly: boolean): RuleConfig {
  const r: RuleConfig = { rule: name };
  const use = (key: keyof RuleFlags): boolean => flags[key] !== undefined && (!sharedOnly || takes(name, key));
  if (use('mu')) r.mu = flags.mu;
  if (use('feedback')) r.feedback = flags.feedback;
  if (flags.online && (!sharedOnly || takes(name, 'online'))) r.online = true;
  if (use('window')) r.window = flags.window;
  if (use('learningSignal')) r.learningSignal = flags.learningSignal;
  return r;
}

/** The help of every --rules flag: the rules of the registry and the modifiers parseRuleSpec takes. */
export const RULES_HELP = `rules (${TRAINABLE_RULES.join(', ')}), each name[:modifier…] (modifiers: online, cell, type, random, symmetric, mu=<μ>, window=<W>)`;

/**
 * A rule written as `name[:modifier...]`, e.g. `modprop:online`, `modprop:cell:mu=0.5`, `tbptt:window=50`, `eprop:random`.
 * Modifiers override the shared flags for that rule.
 */
export function parseRuleSpec(spec: string, flags: RuleFlags): { config: RuleConfig; spec: string } {
  const [name, ...mods] = spec.split(':');
  if (!(TRAINABLE_RULES as string[]).includes(name)) {
    throw new UsageError(`unknown rule '${name}' in '${spec}' (expected one of ${TRAINABLE_RULES.join(', ')})`);
  }
  const own: RuleFlags = { ...flags };
  for (const mod of mods) {
    const [key, value] = mod.split('=');
    if (mod === 'online') own.online = true;
    else if (mod === 'offline') own.online = false;
    else if (mod === 'type' || mod === 'cell') own.feedback = mod;
    else if (mod === 'random' || mod === 'symmetric') own.learningSignal = mod;
    else if (key === 'mu' && value !== undefined && value !== '' && Number.isFinite(Number(value))) own.mu = Number(value);
    else if ((key === 'window' || key === 'w') && value !== undefined && Number.isInteger(Number(value))) own.window = Number(value);
    else throw new UsageError(`unknown modifier '${mod}' in rule '${spec}' (expected online, offline, type, cell, random, symmetric, mu=<μ> or window=<W>)`);
  }
  const config = ruleFromFlags(name as RuleName, own, true);
  if (takes(name as RuleName, 'window') && config.window === undefined) throw new UsageError(`${name} needs a window: --window <W> or '${name}:window=<W>'`);
  return { config, spec };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

/** Writes text to a file, or to stdout for '-'. Creates the file's folder. */
export function writeOutput(file: string, text: string): void {
  if (file === '-') {
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    return;
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

/**
 * Fails before a long run rather than after it: the folder of each output file must be creatable and writable, and
 * the path must not be a folder.
 */
export function checkWritable(files: (string | undefined)[]): void {
  for (const f of files) {
    if (f === undefined || f === '-') continue;
    const full = path.resolve(f);
    if (fs.existsSync(full) && fs.statSync(full).isDirectory()) throw new UsageError(`cannot write ${f}: it is a folder`);
    const dir = path.dirname(full);
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (err) {
      throw new UsageError(`cannot write ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} on ${dir}`);
    }
  }
}

export function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Where human-readable messages go: stdout, unless stdout carries data (`--out -`). */
export function messageStream(dataOnStdout: boolean): NodeJS.WriteStream {
  return dataOnStdout ? process.stderr : process.stdout;
}

const FLAG_OF: Record<string, string> = {
  mu: '--mu', feedback: '--feedback', online: '--online', window: '--window', learningSignal: '--learning-signal',
  optimizer: '--optimizer', lr: '--lr', lrDecay: '--lr-decay', lrDecayEvery: '--lr-decay-every', l2: '--l2',
  iterations: '--iterations', batchSize: '--batch-size', evalEvery: '--eval-every', seed: '--seed', backend: '--backend',
  checkpoint: '--checkpoint', checkpointEvery: '--checkpoint-every', resume: '--resume', length: '--length',
  delaySteps: '--delay', cueSteps: '--cue', nRec: '--n-rec', tau: '--tau', connectivity: '--connectivity',
};

/** "Expected … for options.lrDecay …" → "Expected … for --lr-decay …": name the flag the user typed. */
export function withFlagNames(message: string): string {
  return message.replace(/\b(?:options|config)\.(\w+)/g, (whole, key: string) => FLAG_OF[key] ?? whole);
}

export function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : ms < 600_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

export function percent(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)} %`;
}

/** A plain-text table with right-aligned numeric columns. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
