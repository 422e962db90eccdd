/**
 * The 'fast' normal sampler of the tasks (version 1): a 256-layer ziggurat over the xoshiro128** stream of `Random`.
 * native/core/sampler.cc is the same algorithm, written once on each side, and the two give bit-identical numbers:
 * only +, −, ×, ÷, comparisons and integer bit operations, which IEEE 754 fixes exactly, and the tables are literal
 * constants (zigguratTables.ts, generated with the C++ header by scripts/ziggurat_tables.py) — never Math.exp/log,
 * whose last bit differs between V8 and libm. The rare slow paths (wedge ≈ 1.2 %, tail ≈ 0.03 % of draws) use the
 * exp and log below, built from those operations alone.
 *
 * One normal: a = next(), b = next(); layer i = a & 255, sign = bit 8 of a, u = ((a >>> 11)·2³² + b) / 2⁵³ ∈ [0, 1);
 * z = u·x[i]; accept z when z < x[i+1]; layer 0 past R draws from the tail (Marsaglia 1964), any other layer accepts
 * z in its wedge when f(x[i]) + U·(f(x[i+1]) − f(x[i])) < exp(−z²/2), else draws again.
 *
 * The name 'fast' is the version: runs record it and reruns draw by it, so any change to what this computes must come
 * as a new sampler name, never as an edit here.
 */
import type { Random } from '../random';
import { ZIGGURAT_F as F, ZIGGURAT_R as R, ZIGGURAT_X as X } from './zigguratTables';

const INV_LN2 = 1.4426950408889634;
// ln 2 split so that k·LN2_HI is exact for the small k used here (Cody–Waite).
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const SQRT_HALF = 0.7071067811865476;

/** exp(x) for −745 < x ≤ 0 from +, −, ×, ÷ only: 2^k · Taylor(r), |r| ≤ ln2/2, scaled by halving (exact). */
export function expNonPositive(x: number): number {
  const k = Math.floor(x * INV_LN2 + 0.5);
  const r = x - k * LN2_HI - k * LN2_LO;
  let p = 1;
  for (let n = 16; n >= 1; n--) p = 1 + (r / n) * p;
  for (let j = 0; j > k; j--) p *= 0.5;
  return p;
}

/** ln(u) for 0 < u ≤ 1 from +, −, ×, ÷ only: u = m·2^e with m ∈ [√½, √2), ln m = 2·atanh((m−1)/(m+1)). */
export function logUnit(u: number): number {
  let e = 0;
  let m = u;
  while (m < SQRT_HALF) {
    m *= 2;
    e--;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 0;
  for (let n = 31; n >= 1; n -= 2) p = 1 / n + s2 * p;
  return e * LN2_HI + (e * LN2_LO + 2 * s * p);
}

/** A standard normal deviate, drawn from `rng`'s stream. */
export function fastNormal(rng: Random): number {
  for (;;) {
    const a = rng.nextUint32();
    const b = rng.nextUint32();
    const i = a & 255;
    const u = ((a >>> 11) * 4294967296 + b) / 9007199254740992;
    const z = u * X[i];
    const sign = (a & 256) !== 0 ? -1 : 1;
    if (z < X[i + 1]) return sign * z;
    if (i === 0) return sign * tail(rng);
    if (F[i] + rng.uniform() * (F[i + 1] - F[i]) < expNonPositive(-0.5 * z * z)) return sign * z;
  }
}

/** Beyond R: R + a with a = −ln(U₁)/R, accepted when −2·ln(U₂) ≥ a² (Marsaglia 1964). */
function tail(rng: Random): number {
  for (;;) {
    const a = -logUnit(1 - rng.uniform()) / R;
    const b = -logUnit(1 - rng.uniform());
    if (b + b >= a * a) return R + a;
  }
}
