/** Validation of `NetworkConfig.neuron` (lib/validate.ts's helpers and message shape): the normalised spiking neuron, or null for the rate unit. */
import { fail, integer, knownKeys, oneOf, plainObject, positiveNumber } from '../validate';
import { ALIF_DEFAULTS } from './alif';
import { LIF_DEFAULTS } from './lif';
import { NEURON_NAMES, type SpikingNeuron } from './neuron';

const SPIKING_KEYS = ['model', 'tauM', 'threshold', 'refractory', 'dampening', 'tauOut'] as const;
const ALIF_KEYS = [...SPIKING_KEYS, 'tauA', 'beta'] as const;

export function neuronConfig(value: unknown, dt: number, name = 'config.neuron'): SpikingNeuron | null {
  if (value === undefined) return null;
  const c = plainObject(value, name);
  const model = oneOf(c.model, `${name}.model`, NEURON_NAMES);
  if (model === 'rate') {
    knownKeys(c, name, ['model']);
    return null;
  }
  knownKeys(c, name, model === 'alif' ? ALIF_KEYS : SPIKING_KEYS);
  const d = model === 'alif' ? ALIF_DEFAULTS : LIF_DEFAULTS;
  const num = (key: keyof typeof d): number => (c[key] === undefined ? d[key]! : positiveNumber(c[key], `${name}.${key}`));
  const out: SpikingNeuron = {
    model,
    tauM: num('tauM'),
    threshold: num('threshold'),
    refractory: c.refractory === undefined ? d.refractory : integer(c.refractory, `${name}.refractory`, 0, 1_000_000),
    dampening: num('dampening'),
    tauOut: num('tauOut'),
  };
  if (model === 'alif') {
    out.tauA = num('tauA');
    out.beta = c.beta === undefined ? d.beta! : nonNegative(c.beta, `${name}.beta`);
    // |ρ − βψ| ≤ 1 for every ψ in [0, γ/v_th] keeps the adaptation's gradient path from exploding (alif.ts).
    const limit = (1 + Math.exp(-dt / out.tauA)) * out.threshold / out.dampening;
    if (out.beta > limit) {
      fail(`a beta ≤ (1 + exp(−dt/tauA)) · threshold / dampening = ${limit.toPrecision(4)} (a larger one makes the adaptation's gradient explode)`, `${name}.beta`, out.beta);
    }
  }
  return out;
}

function nonNegative(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail('a finite number ≥ 0', name, value);
  return value;
}
