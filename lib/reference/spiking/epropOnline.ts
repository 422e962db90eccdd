/**
 * e-prop online on a spiking network (Bellec et al. 2020): forward in time, memory O(N·(N+I)) independent of T.
 * Per synapse p → j the eligibility trace e_{pj,t} = ψ_{j,t} (ε^v_{p,t} − β ε^a_{pj,t}) of lib/neurons/alif.ts
 * (lif: β = 0), filtered by the readout's leak, ē_t = κ ē_{t-1} + e_t, meets the learning signal L_t = δ_t @ Fᵀ:
 *   dW[p][j] += ē_{pj,t} L_{j,t}                 (every step where δ_t ≠ 0)
 * Σ_t L_t ē_t = Σ_t e_t Σ_{s≥t} κ^{s-t} L_s, so this equals offline spiking eprop (spiking/reverse.ts with R = 0).
 */
import { advanceAdaptationTrace } from '../../neurons/alif';
import { accumulateReadout, outputError } from '../loss';
import { clearDiagonal, feedbackOf, zeroGrads, type Data64, type Grads64, type Model64, type ReferenceRule, type Result64 } from '../model';
import { feedbackSignal, spikingSweep } from './forward';

/** Per-synapse traces of `rows` presynaptic units onto the N postsynaptic ones, filtered by the readout's κ (ē). */
export abstract class FilteredTraces {
  readonly filtered: Float64Array;

  constructor(readonly rows: number, readonly n: number) {
    this.filtered = new Float64Array(rows * n);
  }

  /** All traces to step t, with this step's presynaptic input `pre` (z_{t-1} or x_t), ψ_{t-1} and ψ_t. */
  abstract advance(m: Model64, pre: ArrayLike<number>, preAt: number, psiPrev: Float64Array, psi: Float64Array): void;

  /** grad[p][j] += ē_{pj} L_j */
  credit(grad: Float64Array, signal: Float64Array): void {
    for (let q = 0; q < this.filtered.length; q++) grad[q] += this.filtered[q] * signal[q % this.n];
  }
}

/** e-prop's eligibility vector (ε^v, ε^a) per synapse. */
export class SynapseTraces extends FilteredTraces {
  readonly epsV: Float64Array;
  readonly epsA: Float64Array;

  constructor(rows: number, n: number) {
    super(rows, n);
    this.epsV = new Float64Array(rows);
    this.epsA = new Float64Array(rows * n);
  }

  /** ε^a, then ε^v (with this step's presynaptic input `pre`), then ē, all to step t. */
  advance(m: Model64, pre: ArrayLike<number>, preAt: number, psiPrev: Float64Array, psi: Float64Array): void {
    const k = m.neuron!;
    if (k.beta !== 0) advanceAdaptationTrace(k, this.epsA, this.epsV, psiPrev, this.rows);
    const { n } = this;
    for (let p = 0; p < this.rows; p++) {
      const ev = m.alpha * this.epsV[p] + (1 - m.alpha) * pre[preAt + p];
      this.epsV[p] = ev;
      const row = p * n;
      for (let j = 0; j < n; j++) {
        const e = psi[j] * (ev - k.beta * this.epsA[row + j]);
        this.filtered[row + j] = k.kappa * this.filtered[row + j] + e;
      }
    }
  }
}

/** Per-sequence hooks of a spiking online rule (as OnlineHooks for rate units). */
export interface SpikingOnlineHooks<Traces extends FilteredTraces = SynapseTraces> {
  /** Called with the traces at t−1, before they move to step t. */
  beforeTraces(input: Traces, rec: Traces): void;
  /** Called with ψ_t once the traces are at step t. */
  afterTraces(psi: Float64Array): void;
  /** Called with L_t = δ_t @ Fᵀ at the steps where δ_t ≠ 0. */
  credit(signal: Float64Array): void;
  /** Called once at the end of the sequence to add what the hooks accumulated. */
  finish(grads: Grads64): void;
}

export function spikingEpropOnline(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  return spikingOnlineSweep(m, d, rule, () => null);
}

export function spikingOnlineSweep(m: Model64, d: Data64, rule: ReferenceRule, hooks: (b: number) => SpikingOnlineHooks | null): Result64 {
  return spikingTraceSweep(m, d, rule, (rows, n) => new SynapseTraces(rows, n), hooks);
}

/** The online sweep with the rule's own per-synapse traces (e-prop's, or rflo's in spiking/rflo.ts): dW += ē L_t. */
export function spikingTraceSweep<Traces extends FilteredTraces>(m: Model64, d: Data64, rule: ReferenceRule,
  traces: (rows: number, n: number) => Traces, hooks: (b: number) => SpikingOnlineHooks<Traces> | null): Result64 {
  const { nIn, nRec: n, nOut: k } = m;
  const grads = zeroGrads(m);
  const f = feedbackOf(m, rule);
  const delta = new Float64Array(k);
  const signal = new Float64Array(n);
  let loss = 0;
  for (let b = 0; b < d.batchSize; b++) {
    const h = hooks(b);
    const input = traces(nIn, n);
    const rec = traces(n, n);
    const psiPrev = new Float64Array(n);
    const zPrev = new Float64Array(n);
    spikingSweep(m, d.x, b, d.steps, (t, state, psi, zOut, y) => {
      h?.beforeTraces(input, rec);
      input.advance(m, d.x, (b * d.steps + t) * nIn, psiPrev, psi);
      rec.advance(m, zPrev, 0, psiPrev, psi);
      h?.afterTraces(psi);
      psiPrev.set(psi);
      zPrev.set(state.z);
      const part = outputError(m, d, b, t, y, 0, delta);
      if (part < 0) return;
      loss += part;
      accumulateReadout(m, zOut, 0, delta, grads.wout, grads.bout);
      feedbackSignal(f, delta, n, k, signal);
      input.credit(grads.win, signal);
      rec.credit(grads.wrec, signal);
      h?.credit(signal);
    });
    h?.finish(grads);
  }
  clearDiagonal(grads.wrec, n);
  return { loss, grads };
}
