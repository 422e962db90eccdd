/**
 * Engine choice, made once at first use: the native engine when the addon loads and provides kernels, otherwise
 * the reference engine, with the reason kept (shown by `backend.reason` and `modprop info`).
 * `MODPROP_BACKEND=reference|native` forces one; forcing one that is not available is an error, not a fallback.
 * Falling back without being asked prints one warning (reason and fix) on stderr.
 */
import { referenceEngine } from './backends/reference';
import { loadNativeEngine, type NativeCandidate } from './backends/native';
import type { Engine, EngineName } from './backends/engine';
import { ModpropError, describe } from './validate';
import { setDefaultThreads, threadCount, threadsFor } from './threads';

interface Resolution {
  engine: Engine;
  reason?: string;
  native: NativeCandidate;
}

let resolution: Resolution | undefined;
let native: NativeCandidate | undefined;
let warnedFallback = false;

/** How to get the native engine: shown by the fallback warning and by `modprop info`. */
export const NATIVE_ENGINE_FIX =
  'build it from source with `npm rebuild modprop --build-from-source` (needs Python 3, make and a C++17 compiler; ' +
  'prebuilt binaries cover linux-x64 with glibc)';

function warnFallback(reason: string | undefined): void {
  if (warnedFallback) return;
  warnedFallback = true;
  // Plain stderr rather than process.emitWarning: one readable line for CLI users, no Node trace hint.
  process.stderr.write(`modprop: warning: using the reference engine (pure TypeScript, 60-100x slower) because ${reason}. ` +
    `For the native engine, ${NATIVE_ENGINE_FIX}; or set MODPROP_BACKEND=reference to choose the reference engine ` +
    'and silence this warning.\n');
}

function nativeCandidate(): NativeCandidate {
  native ??= loadNativeEngine();
  return native;
}

function resolve(): Resolution {
  if (resolution) return resolution;
  const forced = process.env.MODPROP_BACKEND;
  const cand = nativeCandidate();
  if (forced !== undefined && forced !== '' && forced !== 'native' && forced !== 'reference') {
    throw new ModpropError(`Expected 'native' or 'reference' for the environment variable MODPROP_BACKEND but received ${describe(forced)}`);
  }
  if (forced === 'reference') {
    resolution = { engine: referenceEngine, reason: 'forced by MODPROP_BACKEND=reference', native: cand };
  } else if (forced === 'native') {
    if (!cand.engine) {
      throw new ModpropError(`MODPROP_BACKEND=native was requested but the native engine is not available: ${cand.reason}`);
    }
    resolution = { engine: cand.engine, native: cand };
  } else {
    resolution = cand.engine ? { engine: cand.engine, native: cand } : { engine: referenceEngine, reason: cand.reason, native: cand };
    if (!cand.engine) warnFallback(cand.reason);
  }
  return resolution;
}

/** The engine for one call: the resolved default, or the one the caller asks for in `options.backend`. */
export function engineFor(requested: EngineName | undefined): Engine {
  if (requested === undefined) return resolve().engine;
  if (requested === 'reference') return referenceEngine;
  if (requested === 'native') {
    const cand = nativeCandidate();
    if (!cand.engine) throw new ModpropError(`Expected an available engine for options.backend but received 'native' (not available: ${cand.reason})`);
    return cand.engine;
  }
  throw new ModpropError(`Expected 'native' or 'reference' for options.backend but received ${describe(requested)}`);
}

export interface BackendInfo {
  /** The engine in use. */
  readonly name: EngineName;
  /** Why the other engine is not the one in use (absent when the native engine is in use). */
  readonly reason?: string;
  /** What the native addon reports about itself (SIMD level, threads), when it loaded. */
  readonly native?: Record<string, unknown>;
}

/** Which engine is in use and why. Property reads resolve the choice on first use. */
export const backend: BackendInfo = Object.freeze({
  get name(): EngineName { return resolve().engine.name; },
  get reason(): string | undefined { return resolve().reason; },
  get native(): Record<string, unknown> | undefined { return nativeInfo(); },
  toJSON(): object { const r = resolve(); return { name: r.engine.name, reason: r.reason, native: nativeInfo() }; },
});

function nativeInfo(): Record<string, unknown> | undefined {
  const cand = nativeCandidate();
  if (!cand.info) return undefined;
  return cand.kernels ? { ...cand.info, threads: threadsFor(undefined) } : cand.info;
}

/**
 * Sets the native engine's default thread count for the calls this thread (the main thread or one worker thread)
 * makes from now on; other worker threads keep theirs, and a call's own `threads` option wins. The default is the
 * number of CPUs the process may use (`os.availableParallelism()`, which honours CPU affinity); a larger request is
 * clamped to it with a one-time warning. Throws a ModpropError when the system cannot start the threads. Results
 * are bit-identical for a given thread count. The reference engine is single-threaded; with it this is an error, so
 * a setting never silently does nothing.
 */
export function setThreads(threads: number): void {
  const n = threadCount(threads, 'threads');
  const cand = nativeCandidate();
  if (!cand.kernels) throw new ModpropError(`Expected the native engine for setThreads but it is not available: ${cand.reason}`);
  try {
    cand.kernels.setThreads(n);
  } catch (err) {
    if ((err as { code?: string }).code === 'MODPROP_INVALID') throw new ModpropError((err as Error).message);
    throw err;
  }
  setDefaultThreads(n);
}

/** This thread's default native thread count (1 when only the reference engine is available). */
export function getThreads(): number {
  return nativeCandidate().kernels ? threadsFor(undefined) : 1;
}

/** For tests: forget the resolved choice so a changed MODPROP_BACKEND takes effect. */
export function resetBackendForTests(): void {
  resolution = undefined;
}
