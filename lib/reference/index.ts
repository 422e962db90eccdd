/**
 * The pure-TypeScript reference engine: float64 throughout, one file per rule (SPEC §3–4). It is the fallback when
 * the native addon cannot load and the oracle the native engine is tested against.
 */
import { bptt } from './bptt';
import { eprop } from './eprop';
import { epropOnline } from './epropOnline';
import { mdgl } from './mdgl';
import { modprop } from './modprop';
import { modpropOnline } from './modpropOnline';
import { offlineChunk } from './offline';
import { rflo, rfloOnline } from './rflo';
import { rtrl } from './rtrl';
import { tbptt } from './tbptt';
import { spikingGradients } from './spiking/index';
import type { Data64, Model64, ReferenceRule, Result64 } from './model';

export function referenceGradients(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  if (m.neuron) return spikingGradients(m, d, rule);
  switch (rule.rule) {
    case 'bptt': return offlineChunk(m, d, rule, bptt(m));
    case 'tbptt': return offlineChunk(m, d, rule, tbptt(m, rule.window));
    case 'rtrl': return rtrl(m, d);
    case 'eprop': return rule.online ? epropOnline(m, d, rule) : offlineChunk(m, d, rule, eprop());
    case 'mdgl': return offlineChunk(m, d, rule, mdgl(m, rule));
    case 'modprop': return rule.online ? modpropOnline(m, d, rule) : offlineChunk(m, d, rule, modprop(m, rule));
    case 'rflo': return rule.online ? rfloOnline(m, d, rule) : offlineChunk(m, d, rule, rflo(m, rule));
  }
}

/** The loss alone (one forward pass), e.g. for finite differences. */
export function referenceLoss(m: Model64, d: Data64): number {
  if (m.neuron) return spikingGradients(m, d, { rule: 'eprop', feedback: 'type', mu: 0, online: false, window: 0, learningSignal: 'symmetric' }).loss;
  return offlineChunk(m, d, { rule: 'eprop', feedback: 'type', mu: 0, online: false, window: 0, learningSignal: 'symmetric' }, eprop()).loss;
}

export { modelOf, dataOf } from './model';
export type { Model64, Data64, Result64, ReferenceRule } from './model';
