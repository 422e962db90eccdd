/**
 * Reads the X-macro lists of native/core/contract.h (the only place the C++ enums are written) and compares them
 * with lib/contract.ts and the rule registry lib/rules.ts. Kept apart from the test so a perturbed copy of the
 * header can be checked too: a comparison that cannot fail would prove nothing.
 */
import { FEEDBACK_IDS, FORWARD_ARRAYS, GRADIENT_ARRAYS, JOB_FLOATS, JOB_INTS, LEARNING_SIGNAL_IDS, LOSS_IDS, NEURON_IDS } from '../../lib/contract';
import { RULES, RULE_NAMES, takes } from '../../lib/rules';

/** The X(...) entries of `#define <list>(X)`, each as its comma-separated, trimmed arguments. */
export function xMacro(header: string, list: string): string[][] {
  const start = header.indexOf(`#define ${list}(X)`);
  if (start < 0) throw new Error(`no #define ${list}(X) in the header`);
  let end = start;
  // The definition runs until the first line that does not end in a backslash.
  for (;;) {
    const eol = header.indexOf('\n', end);
    const line = header.slice(end, eol < 0 ? undefined : eol);
    end = eol < 0 ? header.length : eol + 1;
    if (!line.trimEnd().endsWith('\\')) break;
  }
  const body = header.slice(start, end).replace(`#define ${list}(X)`, '');
  return [...body.matchAll(/X\(([^)]*)\)/g)].map((m) => m[1].split(',').map((s) => s.trim()));
}

const unquote = (s: string): string => JSON.parse(s) as string;

/** Every difference between the header and the TypeScript tables, as readable lines (empty when they agree). */
export function headerMismatches(header: string): string[] {
  const out: string[] = [];
  const same = (what: string, ours: Record<string, number>, theirs: Record<string, number>): void => {
    for (const name of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
      if (ours[name] !== theirs[name]) out.push(`${what}.${name}: C++ ${theirs[name]}, TypeScript ${ours[name]}`);
    }
  };
  const rules = xMacro(header, 'MODPROP_RULES');
  same('rules', Object.fromEntries(RULE_NAMES.map((r) => [r, RULES[r].id])), Object.fromEntries(rules.map((e) => [unquote(e[1]), Number(e[2])])));
  for (const [, quoted, , exact, online, native, feedback] of rules) {
    const name = unquote(quoted) as keyof typeof RULES;
    if (!(name in RULES)) continue;
    const entry = RULES[name];
    const traits = { exact: entry.exact, online: entry.online, native: (entry.engines as readonly string[]).includes('native'), feedback: takes(name, 'feedback') };
    const theirs = { exact: exact === '1', online: online === '1', native: native === '1', feedback: feedback === '1' };
    for (const k of Object.keys(traits) as (keyof typeof traits)[]) {
      if (traits[k] !== theirs[k]) out.push(`rules.${name}.${k}: C++ ${theirs[k]}, TypeScript ${traits[k]}`);
    }
  }
  const ids = (list: string): Record<string, number> => Object.fromEntries(xMacro(header, list).map((e) => [unquote(e[1]), Number(e[2])]));
  same('losses', LOSS_IDS, ids('MODPROP_LOSSES'));
  same('feedback', FEEDBACK_IDS, ids('MODPROP_FEEDBACK'));
  same('learningSignals', LEARNING_SIGNAL_IDS, ids('MODPROP_LEARNING_SIGNALS'));
  same('neurons', NEURON_IDS, ids('MODPROP_NEURONS'));
  // Positional lists: the index in the list is the id.
  const positions = (list: string): Record<string, number> => Object.fromEntries(xMacro(header, list).map((e, i) => [unquote(e[1]), i]));
  same('jobInts', JOB_INTS, positions('MODPROP_JOB_INTS'));
  same('jobFloats', JOB_FLOATS, positions('MODPROP_JOB_FLOATS'));
  same('gradientArrays', GRADIENT_ARRAYS, positions('MODPROP_GRADIENT_ARRAYS'));
  same('forwardArrays', FORWARD_ARRAYS, positions('MODPROP_FORWARD_ARRAYS'));
  return out;
}
