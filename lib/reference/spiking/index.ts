/**
 * The reference engine on spiking networks (lib/neurons): every offline rule through spiking/reverse.ts, rtrl,
 * online e-prop, rflo offline and online (spiking/rflo.ts), and online ModProp for LIF. ALIF has no online ModProp: its type filter (SPEC §4) needs a credit
 * recursion with the same coefficients for every unit of a type, and ALIF's own adaptation path carries each unit's
 * time-varying ψ_t (docs/neurons.md).
 */
import { bptt } from '../bptt';
import { eprop } from '../eprop';
import { mdgl } from '../mdgl';
import { modprop } from '../modprop';
import type { Data64, Model64, ReferenceRule, Result64 } from '../model';
import { tbptt } from '../tbptt';
import { spikingEpropOnline } from './epropOnline';
import { spikingModpropOnline } from './modpropOnline';
import { spikingReverseGradients } from './reverse';
import { spikingRflo, spikingRfloOnline } from './rflo';
import { spikingRtrl } from './rtrl';

export function spikingGradients(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  switch (rule.rule) {
    case 'bptt': return spikingReverseGradients(m, d, rule, bptt(m));
    case 'tbptt': return spikingReverseGradients(m, d, rule, tbptt(m, rule.window));
    case 'rtrl': return spikingRtrl(m, d);
    case 'eprop': return rule.online ? spikingEpropOnline(m, d, rule) : spikingReverseGradients(m, d, rule, eprop());
    case 'mdgl': return spikingReverseGradients(m, d, rule, mdgl(m, rule));
    case 'modprop':
      if (rule.online && m.neuron!.beta !== 0) throw new Error('online modprop is not available for alif neurons'); // refused in lib/neurons/engine.ts
      if (rule.online) return spikingModpropOnline(m, d, rule);
      return spikingReverseGradients(m, d, rule, modprop(m, rule));
    case 'rflo': return rule.online ? spikingRfloOnline(m, d, rule) : spikingRflo(m, d, rule);
  }
}
