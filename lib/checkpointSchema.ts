/**
 * The one description of a checkpoint's payload, checked before a save writes anything and after a load has
 * verified the checksum (a re-signed or hand-edited payload must not reach `train`). Each rule reports a field by
 * its path in the payload ("position.curve[3].loss"); the caller turns that into its own message.
 */
import { describe } from './validate';

/** Reports a field that breaks the schema: its path, what was expected, and the value found. Never returns. */
export type Complain = (field: string, expected: string, received: unknown) => never;

type Rule = (value: unknown, field: string, complain: Complain) => void;

const integerAtLeast0: Rule = (v, f, c) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) c(f, 'an integer ≥ 0', v);
};
const finite: Rule = (v, f, c) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) c(f, 'a finite number', v);
};
const finiteAtLeast0: Rule = (v, f, c) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) c(f, 'a finite number ≥ 0', v);
};
const fraction: Rule = (v, f, c) => {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) c(f, 'a number between 0 and 1', v);
};
const text: Rule = (v, f, c) => {
  if (typeof v !== 'string') c(f, 'a string', v);
};
const object: Rule = (v, f, c) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) c(f, 'an object', v);
};

/** Fields of a curve point (SPEC §6): required ones first. */
const POINT: Record<string, [Rule, boolean]> = {
  iteration: [integerAtLeast0, true], loss: [finite, true], elapsedMs: [finiteAtLeast0, true],
  accuracy: [fraction, false], nmse: [finiteAtLeast0, false], testLoss: [finite, false],
  testAccuracy: [fraction, false], trainLoss: [finite, false],
};

const curve: Rule = (v, f, c) => {
  if (!Array.isArray(v)) c(f, 'an array of curve points', v);
  const points = v as unknown[];
  let last = -1;
  for (let i = 0; i < points.length; i++) {
    const at = `${f}[${i}]`;
    object(points[i], at, c);
    const p = points[i] as Record<string, unknown>;
    for (const key of Object.keys(p)) if (!(key in POINT)) c(`${at}.${key}`, 'no such field', p[key]);
    for (const [key, [rule, required]] of Object.entries(POINT)) {
      if (p[key] !== undefined || required) rule(p[key], `${at}.${key}`, c);
    }
    if ((p.iteration as number) <= last) c(`${at}.iteration`, `an iteration after ${last}`, p.iteration);
    last = p.iteration as number;
  }
};

/** TrainingPosition (lib/checkpoint.ts). */
const POSITION: Record<string, Rule> = {
  iteration: integerAtLeast0, task: text, curve, elapsedMs: finiteAtLeast0, pendingLoss: finite,
  pendingCount: integerAtLeast0, options: object,
};

function fields(value: unknown, field: string, rules: Record<string, Rule>, complain: Complain): void {
  object(value, field, complain);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!(key in rules)) complain(`${field}.${key}`, 'no such field', o[key]);
  for (const [key, rule] of Object.entries(rules)) rule(o[key], `${field}.${key}`, complain);
}

/** Checks a training position, including that the curve and the pending losses fit its iteration. */
export function checkPosition(value: unknown, field: string, complain: Complain): void {
  fields(value, field, POSITION, complain);
  const p = value as { iteration: number; curve: { iteration: number }[]; pendingCount: number };
  const lastPoint = p.curve.length ? p.curve[p.curve.length - 1].iteration : 0;
  if (lastPoint > p.iteration) complain(`${field}.curve[${p.curve.length - 1}].iteration`, `an iteration ≤ ${p.iteration} (the position's)`, lastPoint);
  if (p.pendingCount > p.iteration) complain(`${field}.pendingCount`, `an integer ≤ ${p.iteration} (the iterations done)`, p.pendingCount);
}

/** Checks the optimizer's kind and step; its moments are arrays, checked where they are encoded or decoded. */
export function checkOptimizerHead(value: unknown, field: string, complain: Complain): void {
  object(value, field, complain);
  const o = value as Record<string, unknown>;
  if (o.kind !== 'adam' && o.kind !== 'sgd') complain(`${field}.kind`, "one of 'adam', 'sgd'", o.kind);
  integerAtLeast0(o.step, `${field}.step`, complain);
  for (const k of ['m', 'v']) {
    const present = o[k] !== undefined && o[k] !== null;
    if (o.kind === 'adam' && !present) complain(`${field}.${k}`, "Adam's moment estimates", o[k]);
    if (o.kind === 'sgd' && present) complain(`${field}.${k}`, 'no moment estimates (SGD keeps none)', o[k]);
    if (present) object(o[k], `${field}.${k}`, complain);
  }
}

/** The message text shared by load-time complaints: "position.iteration is -3, expected an integer ≥ 0". */
export function complaintText(field: string, expected: string, received: unknown): string {
  return `${field} is ${describe(received)}, expected ${expected}`;
}
