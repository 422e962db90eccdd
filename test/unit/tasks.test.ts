/**
 * SPEC §5 delayed XOR: shapes, seeding, labels inferred from the inputs themselves, bump and baseline statistics,
 * options and their validation.
 */
process.env.MODPROP_BACKEND = 'reference';

import assert from 'node:assert/strict';
import { ModpropError, tasks, type Batch, type DelayedXorOptions } from '../../lib/index';

const BASELINE = 0.02;

function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Value of channel c at step t of sequence s. */
function at(b: Batch, s: number, t: number, c: number): number {
  return b.x[(s * b.steps + t) * 2 + c];
}

/** The two bits, read off the inputs: a bump above 1 in channel 0 in the first cue window, channel 1 in the last. */
function bitsOf(b: Batch, s: number, cue: number): [number, number] {
  let max0 = -Infinity;
  let max1 = -Infinity;
  for (let t = 0; t < cue; t++) max0 = Math.max(max0, at(b, s, t, 0));
  for (let t = b.steps - cue; t < b.steps; t++) max1 = Math.max(max1, at(b, s, t, 1));
  return [max0 > 1 ? 1 : 0, max1 > 1 ? 1 : 0];
}

function throwsExactly(fn: () => unknown, message: string): void {
  assert.throws(fn, { name: 'ModpropError', message });
  assert.throws(fn, ModpropError);
}

describe('tasks.delayedXor (SPEC §5)', () => {
  const task = tasks.delayedXor();

  it('describes itself: 900 steps, 2 inputs, 2 outputs, xent-last', () => {
    assert.equal(task.name, 'delayed-xor');
    assert.equal(task.steps, 900);
    assert.equal(task.nIn, 2);
    assert.equal(task.nOut, 2);
    assert.equal(task.loss, 'xent-last');
  });

  it('sample(32, seed) has the documented shapes', () => {
    const b = task.sample(32, 1);
    assert.equal(b.batchSize, 32);
    assert.equal(b.steps, 900);
    assert.ok(b.x instanceof Float32Array);
    assert.equal(b.x.length, 32 * 900 * 2);
    assert.ok(b.labels instanceof Int32Array);
    assert.equal(b.labels!.length, 32);
    assert.equal(b.targets, undefined);
    assert.ok(b.x.every(Number.isFinite));
    assert.ok(b.labels!.every((l) => l === 0 || l === 1));
  });

  it('the same seed gives the identical batch; another seed a different one', () => {
    const a = task.sample(32, 5);
    const b = tasks.delayedXor().sample(32, 5);
    const c = task.sample(32, 6);
    assert.ok(sameBits(a.x, b.x));
    assert.ok(sameBits(a.labels!, b.labels!));
    assert.ok(!sameBits(a.x, c.x));
    assert.ok(!sameBits(a.labels!, c.labels!), 'labels differ with the seed (32 bits, so equal by chance with p = 2^-32)');
  });

  it('label = 1 iff the two bits (inferred from the inputs) are equal; all four combinations occur in 64', () => {
    const b = task.sample(64, 3);
    const seen = new Set<string>();
    for (let s = 0; s < 64; s++) {
      const [b1, b2] = bitsOf(b, s, 100);
      seen.add(`${b1}${b2}`);
      assert.equal(b.labels![s], b1 === b2 ? 1 : 0, `sequence ${s}: bits ${b1}${b2}, label ${b.labels![s]}`);
      // Outside its own cue window a channel never carries a bump.
      for (let t = 100; t < 900; t++) assert.ok(at(b, s, t, 0) < 0.1, `channel 0 at step ${t}`);
      for (let t = 0; t < 800; t++) assert.ok(at(b, s, t, 1) < 0.1, `channel 1 at step ${t}`);
    }
    assert.deepEqual([...seen].sort(), ['00', '01', '10', '11']);
  });

  it('the bump peaks at ≈ 2.02 at the centre of its cue window', () => {
    const b = task.sample(64, 4);
    let bumps = 0;
    for (let s = 0; s < 64; s++) {
      const [b1, b2] = bitsOf(b, s, 100);
      for (const [bit, c, start] of [[b1, 0, 0], [b2, 1, 800]] as const) {
        if (!bit) continue;
        bumps++;
        let peak = -Infinity;
        let peakAt = -1;
        for (let t = start; t < start + 100; t++) {
          if (at(b, s, t, c) > peak) {
            peak = at(b, s, t, c);
            peakAt = t - start;
          }
        }
        assert.ok(Math.abs(peak - 2.02) < 0.05, `peak ${peak}`);
        assert.ok(peakAt >= 44 && peakAt <= 55, `peak at step ${peakAt} of the window`);
        // Gaussian shape: 2·exp(−u²/(2·25²)) + 0.02 with u = linspace(−50, 50, 100); check both ends and a flank.
        const u = (i: number): number => -50 + (100 * i) / 99;
        const bump = (i: number): number => 2 * Math.exp(-(u(i) ** 2) / (2 * 25 * 25)) + BASELINE;
        for (const i of [0, 25, 74, 99]) assert.ok(Math.abs(at(b, s, start + i, c) - bump(i)) < 0.06, `window step ${i}`);
      }
    }
    assert.ok(bumps > 20, `${bumps} bumps checked`);
  });

  it('baseline 0.02 with noise std 0.01 during the delay', () => {
    const b = task.sample(32, 8);
    const values: number[] = [];
    for (let s = 0; s < 32; s++) for (let t = 100; t < 800; t++) for (let c = 0; c < 2; c++) values.push(at(b, s, t, c));
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    assert.ok(Math.abs(mean - BASELINE) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(sd / 0.01 - 1) < 0.2, `std ${sd}`);
    // The channel without a bump sits at the baseline in its cue window too.
    const quiet: number[] = [];
    for (let s = 0; s < 32; s++) {
      const [b1] = bitsOf(b, s, 100);
      if (!b1) for (let t = 0; t < 100; t++) quiet.push(at(b, s, t, 0));
    }
    assert.ok(quiet.length > 0);
    assert.ok(Math.abs(quiet.reduce((a, v) => a + v, 0) / quiet.length - BASELINE) < 0.005);
  });

  it('delaySteps 50 gives 250 steps, the second cue in the last 100', () => {
    const short = tasks.delayedXor({ delaySteps: 50 });
    assert.equal(short.steps, 250);
    const b = short.sample(64, 2);
    assert.equal(b.x.length, 64 * 250 * 2);
    for (let s = 0; s < 64; s++) {
      const [b1, b2] = bitsOf(b, s, 100);
      assert.equal(b.labels![s], b1 === b2 ? 1 : 0);
      for (let t = 0; t < 150; t++) assert.ok(at(b, s, t, 1) < 0.1, `channel 1 quiet before its cue (step ${t})`);
    }
  });

  it('cueSteps changes the window length', () => {
    const t = tasks.delayedXor({ cueSteps: 20, delaySteps: 30 });
    assert.equal(t.steps, 70);
    const b = t.sample(64, 9);
    for (let s = 0; s < 64; s++) {
      const [b1, b2] = bitsOf(b, s, 20);
      assert.equal(b.labels![s], b1 === b2 ? 1 : 0);
    }
  });

  it('noise 0 gives exactly the float32 baseline during the delay', () => {
    const b = tasks.delayedXor({ noise: 0 }).sample(8, 1);
    const base = Math.fround(BASELINE);
    for (let s = 0; s < 8; s++) for (let t = 100; t < 800; t++) for (let c = 0; c < 2; c++) assert.equal(at(b, s, t, c), base);
    // and the bump is exact too: peak 2·exp(−(50/99)²/1250) + 0.02 at steps 49 and 50
    const peak = Math.fround(2 * Math.exp(-((50 / 99) ** 2) / (2 * 625)) + BASELINE);
    for (let s = 0; s < 8; s++) {
      if (bitsOf(b, s, 100)[0]) {
        assert.equal(at(b, s, 49, 0), peak);
        assert.equal(at(b, s, 50, 0), peak);
      }
    }
  });

  it('invalid options and sample arguments throw ModpropError with the exact message', () => {
    throwsExactly(() => tasks.delayedXor({ cueSteps: 0 }), 'Expected an integer between 1 and 1000000 for options.cueSteps but received 0');
    throwsExactly(() => tasks.delayedXor({ delaySteps: -1 }), 'Expected an integer between 0 and 100000000 for options.delaySteps but received -1');
    throwsExactly(() => tasks.delayedXor({ delaySteps: 2.5 }), 'Expected an integer between 0 and 100000000 for options.delaySteps but received 2.5');
    throwsExactly(() => tasks.delayedXor({ noise: -0.01 }), 'Expected a number between 0 and 1000000 for options.noise but received -0.01');
    throwsExactly(() => tasks.delayedXor({ delay: 50 } as unknown as DelayedXorOptions),
      "Expected only the options cueSteps, delaySteps, noise, sampler for options but received unknown option 'delay'");
    throwsExactly(() => tasks.delayedXor(null as unknown as DelayedXorOptions), 'Expected an object for options but received null');
    throwsExactly(() => task.sample(0, 1), 'Expected an integer between 1 and 1000000 for batchSize but received 0');
    throwsExactly(() => task.sample(4, -1), 'Expected an integer ≥ 0 for seed but received -1');
    throwsExactly(() => task.sample(4, 1.5), 'Expected an integer ≥ 0 for seed but received 1.5');
  });

  it('an infinite or NaN noise level is refused rather than producing non-finite inputs', () => {
    for (const noise of [Infinity, NaN]) {
      assert.throws(() => tasks.delayedXor({ noise }).sample(1, 0), (e: unknown) => {
        assert.ok(e instanceof ModpropError, `noise ${noise}: expected a ModpropError, got ${String(e)}`);
        assert.match(e.message, /^Expected .* for options\.noise but received (Infinity|NaN)$/);
        return true;
      });
    }
  });
});
