/**
 * Presets (lib/presets.ts) and `--preset` on `train` and `compare`: the preset holds exactly the publication's
 * settings, the run's JSON records the preset and every resolved setting, and any flag typed overrides the preset.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { presets } from '../../lib/index';
import { cli } from './run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-preset-'));
/** Short runs: flags typed on the command line, so they also exercise the override. */
const SHRINK = ['--delay', '10', '--cue', '5', '--n-rec', '20', '--iterations', '2', '--eval-every', '1', '--quiet'];

describe('presets', function () {
  this.timeout(60_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('liu2022 is the public delayed-XOR run: modprop, cell feedback, μ 0.25, their init, N 120, Adam 5e-4 × 0.8 / 300, L2 5e-4, batch 32', () => {
    const p = presets.liu2022;
    assert.deepEqual({ task: p.task, network: p.network, rule: p.rule, training: p.training }, {
      task: { name: 'delayed-xor', options: {} },
      network: { nRec: 120, init: 'liu2022' },
      rule: { rule: 'modprop', feedback: 'cell', mu: 0.25 },
      training: { optimizer: 'adam', lr: 5e-4, lrDecay: 0.8, lrDecayEvery: 300, l2: 5e-4, batchSize: 32 },
    });
    assert.throws(() => { (p.training as { lr: number }).lr = 1; }, TypeError, 'frozen');
  });

  it('train --preset liu2022 resolves every setting and records it in the JSON', async () => {
    const out = path.join(tmp, 'train.json');
    const r = await cli(['train', '--preset', 'liu2022', ...SHRINK, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(fs.readFileSync(out, 'utf8')).config;
    assert.equal(c.preset, 'liu2022');
    assert.equal(c.task, 'delayed-xor');
    assert.deepEqual([c.rule, c.feedback, c.mu], ['modprop', 'cell', 0.25]);
    assert.deepEqual([c.optimizer, c.lr, c.lrDecay, c.lrDecayEvery, c.l2, c.batchSize], ['adam', 5e-4, 0.8, 300, 5e-4, 32]);
    assert.equal(c.network.init, 'liu2022');
    assert.equal(c.network.nRec, 20, '--n-rec typed overrides the preset');
    assert.equal(c.presetSettings.nRec, 20);
    assert.deepEqual(c.presetSettings.rule, { rule: 'modprop', feedback: 'cell', mu: 0.25 });
  });

  it('flags typed override the preset, and another --rule does not inherit its rule options', async () => {
    const out = path.join(tmp, 'override.json');
    let r = await cli(['train', '--preset', 'liu2022', ...SHRINK, '--lr', '1e-3', '--feedback', 'type', '--mu', '0.5',
      '--batch-size', '4', '--init', 'balanced', '--recurrent-radius', '1.2', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    let c = JSON.parse(fs.readFileSync(out, 'utf8')).config;
    assert.deepEqual([c.feedback, c.mu, c.lr, c.batchSize, c.lrDecay], ['type', 0.5, 1e-3, 4, 0.8]);
    assert.deepEqual([c.network.init, c.network.recurrentRadius], ['balanced', 1.2]);
    // eprop takes no feedback option: the library rejects it when typed, so the preset must not pass its own.
    r = await cli(['train', '--preset', 'liu2022', ...SHRINK, '--rule', 'eprop', '--feedback', 'cell']);
    assert.equal(r.code, 1, 'eprop with --feedback is an error');
    r = await cli(['train', '--preset', 'liu2022', ...SHRINK, '--rule', 'eprop', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    c = JSON.parse(fs.readFileSync(out, 'utf8')).config;
    assert.equal(c.rule, 'eprop');
    assert.deepEqual([c.lr, c.network.init], [5e-4, 'liu2022']);
  });

  it('compare --preset gives the preset rule options to its rule only; --subtypes and --init are recorded', async () => {
    const out = path.join(tmp, 'compare.json');
    const r = await cli(['compare', '--preset', 'liu2022', '--rules', 'modprop,modprop:type,mdgl', '--seeds', '1', '--subtypes', '2',
      '--jobs', '1', ...SHRINK, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(j.config.rules.map((x: { label: string }) => x.label), ['modprop (cell, μ=0.25)', 'modprop (type, μ=0.25)', 'mdgl (type)']);
    assert.deepEqual([j.config.preset, j.config.init, j.config.subtypes, j.config.lr, j.config.nRec], ['liu2022', 'liu2022', 2, 5e-4, 20]);
    assert.ok(j.runs.every((run: { status: string }) => run.status === 'done'));
  });

  it('compare --preset into a study folder plans the same runs: preset rule options on its rule only, the init in every job', async () => {
    const dir = path.join(tmp, 'study');
    const r = await cli(['compare', '--preset', 'liu2022', '--rules', 'modprop,modprop:type,mdgl', '--seeds', '1', '--grid', 'lr=5e-4,1e-3',
      '--jobs', '1', ...SHRINK, '--out', dir]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8'));
    assert.equal(plan.runs.length, 3 * 2);
    const byRule = new Map<string, { settings: { rule: { feedback?: string; mu?: number }; init?: string; nRec: number }; job: { network: { init?: string } } }>(
      plan.runs.map((run: { spec: string; grid: { lr: number } }) => [`${run.spec}|${run.grid.lr}`, run]));
    const cell = byRule.get('modprop|0.0005')!;
    assert.deepEqual([cell.settings.rule.feedback, cell.settings.rule.mu], ['cell', 0.25], 'the preset rule gets cell feedback');
    assert.equal(byRule.get('modprop:type|0.001')!.settings.rule.feedback, 'type', 'a typed modifier wins over the preset');
    assert.equal(byRule.get('mdgl|0.001')!.settings.rule.feedback, 'type', 'other rules get none of the preset rule options');
    for (const run of byRule.values()) assert.deepEqual([run.settings.init, run.job.network.init, run.settings.nRec], ['liu2022', 'liu2022', 20]);
    assert.equal(plan.options.preset, 'liu2022');
    assert.equal(fs.readdirSync(path.join(dir, 'runs')).filter((f) => f.endsWith('.json')).length, 6);
  });

  it('without --task or --preset, a usage error names both', async () => {
    const r = await cli(['train']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^modprop: required option '--task <name>' not specified \(or --preset <name>, or --rerun <file>\)/);
  });
});
