/**
 * The `modprop` command line, run as a user runs it: a separate process, exit codes, stdout vs stderr, the files it
 * writes (JSON in the SPEC §6 format, well-formed SVG, markdown tables). Everything is small (T ≤ 60, N ≤ 30).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertSvg, cli, collect, start, svgText } from './run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-cli-'));
const file = (name: string): string => path.join(tmp, name);
const SMALL = ['--task', 'delayed-xor', '--delay', '20', '--cue', '10', '--n-rec', '30', '--tau', '20'];

describe('modprop CLI', function () {
  this.timeout(60_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('help and usage errors', () => {
    it('--help lists the commands and exits 0', async () => {
      const r = await cli(['--help']);
      assert.equal(r.code, 0);
      for (const c of ['train', 'compare', 'align', 'taps', 'info']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
      assert.equal(r.stderr, '');
    });

    for (const c of ['train', 'compare', 'align', 'taps', 'info']) {
      it(`${c} --help shows options and examples`, async () => {
        const r = await cli([c, '--help']);
        assert.equal(r.code, 0);
        assert.match(r.stdout, new RegExp(`^Usage: modprop ${c} \\[options\\]`));
        assert.match(r.stdout, /Examples:\n {2}(#|\$) /);
      });
    }

    it('a bad option value exits 2 with one clear line, no stack trace', async () => {
      const r = await cli(['train', '--task', 'delayed-xor', '--iterations', '-3']);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, "modprop: option '--iterations <n>' argument '-3' is invalid. Expected an integer ≥ 0.\n(add --help for usage)\n");
    });

    it('an unknown option, a bad choice, a missing --task and an unknown command exit 2', async () => {
      const cases: [string[], RegExp][] = [
        [['train', '--task', 'delayed-xor', '--bogus'], /^modprop: unknown option '--bogus'/],
        [['train', '--task', 'delayed-xor', '--rule', 'backprop'], /^modprop: option '--rule <rule>' argument 'backprop' is invalid\. Allowed choices are bptt, tbptt, eprop, mdgl, modprop, rflo\./],
        [['train'], /^modprop: required option '--task <name>' not specified/],
        [['frobnicate'], /^modprop: unknown command 'frobnicate'/],
        [['train', '--task', 'pattern-generation', '--delay', '20'], /^modprop: --delay, --cue and --sampler apply to the delayed-xor task, not to pattern-generation/],
        [['compare', '--task', 'delayed-xor', '--eval-every', '10', '--align-every', '15'], /^modprop: --align-every \(15\) must be a multiple of --eval-every \(10\)/],
        [['align', '--rules', 'eprop,backprop'], /^modprop: unknown rule 'backprop' in 'backprop'/],
        [['train', ...SMALL, '--out', tmp], /^modprop: cannot write .*: it is a folder/],
        [['train', ...SMALL, '--anchor'], /^modprop: --anchor needs --plot <file>/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
    });

    it("a library error exits 1 as 'modprop: <message>' naming the flag, without a stack trace", async () => {
      const r = await cli(['train', ...SMALL, '--rule', 'bptt', '--mu', '0.3', '--iterations', '1']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "modprop: Expected no mu option for rule 'bptt' (it applies to 'modprop') for --mu but received 0.3\n");
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  });

  describe('info', () => {
    it('names the engine in use and the versions', async () => {
      const r = await cli(['info']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^engine {8}(native|reference)/);
      assert.match(r.stdout, /^modprop {7}\d+\.\d+\.\d+$/m);
      assert.match(r.stdout, new RegExp(`^node {10}${process.versions.node.replace(/\./g, '\\.')}`, 'm'));
    });

    it('--json, and --backend reference forces the reference engine with the reason', async () => {
      const r = await cli(['info', '--json', '--backend', 'reference']);
      assert.equal(r.code, 0, r.stderr);
      const info = JSON.parse(r.stdout) as { engine: string; reason: string; versions: { node: string } };
      assert.equal(info.engine, 'reference');
      assert.equal(info.reason, 'forced by MODPROP_BACKEND=reference');
      assert.equal(info.versions.node, process.versions.node);
    });
  });

  describe('align', () => {
    it('prints the alignment table and writes it as JSON', async () => {
      const out = file('align.json');
      const r = await cli(['align', ...SMALL, '--batch-size', '4', '--rules', 'eprop,modprop,modprop:online,tbptt:window=5', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^rule\s+Win\s+Wrec\s+Wout\s+all$/m);
      for (const label of ['eprop', 'modprop \\(type, μ=0\\.25\\)', 'modprop \\(type, μ=0\\.25, online\\)', 'tbptt \\(W=5\\)']) {
        assert.match(r.stdout, new RegExp(`^${label}\\s+-?\\d\\.\\d{4}\\s+-?\\d\\.\\d{4}\\s+-?\\d\\.\\d{4}\\s+-?\\d\\.\\d{4}$`, 'm'));
      }
      const data = JSON.parse(fs.readFileSync(out, 'utf8')) as { alignment: { label: string; cosine: Record<string, number> }[] };
      assert.equal(data.alignment.length, 4);
      const [eprop, modprop, online] = data.alignment;
      assert.equal(eprop.label, 'eprop');
      for (const k of ['win', 'wrec', 'wout', 'all']) assert.ok(Math.abs(eprop.cosine[k]) <= 1 + 1e-9);
      // The online form computes the same gradient as the offline one (SPEC §4).
      assert.ok(Math.abs(modprop.cosine.all - online.cosine.all) < 1e-4);
    });
  });

  describe('taps', () => {
    it('prints K_s for a few s, writes JSON [length][C][C] and a well-formed SVG', async () => {
      const out = file('taps.json');
      const plot = file('taps.svg');
      const r = await cli(['taps', '--mu', '0.25', '--length', '60', '--n-rec', '20', '--out', out, '--plot', plot]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^s\s+K\[I←I\]\s+K\[I←E\]\s+K\[E←I\]\s+K\[E←E\]$/m);
      const rows = r.stdout.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => Number(l.split(/\s+/)[0]));
      assert.deepEqual(rows, [1, 2, 5, 10, 20, 50, 60]);
      const data = JSON.parse(fs.readFileSync(out, 'utf8')) as { config: { mu: number; length: number; nTypes: number }; taps: number[][][] };
      assert.deepEqual(data.config.mu, 0.25);
      assert.equal(data.taps.length, 60);
      for (const k of data.taps) {
        assert.equal(k.length, 2);
        for (const row of k) {
          assert.equal(row.length, 2);
          for (const v of row) assert.ok(Number.isFinite(v));
        }
      }
      assert.match(svgText(assertSvg(plot)), /K\[E←I\]/);
    });

    it('an unstable filter is an error naming μ', async () => {
      const r = await cli(['taps', '--mu', '1e5', '--length', '5', '--n-rec', '20']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^modprop: Expected a stable ModProp filter \(spectral radius of Φ < 1\) for --mu but received mu = 100000, which gives spectral radius \d+\.\d+; lower mu\n$/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  });

  describe('train', () => {
    const TRAIN = ['train', ...SMALL, '--iterations', '40', '--eval-every', '10', '--batch-size', '16', '--lr', '3e-3'];

    it('writes { config, curve, final } (SPEC §6), a well-formed SVG and a summary on stdout', async () => {
      const out = file('run.json');
      const plot = file('run.svg');
      const r = await cli([...TRAIN, '--rule', 'modprop', '--out', out, '--plot', plot, '--anchor']);
      assert.equal(r.code, 0, r.stderr);
      const run = JSON.parse(fs.readFileSync(out, 'utf8')) as { config: Record<string, unknown>; curve: Record<string, number>[]; final: Record<string, number> };
      assert.deepEqual(Object.keys(run), ['config', 'metadata', 'curve', 'final']);
      assert.deepEqual(run.curve.map((p) => p.iteration), [0, 10, 20, 30, 40]);
      for (const p of run.curve) {
        assert.ok(Number.isFinite(p.loss) && p.loss > 0);
        assert.ok(p.accuracy >= 0 && p.accuracy <= 1);
        assert.ok(Number.isInteger(p.elapsedMs) && p.elapsedMs >= 0);
      }
      assert.deepEqual(run.final, run.curve[run.curve.length - 1]);
      assert.equal(run.config.rule, 'modprop');
      assert.equal(run.config.mu, 0.25);
      assert.equal(run.config.iterations, 40);
      assert.equal(run.config.task, 'delayed-xor');
      assert.deepEqual(run.config.taskOptions, { delaySteps: 20, cueSteps: 10 });
      assert.match(r.stdout, /^modprop \(type, μ=0\.25\) on delayed-xor \(T = 40, N = 30, seed 1\)/);
      assert.match(r.stdout, /^final \(iteration 40\): loss \d+\.\d{4}, accuracy \d+\.\d %$/m);
      // Not a terminal: one progress line per evaluation, on stderr only.
      assert.match(r.stderr, /^iteration 40\/40 {2}loss /m);
      assert.doesNotMatch(r.stdout, /^iteration /m);
      const text = svgText(assertSvg(plot));
      assert.match(text, /public ModProp runs \(cell feedback as run, liu2022 init, 10 selected, TF\)/);
      assert.match(text, /accuracy/);
    });

    it("--out - puts only the JSON on stdout; the summary goes to stderr, and --quiet silences stderr", async () => {
      const r = await cli([...TRAIN, '--rule', 'eprop', '--online', '--out', '-']);
      assert.equal(r.code, 0, r.stderr);
      const run = JSON.parse(r.stdout) as { config: { rule: string; online: boolean }; final: { iteration: number } };
      assert.equal(run.config.rule, 'eprop');
      assert.equal(run.config.online, true);
      assert.equal(run.final.iteration, 40);
      assert.match(r.stderr, /^final \(iteration 40\)/m);
      const quiet = await cli([...TRAIN, '--rule', 'eprop', '--online', '--out', '-', '--quiet']);
      assert.equal(quiet.code, 0);
      assert.equal(quiet.stderr, '');
      assert.deepEqual(Object.keys(JSON.parse(quiet.stdout)), ['config', 'metadata', 'curve', 'final']);
    });

    it('--checkpoint then --resume continues the same run to more iterations', async () => {
      const ck = file('ck.json');
      const first = await cli([...TRAIN, '--iterations', '20', '--checkpoint', ck, '--quiet']);
      assert.equal(first.code, 0, first.stderr);
      assert.ok(fs.existsSync(ck));
      const out = file('resumed.json');
      const r = await cli([...TRAIN, '--iterations', '30', '--resume', ck, '--out', out, '--quiet']);
      assert.equal(r.code, 0, r.stderr);
      const run = JSON.parse(fs.readFileSync(out, 'utf8')) as { curve: { iteration: number }[] };
      assert.deepEqual(run.curve.map((p) => p.iteration), [0, 10, 20, 30]);
    });

    it('Ctrl-C (SIGINT) stops, writes the partial curve and exits 130', async () => {
      const out = file('interrupted.json');
      const child = start([...TRAIN, '--iterations', '1000000', '--out', out]);
      const result = collect(child);
      await new Promise<void>((resolve) => {
        let seen = '';
        child.stderr!.on('data', (d: string) => {
          seen += d;
          if (/^iteration +20\//m.test(seen)) resolve();
        });
      });
      child.kill('SIGINT');
      const r = await result;
      assert.equal(r.code, 130, r.stderr);
      const run = JSON.parse(fs.readFileSync(out, 'utf8')) as { config: { aborted?: boolean }; curve: { iteration: number }[]; final: { iteration: number } };
      assert.equal(run.config.aborted, true);
      assert.ok(run.curve.length >= 3);
      assert.equal(run.final.iteration, run.curve[run.curve.length - 1].iteration);
      assert.match(r.stdout, /^interrupted \(Ctrl-C\)/m);
    });
  });

  describe('compare', () => {
    it('runs rules × seeds on worker threads: table, plot and JSON, with alignment to bptt', async () => {
      const out = file('compare.json');
      const plot = file('compare.svg');
      const table = file('compare.md');
      const r = await cli(['compare', ...SMALL, '--rules', 'bptt,modprop', '--seeds', '2', '--iterations', '20', '--eval-every', '10',
        '--batch-size', '8', '--jobs', '2', '--align-every', '10', '--anchor', '--out', out, '--plot', plot, '--table', table]);
      assert.equal(r.code, 0, r.stderr);
      const md = fs.readFileSync(table, 'utf8');
      assert.match(md, /^\| rule \| runs \| final loss \| final accuracy \(%\) \| iterations to 95 % \(median\) \| reached 95 % \| Wrec alignment with bptt \(mean cosine\) \| ms \/ iteration \|$/m);
      assert.match(md, /^\| bptt \| 2 \| \d\.\d{4} ± \d\.\d{4} \| \d+\.\d ± \d+\.\d \| (\d+|—) \| \d\/2 \| 1 \(exact\) \| \d+\.\d \|$/m);
      assert.match(md, /^\| modprop \(type, μ=0\.25\) \| 2 \| .* \| -?\d\.\d{3} ± \d\.\d{3} \| \d+\.\d \|$/m);
      assert.match(md, /^\| public ModProp runs \(cell feedback as run.* at iteration 20 \| 10 \|/m);
      assert.ok(r.stdout.includes(md.slice(md.indexOf('| rule'))), 'the table is printed too');
      const data = JSON.parse(fs.readFileSync(out, 'utf8')) as {
        config: { seeds: number; rules: { label: string }[] };
        runs: { label: string; seed: number; status: string; curve: { iteration: number }[]; alignment?: { iteration: number; cosine: { all: number; wrec: number } }[] }[];
        summary: { rule: string; runs: number }[];
      };
      assert.equal(data.runs.length, 4);
      for (const run of data.runs) {
        assert.equal(run.status, 'done');
        assert.deepEqual(run.curve.map((p) => p.iteration), [0, 10, 20]);
      }
      assert.deepEqual(data.runs.map((x) => `${x.label}/${x.seed}`).sort(), ['bptt/1', 'bptt/2', 'modprop (type, μ=0.25)/1', 'modprop (type, μ=0.25)/2']);
      const modprop = data.runs.find((x) => x.label.startsWith('modprop'))!;
      assert.deepEqual(modprop.alignment!.map((a) => a.iteration), [0, 10, 20]);
      assert.ok(modprop.alignment!.every((a) => Math.abs(a.cosine.wrec) <= 1 + 1e-9 && a.cosine.all > 0));
      const text = svgText(assertSvg(plot));
      assert.match(text, /alignment with bptt/);
      assert.match(text, /line: median over seeds, band: interquartile range/);
    });
  });
});
