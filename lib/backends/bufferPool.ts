/**
 * Large Float32Arrays kept for reuse between the native engine's asynchronous calls (their snapshot of the weights,
 * and the gradient buffer of a call with `options.out`). A fresh array of N² floats costs more than the copy into it:
 * the kernel zeroes and maps every page on first touch, ≈ 0.2 s for the 64 MB of Wrec at N = 4096 on the bench
 * machine. Arrays come back with stale contents, so only buffers that are overwritten in full may be taken.
 */
import { largeFloat32Array } from '../largeArrays';

const MIN_LENGTH = 1 << 18; // 1 MB: below this a fresh array is as cheap
const MAX_BYTES = 512 * 2 ** 20;
const MAX_PER_LENGTH = 4;

const free = new Map<number, Float32Array[]>();
let pooledBytes = 0;

/** An array of `length` floats, from the pool when one is free (stale contents), else new (zeros). */
export function takeFloat32(length: number): Float32Array {
  if (length < MIN_LENGTH) return new Float32Array(length);
  const a = free.get(length)?.pop();
  if (a === undefined) return largeFloat32Array(length);
  pooledBytes -= a.byteLength;
  return a;
}

/** Gives an array from takeFloat32 back once nothing reads or writes it any more. */
export function giveFloat32(a: Float32Array): void {
  if (a.length < MIN_LENGTH || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
  if (pooledBytes + a.byteLength > MAX_BYTES) return;
  const list = free.get(a.length) ?? [];
  if (list.length >= MAX_PER_LENGTH || list.includes(a)) return;
  list.push(a);
  free.set(a.length, list);
  pooledBytes += a.byteLength;
}

/** Bytes held by the pool now (for tests). */
export function pooledFloat32Bytes(): number {
  return pooledBytes;
}
