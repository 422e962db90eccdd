/**
 * The leaky-ReLU rate RNN of SPEC §1: configuration, seeded initialisation and the stateful object users hold.
 * The arithmetic lives in the engines; this file only builds and owns the parameters.
 */
import { Random, STREAMS } from './random';
import { checkedForward, checkedForwardAsync } from './resultChecks';
import * as validate from './validate';
import type { NormalizedNetworkConfig } from './validate';
import type { Batch, ForwardResult, NetworkConfig, Params } from './types';
import { engineFor } from './backend';
import { loadNetworkFile, saveNetworkFile } from './npz';
import { threadCount } from './threads';
import type { Engine } from './backends/engine';
import { liu2022Weights, rescaleRadius, squareNormals } from './init';
import { fastNormal } from './tasks/fastNormal';
import { EXACT_MAX_SIZE, float32Radius, float32RadiusOfCopy } from './spectralRadius';
import { initialParamsAsync } from './createAsync';
import { checkMasked, connectivityMask } from './connectivity';
import { spikingConstants } from './neurons/neuron';
import { engineForNeuron } from './neurons/engine';
import { largeFloat32Array } from './largeArrays';
import type { NativeAddon } from './native/addon';
import { nativeSampler } from './tasks/nativeSampler';

export class Network {
  /** The normalised configuration (defaults filled in). */
  readonly config: Readonly<NormalizedNetworkConfig>;
  /** The trainable parameters; training updates these arrays in place. */
  readonly params: Params;
  /** Type id of each recurrent unit. */
  readonly types: Int32Array;
  /** Fixed random feedback matrix (nRec × nOut) of the `random` learning signal, drawn N(0, 1/nRec) from the seed. */
  readonly randomFeedback: Float32Array;
  /** exp(-dt / tau), or exp(-dt / neuron.tauM) for a spiking neuron */
  readonly alpha: number;
  /** The recurrent connections Wrec may use (nRec × nRec, 1 = kept), or null when `connectivity` is 1 (dense). */
  readonly mask: Uint8Array | null;

  private constructor(config: NormalizedNetworkConfig, params: Params) {
    this.config = Object.freeze(config);
    this.params = params;
    this.types = config.types;
    this.alpha = config.neuron ? spikingConstants(config.neuron, config.dt).alpha : Math.exp(-config.dt / config.tau);
    this.randomFeedback = randomFeedback(config);
    this.mask = connectivityMask(config.nRec, config.connectivity, config.seed);
  }

  get nIn(): number { return this.config.nIn; }
  get nRec(): number { return this.config.nRec; }
  get nOut(): number { return this.config.nOut; }
  /** Number of cell types C. */
  get nTypes(): number { return this.config.nTypes; }

  /** A new network with a seeded initialisation: SPEC §1 (`init: 'balanced'`) or another recipe of lib/init.ts. */
  static create(config: NetworkConfig): Network {
    const c = validate.networkConfig(config);
    return new Network(c, initialParams(c));
  }

  /**
   * `create` on a worker thread, for large N (seconds at N ≥ 2048: N² random draws and the spectral radius): the
   * event loop keeps turning. The same network bit for bit as `create`.
   */
  static async createAsync(config: NetworkConfig): Promise<Network> {
    const c = validate.networkConfig(config);
    return new Network(c, await initialParamsAsync(c));
  }

  /**
   * A network with the given parameters (copied and checked: sizes, finiteness, zero diagonal, Dale signs). `config`
   * may be another network's normalised `config`.
   */
  static fromParams(config: NetworkConfig | Readonly<NormalizedNetworkConfig>, params: Params): Network {
    const c = validate.networkConfig(config);
    const p = validate.params(params, c);
    const copy: Params = { win: p.win.slice(), wrec: copyLarge(p.wrec), wout: p.wout.slice(), bout: p.bout.slice() };
    if (c.dale && c.typeSigns) checkDaleSigns(copy, c);
    const net = new Network(c, copy);
    checkMasked(copy.wrec, net.mask, c.nRec, 'params.wrec');
    return net;
  }

  /** Writes the network to a numpy .npz file (atomically; see lib/npz.ts for the layout). */
  save(path: string): void {
    saveNetworkFile(path, this.config, this.params);
  }

  /** A network read from a .npz file written by `save` or by numpy.savez with the same entries, fully validated. */
  static load(path: string): Network {
    const { config, params } = loadNetworkFile(path);
    try {
      return Network.fromParams(config as unknown as NetworkConfig, params);
    } catch (err) {
      if (err instanceof validate.ModpropError) throw new validate.ModpropError(`${err.message} (in ${path})`);
      throw err;
    }
  }

  /** A deep copy (parameters copied, same configuration). */
  clone(): Network {
    const p = this.params;
    const c = this.config;
    return new Network({ ...c, types: c.types.slice(), typeSigns: c.typeSigns ? c.typeSigns.slice() : null }, { win: p.win.slice(), wrec: copyLarge(p.wrec), wout: p.wout.slice(), bout: p.bout.slice() });
  }

  /** Runs the network on a batch: v, z ([B][T][nRec]) and y ([B][T][nOut]). */
  /** `options.threads`: native engine threads for this call (see `GradientOptions.threads`). */
  forward(batch: Batch, options?: ForwardOptions): ForwardResult {
    const c = this.forwardCall(batch, options);
    return checkedForward(() => intoOut(c.engine.forward(this, c.batch, c.threads, c.out), c.out), c.batch, this.config);
  }

  /**
   * `forward` off the JS thread: the native engine runs on the libuv pool (the event loop keeps turning meanwhile);
   * the reference engine runs inline. The parameters and batch are copied when the call starts.
   */
  forwardAsync(batch: Batch, options?: ForwardOptions): Promise<ForwardResult> {
    try {
      const c = this.forwardCall(batch, options);
      return checkedForwardAsync(async () => intoOut(await c.engine.forwardAsync(this, c.batch, c.threads, c.out), c.out), c.batch, this.config);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private forwardCall(batch: Batch, options: ForwardOptions | undefined): { engine: Engine; batch: Batch; threads?: number; out?: ForwardResult } {
    const b = validate.batchInputs(batch, this.config);
    validate.params(this.params, this.config, 'net.params');
    const o = options === undefined ? {} : validate.plainObject(options, 'options');
    validate.knownKeys(o, 'options', ['backend', 'threads', 'out']);
    const requested = o.backend === undefined ? undefined : validate.oneOf(o.backend, 'options.backend', ['native', 'reference'] as const);
    const threads = o.threads === undefined ? undefined : threadCount(o.threads, 'options.threads');
    const out = o.out === undefined ? undefined : forwardOut(o.out, b, this);
    return { engine: engineForNeuron(engineFor, requested, this.config), batch: b, threads, out };
  }
}

const FORWARD_KEYS = ['v', 'z', 'y'] as const;

/** options.out of forward: v, z (B·T·nRec) and y (B·T·nOut), sharing no memory with the weights, the batch or one another. */
function forwardOut(value: unknown, b: Batch, net: Network): ForwardResult {
  const o = validate.plainObject(value, 'options.out');
  const cells = b.batchSize * b.steps;
  const state = `batchSize × steps × nRec = ${b.batchSize} × ${b.steps} × ${net.nRec}`;
  const out: ForwardResult = {
    v: validate.typedArray(o.v, 'options.out.v', Float32Array, cells * net.nRec, state),
    z: validate.typedArray(o.z, 'options.out.z', Float32Array, cells * net.nRec, state),
    y: validate.typedArray(o.y, 'options.out.y', Float32Array, cells * net.nOut, `batchSize × steps × nOut = ${b.batchSize} × ${b.steps} × ${net.nOut}`),
  };
  const p = net.params;
  validate.disjointOutputs(FORWARD_KEYS.map((k) => [`options.out.${k}`, out[k]]), [
    ['the network\'s win', p.win], ['the network\'s wrec', p.wrec], ['the network\'s wout', p.wout], ['the network\'s bout', p.bout], ['batch.x', b.x],
  ]);
  return out;
}

/** The engine's result in `out` (copied there unless the engine wrote it there). */
function intoOut(r: ForwardResult, out: ForwardResult | undefined): ForwardResult {
  if (out === undefined) return r;
  for (const k of FORWARD_KEYS) if (r[k] !== out[k]) out[k].set(r[k]);
  return out;
}

/** Options of `Network.forward` and `Network.forwardAsync`. */
export interface ForwardOptions {
  /** Force an engine for this call (default: the one chosen at load). */
  backend?: 'native' | 'reference';
  /** Native engine threads for this call (see `GradientOptions.threads`). */
  threads?: number;
  /**
   * Arrays to write the result into (v and z of B·T·nRec, y of B·T·nOut floats), sharing no memory with the weights,
   * the batch or one another; the result's arrays are these. As `GradientOptions.out`: reusing them spares allocating
   * B·T·nRec new floats twice per call. `forwardAsync` writes them when it settles.
   */
  out?: ForwardResult;
}

/** Throws when a weight's sign disagrees with its presynaptic type under Dale's law. */
function checkDaleSigns(p: Params, c: NormalizedNetworkConfig): void {
  const signs = c.typeSigns!;
  const check = (m: Float32Array, cols: number, name: string): void => {
    for (let pre = 0; pre < c.nRec; pre++) {
      const s = signs[c.types[pre]];
      for (let j = 0; j < cols; j++) {
        const w = m[pre * cols + j];
        if (w * s < 0) {
          validate.fail(`weights with the sign of their presynaptic type (${s > 0 ? '≥ 0' : '≤ 0'} for unit ${pre}, Dale's law)`,
            `params.${name}`, `${w} at [${pre}][${j}]`, true);
        }
      }
    }
  };
  check(p.wrec, c.nRec, 'wrec');
  check(p.wout, c.nOut, 'wout');
}

function randomFeedback(c: NormalizedNetworkConfig): Float32Array {
  const rng = new Random(c.seed, STREAMS.randomFeedback);
  const out = new Float32Array(c.nRec * c.nOut);
  const sd = 1 / Math.sqrt(c.nRec);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * sd;
  return out;
}

/** A copy of Wrec, in huge pages when it is large (lib/largeArrays.ts). */
function copyLarge(a: Float32Array): Float32Array {
  const out = largeFloat32Array(a.length);
  out.set(a);
  return out;
}

/** The types' Dale signs (null without Dale), and the sign of row p's outgoing weights (1 without Dale). */
function presynapticSigns(c: NormalizedNetworkConfig): { signs: NormalizedNetworkConfig['typeSigns']; rowSign: (p: number) => number } {
  const signs = c.dale ? c.typeSigns : null;
  return { signs, rowSign: (p) => (signs ? signs[c.types[p]] : 1) };
}

/**
 * The recipe of SPEC §1, computed in float64 and stored as float32. Above N = 200 (lib/init.ts's header) the matrix
 * lives in one float32 array from the draw on.
 */
export function initialParams(c: NormalizedNetworkConfig): Params {
  const n = c.nRec;
  const { signs, rowSign } = presynapticSigns(c);

  // Wrec: magnitudes |N(0,1)| (N(0,1) without Dale), zero diagonal, signs by presynaptic type.
  // Sparse connectivity: the balancing and the 1/ρ scaling below run on the masked matrix, so ρ(Wrec) = 1 holds.
  const mask = connectivityMask(n, c.connectivity, c.seed);
  if (n > EXACT_MAX_SIZE) {
    // Above N = 200 the matrix lives in one float32 array from the draw on: each pass stores its result as float32
    // and the next reads it back (at N = 4096 a float64 copy is 134 MB of fresh memory, ≈ 0.27 s of page faults on
    // the bench's virtual machine), the normals drawn row by row. The addon's twin (native/core/init_wrec.cc) runs
    // the same operations in the same order: the same bits (test/unit/initLarge).
    const wrec = largeFloat32Array(n * n);
    const rng = new Random(c.seed, STREAMS.wrec);
    const native = nativeInit();
    const largest = native
      ? native.balancedWrecPasses(rng.state(), n, signs ? Int8Array.from({ length: n }, (_, p) => rowSign(p)) : null, mask, wrec)
      : balancedPasses(c, mask, wrec, () => fastNormal(rng));
    return finishParams(c, wrec, wrec, float32RadiusOfCopy(wrec, n, largest), native);
  }
  const w = squareNormals(new Random(c.seed, STREAMS.wrec), n);
  let next = 0;
  balancedPasses(c, mask, w, () => w[next++]);
  return finishParams(c, w, new Float32Array(n * n), float32Radius(w, n), undefined);
}

/**
 * Passes 1–3 of the `balanced` Wrec into w (n×n), returning the largest |w|: `draw` gives the normals in row-major
 * order (called for entry k before w[k] is written). Each pass reads what the previous stored, so a Float32Array w
 * rounds after every pass and a Float64Array w is the float64 recipe.
 */
function balancedPasses(c: NormalizedNetworkConfig, mask: Uint8Array | null, w: Float64Array | Float32Array, draw: () => number): number {
  const n = c.nRec;
  const { signs, rowSign } = presynapticSigns(c);
  // Pass 1: sign, zero diagonal, mask, stored; the totals of excitation and inhibition (summed in index order).
  let pos = 0;
  let neg = 0;
  for (let p = 0; p < n; p++) {
    const sign = rowSign(p);
    for (let j = 0, k = p * n; j < n; j++, k++) {
      const g = draw();
      let v = p === j ? 0 : signs ? sign * Math.abs(g) : g;
      if (mask !== null && mask[k] === 0) v = 0;
      w[k] = v;
      const stored = w[k];
      if (stored > 0) pos += stored;
      else neg -= stored;
    }
  }
  // Pass 2: total inhibition equals total excitation (the negative rows' factor, applied here and stored in pass 3),
  // and each column's sums of positive and negative entries, row by row (each column sums over p in order).
  const inhibition = signs !== null && pos > 0 && neg > 0 ? pos / neg : 1;
  const colPos = new Float64Array(n);
  const colNeg = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const scale = inhibition !== 1 && rowSign(p) < 0;
    for (let j = 0, k = p * n; j < n; j++, k++) {
      const v = scale ? w[k] * inhibition : w[k];
      if (v > 0) colPos[j] += v;
      else colNeg[j] -= v;
    }
  }
  // Each column sums to 0: rescale its negative entries. A column without entries of both signs (e.g. the column of
  // the only inhibitory unit, or every column when C = 1) cannot be balanced and is left as it is.
  const scaleNeg = Float64Array.from(colPos, (sum, j) => (sum === 0 || colNeg[j] === 0 ? 1 : sum / colNeg[j]));
  // Pass 3: both factors, stored; the largest stored |w|.
  let largest = 0;
  for (let p = 0; p < n; p++) {
    const scale = inhibition !== 1 && rowSign(p) < 0;
    for (let j = 0, k = p * n; j < n; j++, k++) {
      let v = scale ? w[k] * inhibition : w[k];
      if (v < 0) v = v * scaleNeg[j];
      w[k] = v;
      largest = Math.max(largest, Math.abs(w[k]));
    }
  }
  return largest;
}

type NativeInit = Required<Pick<NativeAddon, 'balancedWrecPasses' | 'scaleInPlace'>>;

/** The addon's initialisation passes, where the native sampler is in use (not under MODPROP_BACKEND=reference). */
function nativeInit(): NativeInit | undefined {
  const a = nativeSampler() as Partial<NativeAddon> | undefined;
  return a && typeof a.balancedWrecPasses === 'function' && typeof a.scaleInPlace === 'function' ? (a as NativeInit) : undefined;
}

/**
 * Wrec = w / ρ (then the recipe's and recurrentRadius' changes) into `wrec` (which is w itself, float32, above
 * N = 200: `native` then divides it in place), Win, Wout and bout: the rest of initialParams.
 */
function finishParams(c: NormalizedNetworkConfig, w: Float64Array | Float32Array, wrec: Float32Array, rho: number,
  native: NativeInit | undefined): Params {
  const { nIn, nRec: n, nOut } = c;
  const { signs, rowSign } = presynapticSigns(c);
  const liu = c.init === 'liu2022' ? liu2022Weights(c) : null;
  if (liu === null && c.recurrentRadius === null) {
    // Pass 4: w / ρ, rounded to float32 (the same value as dividing w in place and storing it).
    if (rho > 1e-12 && native && w === wrec) native.scaleInPlace(wrec, rho);
    else if (rho > 1e-12) for (let k = 0; k < w.length; k++) wrec[k] = w[k] / rho;
    else wrec.set(w);
  } else {
    const w64 = w instanceof Float64Array ? w : Float64Array.from(w);
    if (rho > 1e-12) for (let k = 0; k < w64.length; k++) w64[k] /= rho;
    if (liu) w64.set(liu.wrec);
    if (c.recurrentRadius !== null) rescaleRadius(w64, n, c.recurrentRadius);
    wrec.set(w64);
  }

  const win = new Float32Array(nIn * n);
  const rngIn = new Random(c.seed, STREAMS.win);
  const sdIn = Math.sqrt(2 / nIn);
  for (let k = 0; k < win.length; k++) win[k] = rngIn.normal() * sdIn;

  const wout = new Float32Array(n * nOut);
  const rngOut = new Random(c.seed, STREAMS.wout);
  const sdOut = 1 / Math.sqrt(n);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < nOut; k++) {
      const g = rngOut.normal();
      wout[p * nOut + k] = (signs ? rowSign(p) * Math.abs(g) : g) * sdOut;
    }
  }
  return { win, wrec, wout: liu ? liu.wout : wout, bout: new Float32Array(nOut) };
}
