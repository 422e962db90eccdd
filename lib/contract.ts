/**
 * The one description of what crosses the TypeScript ↔ C++ boundary: enum ids and the addon's ABI version.
 * `native/core/contract.h` mirrors these numbers and the addon exports its own copy as `contract`; the native
 * backend refuses to load when the two disagree, so a drift is a load-time reason, never wrong numbers.
 */
import { RULES, RULE_NAMES, type RuleName } from './rules';

export const ABI_VERSION = 2;

/** Rule ids come from the rule registry (lib/rules.ts), so a rule is described once. */
export const RULE_IDS = Object.fromEntries(RULE_NAMES.map((r) => [r, RULES[r].id])) as { readonly [R in RuleName]: (typeof RULES)[R]['id'] };
export const LOSS_IDS = { 'xent-last': 0, mse: 1 } as const;
export const FEEDBACK_IDS = { type: 0, cell: 1 } as const;
export const LEARNING_SIGNAL_IDS = { symmetric: 0, random: 1 } as const;
/** The neuron model of a call (lib/neurons/neuron.ts NEURON_NAMES). */
export const NEURON_IDS = { rate: 0, lif: 1, alif: 2 } as const;

export type LossName = keyof typeof LOSS_IDS;
export type FeedbackName = keyof typeof FEEDBACK_IDS;
export type LearningSignalName = keyof typeof LEARNING_SIGNAL_IDS;
export { RULE_NAMES, type RuleName };

export const LOSS_NAMES = Object.keys(LOSS_IDS) as LossName[];

/**
 * Positional layout of a native call (index of each field). The binding reads its Int32Array / Float64Array headers
 * and its array list by these indices only, so a renamed option cannot silently fall back to a default.
 */
export const JOB_INTS = { batch: 0, steps: 1, nIn: 2, nRec: 3, nOut: 4, nTypes: 5, rule: 6, feedback: 7, learningSignal: 8,
  online: 9, window: 10, loss: 11, threads: 12, neuron: 13, refractory: 14 } as const;
/** `alpha` is a spiking network's membrane decay too; rho … kappa are the rest of its SpikingConstants. */
export const JOB_FLOATS = { alpha: 0, threshold: 1, mu: 2, rho: 3, beta: 4, vth: 5, dampening: 6, kappa: 7 } as const;
export const GRADIENT_ARRAYS = { win: 0, wrec: 1, wout: 2, bout: 3, randomFeedback: 4, types: 5, x: 6, labels: 7, targets: 8,
  gradWin: 9, gradWrec: 10, gradWout: 11, gradBout: 12, mask: 13 } as const;
export const FORWARD_ARRAYS = { win: 0, wrec: 1, wout: 2, bout: 3, x: 4, v: 5, z: 6, y: 7, mask: 8 } as const;

/** The shape the addon reports for its contract; compared field by field with the tables above. */
export interface NativeContract {
  abiVersion: number;
  rules: Record<string, number>;
  losses: Record<string, number>;
  feedback: Record<string, number>;
  learningSignals: Record<string, number>;
  neurons: Record<string, number>;
  jobInts: Record<string, number>;
  jobFloats: Record<string, number>;
  gradientArrays: Record<string, number>;
  forwardArrays: Record<string, number>;
}

export const CONTRACT: NativeContract = {
  abiVersion: ABI_VERSION,
  rules: RULE_IDS,
  losses: LOSS_IDS,
  feedback: FEEDBACK_IDS,
  learningSignals: LEARNING_SIGNAL_IDS,
  neurons: NEURON_IDS,
  jobInts: JOB_INTS,
  jobFloats: JOB_FLOATS,
  gradientArrays: GRADIENT_ARRAYS,
  forwardArrays: FORWARD_ARRAYS,
};

/** Differences between the addon's contract and ours, as readable lines (empty when they agree). */
export function contractMismatches(native: NativeContract): string[] {
  const out: string[] = [];
  if (native.abiVersion !== ABI_VERSION) out.push(`abiVersion ${native.abiVersion} (expected ${ABI_VERSION})`);
  for (const key of ['rules', 'losses', 'feedback', 'learningSignals', 'neurons', 'jobInts', 'jobFloats', 'gradientArrays', 'forwardArrays'] as const) {
    const ours = CONTRACT[key];
    const theirs = native[key] ?? {};
    for (const name of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
      if (ours[name] !== theirs[name]) out.push(`${key}.${name} = ${theirs[name]} (expected ${ours[name]})`);
    }
  }
  return out;
}
