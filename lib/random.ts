/**
 * Seeded pseudo-random numbers: xoshiro128** seeded through splitmix32, normals by Box–Muller.
 * Every random thing in the library takes a seed and a stream id, so drawing more numbers for one matrix never
 * shifts another (the random feedback matrix of `Network.fromParams` equals that of `Network.create`).
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number, stream = 0) {
    let x = (Math.trunc(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    // Mix the high part of large seeds in too, so seeds differing above 2^32 still differ.
    x = (x ^ Math.trunc(seed / 4294967296)) >>> 0;
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** The four state words, for native code that continues this stream (native/core/sampler.h). */
  state(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal deviate. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Stream ids, one per random quantity, so they stay independent of each other. */
export const STREAMS = {
  wrec: 1,
  win: 2,
  wout: 3,
  randomFeedback: 4,
  subtypes: 5,
  connectivity: 6,
  taskBits: 10,
  taskNoise: 11,
  taskFrozen: 12,
  taskTarget: 13,
  taskSplit: 14,
  taskDigits: 15,
} as const;

/**
 * A seed for item `index` of stream `stream` under a run seed: training batch i and evaluation batch i of a run
 * get fixed, distinct seeds, so a resumed run draws exactly the batches the uninterrupted run would have.
 */
export function deriveSeed(seed: number, stream: number, index: number): number {
  const rng = new Random(seed, stream * 1_000_003 + 7);
  let h = rng.nextUint32() ^ Math.imul(index + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
