/**
 * SPEC §1, one step of one sequence:
 *   v_t = α v_{t-1} + (1-α) (x_t @ Win + z_{t-1} @ Wrec),   z_t = relu(v_t - thr),   y_t = z_t @ Wout + bout
 * A pure step function (state in, state out) that the offline rules loop over and the online rules call directly.
 */
import type { Model64 } from './model';

/** Writes v_t, z_t at `at` in vOut/zOut from x_t (at xAt in x) and z_{t-1} (at prevAt in zPrev, or none). */
export function step(
  m: Model64, x: ArrayLike<number>, xAt: number,
  vPrev: Float64Array | null, zPrev: Float64Array | null, prevAt: number,
  vOut: Float64Array, zOut: Float64Array, at: number,
): void {
  const { nRec: n, alpha } = m;
  const leak = 1 - alpha;
  const input = new Float64Array(n);
  synapticInput(m, x, xAt, zPrev, prevAt, input);
  for (let j = 0; j < n; j++) {
    const v = (vPrev ? alpha * vPrev[prevAt + j] : 0) + leak * input[j];
    vOut[at + j] = v;
    zOut[at + j] = v - m.threshold > 0 ? v - m.threshold : 0;
  }
}

/** input += x_t @ Win + z_{t-1} @ Wrec (x_t at xAt in x, z_{t-1} at prevAt in zPrev, or none). Shared with spiking units. */
export function synapticInput(m: Model64, x: ArrayLike<number>, xAt: number, zPrev: ArrayLike<number> | null, prevAt: number, input: Float64Array): void {
  const { nIn, nRec: n } = m;
  for (let i = 0; i < nIn; i++) {
    const xi = x[xAt + i];
    if (xi === 0) continue;
    for (let j = 0; j < n; j++) input[j] += xi * m.win[i * n + j];
  }
  if (zPrev) {
    for (let p = 0; p < n; p++) {
      const zp = zPrev[prevAt + p];
      if (zp === 0) continue;
      for (let j = 0; j < n; j++) input[j] += zp * m.wrec[p * n + j];
    }
  }
}

/** y_t = z_t @ Wout + bout into y at yAt. */
export function readout(m: Model64, z: ArrayLike<number>, zAt: number, y: Float64Array, yAt: number): void {
  const { nRec: n, nOut: k } = m;
  for (let o = 0; o < k; o++) y[yAt + o] = m.bout[o];
  for (let p = 0; p < n; p++) {
    const zp = z[zAt + p];
    if (zp === 0) continue;
    for (let o = 0; o < k; o++) y[yAt + o] += zp * m.wout[p * k + o];
  }
}

/** The whole trajectory of sequence b: v, z as [T][nRec], y as [T][nOut]. */
export function runSequence(m: Model64, x: Float64Array, b: number, steps: number): { v: Float64Array; z: Float64Array; y: Float64Array } {
  const n = m.nRec;
  const v = new Float64Array(steps * n);
  const z = new Float64Array(steps * n);
  const y = new Float64Array(steps * m.nOut);
  const base = b * steps * m.nIn;
  for (let t = 0; t < steps; t++) {
    const prev = t === 0 ? null : (t - 1) * n;
    step(m, x, base + t * m.nIn, prev === null ? null : v, prev === null ? null : z, prev ?? 0, v, z, t * n);
    readout(m, z, t * n, y, t * m.nOut);
  }
  return { v, z, y };
}
