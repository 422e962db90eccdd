/**
 * `--preset <name>` and the network-recipe flags (`--init`, `--recurrent-radius`, `--subtypes`, `--connectivity`, `--neuron`) of `train` and
 * `compare`. A preset fills every field the user did not type: a flag given on the command line always wins, and
 * the preset's rule options (e.g. cell feedback, μ) go only to the preset's own rule.
 */
import { Option, type Command } from 'commander';
import { INIT_NAMES, type InitName } from '../init';
import { NEURON_NAMES, type NeuronName } from '../neurons/neuron';
import { PRESET_NAMES, presets, type PresetName } from '../presets';
import type { RuleName } from '../contract';
import { UsageError, intArg, numberArg, type OptimizerFlags, type RuleFlags, type TaskFlags } from './common';

export interface RecipeFlags {
  preset?: PresetName;
  init?: InitName;
  recurrentRadius?: number;
  subtypes?: number;
  connectivity?: number;
  neuron?: NeuronName;
}

/** The network options these flags resolve to, for `Network.create` (only the fields that were set). */
export interface NetworkRecipe {
  init?: InitName;
  recurrentRadius?: number;
  subtypes?: number;
  connectivity?: number;
  neuron?: { model: NeuronName };
}

export function addPresetOptions(cmd: Command): Command {
  // A preset names the task, so --task is no longer mandatory; resolvePreset checks that one of the two is given.
  const task = cmd.options.find((o) => o.long === '--task');
  if (task) task.mandatory = false;
  return cmd
    .addOption(new Option('--preset <name>', "a publication's settings (task, network, rule, training); flags given override them").choices(PRESET_NAMES))
    .addOption(new Option('--init <recipe>', 'initialisation recipe (default: balanced, SPEC §1)').choices(INIT_NAMES))
    .option('--recurrent-radius <r>', 'rescale Wrec to this spectral radius after its diagonal is zeroed', numberArg('positive'))
    .option('--subtypes <k>', 'split E and I each into k random equal subtypes (C = 2k cell types for type feedback)', intArg(1, 16384))
    .option('--connectivity <p>', 'keep each recurrent connection with probability p ≤ 1 (a fixed sparse mask; default 1: dense)', numberArg('positive'))
    .addOption(new Option('--neuron <model>', 'neuron model with its defaults (docs/neurons.md; spiking ones run natively for every rule but rtrl and online modprop on alif)').choices(NEURON_NAMES));
}

type Flags = RecipeFlags & TaskFlags & OptimizerFlags & RuleFlags & { nRec?: number; rule?: RuleName };

/**
 * Fills the flags the user did not give from the preset (in place) and returns what to record in the output, or
 * undefined without --preset. `rule` is set only on commands with a single --rule (train).
 */
export function resolvePreset(f: Flags, cmd: Command): { name: PresetName; resolved: Record<string, unknown> } | undefined {
  if (f.preset === undefined) {
    if ((f.task as string | undefined) === undefined) throw new UsageError("required option '--task <name>' not specified (or give --preset <name>)");
    return undefined;
  }
  const p = presets[f.preset];
  const typed = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli';
  const bag = f as unknown as Record<string, unknown>;
  const set = (key: string, value: unknown): void => {
    if (!typed(key)) bag[key] = value;
  };
  set('task', p.task.name);
  if (f.task === p.task.name) for (const [k, v] of Object.entries(p.task.options)) set(k, v);
  set('nRec', p.network.nRec);
  set('init', p.network.init);
  for (const [k, v] of Object.entries(p.training)) set(k, v);
  if (cmd.options.some((o) => o.long === '--rule')) {
    set('rule', p.rule.rule);
    if (f.rule === p.rule.rule) Object.assign(f, presetRuleFlags(f, cmd));
  }
  const resolved: Record<string, unknown> = { task: f.task, nRec: f.nRec, init: f.init };
  for (const k of Object.keys(p.training)) resolved[k] = bag[k];
  resolved.rule = { ...p.rule, ...(f.rule !== undefined ? { rule: f.rule } : {}) };
  return { name: f.preset, resolved };
}

/** The rule flags for the preset's own rule: the preset's rule options where the user typed none. */
export function presetRuleFlags(f: Flags, cmd: Command): RuleFlags {
  return { ...f, ...presetRuleOnly(f, cmd) };
}

/** Only the preset's rule options that the user did not type: what `presetRuleFlags` lays over the flags. */
export function presetRuleOnly(f: RecipeFlags, cmd: Command): RuleFlags {
  const out: Record<string, unknown> = {};
  if (f.preset === undefined) return out;
  const { rule: _rule, ...options } = presets[f.preset].rule;
  for (const [k, v] of Object.entries(options)) if (cmd.getOptionValueSource(k) !== 'cli') out[k] = v;
  return out as RuleFlags;
}

/** The recipe for `Network.create`: only the fields that were set, so the default network stays bit-identical. */
export function networkRecipe(f: RecipeFlags): NetworkRecipe {
  return {
    ...(f.init !== undefined ? { init: f.init } : {}),
    ...(f.recurrentRadius !== undefined ? { recurrentRadius: f.recurrentRadius } : {}),
    ...(f.subtypes !== undefined ? { subtypes: f.subtypes } : {}),
    ...(f.connectivity !== undefined ? { connectivity: f.connectivity } : {}),
    ...(f.neuron !== undefined && f.neuron !== 'rate' ? { neuron: { model: f.neuron } } : {}),
  };
}

/** The name of the preset's rule, for compare: a --rules entry naming it gets the preset's rule options. */
export function presetRule(f: RecipeFlags): RuleName | undefined {
  return f.preset === undefined ? undefined : presets[f.preset].rule.rule;
}
