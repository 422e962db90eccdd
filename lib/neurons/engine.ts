/**
 * Which engine runs a spiking network, and which rules it can run. The native engine runs the forward pass of lif and
 * alif networks and the (rule, online) combinations of NATIVE_SPIKING (native/core/spiking.cc, whose checkSpikingRule
 * refuses the others with a ModpropError); every other combination runs on the reference engine, as before. Asking
 * for the native engine explicitly for one of those is an error; the default choice falls back to the reference
 * engine (with a one-time notice).
 */
import type { Engine, EngineName } from '../backends/engine';
import { referenceEngine } from '../backends/reference';
import type { RuleName } from '../rules';
import { fail, type NormalizedNetworkConfig, type NormalizedRule } from '../validate';

/** Per rule, the forms the native engine runs on lif and alif neurons (the same on both). */
export const NATIVE_SPIKING: Readonly<Record<RuleName, { offline: boolean; online: boolean }>> = Object.freeze({
  bptt: { offline: true, online: false },
  tbptt: { offline: true, online: false },
  rtrl: { offline: false, online: false },
  eprop: { offline: true, online: true },
  mdgl: { offline: true, online: false },
  modprop: { offline: true, online: false },
  rflo: { offline: false, online: false },
});

/** Whether the native engine runs every one of `rules` (none: the forward pass) on a network of this neuron. */
export function nativeRuns(neuron: { model: string } | undefined, rules: readonly Pick<NormalizedRule, 'rule' | 'online'>[] = []): boolean {
  if (neuron === undefined || neuron.model === 'rate') return true;
  return rules.every((r) => (r.online ? NATIVE_SPIKING[r.rule].online : NATIVE_SPIKING[r.rule].offline));
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
  return (Object.keys(NATIVE_SPIKING) as RuleName[]).flatMap((r) => [
    ...(NATIVE_SPIKING[r].offline ? [r] : []), ...(NATIVE_SPIKING[r].online ? [`${r} online`] : [])]).join(', ');
}

/**
 * The name of the engine that runs a network of this neuron model under `rules` when `requested` (or the default)
 * is asked for: what run records and summaries report. One rule for train(), the CLI's train and compare.
 */
export function engineNameFor(neuron: { model: string } | undefined, requested: EngineName, rules: readonly Pick<NormalizedRule, 'rule' | 'online'>[] = []): EngineName {
  return nativeRuns(neuron, rules) ? requested : 'reference';
}

/**
 * Online ModProp has no causal type filter for ALIF units (lib/reference/spiking/modpropOnline.ts); RFLO (Murray 2019)
 * is written for rate units and has no spiking form here yet.
 */
export function checkSpikingRule(c: Readonly<NormalizedNetworkConfig>, rule: NormalizedRule, name: string): void {
  if (c.neuron && rule.rule === 'rflo') {
    fail(`a rule with a spiking form for ${c.neuron.model} neurons (rflo runs on rate units only so far)`, `${name}.rule`, 'rflo');
  }
  if (c.neuron?.model === 'alif' && rule.rule === 'modprop' && rule.online) {
    fail('online: false for modprop on alif neurons (online ModProp exists for rate and lif units)', `${name}.online`, true);
  }
}
