/**
 * The one description of every learning rule: its contract id (shared with native/core/contract.h, checked at load
 * and by test/unit/contract.test.ts), which options it takes and their defaults, whether it has an online form, is
 * exact, which engines run it, and how tables, figures and the CLI name it. Validation (lib/validate.ts), the
 * public API (lib/gradients.ts), the CLI (lib/cli/common.ts, figures) and the test and bench rule lists read this
 * table; adding a rule is one entry here plus one file per engine (docs/ARCHITECTURE.md).
 */

/** Options a rule may take; each entry lists the ones it takes (the others are rejected, naming the option). */
export type RuleOptionKey = 'feedback' | 'mu' | 'window' | 'learningSignal' | 'online';

export interface RuleEntry {
  /** The enum id in the TypeScript ↔ C++ contract (never reuse or renumber one). */
  readonly id: number;
  /** The options this rule takes, in the order labels list them. */
  readonly options: readonly RuleOptionKey[];
  /** Gives dE/dθ (tbptt: with a window ≥ T). Exact rules always feed the output error back through Wout. */
  readonly exact: boolean;
  /** Has a forward-in-time form (memory independent of T); `onlineWhen` says under which option values. */
  readonly online: boolean;
  readonly onlineWhen?: string;
  /** Engines that implement it. */
  readonly engines: readonly ('native' | 'reference')[];
  /** Option defaults that differ from DEFAULTS. */
  readonly defaults?: { readonly learningSignal?: 'symmetric' | 'random' };
  /** Trained by the CLI (`train`, `compare`, studies); rtrl is an O(N⁴) oracle for tests. */
  readonly trainable: boolean;
  /** One colour per rule family in every figure. */
  readonly colour: string;
  /** One line for `--help` and docs. */
  readonly help: string;
}

const BOTH = ['native', 'reference'] as const;

export const RULES = {
  bptt: { id: 0, options: [], exact: true, online: false, engines: BOTH, trainable: true, colour: '#1f77b4',
    help: 'backpropagation through time: the exact gradient' },
  tbptt: { id: 1, options: ['window'], exact: true, online: false, engines: BOTH, trainable: true, colour: '#9467bd',
    help: 'bptt with the credit cut every `window` steps' },
  rtrl: { id: 2, options: [], exact: true, online: false, engines: ['reference'], trainable: false, colour: '#17becf',
    help: 'real-time recurrent learning: the exact gradient forward in time (reference engine, tests)' },
  eprop: { id: 3, options: ['learningSignal', 'online'], exact: false, online: true, engines: BOTH, trainable: true,
    colour: '#d62728', help: 'e-prop: eligibility trace × learning signal' },
  mdgl: { id: 4, options: ['feedback', 'learningSignal'], exact: false, online: false, engines: BOTH, trainable: true,
    colour: '#2ca02c', help: 'multidigraph learning: e-prop plus one synaptic hop of credit' },
  modprop: { id: 5, options: ['feedback', 'mu', 'learningSignal', 'online'], exact: false, online: true,
    onlineWhen: 'with type feedback', engines: BOTH, trainable: true, colour: '#ff7f0e',
    help: 'ModProp: e-prop plus cell-type-specific neuromodulatory credit through a causal filter' },
  rflo: { id: 6, options: ['learningSignal', 'online'], exact: false, online: true, engines: BOTH, trainable: true,
    defaults: { learningSignal: 'random' }, colour: '#e377c2',
    help: 'RFLO (Murray 2019): random feedback, postsynaptic derivative inside the eligibility trace' },
} as const satisfies Record<string, RuleEntry>;

export type RuleName = keyof typeof RULES;
export const RULE_NAMES = Object.keys(RULES) as RuleName[];

/** Defaults of the options, for the rules that take them. */
export const DEFAULTS = { feedback: 'type', mu: 0.25, learningSignal: 'symmetric', online: false } as const;

export function ruleEntry(name: RuleName): RuleEntry {
  return RULES[name];
}

export function takes(name: RuleName, option: RuleOptionKey): boolean {
  return ruleEntry(name).options.includes(option);
}

/** The default learning signal of a rule (RFLO's is its random feedback). */
export function defaultSignal(name: RuleName): 'symmetric' | 'random' {
  return ruleEntry(name).defaults?.learningSignal ?? DEFAULTS.learningSignal;
}

/** `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'` — for messages and help. */
export function quotedList(items: readonly string[], quote = "'"): string {
  const q = items.map((s) => `${quote}${s}${quote}`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}

/** Rules taking an option, e.g. "'mdgl' and 'modprop'". */
export function rulesTaking(option: RuleOptionKey): RuleName[] {
  return RULE_NAMES.filter((r) => takes(r, option));
}

/** "online forms exist for 'eprop', 'rflo' and for 'modprop' with type feedback". */
export function onlineForms(): string {
  const plain = RULE_NAMES.filter((r) => ruleEntry(r).online && !ruleEntry(r).onlineWhen).map((r) => `'${r}'`);
  const conditional = RULE_NAMES.filter((r) => ruleEntry(r).onlineWhen).map((r) => `'${r}' ${ruleEntry(r).onlineWhen}`);
  return `online forms exist for ${[plain.join(', '), ...conditional.map((c) => `for ${c}`)].filter((s) => s).join(' and ')}`;
}

export const TRAINABLE_RULES = RULE_NAMES.filter((r) => ruleEntry(r).trainable);
export const NATIVE_RULE_NAMES = RULE_NAMES.filter((r) => ruleEntry(r).engines.includes('native'));
