/**
 * The leaky-ReLU rate unit (SPEC §1), the default neuron:
 *   v_t = α v_{t-1} + (1-α) (x_t @ Win + z_{t-1} @ Wrec)        α = exp(-dt/tau)
 *   z_t = relu(v_t − thr)          y_t = z_t @ Wout + bout
 *   ψ_t = relu'(v_t − thr) = [v_t > thr]      (exact: rate networks have a true gradient)
 * Its arithmetic lives in lib/reference/forward.ts and the native fused kernels, which stay as they are; this file
 * is its entry on the neuron axis (a rate network has no `config.neuron`).
 */

/** z = relu(v − thr) */
export function rateOutput(v: number, threshold: number): number {
  return v - threshold > 0 ? v - threshold : 0;
}

/** ψ = relu'(v − thr) */
export function rateDerivative(v: number, threshold: number): number {
  return v - threshold > 0 ? 1 : 0;
}
