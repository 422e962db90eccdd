/**
 * From a study's run files to what `compare` reports: the merged JSON, the summary table, the figure and a CSV of the
 * curves. Everything is computed from the plan and the run files in plan order, so a study run in one process and the
 * same study run as shards on a cluster give the same outputs: bit for bit for every curve, summary statistic,
 * figure and CSV; only the metadata (machine, date, command) and the measured times (elapsedMs, ms / iteration) differ.
 * `reproducible()` is exactly the part that must be equal.
 */
import {
  anchorSummary, describeColumns, summarize, summaryTable, type RuleSummary, type RunRecord,
} from '../cli/compare';
import { compareFigure } from '../cli/figures';
import type { Band } from '../cli/stats';
import { runMetadata, type RunMetadata } from '../metadata';
import type { Figure } from '../plot';
import type { CurvePoint } from '../trainTypes';
import { gridText, type StudyPlan } from './plan';
import { loadPlan, loadRun, type RunResult } from './store';

export interface StudyResult {
  kind: 'modprop-study';
  plan: StudyPlan;
  /** Stored results in plan order (done or failed). */
  runs: RunResult[];
  /** Ids of planned runs with no result yet. */
  missing: string[];
  /** One row per rule × grid point, in plan order. */
  summary: RuleSummary[];
}

/** The runs of the plan that have results, in plan order, and the summary over seeds of each rule × grid point. */
export function mergeResults(plan: StudyPlan, results: readonly RunResult[]): StudyResult {
  const byId = new Map(results.map((r) => [r.id, r]));
  const runs = plan.runs.map((r) => byId.get(r.id)).filter((r): r is RunResult => r !== undefined);
  const missing = plan.runs.filter((r) => !byId.has(r.id)).map((r) => r.id);
  const summary = groupsOf(plan).map((g) => {
    const records = runs.filter((r) => r.group === g.group).map(asRecord);
    return summarize(g.group, g.spec, records, plan.metric, plan.options.iterations);
  });
  return { kind: 'modprop-study', plan, runs, missing, summary };
}

/** Reads `dir/plan.json` and every `dir/runs/<id>.json` of it (temporary and foreign files are ignored). */
export function mergeStudy(dir: string): StudyResult {
  const plan = loadPlan(dir);
  const results = plan.runs.map((r) => loadRun(dir, r)).filter((r): r is RunResult => r !== undefined);
  return mergeResults(plan, results);
}

function asRecord(r: RunResult): RunRecord {
  return { spec: r.spec, label: r.group, seed: r.seed, curve: r.curve, final: r.final, alignment: r.alignment, error: r.error, status: r.status };
}

interface Group { group: string; spec: string; rule: string; point: string }

function groupsOf(plan: StudyPlan): Group[] {
  const seen = new Map<string, Group>();
  for (const r of plan.runs) if (!seen.has(r.group)) seen.set(r.group, { group: r.group, spec: r.spec, rule: r.rule, point: gridText(r.grid) });
  return [...seen.values()];
}

function engineOf(result: StudyResult): string {
  return result.runs[0]?.metadata.engine ?? result.plan.options.backend ?? 'native';
}

export function studyTitle(plan: StudyPlan): string {
  const o = plan.options;
  const rules = [...new Set(plan.runs.map((r) => r.rule))];
  const grid = plan.grid.length ? ` × grid ${plan.grid.map(([k, v]) => `${k} ∈ {${v.join(', ')}}`).join(' × ')}` : '';
  return `${o.task}: ${rules.join(' vs ')} — ${o.seeds} seed${o.seeds > 1 ? 's' : ''} × ${o.iterations} iterations${grid}`;
}

/** The markdown summary table, one row per rule × grid point, with a note on failed and missing runs. */
export function studyTable(result: StudyResult, options: { anchor?: boolean } = {}): string {
  const { plan } = result;
  const steps = [...new Set(plan.runs.map((r) => r.settings.steps))].join('/');
  const nRec = [...new Set(plan.runs.map((r) => r.settings.nRec))].join('/');
  const anchor = options.anchor ? anchorSummary(plan.options.iterations) : undefined;
  const table = summaryTable(result.summary, plan.metric, anchor);
  const failures = result.runs.filter((r) => r.status === 'failed').map((r) => `\n- failed: ${r.group}, seed ${r.seed}: ${r.error}`).join('');
  const missing = result.missing.length ? `\n- missing (not run yet): ${result.missing.length} of ${plan.runs.length} runs` : '';
  const notes = failures || missing ? `\nRuns that stopped early or are missing are left out of the rows:\n${failures}${missing}\n` : '';
  // Results are bit-identical only for one engine, SIMD level and thread count: a mixed cluster breaks that.
  const machines = new Map<string, number>();
  for (const r of result.runs) {
    const m = `${r.metadata.engine}${r.metadata.simd ? ` ${r.metadata.simd}` : ''}, ${r.metadata.threads} thread${r.metadata.threads > 1 ? 's' : ''}`;
    machines.set(m, (machines.get(m) ?? 0) + 1);
  }
  const mixed = machines.size > 1
    ? `\nRuns were computed on different engines or SIMD levels (${[...machines].map(([m, n]) => `${m}: ${n}`).join('; ')}): their curves differ in the last bits from a study run on one kind of machine.\n`
    : '';
  return `## ${studyTitle(plan)}\n\nN = ${nRec}, T = ${steps}, ${engineOf(result)} engine. ${describeColumns(plan.metric)}\n\n${table}${notes}${mixed}`;
}

/**
 * The figure: loss and accuracy (or NMSE) per rule, mean and spread over seeds; with a grid, one pair of panels per
 * grid point (facets), each titled by its values.
 */
export function studyFigure(result: StudyResult, options: { band?: Band; anchor?: boolean } = {}): Figure {
  const { plan } = result;
  const band = options.band ?? 'iqr';
  const batch = [...new Set(plan.runs.map((r) => r.settings.batchSize))].join('/');
  const subtitle = [`N = ${[...new Set(plan.runs.map((r) => r.settings.nRec))].join('/')}, T = ${[...new Set(plan.runs.map((r) => r.settings.steps))].join('/')}, batch ${batch}, evaluation on a fresh batch every ${plan.options.evalEvery} iterations; ${engineOf(result)} engine`];
  const groups = groupsOf(plan);
  const curvesOf = (g: Group) => {
    const runs = result.runs.filter((r) => r.group === g.group && r.curve.length > 0);
    return {
      label: plan.grid.length ? g.rule : g.group,
      curves: runs.map((r) => r.curve),
      alignment: runs.filter((r) => r.alignment).map((r) => r.alignment!.map((a) => ({ iteration: a.iteration, cosine: a.cosine.wrec }))),
    };
  };
  const o = { title: studyTitle(plan), subtitle, metric: plan.metric, band, anchor: options.anchor === true, iterations: plan.options.iterations };
  if (plan.grid.length === 0) return compareFigure(groups.map(curvesOf), o);
  const points = [...new Set(groups.map((g) => g.point))];
  const facets = points.map((p) => compareFigure(groups.filter((g) => g.point === p).map(curvesOf), o));
  return {
    ...facets[0],
    panels: facets.flatMap((f, i) => f.panels.map((panel) => ({ ...panel, title: `${panel.title} — ${points[i]}` }))),
  };
}

const CURVE_COLUMNS = ['loss', 'accuracy', 'nmse', 'testLoss', 'testAccuracy', 'trainLoss'] as const;

function csvCell(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NaN';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The curves in long format (one row per run and evaluation point) for pandas or R: run id, rule, seed, the grid
 * values, the iteration and the measures. Measured times are left out, so the CSV of a study is reproducible.
 */
export function studyCsv(result: StudyResult): string {
  const keys = result.plan.grid.map(([k]) => k);
  const columns = CURVE_COLUMNS.filter((c) => result.runs.some((r) => r.curve.some((p) => p[c] !== undefined)));
  const lines = [['id', 'rule', 'spec', 'seed', ...keys, 'status', 'iteration', ...columns].join(',')];
  for (const r of result.runs) {
    for (const p of r.curve) {
      lines.push([r.id, r.rule, r.spec, r.seed, ...keys.map((k) => r.grid[k]), r.status, p.iteration, ...columns.map((c) => p[c])].map(csvCell).join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/** The merged study as one JSON document: the plan's options, the summary, every run and who merged it where. */
export function studyJson(result: StudyResult): { kind: 'modprop-study'; config: StudyPlan['options']; grid: StudyPlan['grid']; summary: RuleSummary[]; runs: RunResult[]; missing: string[]; metadata: RunMetadata } {
  return { kind: 'modprop-study', config: result.plan.options, grid: result.plan.grid, summary: result.summary, runs: result.runs, missing: result.missing, metadata: runMetadata() };
}

function withoutTime(p: CurvePoint): Omit<CurvePoint, 'elapsedMs'> {
  const { elapsedMs: _t, ...rest } = p;
  return rest;
}

/**
 * What two runs of the same study must have equal, bit for bit: each run's id, status, curve and final point without
 * their elapsed times, alignment, error; the summary without the ms / iteration column. Metadata is left out.
 */
export function reproducible(result: Pick<StudyResult, 'runs' | 'summary' | 'missing'>): unknown {
  return {
    missing: result.missing,
    runs: result.runs.map((r) => ({
      id: r.id, status: r.status, curve: r.curve.map(withoutTime), final: r.final ? withoutTime(r.final) : undefined, alignment: r.alignment, error: r.error,
    })),
    summary: result.summary.map(({ msPerIteration: _m, ...rest }) => rest),
  };
}
