export { delayedXor, TASK_SAMPLERS, type DelayedXorOptions, type DelayedXorTask, type TaskSampler } from './delayedXor';
export {
  patternGeneration, PATTERN_PERIODS, type PatternGenerationOptions, type PatternGenerationTask, type PatternComponents,
} from './patternGeneration';
export { seqMnist, type SeqMnistOptions, type SeqMnistTask } from './seqMnist';
export type { Task, TaskMetric } from './task';
