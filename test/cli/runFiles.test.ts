/**
 * What train and compare write besides their summary: run metadata and every resolved setting, enough to re-run a
 * run from its JSON alone (--rerun gives the same curve); --csv in long format; --save-network; SIGTERM handled like
 * Ctrl-C (exit 143); a diverged run still writes its curve.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, tasks } from '../../lib/index';
import { metricsOf } from '../../lib/evaluate';
import { deriveSeed } from '../../lib/random';
import { cli, collect, start } from './run';

const SMALL = ['--task', 'delayed-xor', '--delay', '20', '--cue', '10'];
/** Settings away from every default, so a re-run that fell back on a default would draw another curve. */
const RUN = [...SMALL, '--rule', 'modprop', '--mu', '0.3', '--n-rec', '25', '--tau', '20', '--seed', '3', '--iterations', '30',
  '--eval-every', '10', '--batch-size', '8', '--lr', '3e-3', '--lr-decay', '0.5', '--lr-decay-every', '10', '--l2', '1e-3'];

interface RunFile {
  config: Record<string, unknown> & { network: Record<string, unknown>; error?: string; aborted?: boolean };
  metadata: Record<string, unknown>;
  curve: Record<string, number>[];
  final: Record<string, number>;
}

/** The curve without wall-clock times: what must repeat exactly. */
function values(run: RunFile): Record<string, number>[] {
  return run.curve.map(({ elapsedMs: _e, ...p }) => p);
}

/** Minimal CSV reader for the long format (quoted cells may hold commas). */
function readCsv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trimEnd().split('\n');
  const cells = (line: string): string[] => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].slice(0, -1).map((m) => m[1].replace(/^"|"$/g, '').replace(/""/g, '"'));
  const keys = cells(head);
  return rows.map((r) => Object.fromEntries(cells(r).map((c, i) => [keys[i], c])));
}

function waitForIteration(child: ReturnType<typeof start>, iteration: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let seen = '';
    child.stderr!.on('data', (d: string) => {
      seen += d;
      if (new RegExp(`^iteration +${iteration}/`, 'm').test(seen)) resolve();
    });
  });
}

describe('run files: metadata, --rerun, --csv, --save-network, signals', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-runfiles-'));
  const file = (name: string): string => path.join(tmp, name);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('train --out records metadata and every resolved setting; --rerun of that file alone draws the same curve', async () => {
    const r = await cli(['train', ...RUN, '--out', file('run.json'), '--csv', file('run.csv'), '--save-network', file('net.npz')]);
    assert.equal(r.code, 0, r.stderr);
    const run = JSON.parse(fs.readFileSync(file('run.json'), 'utf8')) as RunFile;
    assert.deepEqual(Object.keys(run), ['config', 'metadata', 'curve', 'final']);
    for (const k of ['modprop', 'engine', 'threads', 'cpu', 'cpus', 'os', 'node', 'command', 'date']) assert.ok(run.metadata[k] !== undefined, `metadata.${k}`);
    assert.deepEqual((run.metadata.command as string[]).slice(1, 3), ['train', '--task']);
    // Defaults nobody typed are recorded too (the documented ones: SPEC §6, TrainOptions).
    assert.equal(run.config.optimizer, 'adam');
    assert.equal(run.config.evalBatchSize, 8);
    assert.equal(run.config.feedback, 'type');
    assert.equal(run.config.learningSignal, 'symmetric');
    assert.deepEqual([run.config.mu, run.config.lr, run.config.l2, run.config.lrDecay], [0.3, 3e-3, 1e-3, 0.5]);
    assert.deepEqual([run.config.network.nRec, run.config.network.tau, run.config.network.seed, run.config.network.dt, run.config.network.threshold], [25, 20, 3, 1, 0]);

    const again = await cli(['train', '--rerun', file('run.json'), '--out', file('again.json'), '--quiet'], { cwd: tmp });
    assert.equal(again.code, 0, again.stderr);
    const rerun = JSON.parse(fs.readFileSync(file('again.json'), 'utf8')) as RunFile;
    assert.equal(rerun.curve.length, 4);
    assert.deepEqual(values(rerun), values(run));
    assert.deepEqual({ ...rerun.config, network: null }, { ...run.config, network: null });
    assert.deepEqual(rerun.config.network, run.config.network);
    assert.equal(rerun.metadata.threads, run.metadata.threads);
    // The comparison can fail: one setting changed (the data seed) gives another curve.
    const other = await cli(['train', ...RUN.slice(0, RUN.indexOf('--seed')), '--seed', '4', ...RUN.slice(RUN.indexOf('--seed') + 2), '--out', file('other.json'), '--quiet']);
    assert.equal(other.code, 0, other.stderr);
    assert.notDeepEqual(values(JSON.parse(fs.readFileSync(file('other.json'), 'utf8')) as RunFile), values(run));

    // --csv: one row per point and metric, the same numbers as the JSON.
    const rows = readCsv(fs.readFileSync(file('run.csv'), 'utf8'));
    const expected = run.curve.flatMap((p) => Object.entries(p).filter(([k]) => k !== 'iteration').map(([metric, value]) => ({ iteration: p.iteration, metric, value })));
    assert.equal(rows.length, expected.length);
    for (const e of expected) {
      const row = rows.find((x) => Number(x.iteration) === e.iteration && x.metric === e.metric);
      assert.ok(row, `a row for ${e.metric} at ${e.iteration}`);
      assert.equal(Number(row.value), e.value);
      assert.deepEqual([row.run, row.rule, row.seed], ['modprop/3', 'modprop (type, μ=0.3)', '3']);
    }

    // --save-network: the trained network, which reproduces the last evaluation of the curve.
    const net = Network.load(file('net.npz'));
    assert.deepEqual({ ...net.config, types: null, typeSigns: null }, { ...run.config.network, types: null, typeSigns: null });
    const task = tasks.delayedXor({ delaySteps: 20, cueSteps: 10 });
    const batch = task.sample(8, deriveSeed(3, 2, 30)); // train's evaluation batch of iteration 30 (stream 2)
    const m = metricsOf(net.forward(batch).y, batch, net.nOut, task.loss);
    assert.ok(Math.abs(m.loss - run.final.loss) < 1e-5, `${m.loss} vs ${run.final.loss}`);
    assert.equal(m.accuracy, run.final.accuracy);
  });

  it('--rerun refuses run settings typed beside it, and files that are not runs', async () => {
    const r = await cli(['train', '--rerun', file('run.json'), '--lr', '1', '--seed', '2']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^modprop: --rerun takes every run setting from .*run\.json; leave out --lr, --seed\n/);
    fs.writeFileSync(file('notrun.json'), '{"curve": []}');
    const bad = await cli(['train', '--rerun', file('notrun.json')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^modprop: cannot re-run .*notrun\.json: it has no config \(expected the JSON of modprop train --out\)/);
    const none = await cli(['train']);
    assert.match(none.stderr, /^modprop: required option '--task <name>' not specified \(or --preset <name>, or --rerun <file>\)/);
  });

  it('SIGTERM stops train like Ctrl-C: --out and --csv hold the curve so far, exit 143', async () => {
    const child = start(['train', ...SMALL, '--n-rec', '20', '--eval-every', '10', '--iterations', '1000000', '--out', file('term.json'), '--csv', file('term.csv')]);
    const result = collect(child);
    await waitForIteration(child, 20);
    child.kill('SIGTERM');
    const r = await result;
    assert.equal(r.code, 143, r.stderr);
    const run = JSON.parse(fs.readFileSync(file('term.json'), 'utf8')) as RunFile;
    assert.equal(run.config.aborted, true);
    assert.ok(run.curve.length >= 3);
    assert.equal(readCsv(fs.readFileSync(file('term.csv'), 'utf8')).filter((x) => x.metric === 'loss').length, run.curve.length);
    assert.match(r.stdout, /^interrupted \(SIGTERM\)/m);
  });

  it('SIGTERM stops compare with its outputs written, exit 143', async () => {
    const child = start(['compare', ...SMALL, '--n-rec', '20', '--rules', 'eprop', '--seeds', '1', '--eval-every', '10', '--iterations', '1000000',
      '--jobs', '1', '--out', file('cterm.json'), '--csv', file('cterm.csv')]);
    const result = collect(child);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    child.kill('SIGTERM');
    const r = await result;
    assert.equal(r.code, 143, r.stderr);
    const data = JSON.parse(fs.readFileSync(file('cterm.json'), 'utf8')) as { config: { interrupted?: boolean }; metadata: Record<string, unknown>; runs: { status: string; curve: unknown[] }[] };
    assert.equal(data.config.interrupted, true);
    assert.equal(data.runs[0].status, 'interrupted');
    assert.equal(data.metadata.engine !== undefined, true);
    assert.equal(readCsv(fs.readFileSync(file('cterm.csv'), 'utf8')).filter((x) => x.metric === 'loss').length, data.runs[0].curve.length);
  });

  it('a diverging run fails (exit 1) but still writes its curve, with the error in the JSON', async () => {
    const r = await cli(['train', ...SMALL, '--n-rec', '20', '--rule', 'bptt', '--optimizer', 'sgd', '--lr', '1e38', '--eval-every', '1',
      '--iterations', '50', '--out', file('diverged.json'), '--csv', file('diverged.csv'), '--save-network', file('diverged.npz')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^modprop: Expected (a )?finite (parameters|loss|gradients)/m);
    const run = JSON.parse(fs.readFileSync(file('diverged.json'), 'utf8')) as RunFile;
    assert.match(run.config.error!, /^Expected (a )?finite/);
    assert.ok(run.curve.length >= 1 && run.curve.length < 51);
    assert.ok(fs.existsSync(file('diverged.csv')));
    assert.ok(!fs.existsSync(file('diverged.npz')), 'no network is saved from a failed run');
  });

  it('compare --out records metadata and each rule\'s resolved settings; --csv has every run', async () => {
    const r = await cli(['compare', ...SMALL, '--n-rec', '15', '--rules', 'bptt,modprop:mu=0.3', '--seeds', '2', '--iterations', '10', '--eval-every', '5',
      '--batch-size', '4', '--jobs', '2', '--quiet', '--out', file('compare.json'), '--csv', file('compare.csv')]);
    assert.equal(r.code, 0, r.stderr);
    const data = JSON.parse(fs.readFileSync(file('compare.json'), 'utf8')) as {
      config: { rules: { spec: string; settings: Record<string, unknown> }[]; network: Record<string, unknown> };
      metadata: Record<string, unknown>; runs: { spec: string; seed: number; curve: Record<string, number>[] }[];
    };
    assert.equal(typeof data.metadata.node, 'string');
    assert.equal(data.metadata.threads, 1, '--threads-per-run (default 1)');
    const [bptt, modprop] = data.config.rules.map((x) => x.settings);
    assert.deepEqual([bptt.rule, bptt.lr, bptt.l2, bptt.batchSize, bptt.optimizer, bptt.iterations], ['bptt', 5e-4, 5e-4, 4, 'adam', 10]);
    assert.deepEqual([modprop.rule, modprop.mu, modprop.feedback], ['modprop', 0.3, 'type']);
    assert.deepEqual([data.config.network.nRec, data.config.network.tau, data.config.network.nIn], [15, 100, 2]);
    const rows = readCsv(fs.readFileSync(file('compare.csv'), 'utf8'));
    assert.deepEqual([...new Set(rows.map((x) => x.run))].sort(), ['bptt/1', 'bptt/2', 'modprop:mu=0.3/1', 'modprop:mu=0.3/2']);
    for (const run of data.runs) {
      const losses = rows.filter((x) => x.run === `${run.spec}/${run.seed}` && x.metric === 'loss').map((x) => Number(x.value));
      assert.deepEqual(losses, run.curve.map((p) => p.loss));
    }
  });
});
