/**
 * Which engine runs a spiking network, and which rules it can run: until the native kernels have a neuron axis
 * (docs/neurons.md lists what they need), spiking networks run on the reference engine. Asking for the native engine
 * explicitly is an error; the default choice falls back to the reference engine (with a one-time notice).
 */
import type { Engine, EngineName } from '../backends/engine';
import { referenceEngine } from '../backends/reference';
import { fail, type NormalizedNetworkConfig, type NormalizedRule } from '../validate';

let noticed = false;

export function engineForNeuron(engineFor: (r: EngineName | undefined) => Engine, requested: EngineName | undefined, c: Readonly<NormalizedNetworkConfig>): Engine {
  if (!c.neuron) return engineFor(requested);
  if (requested === 'native') {
    fail(`'reference' for a network of ${c.neuron.model} neurons (the native engine runs rate units only so far)`, 'options.backend', requested);
  }
  const engine = engineFor(requested);
  if (engine.name === 'native' && !noticed) {
    noticed = true;
    process.emitWarning(`modprop: ${c.neuron.model} networks run on the reference engine (the native engine runs rate units only so far)`, 'ModpropNotice');
  }
  return referenceEngine;
}

/**
 * The name of the engine that runs a network of this neuron model when `requested` (or the default) is asked for:
 * what run records and summaries report. One rule for train(), the CLI's train and compare.
 */
export function engineNameFor(neuron: { model: string } | undefined, requested: EngineName): EngineName {
  return neuron !== undefined && neuron.model !== 'rate' ? 'reference' : requested;
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
