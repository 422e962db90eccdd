/** The statistics behind `compare`'s table and plot, and the CLI's rule specs. */
import assert from 'node:assert/strict';
import { parseRuleSpec, withFlagNames, UsageError } from '../../lib/cli/common';
import { bandOver, iterationsTo, markdownTable, medianInterval, medianIterationsTo, spread } from '../../lib/cli/stats';
import type { CurvePoint } from '../../lib/trainTypes';

const curve = (acc: number[]): CurvePoint[] => acc.map((accuracy, i) => ({ iteration: 20 * i, loss: 1 - accuracy, accuracy, elapsedMs: i }));

describe('CLI statistics', () => {
  it('spread: mean, sample s.d., min, max over finite values', () => {
    const s = spread([1, 2, 3, undefined, NaN])!;
    assert.deepEqual(s, { mean: 2, sd: 1, min: 1, max: 3, n: 3 });
    assert.equal(spread([undefined]), undefined);
    assert.equal(spread([5])!.sd, 0);
  });

  it('medianInterval: the sign test\'s order-statistic interval, with its exact binomial coverage', () => {
    // n = 11: [x(1), x(11)] covers 1 − 2/2048, [x(2), x(10)] 1 − 24/2048 = 0.988, [x(3), x(9)] 1 − 134/2048 = 0.935.
    const values = [11, 3, 7, 1, 9, 5, 2, 10, 4, 8, 6];
    const expectInterval = (got: ReturnType<typeof medianInterval>, lo: number, hi: number, coverage: number): void => {
      assert.ok(got !== undefined);
      assert.deepEqual([got.lo, got.hi], [lo, hi]);
      assert.ok(Math.abs(got.coverage - coverage) < 1e-12, `coverage ${got.coverage}, expected ${coverage}`);
    };
    expectInterval(medianInterval(values, 0.95), 2, 10, 1 - 24 / 2048);
    expectInterval(medianInterval(values, 0.9), 3, 9, 1 - 134 / 2048);
    expectInterval(medianInterval(values, 0.999), 1, 11, 1 - 2 / 2048);
    // n = 6: only the range, at 1 − 2/64; n = 5: not even the range reaches 95 % (1 − 2/32).
    expectInterval(medianInterval([6, 1, 5, 2, 4, 3]), 1, 6, 1 - 2 / 64);
    assert.equal(medianInterval([1, 2, 3, 4, 5]), undefined);
    assert.equal(medianInterval([]), undefined);
  });

  it('iterations to 95 %: the first evaluation point ≥ 0.95; the median counts "never" as infinite', () => {
    assert.equal(iterationsTo(curve([0.5, 0.94, 0.95, 0.2])), 40);
    assert.equal(iterationsTo(curve([0.5, 0.6])), Infinity);
    const three = [curve([0.5, 1]), curve([0.5, 0.5, 1]), curve([0.5])];
    assert.deepEqual(medianIterationsTo(three), { median: 40, reached: 2, runs: 3 });
    assert.equal(medianIterationsTo([curve([0.5]), curve([0.5]), curve([1])]).median, Infinity);
    assert.equal(medianIterationsTo([curve([0.5, 1]), curve([0.5, 0.5, 1])]).median, 30);
  });

  it('bands: ±1 s.d. or min–max per iteration, over the runs that reached it', () => {
    const runs = [curve([0.5, 0.7]), curve([0.7, 0.9]), curve([0.6])];
    const sd = bandOver(runs, (p) => p.accuracy, 'sd');
    assert.deepEqual(sd.map((b) => [b.iteration, b.n]), [[0, 3], [20, 2]]);
    assert.ok(Math.abs(sd[0].mean - 0.6) < 1e-12 && Math.abs(sd[0].hi - 0.7) < 1e-12 && Math.abs(sd[0].lo - 0.5) < 1e-12);
    const mm = bandOver(runs, (p) => p.accuracy, 'minmax');
    assert.deepEqual([mm[1].lo, mm[1].hi], [0.7, 0.9]);
  });

  it('markdown tables escape pipes and right-align numbers', () => {
    assert.equal(markdownTable(['a', 'b'], [['x|y', '1']]), '| a | b |\n| --- | ---: |\n| x\\|y | 1 |\n');
  });

  it('rule specs: name[:modifier…] over shared flags that apply only where they can', () => {
    assert.deepEqual(parseRuleSpec('modprop:online:mu=0.1', {}).config, { rule: 'modprop', mu: 0.1, online: true });
    assert.deepEqual(parseRuleSpec('bptt', { mu: 0.5, online: true, feedback: 'cell' }).config, { rule: 'bptt' });
    assert.deepEqual(parseRuleSpec('mdgl:cell:random', { mu: 0.5 }).config, { rule: 'mdgl', feedback: 'cell', learningSignal: 'random' });
    assert.deepEqual(parseRuleSpec('tbptt', { window: 50 }).config, { rule: 'tbptt', window: 50 });
    assert.throws(() => parseRuleSpec('tbptt', {}), UsageError);
    assert.throws(() => parseRuleSpec('modprop:fast', {}), /unknown modifier 'fast' in rule 'modprop:fast'/);
  });

  it('library messages name the flag the user typed', () => {
    assert.equal(withFlagNames('Expected a positive finite number for options.lrDecayEvery but received 0'),
      'Expected a positive finite number for --lr-decay-every but received 0');
    assert.equal(withFlagNames('for options.unknownThing'), 'for options.unknownThing');
  });
});
