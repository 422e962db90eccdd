/**
 * The raw addon checks its own invariants whatever JavaScript sends (STYLE.md: "the C++ side still checks its
 * invariants"): it is reachable with `require`, so it cannot rely on lib/validate.ts. Starting from a valid call
 * built the way lib/backends/native.ts builds it, seeded random mutations replace one argument — a header of the
 * wrong type or length, an array list of the wrong length, an array of the wrong type or size, a dimension that does
 * not match the arrays, an out-of-range id, a thread count that is not an integer in range — and each call must throw
 * an Error with code MODPROP_INVALID (never crash, never read past a buffer, never return a number).
 */
import assert from 'node:assert/strict';
import { FORWARD_ARRAYS, GRADIENT_ARRAYS, JOB_FLOATS, JOB_INTS } from '../../lib/contract';
import { loadAddon, type NativeAddon } from '../../lib/native/addon';
import { Random } from '../../lib/random';
import { describeNative } from './common';

type Arr = Float32Array | Int32Array | null;
interface RawCall { ints: unknown; floats: unknown; arrays: unknown[] }

const B = 3, T = 5, I = 2, N = 6, K = 2;

function validGradientCall(): RawCall {
  const ints = new Int32Array(Object.keys(JOB_INTS).length);
  Object.assign(ints, { [JOB_INTS.batch]: B, [JOB_INTS.steps]: T, [JOB_INTS.nIn]: I, [JOB_INTS.nRec]: N, [JOB_INTS.nOut]: K,
    [JOB_INTS.nTypes]: 2, [JOB_INTS.rule]: 0, [JOB_INTS.threads]: 1 });
  const floats = new Float64Array(Object.keys(JOB_FLOATS).length);
  floats[JOB_FLOATS.alpha] = 0.9;
  floats[JOB_FLOATS.threshold] = 0;
  const a: Arr[] = new Array(Object.keys(GRADIENT_ARRAYS).length).fill(null);
  const f = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 0.3);
  a[GRADIENT_ARRAYS.win] = f(I * N);
  a[GRADIENT_ARRAYS.wrec] = f(N * N).map((v, i) => (i % (N + 1) === 0 ? 0 : v));
  a[GRADIENT_ARRAYS.wout] = f(N * K);
  a[GRADIENT_ARRAYS.bout] = f(K);
  a[GRADIENT_ARRAYS.types] = Int32Array.from({ length: N }, (_, i) => i % 2);
  a[GRADIENT_ARRAYS.x] = f(B * T * I);
  a[GRADIENT_ARRAYS.labels] = Int32Array.from({ length: B }, (_, b) => b % K);
  a[GRADIENT_ARRAYS.gradWin] = new Float32Array(I * N);
  a[GRADIENT_ARRAYS.gradWrec] = new Float32Array(N * N);
  a[GRADIENT_ARRAYS.gradWout] = new Float32Array(N * K);
  a[GRADIENT_ARRAYS.gradBout] = new Float32Array(K);
  return { ints, floats, arrays: a };
}

function validForwardCall(): RawCall {
  const g = validGradientCall();
  const a: unknown[] = new Array(Object.keys(FORWARD_ARRAYS).length).fill(null);
  a[FORWARD_ARRAYS.win] = g.arrays[GRADIENT_ARRAYS.win];
  a[FORWARD_ARRAYS.wrec] = g.arrays[GRADIENT_ARRAYS.wrec];
  a[FORWARD_ARRAYS.wout] = g.arrays[GRADIENT_ARRAYS.wout];
  a[FORWARD_ARRAYS.bout] = g.arrays[GRADIENT_ARRAYS.bout];
  a[FORWARD_ARRAYS.x] = g.arrays[GRADIENT_ARRAYS.x];
  a[FORWARD_ARRAYS.v] = new Float32Array(B * T * N);
  a[FORWARD_ARRAYS.z] = new Float32Array(B * T * N);
  a[FORWARD_ARRAYS.y] = new Float32Array(B * T * K);
  return { ints: g.ints, floats: g.floats, arrays: a };
}

const WEIRD: unknown[] = [null, undefined, 0, 2 ** 32 + 1, -1, 1.9, NaN, 'x', {}, [], new Float32Array(3),
  new Float64Array(3), new Int32Array(0), new Uint8Array(12), new Int32Array(1000)];

/** One invalid mutation of a valid call; returns what it did. */
function mutate(c: RawCall, rng: Random, forward: boolean): string {
  const ints = c.ints as Int32Array;
  switch (rng.int(6)) {
    case 0: {
      const v = WEIRD[rng.int(WEIRD.length)];
      c.ints = v;
      return `ints = ${String(v)}`;
    }
    case 1: {
      const v = [new Float32Array(3), new Float64Array(2), new Int32Array(3), new Float32Array(6), null, 3][rng.int(6)];
      c.floats = v;
      return `floats = ${String(v?.constructor?.name)}(${String((v as { length?: number } | null)?.length)})`;
    }
    case 2: {
      const i = rng.int(c.arrays.length);
      const v = WEIRD.filter((w) => w !== null && w !== undefined)[rng.int(WEIRD.length - 2)];
      c.arrays[i] = v;
      return `arrays[${i}] = ${String(v?.constructor?.name ?? v)}`;
    }
    case 3: {
      const i = rng.int(c.arrays.length);
      const a = c.arrays[i] as Float32Array | Int32Array | null;
      if (!a) { c.arrays.length = c.arrays.length - 1; return 'arrays shortened'; }
      c.arrays[i] = a.subarray(0, Math.max(0, a.length - 1 - rng.int(a.length)));
      return `arrays[${i}] shortened`;
    }
    case 4: {
      const field = [JOB_INTS.batch, JOB_INTS.steps, JOB_INTS.nIn, JOB_INTS.nRec, JOB_INTS.nOut][rng.int(5)];
      ints[field] = [0, -3, ints[field] + 1, 2 ** 31 - 1, 65536][rng.int(5)];
      return `ints[${field}] = ${ints[field]}`;
    }
    default: {
      // forward reads no rule or loss (and bptt no types): only its thread count can be out of range.
      const field = forward ? JOB_INTS.threads : [JOB_INTS.threads, JOB_INTS.rule, JOB_INTS.loss, JOB_INTS.feedback][rng.int(4)];
      ints[field] = field === JOB_INTS.threads ? [0, -1, 1025, 2 ** 31 - 1][rng.int(4)] : [-1, 99, 2 ** 31 - 1][rng.int(3)];
      return `ints[${field}] = ${ints[field]}`;
    }
  }
}

function assertInvalid(fn: () => unknown, what: string): void {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    assert.ok(err instanceof Error, `${what}: threw ${String(err)}`);
    assert.equal((err as { code?: string }).code, 'MODPROP_INVALID', `${what}: ${(err as Error).message}`);
    assert.match((err as Error).message, /^Expected/, what);
    return;
  }
  assert.fail(`${what}: returned ${String(result)} instead of throwing`);
}

describeNative('the raw addon checks its own arguments', () => {
  let addon: Required<NativeAddon>;
  before(() => {
    const loaded = loadAddon();
    assert.ok('addon' in loaded, 'error' in loaded ? loaded.error : '');
    addon = loaded.addon as Required<NativeAddon>;
  });

  it('the valid calls it starts from succeed (so a mutation is what fails)', async () => {
    const g = validGradientCall();
    const loss = addon.gradients(g.ints as Int32Array, g.floats as Float64Array, g.arrays as Arr[]);
    assert.ok(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
    assert.ok((g.arrays[GRADIENT_ARRAYS.gradWrec] as Float32Array).some((v) => v !== 0), 'a non-zero gradient');
    const a = validGradientCall();
    assert.equal(await addon.gradientsAsync(a.ints as Int32Array, a.floats as Float64Array, a.arrays as Arr[]), loss);
    const f = validForwardCall();
    addon.forward(f.ints as Int32Array, f.floats as Float64Array, f.arrays as Arr[]);
    assert.ok((f.arrays[FORWARD_ARRAYS.y] as Float32Array).some((v) => v !== 0));
  });

  it('the header of the wrong type with the right length is refused (it used to be compared with itself)', () => {
    const g = validGradientCall();
    assertInvalid(() => addon.gradients(g.ints as Int32Array, new Float32Array(3) as unknown as Float64Array, g.arrays as Arr[]), 'floats as Float32Array(3)');
    assertInvalid(() => addon.gradients(new Float32Array((g.ints as Int32Array).length) as unknown as Int32Array, g.floats as Float64Array, g.arrays as Arr[]), 'ints as Float32Array');
  });

  it('setThreads accepts only integers from 1 to 1024', () => {
    for (const v of [2 ** 32 + 1, 1.9, 0, -1, 1025, NaN, Infinity, '2', undefined, null, 2 ** 31]) {
      assertInvalid(() => addon.setThreads(v as number), `setThreads(${String(v)})`);
    }
    addon.setThreads(1);
  });

  it('600 seeded malformed calls of gradients, gradientsAsync and forward all throw MODPROP_INVALID', async () => {
    const rng = new Random(20261201, 77);
    for (let k = 0; k < 600; k++) {
      const kind = k % 3;
      const c = kind === 2 ? validForwardCall() : validGradientCall();
      const what = mutate(c, rng, kind === 2);
      const label = `call ${k} (${['gradients', 'gradientsAsync', 'forward'][kind]}): ${what}`;
      const args = [c.ints, c.floats, c.arrays] as [Int32Array, Float64Array, Arr[]];
      if (kind === 0) assertInvalid(() => addon.gradients(...args), label);
      else if (kind === 2) assertInvalid(() => addon.forward(...args), label);
      else {
        let pending: Promise<number>;
        try {
          pending = addon.gradientsAsync(...args);
        } catch {
          assertInvalid(() => addon.gradientsAsync(...args), label);
          continue;
        }
        await pending.then((v) => assert.fail(`${label}: resolved with ${v}`), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'MODPROP_INVALID', `${label}: ${err.message}`);
        });
      }
    }
  });
});

describeNative('the raw addon refuses work it cannot serve', () => {
  it('online ModProp with type feedback at C = N = 800 beyond the modal form\'s state budget is an error at once, not hours of work', () => {
    const loaded = loadAddon();
    assert.ok('addon' in loaded);
    const n = 800, b = 256, t = 1; // 2 · 256 · 802 · 800 numbers of modal state > 2^28 (and the direct form's far more)
    const call = validGradientCall();
    const ints = call.ints as Int32Array;
    Object.assign(ints, { [JOB_INTS.batch]: b, [JOB_INTS.steps]: t, [JOB_INTS.nRec]: n, [JOB_INTS.nTypes]: n, [JOB_INTS.rule]: 5, [JOB_INTS.online]: 1 });
    const a = call.arrays;
    a[GRADIENT_ARRAYS.win] = new Float32Array(I * n);
    a[GRADIENT_ARRAYS.wrec] = new Float32Array(n * n);
    a[GRADIENT_ARRAYS.wout] = new Float32Array(n * K);
    a[GRADIENT_ARRAYS.types] = Int32Array.from({ length: n }, (_, i) => i);
    a[GRADIENT_ARRAYS.x] = new Float32Array(b * t * I);
    a[GRADIENT_ARRAYS.labels] = new Int32Array(b);
    a[GRADIENT_ARRAYS.gradWin] = new Float32Array(I * n);
    a[GRADIENT_ARRAYS.gradWrec] = new Float32Array(n * n);
    a[GRADIENT_ARRAYS.gradWout] = new Float32Array(n * K);
    assert.throws(() => loaded.addon.gradients!(ints, call.floats as Float64Array, a as Arr[]),
      (e: Error & { code?: string }) => e.code === 'MODPROP_INVALID' && /cell types for online ModProp/.test(e.message));
  });
});
