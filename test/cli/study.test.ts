/**
 * The study behind the README's Results (docs/study/run.sh): every command in the script is printed, verbatim, in the
 * README, and every one still runs — here shrunk by flags appended at the end (commander keeps the last value), with
 * its files redirected to a temporary directory.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, cli } from './run';

/** The script's `study …` lines as the `npx modprop compare …` commands they run, continuation lines joined, `$out` spelled out. */
function studyCommands(): string[] {
  const script = fs.readFileSync(path.join(ROOT, 'docs', 'study', 'run.sh'), 'utf8').replace(/\\\n\s*/g, '');
  return script.split('\n').filter((l) => l.startsWith('study --task '))
    .map((l) => `npx modprop compare ${l.slice('study '.length)}`.replace(/ "\$@"$/, '').replace(/\$out\//g, 'docs/study/').replace(/\s+/g, ' ').trim());
}

/** The README's commands, continuation lines joined, one per line. */
function readmeCommands(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').replace(/\\\n\s*/g, '');
  return readme.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l.startsWith('npx modprop compare '));
}

const SHRINK: Record<string, string[]> = {
  'delayed-xor': ['--delay', '10', '--cue', '5'],
  'pattern-generation': [],
  'seq-mnist': [],
};

describe('docs/study/run.sh (the README Results)', function () {
  this.timeout(600_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-study-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const commands = studyCommands();

  it('covers every task of SPEC §5, each command printed verbatim in the README', () => {
    assert.deepEqual([...new Set(commands.map((c) => /--task (\S+)/.exec(c)?.[1]))].sort(), Object.keys(SHRINK).sort());
    const readme = readmeCommands();
    for (const c of commands) assert.ok(readme.includes(c), `README's Results should print: ${c}`);
  });

  for (const command of commands) {
    const task = /--task (\S+)/.exec(command)![1];
    const name = /--out docs\/study\/(\S+)\.json/.exec(command)![1];
    it(`${name}: the command runs (shrunk) and writes its plot, table and JSON (or report draws them)`, async () => {
      const args = command.replace(/^npx modprop /, '').replace(/docs\/study\//g, `${tmp}/`).split(' ');
      const r = await cli([...args, ...SHRINK[task], '--seeds', '1', '--iterations', '4', '--eval-every', '2', '--align-every', '2',
        '--n-rec', '40', '--batch-size', '2', '--jobs', '1', '--quiet']);
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(fs.readFileSync(path.join(tmp, `${name}.json`), 'utf8'));
      const rules = /--rules (\S+)/.exec(command)![1].split(',');
      assert.deepEqual(json.summary.map((s: { spec: string }) => s.spec), [...rules, ...(command.includes('--anchor') ? ['anchor'] : [])]);
      for (const run of json.runs) assert.equal(run.status, 'done');
      if (command.includes('--align-every')) {
        const approximate = json.runs.filter((run: { label: string }) => !run.label.startsWith('bptt'));
        assert.ok(approximate.every((run: { alignment?: unknown[] }) => (run.alignment ?? []).length > 0), 'alignment recorded for every approximate rule');
      }
      // A study whose runs come from shards gets its table and band figure from `report` over all of them instead.
      if (command.includes(' --table ')) assert.match(fs.readFileSync(path.join(tmp, `${name}.md`), 'utf8'), /^\| rule \| runs \|/m);
      if (command.includes(' --plot ')) assert.match(fs.readFileSync(path.join(tmp, `${name}.svg`), 'utf8'), /^<svg[^>]*>/);
      else {
        const r2 = await cli(['report', path.join(tmp, `${name}.json`), '--bands', path.join(tmp, `${name}.svg`), '--table', path.join(tmp, `${name}.md`)]);
        assert.equal(r2.code, 0, r2.stderr);
        assert.match(fs.readFileSync(path.join(tmp, `${name}.svg`), 'utf8'), /^<svg[^>]*>/);
        assert.ok(fs.readFileSync(path.join(ROOT, 'docs', 'study', 'run.sh'), 'utf8').includes(`--bands $out/${name}.svg`), `run.sh draws ${name}.svg with report --bands`);
      }
    });
  }
});
