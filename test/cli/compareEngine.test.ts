/**
 * `compare` on a spiking network where one rule runs natively and another falls back to the reference engine: each
 * run, rule and table row names the engine that ran it (issue 12 item 4). rtrl stands for the fallback rule: it
 * has no native form on any network (lib/neurons/engine.ts NATIVE_SPIKING), while eprop runs natively on lif.
 * The CLI does not train rtrl (it is an oracle for tests), so the pieces of compare are driven directly.
 */
import assert from 'node:assert/strict';
import { enginesText, MIXED, ruleEngines, summarize, summaryTable, type RunRecord } from '../../lib/cli/compare';
import { runComparePool } from '../../lib/cli/compareRunner';
import type { CompareJob } from '../../lib/cli/compareWorker';
import { loadAddon } from '../../lib/native/addon';
import { rule as normalizeRule } from '../../lib/validate';

// The workers run with the default engine (MODPROP_BACKEND unset below): native when the addon loads. Resolving
// this process's engine here would fix it before other test files set MODPROP_BACKEND for the whole mocha process.
const native = 'addon' in loadAddon();
const eprop = native ? 'native' : 'reference';

const job = (rule: CompareJob['rule'], seed: number): CompareJob => ({
  kind: 'modprop-compare', task: { task: 'delayed-xor', delay: 6, cue: 3 }, seed, rule, nRec: 8, network: { neuron: { model: 'lif' } },
  threads: 1, train: { iterations: 1, evalEvery: 1, batchSize: 2 }, alignBatchSize: 2,
});
const record = (spec: string, seed: number): RunRecord => ({ spec, label: spec, seed, curve: [], status: 'pending' });

describe('compare: the engine of each rule on a spiking network', function () {
  this.timeout(120_000);

  it('each run record names the engine its worker trained on', async () => {
    const jobs = [job({ rule: 'eprop' }, 1), job({ rule: 'rtrl' }, 1), job({ rule: 'eprop' }, 2)];
    const runs = [record('eprop', 1), record('rtrl', 1), record('eprop', 2)];
    const forced = process.env.MODPROP_BACKEND;
    delete process.env.MODPROP_BACKEND;  // a worker's environment is a copy of this one when it starts
    let outcome;
    try {
      outcome = await runComparePool(jobs, runs, { lanes: 2, iterations: 1, quiet: true, metric: 'accuracy' });
    } finally {
      if (forced !== undefined) process.env.MODPROP_BACKEND = forced;
    }
    assert.equal(outcome.interrupted, false);
    assert.deepEqual(runs.map((r) => [r.spec, r.status, r.error]), [['eprop', 'done', undefined], ['rtrl', 'done', undefined], ['eprop', 'done', undefined]]);
    assert.deepEqual(runs.map((r) => r.engine), [eprop, 'reference', eprop]);
  });

  it('the rules, the summary rows, the table and the caption name each rule\'s engine', () => {
    const rules = [normalizeRule({ rule: 'eprop' }, 'a'), normalizeRule({ rule: 'rtrl' }, 'b')];
    const { engines, engine } = ruleEngines('lif', 'native', rules);
    assert.deepEqual(engines, ['native', 'reference']);
    assert.equal(engine, MIXED);
    // A rate network: the process's engine for every rule the native engine runs.
    assert.deepEqual(ruleEngines(undefined, 'reference', rules), { engines: ['reference', 'reference'], engine: 'reference' });
    assert.deepEqual(ruleEngines('lif', 'reference', [rules[0]]), { engines: ['reference'], engine: 'reference' });

    const point = { iteration: 1, loss: 0.5, accuracy: 0.5, elapsedMs: 2 };
    const done = (spec: string): RunRecord => ({ ...record(spec, 1), status: 'done', curve: [point], final: point });
    const rows = [summarize('eprop', 'eprop', [done('eprop')], 'accuracy', 1, engines[0]), summarize('rtrl', 'rtrl', [done('rtrl')], 'accuracy', 1, engines[1])];
    assert.deepEqual(rows.map((r) => r.engine), ['native', 'reference']);
    const cells = (table: string): string[][] => table.trim().split('\n').map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    const mixed = cells(summaryTable(rows, 'accuracy'));
    const col = mixed[0].indexOf('engine');
    assert.ok(col > 0, mixed[0].join(' | '));
    assert.deepEqual(mixed.slice(2).map((r) => [r[0], r[col]]), [['eprop', 'native'], ['rtrl', 'reference']]);
    assert.equal(enginesText([{ label: 'eprop', engine: 'native' }, { label: 'bptt', engine: 'native' }, { label: 'rtrl', engine: 'reference' }]),
      'native engine for eprop, bptt; reference engine for rtrl');

    // One engine for every rule, or rows without one (files written before, studies): no column, the caption names it.
    const same = cells(summaryTable([rows[1], { ...rows[1], rule: 'x' }], 'accuracy'));
    assert.equal(same[0].includes('engine'), false);
    const old = cells(summaryTable(rows.map(({ engine: _e, ...r }) => r), 'accuracy'));
    assert.equal(old[0].includes('engine'), false);
    assert.equal(enginesText([{ label: 'eprop', engine: 'reference' }, { label: 'rtrl', engine: 'reference' }]), 'reference engine');
  });
});
