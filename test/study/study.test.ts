/**
 * Studies without Slurm: the public API (compare, runShard, mergeStudy, studyTable/Figure/Csv) and the CLI
 * (compare --out DIR, --shard, merge). Sharded and resumed studies must give what one unsharded run gives: the curves
 * and summaries bit for bit (`reproducible`), the same CSV and figure; only metadata and measured times differ.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compare, mergeStudy, planStudy, reproducible, runShard, studyCsv, studyFigure, studyTable, type StudyOptions } from '../../lib/index';
import { savePlan } from '../../lib/study/store';
import { ModpropError } from '../../lib/validate';
import { assertSvg, cli } from '../cli/run';

const STUDY: StudyOptions = {
  task: 'delayed-xor', delay: 10, cue: 5, rules: ['bptt', 'eprop'], seeds: 2, iterations: 30, evalEvery: 10, nRec: 12, grid: { lr: [1e-3, 1e-2] },
};
const FLAGS = ['--task', 'delayed-xor', '--delay', '10', '--cue', '5', '--rules', 'bptt,eprop', '--seeds', '2', '--iterations', '30',
  '--eval-every', '10', '--n-rec', '12', '--quiet'];

/** The table without its measured column (ms / iteration). */
function withoutTimes(table: string): string {
  return table.split('\n').map((l) => (l.startsWith('|') ? l.split('|').slice(0, -2).join('|') : l)).join('\n');
}

describe('studies: plan, shards, resume, merge', function () {
  this.timeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-study-api-'));
  // Other test files set MODPROP_BACKEND=reference for the whole mocha process; worker threads copy the environment.
  const engine = process.env.MODPROP_BACKEND;
  before(() => delete process.env.MODPROP_BACKEND);
  after(() => {
    if (engine !== undefined) process.env.MODPROP_BACKEND = engine;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const whole = path.join(tmp, 'whole');
  const shards = path.join(tmp, 'shards');

  it('compare(options) writes the plan and one file per run; three shares merge to the same study bit for bit', async () => {
    const one = await compare({ ...STUDY, out: whole, jobs: 2 });
    assert.equal(one.runs.length, 8);
    assert.equal(one.missing.length, 0);
    assert.equal(fs.readdirSync(path.join(whole, 'runs')).filter((f) => f.endsWith('.json')).length, 8);
    assert.ok(one.runs.every((r) => r.status === 'done' && r.curve.length === 4));
    assert.ok(one.runs.every((r) => r.metadata.engine === one.runs[0].metadata.engine && r.metadata.threads === 1));
    const finals = one.runs.map((r) => r.final!.loss);
    assert.ok(new Set(finals).size > 2, 'the grid and seeds change the results');

    const plan = planStudy(STUDY);
    fs.mkdirSync(shards);
    savePlan(shards, plan);
    const ran: string[] = [];
    for (const k of [3, 1, 2]) ran.push(...(await runShard(plan, { dir: shards, shard: { index: k, count: 3 } })).ran);
    assert.deepEqual([...ran].sort(), plan.runs.map((r) => r.id).sort());
    const merged = mergeStudy(shards);
    assert.deepEqual(reproducible(merged), reproducible(one));
    assert.equal(studyCsv(merged), studyCsv(one));
    assert.deepEqual(studyFigure(merged), studyFigure(one));
    assert.equal(withoutTimes(studyTable(merged)), withoutTimes(studyTable(one)));
    assert.match(studyTable(one), /\| bptt · lr=0\.01 \| 2 \|/);
    assert.equal(studyFigure(one).panels.length, 4, 'loss and accuracy panels for each of the 2 grid points');
  });

  it('a re-run does only what is missing; a lost file and a half-written temporary file are run again', async () => {
    const plan = planStudy(STUDY);
    const [lost, half] = [plan.runs[1], plan.runs[6]];
    const file = (id: string): string => path.join(shards, 'runs', `${id}.json`);
    const before = JSON.parse(fs.readFileSync(file(lost.id), 'utf8'));
    const text = fs.readFileSync(file(half.id), 'utf8');
    fs.rmSync(file(lost.id));
    fs.writeFileSync(file(half.id), text.slice(0, 100)); // a truncated file (not written by us, but it happens)
    fs.writeFileSync(`${file(lost.id)}.999.tmp`, text.slice(0, 50));
    const again = await runShard(plan, { dir: shards });
    assert.deepEqual(again.ran.sort(), [lost.id, half.id].sort());
    assert.equal(again.skipped.length, 6);
    const after = JSON.parse(fs.readFileSync(file(lost.id), 'utf8'));
    assert.deepEqual(after.curve.map((p: { loss: number }) => p.loss), before.curve.map((p: { loss: number }) => p.loss));
    assert.equal((await runShard(plan, { dir: shards })).ran.length, 0, 'nothing left to do');
    assert.deepEqual(reproducible(mergeStudy(shards)), reproducible(mergeStudy(whole)));
  });

  it('refuses to mix two studies in one folder, and merge says what is missing', () => {
    assert.throws(() => savePlan(whole, planStudy({ ...STUDY, seeds: 3 })), (err: Error) =>
      err instanceof ModpropError && err.message === `Expected the same study as the one in ${path.join(whole, 'plan.json')} (to resume it or run another shard) for --out but received different settings; use a new folder`);
    const partial = path.join(tmp, 'partial');
    fs.mkdirSync(partial);
    savePlan(partial, planStudy(STUDY));
    const m = mergeStudy(partial);
    assert.equal(m.runs.length, 0);
    assert.equal(m.missing.length, 8);
    assert.match(studyTable(m), /missing \(not run yet\): 8 of 8 runs/);
    const whole1 = mergeStudy(whole);
    assert.doesNotMatch(studyTable(whole1), /different engines/);
    whole1.runs[3].metadata = { ...whole1.runs[3].metadata, simd: 'avx2-elsewhere' };
    assert.match(studyTable(whole1), /Runs were computed on different engines or SIMD levels \(.*: 7; .*avx2-elsewhere, 1 thread: 1\)/);
  });

  it('the CLI: two shards and merge write what one compare writes; the study runs what plain compare runs', async () => {
    const grid = ['--grid', 'lr=1e-3,1e-2'];
    const a = path.join(tmp, 'cli-whole');
    const b = path.join(tmp, 'cli-shards');
    const r1 = await cli(['compare', ...FLAGS, ...grid, '--out', a, '--jobs', '2', '--plot', `${a}.svg`, '--table', `${a}.md`]);
    assert.equal(r1.code, 0, r1.stderr);
    for (const k of ['1/2', '2/2']) {
      const r = await cli(['compare', ...FLAGS, ...grid, '--out', b, '--shard', k]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`share ${k} of .*: 4 runs ran, 0 were done already, 0 failed, 0 unfinished`));
    }
    const m = await cli(['merge', b, '--plot', `${b}.svg`, '--table', `${b}.md`, '--csv', `${b}.csv`, '-q']);
    assert.equal(m.code, 0, m.stderr);
    assert.equal(assertSvg(`${b}.svg`), assertSvg(`${a}.svg`));
    assert.equal(withoutTimes(fs.readFileSync(`${b}.md`, 'utf8')), withoutTimes(fs.readFileSync(`${a}.md`, 'utf8')));
    assert.deepEqual(reproducible(mergeStudy(b)), reproducible(mergeStudy(a)));
    const csv = fs.readFileSync(`${b}.csv`, 'utf8').trim().split('\n');
    assert.equal(csv[0], 'id,rule,spec,seed,lr,status,iteration,loss,accuracy,trainLoss');
    assert.equal(csv.length, 1 + 8 * 4);

    // The plain compare (--out file.json, no grid) computes the same curves as the study machinery.
    const plain = path.join(tmp, 'plain.json');
    const r2 = await cli(['compare', ...FLAGS, '--lr', '1e-2', '--out', plain, '--jobs', '2']);
    assert.equal(r2.code, 0, r2.stderr);
    const old = JSON.parse(fs.readFileSync(plain, 'utf8')) as { runs: { label: string; seed: number; curve: { loss: number; accuracy: number }[] }[] };
    const study = mergeStudy(a).runs.filter((r) => r.grid.lr === 1e-2);
    assert.equal(old.runs.length, study.length);
    for (const r of old.runs) {
      const s = study.find((x) => x.rule === r.label && x.seed === r.seed)!;
      assert.deepEqual(s.curve.map((p) => [p.loss, p.accuracy]), r.curve.map((p) => [p.loss, p.accuracy]), `${r.label}, seed ${r.seed}`);
    }
  });

  it('the CLI: --slurm writes the job array and the merge job; flags that do not go together are usage errors', async () => {
    const dir = path.join(tmp, 'slurm');
    const r = await cli(['compare', ...FLAGS, '--grid', 'lr=1e-3,1e-2', '--out', dir, '--slurm', '--shards', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /8 runs in 3 array tasks/);
    const study = fs.readFileSync(path.join(dir, 'study.sbatch'), 'utf8');
    assert.match(study, /^#SBATCH --array=1-3$/m);
    assert.match(study, /^#SBATCH --time=\d\d:\d\d:\d\d$/m);
    assert.match(study, /^#SBATCH --mem=\d+M$/m);
    assert.match(study, /^export MODPROP_THREADS="\$\{SLURM_CPUS_PER_TASK:-1\}"$/m);
    assert.match(study, /sbatch --parsable --dependency=afterany:"\$SLURM_ARRAY_JOB_ID" \S*merge\.sbatch/);
    assert.match(study, / resume \S+ --shard "\$SLURM_ARRAY_TASK_ID\/\$SLURM_ARRAY_TASK_COUNT" --jobs "\$jobs"/);
    assert.match(fs.readFileSync(path.join(dir, 'merge.sbatch'), 'utf8'), / merge \S+ --plot \S+study\.svg --table \S+study\.md --csv \S+study\.csv/);

    const bad: [string[], RegExp][] = [
      [['--shard', '1/2'], /--shard and --slurm need --out DIR/],
      [['--out', path.join(tmp, 'x'), '--shard', '3/2'], /option '--shard <K\/N>' argument '3\/2' is invalid\. Expected K\/N/],
      [['--grid', 'speed=1'], /argument 'speed=1' is invalid\. Expected one of lr,/],
      [['--grid', 'lr=1e-3', '--grid', 'lr=1e-2'], /--grid lr=… is given twice/],
      [['--out', path.join(tmp, 'y'), '--shards', '2'], /--shards is the number of array tasks of --slurm/],
    ];
    for (const [args, message] of bad) {
      const x = await cli(['compare', ...FLAGS, ...args]);
      assert.equal(x.code, 2, `${args.join(' ')}: ${x.stderr}`);
      assert.match(x.stderr, message);
    }
    const other = await cli(['compare', ...FLAGS, '--seeds', '3', '--grid', 'lr=1e-3,1e-2', '--out', dir, '--slurm']);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /Expected the same study as the one in .*plan\.json \(to resume it or run another shard\) for --out but received different settings/);
  });
});
