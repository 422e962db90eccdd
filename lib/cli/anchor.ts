/**
 * The public reference runs of delayed XOR (lib/anchors/official-modprop-delayed-xor.json, copied to dist/anchors by
 * scripts/copy-assets.js): accuracy and loss on a fresh batch of 32 every 20 iterations, index i = iteration 20·i.
 * They are labelled as what they computed — ModProp with cell-specific feedback under the public code's init,
 * selected runs — not as the type-feedback rule their file names claim (docs/liu2022.md has the evidence).
 * Read from disk on demand so commands that do not draw them do not pay for the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModpropError } from '../validate';
import type { CurvePoint } from '../trainTypes';

export const ANCHOR_FILE = path.join(__dirname, '..', 'anchors', 'official-modprop-delayed-xor.json');

export interface AnchorRun {
  learningRate: number;
  mu: number;
  accuracy: number[];
  loss: number[];
  secondsPerIteration?: number;
}

export interface Anchor {
  /** Attribution: where the runs come from, and what they computed (docs/liu2022.md). */
  source: string;
  /** What plots and tables call them. */
  label?: string;
  task: Record<string, unknown>;
  training: Record<string, unknown>;
  evalEvery: number;
  runs: AnchorRun[];
}

let cached: Anchor | undefined;

export function loadAnchor(): Anchor {
  if (cached) return cached;
  let data: Anchor;
  try {
    data = JSON.parse(fs.readFileSync(ANCHOR_FILE, 'utf8')) as Anchor;
  } catch (err) {
    throw new ModpropError(`the reference runs for --anchor could not be read from ${ANCHOR_FILE}: ${(err as Error).message}`);
  }
  if (!Array.isArray(data.runs) || data.runs.length === 0 || typeof data.evalEvery !== 'number') {
    throw new ModpropError(`the reference runs in ${ANCHOR_FILE} are not in the expected format`);
  }
  cached = data;
  return data;
}

/** The anchor runs as curves (iteration = evalEvery · index), so they go through the same statistics as ours. */
export function anchorCurves(a: Anchor = loadAnchor()): CurvePoint[][] {
  return a.runs.map((r) => r.accuracy.map((accuracy, i) => ({ iteration: a.evalEvery * i, loss: r.loss[i], accuracy, elapsedMs: NaN })));
}

export function anchorLabel(a: Anchor = loadAnchor()): string {
  return a.label ?? `public ModProp runs (TF, ${a.runs.length} runs)`;
}
