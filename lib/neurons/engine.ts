/**
 * Which engine runs a spiking network, and which rules it can run. The native engine runs the forward pass of lif and
 * alif networks and the (neuron, rule, online) combinations of NATIVE_SPIKING (native/core/spiking.cc, whose
 * checkSpikingRule refuses the others with a ModpropError); every other combination runs on the reference engine, as before. Asking
 * for the native engine explicitly for one of those is an error; the default choice falls back to the reference
 * engine (with a one-time notice).
 */
import type { Engine, EngineName } from '../backends/engine';
import { referenceEngine } from '../backends/reference';
import type { RuleName } from '../rules';
import { fail, type NormalizedNetworkConfig, type NormalizedRule } from '../validate';

type SpikingModel = 'lif' | 'alif';
const BOTH: readonly SpikingModel[] = Object.freeze(['lif', 'alif'] as const);
const NONE: readonly SpikingModel[] = Object.freeze([]);

/** Per rule, the spiking models on which the native engine runs its offline and its online form. */
export const NATIVE_SPIKING: Readonly<Record<RuleName, { offline: readonly SpikingModel[]; online: readonly SpikingModel[] }>> = Object.freeze({
  bptt: { offline: BOTH, online: NONE },
  tbptt: { offline: BOTH, online: NONE },
  rtrl: { offline: NONE, online: NONE },
  eprop: { offline: BOTH, online: BOTH },
  mdgl: { offline: BOTH, online: NONE },
  // Online ModProp has no form for alif (lib/reference/spiking/modpropOnline.ts); checkSpikingRule refuses it.
  modprop: { offline: BOTH, online: ['lif'] },
  rflo: { offline: BOTH, online: BOTH },
});

/** Whether the native engine runs every one of `rules` (none: the forward pass) on a network of this neuron. */
export function nativeRuns(neuron: { model: string } | undefined, rules: readonly Pick<NormalizedRule, 'rule' | 'online'>[] = []): boolean {
  if (neuron === undefined || neuron.model === 'rate') return true;
  const model = neuron.model as SpikingModel;
  return rules.every((r) => NATIVE_SPIKING[r.rule][r.online ? 'online' : 'offline'].includes(model));
}

let noticed = false;

/** The engine of a call on this network: `rules` are the rules it will run (none for a forward pass). */
export function engineForNeuron(engineFor: (r: EngineName | undefined) => Engine, requested: EngineName | undefined, c: Readonly<NormalizedNetworkConfig>,
  rules: readonly NormalizedRule[] = []): Engine {
  if (!c.neuron || nativeRuns(c.neuron, rules)) return engineFor(requested);
  const what = `${rules.map((r) => `${r.rule}${r.online ? ' online' : ''}`).join(', ')} on ${c.neuron.model} neurons`;
  if (requested === 'native') {
    fail(`'reference' for ${what} (the native engine runs the forward pass and ${nativeSummary()} on spiking neurons)`, 'options.backend', requested);
  }
  const engine = engineFor(requested);
  if (engine.name === 'native' && !noticed) {
    noticed = true;
    process.emitWarning(`modprop: ${what} runs on the reference engine (the native engine runs ${nativeSummary()} on spiking neurons)`, 'ModpropNotice');
  }
  return referenceEngine;
}

function nativeSummary(): string {
  const only = (models: readonly SpikingModel[]): string => (models.length === 1 ? ` (${models[0]})` : '');
  return (Object.keys(NATIVE_SPIKING) as RuleName[]).flatMap((r) => [
    ...(NATIVE_SPIKING[r].offline.length ? [`${r}${only(NATIVE_SPIKING[r].offline)}`] : []),
    ...(NATIVE_SPIKING[r].online.length ? [`${r} online${only(NATIVE_SPIKING[r].online)}`] : [])]).join(', ');
}

/**
 * The name of the engine that runs a network of this neuron model under `rules` when `requested` (or the default)
 * is asked for: what run records and summaries report. One rule for train(), the CLI's train and compare.
 */
export function engineNameFor(neuron: { model: string } | undefined, requested: EngineName, rules: readonly Pick<NormalizedRule, 'rule' | 'online'>[] = []): EngineName {
  return nativeRuns(neuron, rules) ? requested : 'reference';
}

/** Online ModProp has no causal type filter for ALIF units (lib/reference/spiking/modpropOnline.ts). */
export function checkSpikingRule(c: Readonly<NormalizedNetworkConfig>, rule: NormalizedRule, name: string): void {
  if (c.neuron?.model === 'alif' && rule.rule === 'modprop' && rule.online) {
    fail('online: false for modprop on alif neurons (online ModProp exists for rate and lif units)', `${name}.online`, true);
  }
}
