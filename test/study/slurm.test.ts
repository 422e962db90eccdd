/**
 * `compare --slurm` against a real Slurm: a 2 rules × 2 seeds × 2 lr study submitted as a 4-task job array to a
 * single-node cluster on localhost, merged by the dependent job, must equal the same study run locally (curves and
 * summaries bit for bit, same figure); a resubmission after losing runs (a pre-empted share: deleted result files and
 * a half-written temporary file) runs only those.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mergeStudy, reproducible } from '../../lib/study/merge';
import { shardRuns } from '../../lib/study/plan';
import { loadPlan } from '../../lib/study/store';
import { cli } from '../cli/run';
import { cannotRun, startCluster, type Cluster } from './cluster';

const STUDY = ['--task', 'delayed-xor', '--delay', '10', '--cue', '5', '--n-rec', '16', '--rules', 'bptt,modprop', '--seeds', '2',
  '--iterations', '40', '--eval-every', '10', '--grid', 'lr=1e-3,5e-3', '--quiet'];

/** The table without its measured column (ms / iteration), which differs from run to run. */
function withoutTimes(table: string): string {
  return table.split('\n').map((l) => (l.startsWith('|') ? l.split('|').slice(0, -2).join('|') : l)).join('\n');
}

function logsOf(dir: string, job: string): string {
  const logs = path.join(dir, 'slurm');
  return fs.readdirSync(logs).filter((f) => f.startsWith(`study-${job}_`)).map((f) => fs.readFileSync(path.join(logs, f), 'utf8')).join('\n');
}

describe('a study on a single-node Slurm cluster (compare --slurm, sbatch, merge)', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-slurm-study-'));
  const local = path.join(tmp, 'local');
  const cluster = path.join(tmp, 'cluster');
  let slurm: Cluster | undefined;

  before(async function () {
    let why = cannotRun();
    if (why === undefined) {
      try {
        slurm = await startCluster();
      } catch (err) {
        why = (err as Error).message;
      }
    }
    if (why !== undefined) {
      // Printed in every environment, CI included, so a skipped cluster test is never silent.
      console.log(`    SKIPPED the Slurm tests${process.env.CI === 'true' ? ' (CI)' : ''}: ${why}`);
      this.skip();
    }
  });
  after(() => {
    slurm?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs as a 4-task array and a dependent merge, equal to the local run bit for bit', async () => {
    let t = Date.now();
    const ran = await cli(['compare', ...STUDY, '--out', local, '--jobs', '2', '--plot', path.join(local, 'study.svg'), '--table', path.join(local, 'study.md')]);
    assert.equal(ran.code, 0, ran.stderr);
    const localMs = Date.now() - t;

    const wrote = await cli(['compare', ...STUDY, '--out', cluster, '--slurm', '--shards', '4']);
    assert.equal(wrote.code, 0, wrote.stderr);
    const script = fs.readFileSync(path.join(cluster, 'study.sbatch'), 'utf8');
    assert.match(script, /^#SBATCH --array=1-4$/m);
    assert.match(script, /^#SBATCH --cpus-per-task=1$/m);
    assert.match(script, /--shard "\$SLURM_ARRAY_TASK_ID\/\$SLURM_ARRAY_TASK_COUNT"/);
    assert.ok(!fs.existsSync(path.join(cluster, 'runs')), '--slurm runs nothing itself');

    t = Date.now();
    const job = slurm!.run('/usr/bin/sbatch', ['--parsable', path.join(cluster, 'study.sbatch')]).trim();
    await slurm!.idle(150_000);
    const clusterMs = Date.now() - t;
    console.log(`    wall time of the study: ${(localMs / 1000).toFixed(1)} s locally (compare --jobs 2), ${(clusterMs / 1000).toFixed(1)} s on Slurm (sbatch to merged)`);

    const logs = logsOf(cluster, job);
    assert.ok(fs.existsSync(path.join(cluster, 'study.json')), `the merge job wrote study.json; array logs:\n${logs}`);
    const plan = loadPlan(cluster);
    const shards = new Set(mergeStudy(cluster).runs.map((r) => r.metadata.command.join(' ').match(/--shard (\d\/4)/)?.[1]));
    assert.deepEqual([...shards].sort(), ['1/4', '2/4', '3/4', '4/4'], 'each array task ran its own share');
    assert.equal(plan.runs.length, 8);

    const a = mergeStudy(local);
    const b = mergeStudy(cluster);
    assert.equal(b.missing.length, 0);
    assert.ok(b.runs.every((r) => r.status === 'done' && r.curve.length === 5));
    const machine = (r: (typeof a.runs)[number]): unknown[] => [r.metadata.engine, r.metadata.simd, r.metadata.threads];
    assert.deepEqual(b.runs.map(machine), a.runs.map(machine), 'same engine, SIMD level and threads on the cluster and locally');
    assert.deepEqual(reproducible(b), reproducible(a));
    assert.ok(a.runs.some((r) => r.final!.loss !== a.runs[0].final!.loss), 'the runs differ from each other (a real study)');
    assert.equal(fs.readFileSync(path.join(cluster, 'study.svg'), 'utf8'), fs.readFileSync(path.join(local, 'study.svg'), 'utf8'));
    assert.equal(withoutTimes(fs.readFileSync(path.join(cluster, 'study.md'), 'utf8')), withoutTimes(fs.readFileSync(path.join(local, 'study.md'), 'utf8')));
  });

  it('after a pre-empted share, a resubmission runs only the missing runs', async function () {
    if (!fs.existsSync(path.join(cluster, 'study.json'))) this.skip();
    const plan = loadPlan(cluster);
    // Two runs of share 2 lost: one never written, one killed while writing (only its temporary file is left).
    const [lost, halfWritten] = shardRuns(plan, 2, 4);
    const file = (id: string): string => path.join(cluster, 'runs', `${id}.json`);
    const text = fs.readFileSync(file(halfWritten.id), 'utf8');
    fs.rmSync(file(lost.id));
    fs.rmSync(file(halfWritten.id));
    fs.writeFileSync(`${file(halfWritten.id)}.4242.tmp`, text.slice(0, text.length >> 1));
    const kept = plan.runs.filter((r) => r !== lost && r !== halfWritten).map((r) => [r.id, fs.readFileSync(file(r.id), 'utf8')] as const);
    fs.rmSync(path.join(cluster, 'study.json'));

    const t = Date.now();
    const job = slurm!.run('/usr/bin/sbatch', ['--parsable', path.join(cluster, 'study.sbatch')]).trim();
    await slurm!.idle(150_000);
    console.log(`    resubmission: ${((Date.now() - t) / 1000).toFixed(1)} s for the 2 missing runs`);

    const logs = logsOf(cluster, job);
    const ranNow = [...logs.matchAll(/(\d+) runs ran, (\d+) were done already/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.equal(ranNow.length, 4, logs);
    assert.deepEqual(ranNow.reduce(([r, s], [a, b]) => [r + a, s + b], [0, 0]), [2, 6], logs);
    for (const [id, before] of kept) assert.equal(fs.readFileSync(file(id), 'utf8'), before, `${id} was not run again`);
    assert.ok(fs.existsSync(path.join(cluster, 'study.json')), 'merged again');
    assert.deepEqual(reproducible(mergeStudy(cluster)), reproducible(mergeStudy(local)));
  });

  it('a share killed mid-run (scancel) loses only its runs in flight; resubmitting runs just those', async () => {
    // Runs long enough (~2 s each, 4 per share) that the kill lands while the share is working.
    const study = ['--task', 'delayed-xor', '--delay', '100', '--cue', '20', '--n-rec', '64', '--rules', 'bptt,modprop', '--seeds', '4',
      '--iterations', '600', '--eval-every', '100', '--quiet'];
    const killedDir = path.join(tmp, 'killed');
    const wholeDir = path.join(tmp, 'killed-local');
    const wrote = await cli(['compare', ...study, '--out', killedDir, '--slurm', '--shards', '2']);
    assert.equal(wrote.code, 0, wrote.stderr);
    const plan = loadPlan(killedDir);
    const share1 = shardRuns(plan, 1, 2);
    const file = (id: string): string => path.join(killedDir, 'runs', `${id}.json`);
    const job = slurm!.run('/usr/bin/sbatch', ['--parsable', path.join(killedDir, 'study.sbatch')]).trim();
    const until = Date.now() + 120_000;
    while (!share1.some((r) => fs.existsSync(file(r.id)))) {
      assert.ok(Date.now() < until, 'share 1 finished a run within two minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = Date.now();
    slurm!.run('/usr/bin/scancel', [`${job}_1`]);
    await slurm!.idle(120_000);
    const t1 = Date.now();
    const done1 = share1.filter((r) => fs.existsSync(file(r.id)));
    assert.ok(done1.length >= 1 && done1.length < share1.length, `share 1 was cut short (${done1.length} of ${share1.length} runs done)`);
    assert.deepEqual(fs.readdirSync(path.join(killedDir, 'runs')).filter((f) => !f.endsWith('.json')), [], 'no temporary file left behind');
    const merged = fs.readdirSync(path.join(killedDir, 'slurm')).filter((f) => f.startsWith('merge-')).map((f) => fs.readFileSync(path.join(killedDir, 'slurm', f), 'utf8')).join('');
    assert.match(merged, new RegExp(`${share1.length - done1.length} of 8 runs have no result yet`), 'the merge job ran after the array and named what is missing');

    const again = slurm!.run('/usr/bin/sbatch', ['--parsable', path.join(killedDir, 'study.sbatch')]).trim();
    await slurm!.idle(120_000);
    const t2 = Date.now();
    console.log(`    killed share 1 after ${done1.length} of ${share1.length} runs: ${((t1 - t0) / 1000).toFixed(1)} s from scancel to an idle queue (merge included), ` +
      `${((t2 - t1) / 1000).toFixed(1)} s for the resubmission`);
    const logs = logsOf(killedDir, again);
    assert.match(logs, new RegExp(`share 1/2 of .*: ${share1.length - done1.length} runs ran, ${done1.length} were done already`), logs);
    assert.match(logs, /share 2\/2 of .*: 0 runs ran, 4 were done already/, logs);
    const local = await cli(['compare', ...study, '--out', wholeDir, '--jobs', '2']);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(reproducible(mergeStudy(killedDir)), reproducible(mergeStudy(wholeDir)));
  });
});
