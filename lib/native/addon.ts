/**
 * Finds and loads the compiled addon (`modprop.node`) and checks it against lib/contract.ts. Never throws: a missing
 * or mismatched addon is a readable reason that the backend resolver keeps and `modprop info` shows.
 *
 * Looked up, relative to the package root: `MODPROP_ADDON_PATH` when set (and then only it, so a test of a particular
 * binary cannot silently pass on another one), else what node-gyp-build picks (build/Release from a source build,
 * else the prebuilt binary of prebuilds/<platform>-<arch>/ that matches this Node, libc and N-API), else
 * build-cmake/Release (`npm run build:cmake`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contractMismatches, type NativeContract } from '../contract';

/** What `info()` reports about the binary. */
export interface NativeInfo {
  /** The level of the float kernels chosen at run time: the CPU's best, or lower under MODPROP_SIMD. */
  simd: 'avx512' | 'avx2' | 'sse2' | 'neon' | 'scalar';
  /** std::thread::hardware_concurrency(), at least 1. */
  hardwareThreads: number;
  /** e.g. "gcc 12.2.0". */
  compiler: string;
  /** A portable build (x86-64-v2 baseline, kernels per instruction set); false for a MODPROP_NATIVE=1 build. */
  portable: boolean;
}

/** delayedXorFast's arguments: [state, bits, bump, x, steps, baseline, noise] (native/binding/sampler.cc). */
export type DelayedXorDrawArgs = [Uint32Array, Uint8Array, Float64Array, Float32Array, number, number, number];

/** The addon's exports, written down once (native/binding/*.cc implements them). */
export interface NativeAddon {
  contract: NativeContract;
  info(): NativeInfo;
  // The kernels (native/binding/kernels.cc). Arguments are positional: `ints` and `floats` are laid out by
  // JOB_INTS / JOB_FLOATS and `arrays` by GRADIENT_ARRAYS / FORWARD_ARRAYS of lib/contract.ts. Outputs are written
  // in place. An addon without them (an older build) is "loaded but provides no kernels".
  forward?: (ints: Int32Array, floats: Float64Array, arrays: (Float32Array | Int32Array | Uint8Array | null)[]) => void;
  forwardAsync?: (ints: Int32Array, floats: Float64Array, arrays: (Float32Array | Int32Array | Uint8Array | null)[]) => Promise<number>;
  gradients?: (ints: Int32Array, floats: Float64Array, arrays: (Float32Array | Int32Array | Uint8Array | null)[]) => number;
  gradientsAsync?: (ints: Int32Array, floats: Float64Array, arrays: (Float32Array | Int32Array | Uint8Array | null)[]) => Promise<number>;
  // The tasks' 'fast' sampler (native/binding/sampler.cc, lib/tasks/nativeSampler.ts).
  delayedXorFast?: (state: Uint32Array, bits: Uint8Array, bump: Float64Array, x: Float32Array, steps: number, baseline: number, noise: number) => void;
  delayedXorFastAsync?: (state: Uint32Array, bits: Uint8Array, bump: Float64Array, x: Float32Array, steps: number, baseline: number, noise: number) => Promise<void>;
  fastNormals?: (state: Uint32Array, out: Float64Array) => void;
  samplerMath?: (which: 0 | 1, values: Float64Array) => void;
  // Wrec's initialisation passes above N = 200 (native/core/init_wrec.h, lib/network.ts initialParams).
  balancedWrecPasses?: (state: Uint32Array, n: number, rowSigns: Int8Array | null, mask: Uint8Array | null, w32: Float32Array) => number;
  scaleInPlace?: (w32: Float32Array, rho: number) => void;
  // train()'s optimizer step (native/binding/optimizer.cc): [status, matrix, index], see lib/nativeOptimizer.ts.
  optimizerStep?: (floats: Float64Array, params: Float32Array[], grads: Float32Array[], m: Float64Array[] | null, v: Float64Array[] | null, types: Int32Array, typeSigns: Int8Array | null, nOut: number) => [number, number, number];
  optimizerStepAsync?: (floats: Float64Array, params: Float32Array[], grads: Float32Array[], m: Float64Array[] | null, v: Float64Array[] | null, types: Int32Array, typeSigns: Int8Array | null, nOut: number) => Promise<[number, number, number]>;
  // train()'s iteration in one job (native/binding/kernels.cc): gradientsAsync's arguments, then optimizerStep's on
  // the same arrays → [loss, status, matrix, index, message]; see lib/trainStep.ts.
  trainStepAsync?: (ints: Int32Array, floats: Float64Array, arrays: (Float32Array | Int32Array | Uint8Array | null)[], stepFloats: Float64Array,
    params: Float32Array[], grads: Float32Array[], m: Float64Array[] | null, v: Float64Array[] | null, types: Int32Array, typeSigns: Int8Array | null,
    nOut: number, draw?: DelayedXorDrawArgs) => Promise<[number, number, number, number, string]>;
  /** true when trainStepAsync draws the next batch given as its 12th argument (older builds ignore it). */
  trainStepDraws?: boolean;
  /** [array, index] of the first non-finite entry, or null (native/binding/finite.cc). */
  firstNonFiniteAsync?: (arrays: Float32Array[]) => Promise<[number, number] | null>;
  firstNonFinite?: (array: Float32Array) => number;
  /** Transparent huge pages for the array's 2 MiB-aligned interior (Linux; native/binding/memory.cc) → bytes advised. */
  adviseHugePages?: (array: Float32Array | Float64Array) => number;
  /** Starts the pool of that many threads (an error when the system cannot); sets nothing. */
  setThreads?: (threads: number) => void;
}

export type LoadedAddon = { addon: NativeAddon; path: string } | { error: string };

const PACKAGE_NAME = 'modprop';

/** Where `npm run build:cmake` puts the addon, relative to the package root; tried after node-gyp-build's choice. */
const CMAKE_ADDON = 'build-cmake/Release/modprop.node';

// node-gyp-build ships no types; this is the one function used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };

/** The binaries to try, in order, and why node-gyp-build found none (when it did not). */
function candidates(root: string): { files: string[]; notFound?: string } {
  const files: string[] = [];
  let notFound: string | undefined;
  try {
    files.push(nodeGypBuild.resolve(root));
  } catch (err) {
    notFound = messageOf(err).split('\n')[0];
  }
  const cmake = path.join(root, CMAKE_ADDON);
  if (fs.existsSync(cmake)) files.push(cmake);
  return { files, notFound };
}

/** The folder of modprop's own package.json, walking up from this file (lib/native under tsx, dist/native when built). */
export function packageRoot(from: string = __dirname): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    try {
      if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === PACKAGE_NAME) return dir;
    } catch {
      // An unreadable package.json on the way up is not ours; keep walking.
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkShape(candidate: unknown): string | undefined {
  const a = candidate as Partial<NativeAddon> | null;
  if (a === null || typeof a !== 'object') return 'it exports no object';
  if (typeof a.contract !== 'object' || a.contract === null) return 'it exports no `contract`';
  if (typeof a.info !== 'function') return 'it exports no `info()`';
  return undefined;
}

function loadFrom(file: string): LoadedAddon {
  let exports: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(file);
  } catch (err) {
    return { error: `native addon ${file} failed to load: ${messageOf(err)}` };
  }
  const badShape = checkShape(exports);
  if (badShape) return { error: `native addon ${file} is not modprop's: ${badShape}` };
  const addon = exports as NativeAddon;
  const mismatches = contractMismatches(addon.contract);
  if (mismatches.length > 0) {
    return {
      error: `native addon ${file} does not match lib/contract.ts (rebuild it: npm run build:native): ${mismatches.join('; ')}`,
    };
  }
  return { addon, path: file };
}

export function loadAddon(): LoadedAddon {
  try {
    const override = process.env.MODPROP_ADDON_PATH;
    if (override) {
      const file = path.resolve(override);
      if (!fs.existsSync(file)) return { error: `native addon not found: MODPROP_ADDON_PATH=${override} does not exist` };
      return loadFrom(file);
    }
    const root = packageRoot();
    if (root === undefined) {
      return { error: `native addon not found: no package.json named "${PACKAGE_NAME}" above ${__dirname}` };
    }
    const { files: present, notFound } = candidates(root);
    if (present.length === 0) {
      return {
        error: `native addon not found: no prebuilt binary for ${process.platform}-${process.arch} under prebuilds/ and ` +
          `no source build under build/Release or ${path.dirname(CMAKE_ADDON)} in ${root} (node-gyp-build: ${notFound})`,
      };
    }
    const failures: string[] = [];
    for (const file of present) {
      const loaded = loadFrom(file);
      if ('addon' in loaded) return loaded;
      failures.push(loaded.error);
    }
    return { error: failures.join('; ') };
  } catch (err) {
    return { error: `native addon could not be loaded: ${messageOf(err)}` };
  }
}
