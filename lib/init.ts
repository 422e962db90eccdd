/**
 * Initialisation recipes of `Network.create({ init })` other than the default, and the recurrent-radius rescale.
 *
 * `balanced` (the default, SPEC §1, in lib/network.ts `initialParams`): |N(0,1)| magnitudes with a zero diagonal,
 * signs by presynaptic type, inhibitory rows scaled so total inhibition equals total excitation, each column's
 * negative entries rescaled so it sums to 0, then divided by its spectral radius (ρ(Wrec) = 1);
 * Wout = |N(0,1)|/√N with presynaptic signs.
 *
 * `liu2022`: the recipe of the public ModProp code (Helena-Yuhan-Liu/ModProp, bin/rewiring_tools_NP2.py
 * `random_sparse_signed_matrix` and `balance_matrix_per_neuron`, fully connected), step by step:
 *   1. θ = |N(0,1)| on every entry of an N×N draw, the diagonal included; w = sign(presynaptic type) · θ.
 *   2. Inhibitory rows × (total excitation / total inhibition), so the two totals are equal.
 *   3. Each column j, with S its sum and n_E, n_I its counts of excitatory and inhibitory entries: if S < 0 add
 *      |S|/n_E to its excitatory entries, else subtract |S|/n_I from its inhibitory entries. Columns sum to 0.
 *   4. Divide by the spectral radius of this matrix, diagonal included (ρ = 1 before the mask).
 *   5. Wrec: zero the diagonal (the public cell masks autapses). ρ(Wrec) ends at about 1.1–1.6, not 1.
 *      Wout: steps 1–4 on an independent N×N draw (its own random stream), keeping its first K columns.
 * Win and bout are those of `balanced` (the public code's Win matches SPEC §1 up to scale; measured, no effect).
 * Its sparsity (Deep-R rewiring at 99 % connectivity) is left out: it had no measurable effect (docs/liu2022.md).
 *
 * `connectivity` p < 1 (any recipe, lib/connectivity.ts): the fixed mask is applied to the magnitude draw, before
 * any balancing, as the public code masks θ; so the balancing and the spectral-radius scaling see the sparse matrix:
 * `balanced` ends at ρ(Wrec) = 1; `liu2022` masks only the off-diagonal entries there and zeroes the diagonal at
 * step 5 as before (p → 1 gives the dense network), so it is ρ = 1 before that step and not after: N = 120, seed 1
 * gives 1.34 dense, 1.08 at p = 0.5 and 0.69 at p = 0.1, where the diagonal carries a larger share of the weight;
 * `recurrentRadius` sets it. Columns left with one sign are not balanced, as in the dense case.
 *
 * `recurrentRadius` (any recipe): after the diagonal is zeroed, Wrec is rescaled to this spectral radius.
 * Every step runs in float64; the parameters are stored as float32.
 *
 * Above N = 200 (every network and result made before had N ≤ 200) three things change, for speed, so that
 * `Network.create` at N = 4096 takes about a second instead of five: the N×N magnitude draws come from the
 * ziggurat sampler of the tasks instead of Box–Muller (`squareNormals`: the same distribution, another stream); the
 * spectral radius is that of the float32-rounded matrix (`float32Radius`, to a relative residual of 1e-7); and
 * `balanced` keeps its matrix in one float32 array from the draw on, each pass (sign and mask, the inhibitory rows'
 * and the columns' factors) storing its result as float32 before the next reads it (lib/network.ts `balancedPasses`:
 * no 134 MB float64 copy at N = 4096), so Wrec = float32(W32 / ρ(W32)) with W32 the stored balanced matrix.
 * Up to N = 200 nothing moves.
 */
import { applyMask, connectivityMask } from './connectivity';
import { float32Radius } from './spectralRadius';
import { Random, STREAMS } from './random';
import { fastNormal } from './tasks/fastNormal';
import { nativeSampler } from './tasks/nativeSampler';
import { fail, type NormalizedNetworkConfig } from './validate';
import { largeFloat64Array } from './largeArrays';

export const INIT_NAMES = ['balanced', 'liu2022'] as const;
export type InitName = (typeof INIT_NAMES)[number];

/** Above this N, an initial N×N matrix draws its normals with the ziggurat sampler (`squareNormals`). */
export const BOX_MULLER_MAX_SIZE = 200;

/**
 * The n² standard normals of an n×n initial matrix, row-major, from `rng`'s stream: Box–Muller (`Random.normal`) up
 * to BOX_MULLER_MAX_SIZE, as every network made so far; above it the 'fast' ziggurat of lib/tasks/fastNormal.ts, in
 * the addon when it loads and in TypeScript otherwise (the same bits). 16.7 M Box–Muller draws take 1.3 s of
 * JavaScript at N = 4096; the native ziggurat about 0.15 s. `rng` is advanced only on the Box–Muller path.
 */
export function squareNormals(rng: Random, n: number): Float64Array {
  const out = largeFloat64Array(n * n);
  if (n <= BOX_MULLER_MAX_SIZE) {
    for (let k = 0; k < out.length; k++) out[k] = rng.normal();
    return out;
  }
  const sampler = nativeSampler();
  if (sampler) sampler.fastNormals(rng.state(), out);
  else for (let k = 0; k < out.length; k++) out[k] = fastNormal(rng);
  return out;
}

/** Steps 1–4 of `liu2022` on an n×n draw of `rng`, with the sign of each row's presynaptic unit: the pre-mask matrix. */
export function liu2022Matrix(rng: Random, rowSigns: ArrayLike<number>, mask: Uint8Array | null = null): Float64Array {
  const n = rowSigns.length;
  const w = squareNormals(rng, n);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < n; j++) w[p * n + j] = rowSigns[p] * Math.abs(w[p * n + j]);
  }
  applyMask(w, mask);
  let exc = 0;
  let inh = 0;
  for (let k = 0; k < w.length; k++) (w[k] > 0 ? (exc += w[k]) : (inh -= w[k]));
  if (inh > 0) {
    for (let p = 0; p < n; p++) if (rowSigns[p] < 0) for (let j = 0; j < n; j++) w[p * n + j] *= exc / inh;
  }
  // Column sums and sign counts row by row (memory order; each column still sums over p in order, the same bits).
  const sum = new Float64Array(n);
  const nE = new Float64Array(n);
  const nI = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < n; j++) {
      const v = w[p * n + j];
      sum[j] += v;
      if (v > 0) nE[j]++;
      else if (v < 0) nI[j]++;
    }
  }
  // A column lacking one sign cannot be balanced (the public code zeroes it; with both types present it never occurs).
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < n; j++) {
      if (nE[j] === 0 || nI[j] === 0) continue;
      const s = sum[j];
      const k = p * n + j;
      if (s < 0) {
        if (w[k] > 0) w[k] += -s / nE[j];
      } else if (w[k] < 0) w[k] -= s / nI[j];
    }
  }
  const rho = float32Radius(w, n);
  if (rho > 1e-12) for (let k = 0; k < w.length; k++) w[k] /= rho;
  return w;
}

/** Wrec and Wout of `liu2022` (Win and bout come from the default recipe). */
export function liu2022Weights(c: NormalizedNetworkConfig): { wrec: Float64Array; wout: Float32Array } {
  const n = c.nRec;
  const signs = c.dale ? c.typeSigns : null;
  if (!signs) fail("Dale's law (config.dale true): the liu2022 recipe signs weights by cell type", 'config.init', 'liu2022 with dale false');
  const rowSigns = Array.from(c.types, (t) => signs[t]);
  if (!rowSigns.includes(1) || !rowSigns.includes(-1)) {
    fail('both excitatory and inhibitory units for init liu2022 (it balances each column)', 'config.init', 'liu2022');
  }
  if (c.nOut > n) fail(`nOut ≤ nRec (${n}) for init liu2022 (Wout is the first nOut columns of an N×N matrix)`, 'config.nOut', c.nOut);
  // The public code masks autapses only in the cell (step 5): its pre-mask matrix keeps the diagonal.
  const mask = connectivityMask(n, c.connectivity, c.seed);
  for (let p = 0; mask && p < n; p++) mask[p * n + p] = 1;
  const wrec = liu2022Matrix(new Random(c.seed, STREAMS.wrec), rowSigns, mask);
  for (let p = 0; p < n; p++) wrec[p * n + p] = 0;
  const full = liu2022Matrix(new Random(c.seed, STREAMS.wout), rowSigns);
  const wout = new Float32Array(n * c.nOut);
  for (let p = 0; p < n; p++) for (let k = 0; k < c.nOut; k++) wout[p * c.nOut + k] = full[p * n + k];
  return { wrec, wout };
}

/** Rescales a zero-diagonal Wrec (float64, in place) to spectral radius `radius`. */
export function rescaleRadius(w: Float64Array, n: number, radius: number): void {
  const rho = float32Radius(w, n);
  if (rho > 1e-12) for (let k = 0; k < w.length; k++) w[k] *= radius / rho;
}
