/** Options and results of `train` (SPEC §6). The rule fields of `RuleConfig` are given flat, next to the optimizer's. */
import type { RunMetadata } from './metadata';
import type { RuleConfig } from './types';

export interface TrainOptions extends RuleConfig {
  /** 'adam' (β1 0.9, β2 0.999, ε 1e-8; default) or 'sgd'. */
  optimizer?: 'adam' | 'sgd';
  /** Learning rate (default 5e-4, the paper's). */
  lr?: number;
  /** Multiply lr by this every `lrDecayEvery` iterations (default 0.8). */
  lrDecay?: number;
  /** Default 300. */
  lrDecayEvery?: number;
  /** L2 coefficient: the gradient l2·W is added for Win, Wrec and Wout (default 5e-4). */
  l2?: number;
  /** Training iterations in total, counting those of a resumed run (default 1000). */
  iterations?: number;
  /** Sequences per training batch (default 32). */
  batchSize?: number;
  /** Evaluate on a fresh batch (and on the task's held-out set, if it has one) every this many iterations (default 20). */
  evalEvery?: number;
  /** Sequences per evaluation batch (default: batchSize). */
  evalBatchSize?: number;
  /** Seed of the training and evaluation batches (default 0). The network has its own seed. */
  seed?: number;
  /** Force an engine (default: the one chosen at load). */
  backend?: 'native' | 'reference';
  /** Native engine threads for every call of the run (see `GradientOptions.threads`). */
  threads?: number;
  /** Stops training; the promise rejects with an AbortError whose `result` holds the curve so far. */
  signal?: AbortSignal;
  /** Called after every evaluation, and with `final: true` at the end. */
  onProgress?: (p: TrainProgress) => void;
  /** Write a checkpoint to this path every `checkpointEvery` iterations and at the end (atomic). */
  checkpoint?: string;
  /** Default: evalEvery. */
  checkpointEvery?: number;
}

export interface CurvePoint {
  iteration: number;
  /** Loss on the evaluation batch. */
  loss: number;
  /** Fraction correct on the evaluation batch (classification tasks). */
  accuracy?: number;
  /** Normalised MSE on the evaluation batch (regression tasks). */
  nmse?: number;
  /** Held-out loss and accuracy, for tasks with a held-out set. */
  testLoss?: number;
  testAccuracy?: number;
  /** Mean training loss over the iterations since the previous point (absent at iteration 0). */
  trainLoss?: number;
  /** Milliseconds since training started (excluding time before a resume). */
  elapsedMs: number;
}

export interface TrainProgress extends CurvePoint {
  iterations: number;
  lr: number;
  final: boolean;
}

export interface TrainResult {
  /** The options that produced this run (normalised, without functions and signals), and the network and task. */
  config: Record<string, unknown>;
  /** Engine, SIMD level, threads, CPU, OS, Node, package version, git commit, command line and date of the run. */
  metadata: RunMetadata;
  curve: CurvePoint[];
  final: CurvePoint;
}
