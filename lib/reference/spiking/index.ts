/**
 * The reference engine on spiking networks (lib/neurons): every offline rule through spiking/reverse.ts, rtrl, and
 * online e-prop. Online ModProp is not available for spiking units: its type filter (SPEC §4) needs a recurrence
 * whose coefficients are the same for every unit of a type and every step, while ALIF's own adaptation path carries
 * the time-varying ψ_t, and the leaky readout makes the learning signal anti-causal (docs/neurons.md).
 */
import { bptt } from '../bptt';
import { eprop } from '../eprop';
import { mdgl } from '../mdgl';
import { modprop } from '../modprop';
import type { Data64, Model64, ReferenceRule, Result64 } from '../model';
import { tbptt } from '../tbptt';
import { spikingEpropOnline } from './epropOnline';
import { spikingReverseGradients } from './reverse';
import { spikingRtrl } from './rtrl';

export function spikingGradients(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  switch (rule.rule) {
    case 'bptt': return spikingReverseGradients(m, d, rule, bptt(m));
    case 'tbptt': return spikingReverseGradients(m, d, rule, tbptt(m, rule.window));
    case 'rtrl': return spikingRtrl(m, d);
    case 'eprop': return rule.online ? spikingEpropOnline(m, d, rule) : spikingReverseGradients(m, d, rule, eprop());
    case 'mdgl': return spikingReverseGradients(m, d, rule, mdgl(m, rule));
    case 'modprop':
      if (rule.online) throw new Error('online modprop is not available for spiking neurons'); // refused at validation (lib/neurons/rules.ts)
      return spikingReverseGradients(m, d, rule, modprop(m, rule));
  }
}
