/**
 * ModProp online for LIF networks: SPEC §4's type filter with the leaky readout's anti-causal learning signal made
 * causal. For LIF (β = 0) the offline recursion of spiking/reverse.ts is the rate unit's, g_t = α g_{t+1} + ℓ_t +
 * (1-α) μ (g_{t+1} @ Wfbᵀ), so SPEC §4 holds with ℓ_{j,t} = ψ_{j,t} Σ_{s≥t} κ^{s-t} L_{j,s}, L_s = δ_s @ Fᵀ. Then
 *   Σ_t ε_{p,t} ℓ_{j,t} = Σ_s L_{j,s} ē_{pj,s}                                        (e-prop's filtered trace)
 *   Σ_t Σ_c M_{c,t} (Ψ R_{p,t})[a][c] = Σ_s Σ_i L_{i,s} Q_{p,i,s}[a],
 *   Q_{p,i,s}[a] = κ Q_{p,i,s-1}[a] + ψ_{i,s} (Ψ R_{p,s})[a][type(i)]
 * with R_{p,t} = R_{p,t-1} Φ + ε_{p,t-1} I_C as for rate units. Memory O((N+I)·N·C) per sequence, independent of T
 * (the rate unit's form needs only (N+I)·C: its learning signal is causal). Equal to offline modprop, type feedback.
 * ALIF has no such form: its own adaptation path carries each unit's ψ_t, so the credit filter is not per type.
 */
import { filterMatrices } from '../../filter';
import type { Data64, Model64, ReferenceRule, Result64 } from '../model';
import { ModpropFilter } from '../modpropOnline';
import { spikingOnlineSweep } from './epropOnline';

/** The type filter of `rows` presynaptic units and its readout-filtered copy Q, [p][i][a]. */
class FilteredTypeCredit {
  readonly filter: ModpropFilter;
  private readonly q: Float64Array;
  private readonly psiR: Float64Array;

  constructor(private readonly m: Model64, private readonly psiMatrix: Float64Array, private readonly rows: number, filter: ModpropFilter) {
    this.filter = filter;
    this.q = new Float64Array(rows * m.nRec * m.nTypes);
    this.psiR = new Float64Array(m.nTypes * m.nTypes);
  }

  /** Q ← κ Q + ψ_i (Ψ R_p)[a][type(i)], after R moved to step t. */
  advance(psi: Float64Array): void {
    const { nRec: n, nTypes: c, types } = this.m;
    const kappa = this.m.neuron!.kappa;
    const cc = c * c;
    for (let p = 0; p < this.rows; p++) {
      const r = this.filter.state.subarray(p * cc, (p + 1) * cc);
      for (let a = 0; a < c; a++) {
        for (let e = 0; e < c; e++) {
          let s = 0;
          for (let d = 0; d < c; d++) s += this.psiMatrix[a * c + d] * r[d * c + e];
          this.psiR[a * c + e] = s;
        }
      }
      const row = p * n * c;
      for (let i = 0; i < n; i++) {
        const at = row + i * c;
        for (let a = 0; a < c; a++) this.q[at + a] = kappa * this.q[at + a] + psi[i] * this.psiR[a * c + types[i]];
      }
    }
  }

  /** A[p][a] += Σ_i L_i Q[p][i][a] */
  credit(signal: Float64Array): void {
    const { nRec: n, nTypes: c } = this.m;
    const acc = this.filter.accumulator;
    for (let p = 0; p < this.rows; p++) {
      for (let i = 0; i < n; i++) {
        const l = signal[i];
        if (l === 0) continue;
        const at = (p * n + i) * c;
        for (let a = 0; a < c; a++) acc[p * c + a] += l * this.q[at + a];
      }
    }
  }
}

export function spikingModpropOnline(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  const { nIn, nRec: n, nTypes: c, types } = m;
  const f = filterMatrices(m.wrec, m.types, m.nTypes, m.alpha, rule.mu);
  return spikingOnlineSweep(m, d, rule, () => {
    const input = new FilteredTypeCredit(m, f.psi, nIn, new ModpropFilter(f, nIn));
    const rec = new FilteredTypeCredit(m, f.psi, n, new ModpropFilter(f, n));
    return {
      beforeTraces(inputTraces, recTraces) {
        input.filter.advance(inputTraces.epsV);
        rec.filter.advance(recTraces.epsV);
      },
      afterTraces(psi) {
        input.advance(psi);
        rec.advance(psi);
      },
      credit(signal) {
        input.credit(signal);
        rec.credit(signal);
      },
      finish(grads) {
        // Expand A Uᵀ: every postsynaptic unit j of type a receives A[·][a].
        const accIn = input.filter.accumulator;
        const accRec = rec.filter.accumulator;
        for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) grads.wrec[p * n + j] += accRec[p * c + types[j]];
        for (let a = 0; a < nIn; a++) for (let j = 0; j < n; j++) grads.win[a * n + j] += accIn[a * c + types[j]];
      },
    };
  });
}
