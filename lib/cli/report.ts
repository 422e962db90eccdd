/**
 * `modprop report`: statistics over the runs of one or more `compare --out` files, without training anything.
 * Per group of runs (a rule of a file; type-feedback rules also named by their number of cell types C): medians and
 * interquartile ranges of iterations to 95 % and final loss; every pair of groups compared by a two-sided
 * Mann–Whitney U test on both, with Holm–Bonferroni adjusted p-values per metric; optionally a per-seed table of
 * one group and small-multiple figures.
 */
import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import { quantile } from 'simple-statistics';
import { figureSvg } from '../plot';
import type { CurvePoint } from '../trainTypes';
import { anchorCurves, anchorLabel } from './anchor';
import { UsageError, checkWritable, intArg, listArg, writeOutput } from './common';
import { compareFigure, smallMultiples } from './figures';
import { formatAdjusted, formatP, holm, mannWhitney, type UTest } from './significance';
import { iterationsTo, markdownTable } from './stats';

interface ReportFlags {
  specs?: string[];
  anchor?: boolean;
  table?: string;
  plot?: string;
  bands?: string;
  seedTable?: string;
  by: number;
  columns?: number;
  title?: string;
}

interface Group {
  name: string;
  curves: CurvePoint[][];
  seeds: number[];
}

const EXAMPLES = `
Runs that never reached 95 % count as +∞ in the tests (they rank last, tied). p-values: two-sided Mann–Whitney U,
as a permutation test of mid-ranks (100 000 seeded relabellings), beside them Holm–Bonferroni adjusted over the
table's pairs (one family per metric): read a difference as shown when the adjusted p is below 0.05.

Example:
  $ modprop report docs/study/liu2022.json --anchor --seed-table modprop --table report.md --plot report.svg`;

export function reportCommand(): Command {
  return new Command('report')
    .description('statistics over compare --out files: medians, IQRs, Mann–Whitney U tests between every pair of rules, figures')
    .argument('<files...>', 'JSON files written by compare --out')
    .option('--specs <list>', 'only these --rules entries (e.g. modprop,modprop:type,eprop)', listArg)
    .option('--anchor', 'include the public reference runs (delayed-xor) as a group')
    .option('--seed-table <spec>', 'a table of every seed of this --rules entry: first ≥ 95 %, reached by --by, final accuracy')
    .option('--by <iteration>', 'the iteration of the seed table\'s "reached by" column', intArg(1), 400)
    .option('--table <file>', "write the tables as markdown ('-': stdout)")
    .option('--plot <file>', 'write an SVG: one accuracy panel per group, every run thin, median and IQR thick')
    .option('--bands <file>', "write an SVG like compare --plot's: loss and accuracy per group, median and IQR band over every run of the files")
    .option('--columns <n>', 'panels per row of the plot (default: 2 for up to 4 panels, else 3)', intArg(1, 8))
    .addOption(new Option('--title <text>', 'figure and table title'))
    .addHelpText('after', EXAMPLES)
    .action(async (files: string[], f: ReportFlags) => {
      process.exitCode = await runReport(files, f);
    });
}

interface CompareFile {
  config: { task: string; iterations: number; subtypes?: number; rules: { spec: string; label: string }[] };
  runs: { spec: string; label: string; seed: number; curve: CurvePoint[]; status: string }[];
}

function readCompare(file: string): CompareFile {
  let data: CompareFile;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8')) as CompareFile;
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (!data?.config?.rules || !Array.isArray(data.runs)) throw new UsageError(`${file} is not a file written by compare --out`);
  return data;
}

/** A type-feedback rule is named with its number of cell types, so files with different --subtypes stay apart. */
function groupName(label: string, subtypes: number | undefined): string {
  return /\(type\b/.test(label) ? `${label}, C = ${2 * (subtypes ?? 1)}` : label;
}

function loadGroups(files: string[], f: ReportFlags): { groups: Group[]; iterations: number; specOf: Map<string, string> } {
  const groups: Group[] = [];
  const specOf = new Map<string, string>();
  let iterations = 0;
  for (const file of files) {
    const data = readCompare(file);
    iterations = Math.max(iterations, data.config.iterations);
    for (const rule of data.config.rules) {
      if (f.specs && !f.specs.includes(rule.spec)) continue;
      const name = groupName(rule.label, data.config.subtypes);
      let g = groups.find((x) => x.name === name);
      if (!g) {
        g = { name, curves: [], seeds: [] };
        groups.push(g);
      }
      // Shards of one study (compare --first-seed) merge by seed; a seed run twice must agree bit for bit.
      for (const r of data.runs.filter((x) => x.spec === rule.spec && x.status === 'done')) {
        const k = g.seeds.indexOf(r.seed);
        if (k < 0) {
          g.seeds.push(r.seed);
          g.curves.push(r.curve);
        } else if (JSON.stringify(g.curves[k].map((p) => p.loss)) !== JSON.stringify(r.curve.map((p) => p.loss))) {
          throw new UsageError(`${name}, seed ${r.seed}: two files disagree (not shards of one study?)`);
        }
      }
      const order = g.seeds.map((s, i) => i).sort((a, b) => g!.seeds[a] - g!.seeds[b]);
      [g.seeds, g.curves] = [order.map((i) => g!.seeds[i]), order.map((i) => g!.curves[i])];
      if (!specOf.has(rule.spec)) specOf.set(rule.spec, name);
    }
  }
  if (groups.length === 0) throw new UsageError('no runs matched (check --specs against the files\' --rules)');
  return { groups, iterations, specOf };
}

const finalPoint = (c: CurvePoint[], upTo: number): CurvePoint | undefined => [...c].reverse().find((p) => p.iteration <= upTo);
const q = (v: number[], p: number): number => quantile(v, p);

function summaryRows(groups: Group[], iterations: number): string[][] {
  return groups.map((g) => {
    const its = g.curves.map((c) => iterationsTo(c.filter((p) => p.iteration <= iterations)));
    const reached = its.filter(Number.isFinite);
    const finals = g.curves.map((c) => finalPoint(c, iterations)!).filter(Boolean);
    const loss = finals.map((p) => p.loss);
    const med = q(its, 0.5);
    const itCell = Number.isFinite(med) ? `${med} [${q(its, 0.25)}–${Number.isFinite(q(its, 0.75)) ? q(its, 0.75) : 'never'}]` : 'never';
    return [g.name, String(g.curves.length), `${reached.length}/${its.length}`, itCell,
      `${q(loss, 0.5).toFixed(3)} [${q(loss, 0.25).toFixed(3)}–${q(loss, 0.75).toFixed(3)}]`,
      `${finals.filter((p) => (p.accuracy ?? 0) >= 0.95).length}/${finals.length}`];
  });
}

function pairRows(groups: Group[], iterations: number): string[][] {
  const rows: string[][] = [];
  const its = groups.map((g) => g.curves.map((c) => iterationsTo(c.filter((p) => p.iteration <= iterations))));
  const loss = groups.map((g) => g.curves.map((c) => finalPoint(c, iterations)!.loss));
  const medianCell = (a: number[], b: number[], digits: number): string => {
    const [ma, mb] = [q(a, 0.5), q(b, 0.5)];
    const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(digits) : 'never');
    return `${fmt(ma)} vs ${fmt(mb)}`;
  };
  const pairs: { i: number; j: number; it: UTest; loss: UTest }[] = [];
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) pairs.push({ i, j, it: mannWhitney(its[i], its[j]), loss: mannWhitney(loss[i], loss[j]) });
  }
  // Each metric's pairs are one family: Holm keeps its chance of any false "different" at ≤ 5 % when p̃ < 0.05.
  const itHolm = holm(pairs.map((x) => x.it));
  const lossHolm = holm(pairs.map((x) => x.loss));
  pairs.forEach(({ i, j, it, loss: l }, k) => {
    rows.push([`${groups[i].name} vs ${groups[j].name}`,
      medianCell(its[i], its[j], 0), formatP(it), formatAdjusted(itHolm[k]),
      medianCell(loss[i], loss[j], 3), formatP(l), formatAdjusted(lossHolm[k])]);
  });
  return rows;
}

function seedRows(g: Group, by: number, iterations: number): { rows: string[][]; byCount: number; stayed: number } {
  let byCount = 0;
  let stayed = 0;
  const rows = g.curves.map((c, k) => {
    const first = iterationsTo(c);
    const fin = finalPoint(c, iterations)!;
    const after = c.filter((p) => p.iteration >= by && p.iteration <= iterations).map((p) => p.accuracy ?? 0);
    const ok = first <= by;
    if (ok) byCount++;
    if ((fin.accuracy ?? 0) >= 0.95) stayed++;
    return [String(g.seeds[k]), Number.isFinite(first) ? String(first) : 'never', ok ? 'yes' : 'no',
      `${(100 * (fin.accuracy ?? NaN)).toFixed(1)} %`, fin.loss.toFixed(4), `${(100 * Math.min(...after)).toFixed(1)} %`];
  });
  return { rows, byCount, stayed };
}

async function runReport(files: string[], f: ReportFlags): Promise<number> {
  checkWritable([f.table, f.plot, f.bands]);
  const { groups, iterations, specOf } = loadGroups(files, f);
  if (f.anchor) groups.push({ name: anchorLabel(), curves: anchorCurves().map((c) => c.filter((p) => p.iteration <= iterations)), seeds: [] });
  const title = f.title ?? `${groups.map((g) => g.name).join(' vs ')} — ${iterations} iterations`;
  const parts = [`## ${title}\n`, `Generated by: \`npx modprop report ${process.argv.slice(3).map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}\`\n`,
    'Iterations to 95 %: first evaluation (fresh batch of 32, every 20 iterations) with accuracy ≥ 0.95; median [IQR] over runs. ' +
    `Final: the evaluation at iteration ${iterations}.\n`,
    markdownTable(['runs', 'n', 'reached 95 %', 'iterations to 95 %: median [IQR]', 'final loss: median [IQR]', 'final accuracy ≥ 95 %'], summaryRows(groups, iterations)),
    '\nEvery pair, two-sided Mann–Whitney U (permutation form; never reached = +∞); p raw and Holm-adjusted over the pairs of this table, per metric:\n',
    markdownTable(['pair', 'iterations to 95 % (medians)', 'p', 'p (Holm)', 'final loss (medians)', 'p', 'p (Holm)'], pairRows(groups, iterations))];
  if (f.seedTable !== undefined) {
    const name = specOf.get(f.seedTable);
    const g = groups.find((x) => x.name === name);
    if (!g) throw new UsageError(`--seed-table ${f.seedTable}: no such --rules entry in the files`);
    const s = seedRows(g, f.by, iterations);
    parts.push(`\nEvery seed of ${g.name}: reached ≥ 95 % by iteration ${f.by} in ${s.byCount}/${g.curves.length}; ` +
      `final accuracy ≥ 95 % at iteration ${iterations} in ${s.stayed}/${g.curves.length}.\n`,
    markdownTable(['seed', 'first ≥ 95 %', `by ${f.by}`, `accuracy at ${iterations}`, `loss at ${iterations}`, `lowest accuracy ${f.by}–${iterations}`], s.rows));
  }
  const text = parts.join('\n');
  if (f.table !== undefined) writeOutput(f.table, text);
  if (f.plot !== undefined) {
    const ours = groups.filter((g) => g.seeds.length > 0 || !f.anchor);
    writeOutput(f.plot, await figureSvg(smallMultiples(ours.map((g) => ({ label: g.name, curves: g.curves })), {
      title: f.title ?? 'Every run, on a fresh evaluation batch, per rule', subtitle: [], anchor: f.anchor === true, iterations, columns: f.columns ?? (ours.length <= 4 ? 2 : 3),
    })));
  }
  if (f.bands !== undefined) {
    // compare --plot's figure, redrawn from all the files' runs: shards of one study give one band per rule.
    const ours = groups.filter((g) => g.seeds.length > 0);
    writeOutput(f.bands, await figureSvg(compareFigure(ours.map((g) => ({ label: g.name, curves: g.curves })), {
      title: f.title ?? `${ours.map((g) => g.name).join(' vs ')} — ${iterations} iterations`, band: 'iqr',
      metric: ours[0]?.curves[0]?.[0]?.accuracy === undefined ? 'nmse' : 'accuracy', anchor: f.anchor === true, iterations,
      subtitle: [`runs per group: ${ours.map((g) => g.curves.length).join(', ')}`],
    })));
  }
  if (f.table !== '-') process.stdout.write(text);
  return 0;
}
