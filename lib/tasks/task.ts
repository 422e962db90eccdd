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
}
