/**
 * Cell-type quantities shared by ModProp's offline rule, its online filter, `filterTaps` and the stability check
 * (SPEC §3 "type average", SPEC §4 Φ, Ψ, K_s). Everything here is float64 and C×C or N×C, so it is cheap to
 * recompute at every call — which matters because the weights change during training.
 */
import { spectralRadius } from './spectralRadius';
import { ModpropError } from './validate';

export { spectralRadius };

/** Ω[c][d] = mean of Wrec over the block (type c pre, type d post), zeros and the diagonal counted. Empty blocks give 0. */
export function typeBlockMeans(wrec: ArrayLike<number>, types: ArrayLike<number>, nTypes: number): Float64Array {
  const n = types.length;
  const sums = new Float64Array(nTypes * nTypes);
  const counts = typeCounts(types, nTypes);
  for (let p = 0; p < n; p++) {
    const row = types[p] * nTypes;
    for (let j = 0; j < n; j++) sums[row + types[j]] += wrec[p * n + j];
  }
  for (let c = 0; c < nTypes; c++) {
    for (let d = 0; d < nTypes; d++) {
      const cells = counts[c] * counts[d];
      sums[c * nTypes + d] = cells > 0 ? sums[c * nTypes + d] / cells : 0;
    }
  }
  return sums;
}

export function typeCounts(types: ArrayLike<number>, nTypes: number): Float64Array {
  const counts = new Float64Array(nTypes);
  for (let i = 0; i < types.length; i++) counts[types[i]] += 1;
  return counts;
}

/** The N×N type-averaged feedback Wab[i][j] = Ω[type(i)][type(j)] (SPEC §3, feedback 'type'). */
export function typeAverage(wrec: ArrayLike<number>, types: ArrayLike<number>, nTypes: number): Float64Array {
  const n = types.length;
  const omega = typeBlockMeans(wrec, types, nTypes);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = omega[types[i] * nTypes + types[j]];
  }
  return out;
}

export interface FilterMatrices {
  nTypes: number;
  /** Φ = α I + μ(1-α) diag(n) Ω, C×C row-major. */
  phi: Float64Array;
  /** Ψ = μ(1-α) Ω, C×C row-major. */
  psi: Float64Array;
}

export function filterMatrices(wrec: ArrayLike<number>, types: ArrayLike<number>, nTypes: number, alpha: number, mu: number): FilterMatrices {
  const omega = typeBlockMeans(wrec, types, nTypes);
  const counts = typeCounts(types, nTypes);
  const phi = new Float64Array(nTypes * nTypes);
  const psi = new Float64Array(nTypes * nTypes);
  const gain = mu * (1 - alpha);
  for (let c = 0; c < nTypes; c++) {
    for (let d = 0; d < nTypes; d++) {
      const k = c * nTypes + d;
      psi[k] = gain * omega[k];
      phi[k] = (c === d ? alpha : 0) + gain * counts[c] * omega[k];
    }
  }
  return { nTypes, phi, psi };
}

/**
 * Throws when ModProp's type filter diverges: ρ(Φ) ≥ 1 (SPEC §4 "Stability"). Returns ρ otherwise.
 * The offline rule computes the same quantity as the online filter, so both are refused.
 */
export function checkFilterStability(f: FilterMatrices, mu: number, name: string): number {
  const rho = spectralRadius(f.phi, f.nTypes);
  if (!(rho < 1)) {
    throw new ModpropError(
      `Expected a stable ModProp filter (spectral radius of Φ < 1) for ${name} but received mu = ${mu}, ` +
      `which gives spectral radius ${rho.toPrecision(6)}; lower mu`,
    );
  }
  return rho;
}

/**
 * `filterTaps` returns length × C² numbers and costs 2 · length · C³ multiply-adds on the JS thread: with one type
 * per unit that is a gigabyte and minutes (C = 512, length 1000), so beyond these it is refused at once.
 */
export const TAPS_NUMBERS = 2 ** 26;
export const TAPS_WORK = 2 ** 32;

export function checkTapsCost(nTypes: number, length: number): void {
  const most = Math.max(1, Math.floor(Math.min(TAPS_NUMBERS / nTypes ** 2, TAPS_WORK / (2 * nTypes ** 3))));
  if (length <= most) return;
  throw new ModpropError(
    `Expected at most ${most} taps for a network with ${nTypes} cell types (length × C² numbers, 2 · length · C³ ` +
    `multiply-adds on the JS thread) for options.length but received ${length}; ask for fewer taps`,
  );
}

/** K_s = Σ_{k=0}^{s-1} α^{s-1-k} Ψ Φ^k for s = 1..length, as [length][C][C] (SPEC §4). */
export function filterTapsOf(f: FilterMatrices, alpha: number, length: number): Float64Array {
  const c = f.nTypes;
  const cc = c * c;
  const out = new Float64Array(length * cc);
  let power = identity(c); // Φ^{s-1}
  let tap = new Float64Array(cc); // K_s
  for (let s = 1; s <= length; s++) {
    const term = matmul(f.psi, power, c); // Ψ Φ^{s-1}
    for (let k = 0; k < cc; k++) tap[k] = alpha * tap[k] + term[k]; // K_s = α K_{s-1} + Ψ Φ^{s-1}
    out.set(tap, (s - 1) * cc);
    power = matmul(power, f.phi, c);
  }
  return out;
}

export function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

/**
 * Online ModProp with type feedback carries a C×C filter state per (sequence, presynaptic unit) and multiplies it by
 * Φ at every step: batch × (nRec + nIn) × C³ multiply-adds per time step for C > 2 (C ≤ 2 has a closed form), and
 * C² numbers of state per unit. That direct form is what the reference engine and spiking networks run; a call above
 * ONLINE_FILTER_WORK in total (≈ 10 s on the native engine, C ≈ 40 at paper size; C = 800 would be days) is refused at
 * once rather than left to hang, and its state is capped at ONLINE_FILTER_STATE numbers (256 MB of float32).
 *
 * The native engine runs rate networks with C ≥ MODAL_MIN_TYPES in Φ's eigenbasis instead (native/core/
 * modprop_modal.h): C complex numbers of state per unit and O(C) work per step, so one type per unit is served up to
 * MODAL_STATE numbers of state (1 GB of float32) and MODAL_WORK state updates per call. It refuses, naming the same
 * argument, only a Φ whose eigenvectors are too close to parallel for the direct form's budget. The offline rule
 * computes the same gradient at O(N + C²) per unit and step for any C, so the messages point there.
 */
export const ONLINE_FILTER_WORK = 2 ** 38;
export const ONLINE_FILTER_STATE = 2 ** 26;
export const MODAL_MIN_TYPES = 5;
export const MODAL_STATE = 2 ** 28;
export const MODAL_WORK = 2 ** 38;

export function checkOnlineFilterCost(nTypes: number, batchSize: number, nRec: number, nIn: number, steps: number, modal = false): void {
  if (nTypes <= 2) return;
  const units = batchSize * (nRec + nIn);
  if (modal && nTypes >= MODAL_MIN_TYPES) {
    if (2 * units * nTypes <= MODAL_STATE && units * steps * nTypes <= MODAL_WORK) return;
    const most = Math.max(MODAL_MIN_TYPES, Math.floor(Math.min(MODAL_STATE / (2 * units), MODAL_WORK / (units * steps))));
    throw new ModpropError(
      `Expected at most ${most} cell types for online ModProp with type feedback at batch ${batchSize}, nRec ${nRec} and ${steps} steps ` +
      `for net.nTypes but received ${nTypes} (its filter keeps 2 × batch × (nRec + nIn) × C numbers and updates ` +
      `batch × (nRec + nIn) × steps × C of them); use the offline rule (online: false: the same gradient, at any number of types), ` +
      `fewer types, a smaller batch or shorter sequences`,
    );
  }
  const rows = units * steps;
  if (rows * nTypes ** 3 <= ONLINE_FILTER_WORK && units * nTypes ** 2 <= ONLINE_FILTER_STATE) return;
  const most = Math.max(2, Math.floor(Math.min(Math.cbrt(ONLINE_FILTER_WORK / rows), Math.sqrt(ONLINE_FILTER_STATE / units))));
  throw new ModpropError(
    `Expected at most ${most} cell types for online ModProp with type feedback at batch ${batchSize}, nRec ${nRec} and ${steps} steps ` +
    `(its filter costs batch × (nRec + nIn) × steps × C³ = ${(rows * nTypes ** 3).toExponential(2)} multiply-adds, ` +
    `and keeps batch × (nRec + nIn) × C² = ${(units * nTypes ** 2).toExponential(2)} numbers) ` +
    `for net.nTypes but received ${nTypes}; use the offline rule (online: false: the same gradient, at any number of types), ` +
    `fewer types, a smaller batch or shorter sequences`,
  );
}
