import type { FeedbackName, LearningSignalName, LossName, RuleName } from './contract';
import type { NeuronConfig } from './neurons/neuron';

/** Shape and dynamics of a leaky-ReLU rate RNN (SPEC §1). */
export interface NetworkConfig {
  nIn: number;
  nRec: number;
  nOut: number;
  /** Membrane time constant (default 100). */
  tau?: number;
  /** Integration step (default 1). `alpha = exp(-dt / tau)`. */
  dt?: number;
  /** ReLU threshold (default 0). */
  threshold?: number;
  /** Sign-constrain outgoing weights by cell type (default true). */
  dale?: boolean;
  /** Fraction of excitatory units for the default E/I types (default 0.8). */
  excitatoryFraction?: number;
  /** One type id 0..C-1 per recurrent unit; default: inhibitory (0) first, then excitatory (1). */
  cellTypes?: ArrayLike<number>;
  /** ±1 per type: the sign of that type's outgoing weights under Dale's law (needed with custom `cellTypes`). */
  typeSigns?: ArrayLike<number>;
  /** Seed of the initialisation and of the random feedback matrix (default 0). */
  seed?: number;
  /** Initialisation recipe: `balanced` (SPEC §1, default) or `liu2022` (the public ModProp code's; lib/init.ts). */
  init?: 'balanced' | 'liu2022';
  /** Rescale Wrec to this spectral radius after its diagonal is zeroed (default: the recipe's own). */
  recurrentRadius?: number;
  /** Split E and I each into this many random equal subtypes, C = 2 · subtypes cell types (default 1). */
  subtypes?: number;
  /**
   * Probability that each off-diagonal recurrent connection exists, 0 < p ≤ 1 (default 1: dense). A fixed mask drawn
   * from the seed (lib/connectivity.ts) that training keeps; the recipe's balancing and spectral-radius scaling run
   * on the masked matrix.
   */
  connectivity?: number;
  /**
   * The neuron model (lib/neurons, docs/neurons.md): the leaky-ReLU rate unit (default, `{ model: 'rate' }`), or the
   * spiking `lif` / `alif` neurons of the e-prop paper, e.g. `{ model: 'alif', tauM: 20, tauA: 200 }`.
   * Spiking networks run on the reference engine; `tau` and `threshold` above are the rate unit's and unused by them.
   */
  neuron?: NeuronConfig;
}

/** Trainable parameters, row-major, weight matrices stored [pre][post]. */
export interface Params {
  /** nIn × nRec */
  win: Float32Array;
  /** nRec × nRec, zero diagonal */
  wrec: Float32Array;
  /** nRec × nOut */
  wout: Float32Array;
  /** nOut */
  bout: Float32Array;
}

/** A batch of sequences. `x` is [batchSize][steps][nIn]. */
export interface Batch {
  x: Float32Array;
  batchSize: number;
  steps: number;
  /** One class per sequence, for the `xent-last` loss. */
  labels?: Int32Array;
  /** [batchSize][steps][nOut], for the `mse` loss. */
  targets?: Float32Array;
}

/** Which learning rule computes the gradient, and its options (SPEC §3–4). */
export interface RuleConfig {
  rule: RuleName;
  /** Recurrent feedback of `mdgl` and `modprop`: the type-averaged `Wrec` (default) or `Wrec` itself. */
  feedback?: FeedbackName;
  /** ModProp's constant stand-in for relu' on the recurrent path (default 0.25). */
  mu?: number;
  /** Compute forward in time with memory independent of T (`eprop`, and `modprop` with type feedback). */
  online?: boolean;
  /** Truncation window of `tbptt`, in steps. */
  window?: number;
  /** Feedback of the output error to the units: `Wout` (default) or a fixed random matrix. Approximate rules only. */
  learningSignal?: LearningSignalName;
}

export interface ForwardResult {
  /** [B][T][nRec] */
  v: Float32Array;
  /** [B][T][nRec] */
  z: Float32Array;
  /** [B][T][nOut] */
  y: Float32Array;
}

export interface GradientOptions {
  /** Default: `xent-last` when the batch has labels, `mse` when it has targets. */
  loss?: LossName;
  /** Force an engine for this call (default: the one chosen at load, see `backend`). */
  backend?: 'native' | 'reference';
  /**
   * Native engine threads for this call (default: this thread's `setThreads`, else the CPUs the process may use, i.e.
   * `os.availableParallelism()`). More than that is clamped to it with a one-time warning. The same count gives
   * bit-identical results; the reference engine ignores it.
   */
  threads?: number;
  /**
   * Arrays to write the gradients into, shaped as the network's parameters (Float32Array: win nIn·nRec, wrec nRec²,
   * wout nRec·nOut, bout nOut), sharing no memory with the network's weights, the batch or each other; the result's
   * `grads` are these arrays. Reusing them from call to call spares allocating, and the OS zeroing, nRec² new floats
   * each time: at nRec = 4096 that was about half of an online e-prop call on the bench machine (bench/RESULTS.md).
   * `gradientsAsync` writes them when it settles; until then they keep their previous contents.
   */
  out?: Params;
}

export interface AsyncGradientOptions extends GradientOptions {
  signal?: AbortSignal;
}

export interface GradientResult {
  loss: number;
  grads: Params;
}

export type { RuleName, LossName, FeedbackName, LearningSignalName };
