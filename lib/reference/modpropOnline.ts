/**
 * modprop, online, type feedback (SPEC §4): a causal filter over presynaptic traces, no reverse pass, memory
 * independent of T. With Ω the block means of Wrec, n the type sizes,
 *   Φ = α I_C + μ(1-α) diag(n) Ω          Ψ = μ(1-α) Ω
 * each presynaptic unit p keeps a C×C state, updated before its trace ε moves to step t:
 *   R_{p,t} = R_{p,t-1} Φ + ε_{p,t-1} I_C
 * With the type-aggregated learning signal ("neuromodulator") M_{c,t} = Σ_{i of type c} ℓ_{i,t}:
 *   dWrec[p][j] = Σ_t ℓ_{j,t} ε_{p,t} + A[p][type(j)],     A[p][a] += Σ_c M_{c,t} (Ψ R_{p,t})[a][c]
 * and the same for Win with ε^in, R^in. Equal to offline modprop with type feedback.
 */
import { filterMatrices, type FilterMatrices } from '../filter';
import { onlineChunk } from './epropOnline';
import type { Data64, Model64, ReferenceRule, Result64 } from './model';

/** The filter state R of `units` presynaptic units and their N×C (or I×C) credit accumulator A. */
export class ModpropFilter {
  readonly state: Float64Array;
  readonly accumulator: Float64Array;
  private readonly scratch: Float64Array;

  constructor(private readonly f: FilterMatrices, private readonly units: number) {
    const c = f.nTypes;
    this.state = new Float64Array(units * c * c);
    this.accumulator = new Float64Array(units * c);
    this.scratch = new Float64Array(c * c);
  }

  /** R_u ← R_u Φ + ε_u I for every unit u (ε is the trace of the previous step). */
  advance(eps: ArrayLike<number>): void {
    const c = this.f.nTypes;
    const cc = c * c;
    const { phi } = this.f;
    for (let u = 0; u < this.units; u++) {
      const r = this.state.subarray(u * cc, (u + 1) * cc);
      this.scratch.fill(0);
      for (let a = 0; a < c; a++) {
        for (let k = 0; k < c; k++) {
          const rak = r[a * c + k];
          if (rak === 0) continue;
          for (let d = 0; d < c; d++) this.scratch[a * c + d] += rak * phi[k * c + d];
        }
      }
      for (let a = 0; a < c; a++) this.scratch[a * c + a] += eps[u];
      r.set(this.scratch);
    }
  }

  /** A[u][a] += Σ_c M_c (Ψ R_u)[a][c] for the neuromodulator levels M (length C). */
  credit(modulator: ArrayLike<number>): void {
    const c = this.f.nTypes;
    const cc = c * c;
    const { psi } = this.f;
    const w = new Float64Array(c);
    for (let u = 0; u < this.units; u++) {
      const r = this.state.subarray(u * cc, (u + 1) * cc);
      for (let d = 0; d < c; d++) {
        let s = 0;
        for (let k = 0; k < c; k++) s += r[d * c + k] * modulator[k];
        w[d] = s;
      }
      for (let a = 0; a < c; a++) {
        let s = 0;
        for (let d = 0; d < c; d++) s += psi[a * c + d] * w[d];
        this.accumulator[u * c + a] += s;
      }
    }
  }
}

export function modpropOnline(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  const f = filterMatrices(m.wrec, m.types, m.nTypes, m.alpha, rule.mu);
  const { nIn, nRec: n, nTypes: c, types } = m;
  const modulator = new Float64Array(c);
  return onlineChunk(m, d, rule, { eligibility: true, sequence: () => {
    const rec = new ModpropFilter(f, n);
    const inp = new ModpropFilter(f, nIn);
    return {
      advance(eps, epsIn) {
        rec.advance(eps);
        inp.advance(epsIn);
      },
      credit(_eps, _epsIn, ell) {
        modulator.fill(0);
        for (let i = 0; i < n; i++) modulator[types[i]] += ell[i];
        rec.credit(modulator);
        inp.credit(modulator);
      },
      finish(grads) {
        // Expand A Uᵀ: every postsynaptic unit j of type a receives A[·][a].
        for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) grads.wrec[p * n + j] += rec.accumulator[p * c + types[j]];
        for (let a = 0; a < nIn; a++) for (let j = 0; j < n; j++) grads.win[a * n + j] += inp.accumulator[a * c + types[j]];
      },
    };
  } });
}
