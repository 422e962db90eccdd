/** Planning a study: the grid crossed with rules and seeds, stable ids, balanced shares, and clear errors. */
import assert from 'node:assert/strict';
import { ModpropError } from '../../lib/validate';
import { parseGridArg, parseShard, planStudy, shardRuns, type StudyOptions } from '../../lib/study/plan';

const BASE: StudyOptions = { task: 'delayed-xor', delay: 10, cue: 5, rules: ['bptt', 'modprop'], seeds: 3, iterations: 5, evalEvery: 5, nRec: 8 };

function throwsExactly(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof ModpropError, `a ModpropError, got ${err.name}`);
    assert.equal(err.message, message);
    return true;
  });
}

describe('study plan', () => {
  it('crosses every grid value with every rule and seed, with the value in each run\'s settings', () => {
    const plan = planStudy({ ...BASE, grid: { lr: [1e-3, 5e-3], nRec: [8, 12], mu: [0.1, 0.5] } });
    assert.equal(plan.runs.length, 2 * 2 * 2 * 2 * 3);
    const cells = new Map<string, number>();
    for (const r of plan.runs) {
      assert.equal(r.settings.lr, r.grid.lr);
      assert.equal(r.job.train.lr, r.grid.lr);
      assert.equal(r.settings.nRec, r.grid.nRec);
      assert.equal(r.job.nRec, r.grid.nRec);
      if (r.settings.rule.rule === 'modprop') assert.equal(r.settings.rule.mu, r.grid.mu);
      const key = `${r.grid.lr}|${r.grid.nRec}|${r.grid.mu}|${r.spec}`;
      cells.set(key, (cells.get(key) ?? 0) + 1);
    }
    assert.equal(cells.size, 16);
    assert.ok([...cells.values()].every((n) => n === 3), 'each cell has every seed once');
    assert.deepEqual(plan.runs.map((r) => r.index), plan.runs.map((_, i) => i));
  });

  it('names each run by its settings: the same id however a setting was given, distinct otherwise', () => {
    const implicit = planStudy(BASE);
    const explicit = planStudy({ ...BASE, lr: 5e-4, l2: 5e-4, batchSize: 32, tau: 100, optimizer: 'adam' });
    assert.deepEqual(explicit.runs.map((r) => r.id), implicit.runs.map((r) => r.id), 'documented defaults resolve to the same settings');
    assert.equal(new Set(implicit.runs.map((r) => r.id)).size, implicit.runs.length);
    const other = planStudy({ ...BASE, lr: 1e-3 });
    assert.ok(other.runs.every((r, i) => r.id !== implicit.runs[i].id));
    // Extending a grid keeps the ids of the runs already planned.
    const small = planStudy({ ...BASE, grid: { lr: [1e-3] } });
    const large = planStudy({ ...BASE, grid: { lr: [1e-3, 5e-3] } });
    const largeIds = new Set(large.runs.map((r) => r.id));
    assert.ok(small.runs.every((r) => largeIds.has(r.id)));
  });

  it('splits the runs into shares that cover each run once, the same way every time, balanced by cost', () => {
    const plan = planStudy({ ...BASE, seeds: 4, grid: { nRec: [8, 32, 64] } });
    const costs = plan.runs.map((r) => r.cost);
    assert.ok(Math.max(...costs) > 10 * Math.min(...costs), 'runs of very different cost');
    for (const n of [1, 2, 3, 5, 7]) {
      const shares = Array.from({ length: n }, (_, k) => shardRuns(plan, k + 1, n));
      const ids = shares.flatMap((s) => s.map((r) => r.id));
      assert.equal(ids.length, plan.runs.length);
      assert.equal(new Set(ids).size, plan.runs.length);
      assert.deepEqual(shardRuns(planStudy({ ...BASE, seeds: 4, grid: { nRec: [8, 32, 64] } }), 1, n).map((r) => r.id), shares[0].map((r) => r.id));
      const loads = shares.map((s) => s.reduce((x, r) => x + r.cost, 0));
      assert.ok(Math.max(...loads) - Math.min(...loads) <= Math.max(...costs), `n=${n}: loads ${loads.join(', ')}`);
    }
  });

  it('parses --grid and --shard, naming what was expected', () => {
    assert.deepEqual(parseGridArg('lr=1e-4,5e-4'), ['lr', [1e-4, 5e-4]]);
    assert.deepEqual(parseGridArg('feedback=type,cell'), ['feedback', ['type', 'cell']]);
    assert.deepEqual(parseGridArg('online=true,false'), ['online', [true, false]]);
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    throwsExactly(() => parseGridArg('lr'), "Expected key=value1,value2,… for --grid but received 'lr'");
    throwsExactly(() => parseGridArg('lr=-1'), "Expected a positive number for grid.lr but received '-1'");
    throwsExactly(() => parseGridArg('nRec=12.5'), "Expected an integer ≥ 1 for grid.nRec but received '12.5'");
    throwsExactly(() => parseGridArg('feedback=both'), "Expected one of type, cell for grid.feedback but received 'both'");
    assert.throws(() => parseGridArg('speed=1'), /^ModpropError: Expected one of lr, lrDecay, .* for a grid key but received 'speed'$/);
    throwsExactly(() => parseShard('0/4'), "Expected K/N with 1 ≤ K ≤ N (e.g. 2/4) for --shard but received '0/4'");
    throwsExactly(() => parseShard('5/4'), "Expected K/N with 1 ≤ K ≤ N (e.g. 2/4) for --shard but received '5/4'");
    throwsExactly(() => planStudy({ ...BASE, grid: { lr: [] } }), 'Expected a non-empty array of values for grid.lr but received an Array of length 0');
    throwsExactly(() => planStudy({ ...BASE, grid: { lr: [1e-3, 1e-3] } }), 'Expected distinct values for grid.lr but received an Array of length 2');
    throwsExactly(() => planStudy({ ...BASE, seeds: 0 }), 'Expected an integer ≥ 1 for options.seeds but received 0');
    assert.throws(() => planStudy({ ...BASE, lrr: 1e-3 } as StudyOptions), /^ModpropError: Expected only the options task, delay, .* for options but received unknown option 'lrr'$/);
    throwsExactly(() => planStudy({ ...BASE, task: 'xor' as 'delayed-xor' }),
      "Expected one of 'delayed-xor', 'pattern-generation', 'seq-mnist' for options.task but received 'xor'");
  });
});
