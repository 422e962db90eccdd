/**
 * Named bundles of network recipe, rule and training settings that reproduce a publication's runs
 * (`presets.liu2022`; `modprop train|compare --preset liu2022`). Explicit options or flags override any field.
 */
import type { InitName } from './init';
import type { RuleConfig } from './types';

export interface Preset {
  /** What the preset reproduces, and where the evidence is. */
  description: string;
  task: { name: 'delayed-xor' | 'pattern-generation' | 'seq-mnist'; options: Record<string, number> };
  network: { nRec: number; init: InitName };
  rule: RuleConfig;
  training: { optimizer: 'adam' | 'sgd'; lr: number; lrDecay: number; lrDecayEvery: number; l2: number; batchSize: number };
}

/**
 * `liu2022`: the public delayed-XOR runs of Liu et al. 2022 (ModProp), as their code computed them — ModProp with
 * cell-specific feedback (the type-average swap never reached the gradient), μ = 0.25, the public code's
 * initialisation (lib/init.ts), N = 120, Adam lr 5e-4 × 0.8 every 300 iterations, L2 5e-4, batch 32. See docs/liu2022.md.
 */
const liu2022: Preset = Object.freeze({
  description: "Liu et al. 2022 (ModProp), delayed XOR as the public code ran it: modprop with cell feedback, their init",
  task: Object.freeze({ name: 'delayed-xor' as const, options: Object.freeze({}) }),
  network: Object.freeze({ nRec: 120, init: 'liu2022' as const }),
  rule: Object.freeze({ rule: 'modprop' as const, feedback: 'cell' as const, mu: 0.25 }),
  training: Object.freeze({ optimizer: 'adam' as const, lr: 5e-4, lrDecay: 0.8, lrDecayEvery: 300, l2: 5e-4, batchSize: 32 }),
});

export const presets: Readonly<Record<'liu2022', Preset>> = Object.freeze({ liu2022 });
export const PRESET_NAMES = Object.keys(presets) as (keyof typeof presets)[];
export type PresetName = keyof typeof presets;
