/**
 * modprop — recurrent networks trained with ModProp and the rules it is measured against (SPEC §6).
 *
 * @example
 * import { Network, tasks, gradients, alignment } from 'modprop';
 * const task = tasks.delayedXor({ delaySteps: 100 });
 * const net = Network.create({ nIn: task.nIn, nRec: 60, nOut: task.nOut, seed: 1 });
 * const batch = task.sample(8, 1);
 * const { loss, grads } = gradients(net, batch, { rule: 'modprop', mu: 0.25 });
 */
export { Network, type ForwardOptions } from './network';
export { presets, type Preset, type PresetName } from './presets';
export { gradients, gradientsAsync, alignment, filterTaps, type Alignment } from './gradients';
export { backend, setThreads, getThreads, type BackendInfo } from './backend';
export { ModpropError } from './validate';
export { spectralRadius } from './spectralRadius';
export { train, type TrainCallOptions } from './train';
export { loadCheckpoint, saveCheckpoint, type Checkpoint, type TrainingPosition } from './checkpoint';
export type { RunMetadata } from './metadata';
export type { TrainOptions, TrainResult, TrainProgress, CurvePoint } from './trainTypes';
export * as tasks from './tasks/index';
export {
  compare, planStudy, runShard, mergeStudy, mergeResults, studyTable, studyFigure, studyCsv, studyJson, reproducible, shardRuns, writeSlurm,
  GRID_KEYS, type CompareOptions, type StudyOptions, type StudyPlan, type PlannedRun, type StudyResult, type RunResult, type RunShardOptions,
  type ShardOutcome, type SlurmOptions,
} from './study/index';
export type {
  Task, TaskMetric, DelayedXorOptions, PatternGenerationOptions, PatternGenerationTask, PatternComponents, SeqMnistOptions, SeqMnistTask,
} from './tasks/index';
export type {
  NetworkConfig, Params, Batch, RuleConfig, ForwardResult, GradientOptions, AsyncGradientOptions, GradientResult,
  RuleName, LossName, FeedbackName, LearningSignalName,
} from './types';
export type { NeuronConfig, NeuronName } from './neurons/neuron';
export const version = '0.1.0';
