import type { LossName } from '../contract';
import type { Batch } from '../types';

/** A task is plain data plus a seeded sampler, so users can bring their own (SPEC §5). */
export interface Task {
  name: string;
  nIn: number;
  nOut: number;
  loss: LossName;
  steps: number;
  /** A batch of `batchSize` sequences; the same seed gives the same batch. */
  sample(batchSize: number, seed: number): Batch;
  /** A fixed held-out evaluation set (e.g. seq-MNIST's test split), the same object on every call: do not modify it. */
  heldOut?: () => Batch;
  /** What the task reports beside the loss: accuracy (classification) or NMSE, MSE / variance of the target (regression). */
  metric?: TaskMetric;
  /** The normal sampler of a task that draws normals per batch ('box-muller' or 'fast'), recorded with every run. */
  sampler?: string;
}

export type TaskMetric = 'accuracy' | 'nmse';
