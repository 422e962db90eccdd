/**
 * The FLOP model of each benchmarked job: the floating-point work of its products, counted from what the native
 * core does (native/core), one multiply-add = 2 FLOPs. Element-wise work (leak, ReLU, trace decay, ℓ masking:
 * O(B·T·N) in all, ~1 % of a product) is not counted. bench/README.md states the same formulas.
 *
 *   B batch, T steps, N recurrent units, I inputs, K outputs, C cell types,
 *   S steps with an output error (xent-last: 1; mse: T), W the tbptt window.
 *   rec  = 2·B·(T−1)·N²   one N×N product per sequence and step (step 1 has none: z_0 = 0, g_{T+1} = 0)
 *   inp  = 2·B·T·N·I      the input product (x @ Win, or Σ xᵀ g)
 *   out  = 2·B·S·N·K      one readout-sized product where δ ≠ 0
 */

export interface Shape {
  batch: number; steps: number; nRec: number; nIn: number; nOut: number; nTypes: number;
  /** Steps with an output error. */
  errorSteps: number;
}

export type JobName =
  | 'forward' | 'bptt' | 'tbptt' | 'eprop-online' | 'eprop' | 'mdgl' | 'modprop' | 'modprop-online' | 'rflo' | 'rflo-online';

export interface FlopCount {
  total: number;
  /** The named terms that make up the total, for the results file. */
  terms: Record<string, number>;
}

const sum = (terms: Record<string, number>): FlopCount => ({ total: Object.values(terms).reduce((a, b) => a + b, 0), terms });

export function flops(job: JobName, s: Shape, window = 50): FlopCount {
  const { batch: B, steps: T, nRec: N, nIn: I, nOut: K, nTypes: C, errorSteps: S } = s;
  const rec = 2 * B * (T - 1) * N * N;
  const inp = 2 * B * T * N * I;
  const out = 2 * B * S * N * K;
  // Every gradient job runs the network forward (y only where δ ≠ 0), then y, ℓ = δ Fᵀ and dWout where δ ≠ 0.
  const forward = { 'z@Wrec': rec, 'x@Win': inp, 'readout y, ℓ=δFᵀ, dWout': 3 * out };
  // Σ_t z_{t-1}ᵀ g_t and Σ_t x_tᵀ g_t over the whole history (offline rules, g dense in t).
  const weightSums = { 'Σzᵀg': rec, 'Σxᵀg': inp };
  // Type feedback (mdgl/modprop offline): per row, C dot products over N, C×C mix, C axpys back to units.
  const typeFeedback = B * (4 * C * N + 2 * C * C);
  switch (job) {
    case 'forward':
      return sum({ 'z@Wrec': rec, 'x@Win': inp, 'y=z@Wout (every step)': 2 * B * T * N * K });
    case 'bptt':
      return sum({ ...forward, 'g@Wrecᵀ': rec, ...weightSums });
    case 'tbptt': {
      // The steps where the state is detached skip the reverse product.
      const cuts = Math.floor((T - 1) / window);
      return sum({ ...forward, 'g@Wrecᵀ': rec - 2 * B * cuts * N * N, ...weightSums });
    }
    case 'eprop':
    case 'rflo': // the unmasked signal δFᵀ costs what ℓ does; the mask moves after the leaky sum
      return sum({ ...forward, ...weightSums });
    case 'mdgl':
      // One hop through the type-averaged Wrec at the steps where ℓ_{t+1} ≠ 0.
      return sum({ ...forward, 'hop ℓ_{t+1}@Wfbᵀ (type)': Math.min(S, T - 1) * typeFeedback, ...weightSums });
    case 'modprop':
      return sum({ ...forward, 'g@Wfbᵀ (type)': (T - 1) * typeFeedback, ...weightSums });
    case 'eprop-online':
      return sum({ ...forward, 'εᵀℓ, ε_inᵀℓ (where ℓ≠0)': 2 * B * S * N * (N + I) });
    case 'rflo-online':
      // q ← αq + (1−α)ψ zᵀ for every synapse (N + I rows of N) every step, Σ q ⊙ L where ℓ ≠ 0.
      return sum({ ...forward, 'trace q (every step)': 2 * B * T * N * (N + I), 'qᵀL (where ℓ≠0)': 2 * B * S * N * (N + I) });
    case 'modprop-online':
      return sum({
        ...forward,
        'εᵀℓ, ε_inᵀℓ (where ℓ≠0)': 2 * B * S * N * (N + I),
        // R_{p,t} = R_{p,t-1} Φ + ε_{p,t-1} I: a C×C by C×C product per presynaptic unit (N + I) and row, every step.
        'filter R←RΦ+ε': 2 * B * T * (N + I) * C ** 3,
        // Σ_c M_c R_p[·][c] where ℓ ≠ 0, then Ψ and the expansion to N columns once.
        'filter accumulate + expand': 2 * B * S * (N + I) * C * C + 2 * (N + I) * C * C,
      });
  }
}
