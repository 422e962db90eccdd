/**
 * The forward pass of a spiking network (lib/neurons/lif.ts, alif.ts) for the reference engine. The readout is the
 * e-prop paper's leaky readout, written as SPEC §1's readout of a filtered spike train:
 *   ẑ_t = κ ẑ_{t-1} + z_t,   y_t = ẑ_t @ Wout + bout,   κ = exp(−dt/τ_out)
 * so the rate unit's formulas (δ_t, dWout = Σ_t ẑ_tᵀ δ_t) hold with ẑ in place of z.
 */
import { spikingState, spikingStep, type SpikingState } from '../../neurons/lif';
import { readout, synapticInput } from '../forward';
import type { Model64 } from '../model';

/** The whole trajectory of one sequence, each [T][nRec] (y [T][nOut]); `zOut` is ẑ, what the readout sees. */
export interface SpikingTrajectory {
  v: Float64Array;
  a: Float64Array;
  z: Float64Array;
  psi: Float64Array;
  zOut: Float64Array;
  y: Float64Array;
}

/** Runs sequence b step by step, calling `each(t, state, ψ_t, ẑ_t, y_t)` (the arrays are reused between steps). */
export function spikingSweep(m: Model64, x: ArrayLike<number>, b: number, steps: number,
  each: (t: number, s: SpikingState, psi: Float64Array, zOut: Float64Array, y: Float64Array) => void): void {
  const k = m.neuron!;
  const n = m.nRec;
  let prev = spikingState(n);
  let next = spikingState(n);
  const psi = new Float64Array(n);
  const current = new Float64Array(n);
  const zOut = new Float64Array(n);
  const y = new Float64Array(m.nOut);
  for (let t = 0; t < steps; t++) {
    current.fill(0);
    synapticInput(m, x, (b * steps + t) * m.nIn, t === 0 ? null : prev.z, 0, current);
    spikingStep(k, t === 0 ? null : prev, current, next, psi);
    for (let i = 0; i < n; i++) zOut[i] = k.kappa * zOut[i] + next.z[i];
    readout(m, zOut, 0, y, 0);
    each(t, next, psi, zOut, y);
    [prev, next] = [next, prev];
  }
}

/** out_i = Σ_o u_o F[i][o]: credit u (length nOut) fed back to the units through F (nRec × nOut). */
export function feedbackSignal(f: Float64Array, u: ArrayLike<number>, n: number, k: number, out: Float64Array, outAt = 0): void {
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let o = 0; o < k; o++) c += u[o] * f[i * k + o];
    out[outAt + i] = c;
  }
}

export function runSpikingSequence(m: Model64, x: ArrayLike<number>, b: number, steps: number): SpikingTrajectory {
  const n = m.nRec;
  const r: SpikingTrajectory = {
    v: new Float64Array(steps * n), a: new Float64Array(steps * n), z: new Float64Array(steps * n),
    psi: new Float64Array(steps * n), zOut: new Float64Array(steps * n), y: new Float64Array(steps * m.nOut),
  };
  spikingSweep(m, x, b, steps, (t, s, psi, zOut, y) => {
    r.v.set(s.v, t * n);
    r.a.set(s.a, t * n);
    r.z.set(s.z, t * n);
    r.psi.set(psi, t * n);
    r.zOut.set(zOut, t * n);
    r.y.set(y, t * m.nOut);
  });
  return r;
}
