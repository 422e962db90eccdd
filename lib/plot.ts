/**
 * SVG plots for the CLI: a vega-lite spec, compiled to vega and rendered headless (`renderer: 'none'`, `toSVG()`) —
 * no canvas, no browser. vega is loaded only when a plot is drawn, so other commands do not pay for it.
 *
 * A figure is a row of panels (loss, accuracy or NMSE, alignment, …) sharing one colour legend; each series is a
 * mean line with an optional band (whatever the caller computed: ±1 s.d. or min–max, named in the subtitle).
 */
import { ModpropError } from './validate';

export interface SeriesPoint {
  iteration: number;
  mean: number;
  lo?: number;
  hi?: number;
}

export interface Series {
  name: string;
  points: SeriesPoint[];
  /** Drawn dashed and grey: a reference, not one of ours. */
  reference?: boolean;
  /** Preferred colour (so a rule keeps its colour from figure to figure); ignored if another series took it. */
  color?: string;
  /** Every run's own curve, drawn as thin lines under the band (few seeds: the reader sees each run). */
  runs?: { iteration: number; value: number }[][];
}

export interface Panel {
  title: string;
  yTitle: string;
  /** Log y axis (the band is clipped to positive values). */
  log?: boolean;
  /** Fixed y range; the band is clipped to it. */
  domain?: [number, number];
  /** Range the band is clipped to, without fixing the axis (e.g. a cosine's [-1, 1]). */
  bounds?: [number, number];
  series: Series[];
}

export interface Figure {
  title: string;
  subtitle?: string | string[];
  xTitle?: string;
  panels: Panel[];
  /** Width of one panel in pixels (default 320). */
  width?: number;
  height?: number;
  /** Log x axis (for filter taps over s). */
  logX?: boolean;
  /** Panels per row (small multiples); default: all in one row. */
  columns?: number;
  /** Without a colour legend (small multiples name their series in the panel titles). */
  legend?: false;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#000000', '#ad494a', '#6b6ecf'];  // 12: a figure of every rule with online forms has 10 series
const REFERENCE_COLOR = '#7f7f7f';

function clip(v: number, p: Panel): number {
  const range = p.domain ?? p.bounds;
  return range ? Math.min(range[1], Math.max(range[0], v)) : v;
}

/** The vega-lite spec of a figure (plain JSON: it can be saved and opened in the vega editor). */
export function figureSpec(f: Figure): Record<string, unknown> {
  const names: string[] = [];
  const references = new Set<string>();
  const preferred = new Map<string, string>();
  for (const p of f.panels) for (const s of p.series) {
    if (!names.includes(s.name)) names.push(s.name);
    if (s.reference) references.add(s.name);
    if (s.color && !preferred.has(s.name)) preferred.set(s.name, s.color);
  }
  const taken = new Set<string>();
  const wanted = names.map((n) => {
    const c = references.has(n) ? REFERENCE_COLOR : preferred.get(n);
    if (c === undefined || taken.has(c)) return undefined;
    taken.add(c);
    return c;
  });
  const free = PALETTE.filter((c) => !taken.has(c));
  let next = 0;
  const range = wanted.map((c) => c ?? (free.length ? free[next++ % free.length] : PALETTE[next++ % PALETTE.length]));
  // The legend goes below the panels: long labels on the right would leave an empty column beside short panels.
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: names, range }, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 800, symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 } };
  if (f.legend === false) (color as Record<string, unknown>).legend = null;
  const dash = { field: 'kind', type: 'nominal', scale: { domain: ['ours', 'reference'], range: [[1, 0], [5, 3]] }, legend: null };
  const x = { field: 'iteration', type: 'quantitative', title: f.xTitle ?? 'iteration', ...(f.logX ? { scale: { type: 'log', nice: false } } : {}) };

  const panels = f.panels.map((p) => {
    const rows: Record<string, unknown>[] = [];
    const thin: Record<string, unknown>[] = [];
    for (const s of p.series) {
      (s.runs ?? []).forEach((run, r) => {
        for (const pt of run) if (Number.isFinite(pt.value) && !(p.log && pt.value <= 0)) thin.push({ series: s.name, run: r, iteration: pt.iteration, value: clip(pt.value, p) });
      });
    }
    for (const s of p.series) for (const pt of s.points) {
      if (!Number.isFinite(pt.mean) || (p.log && pt.mean <= 0)) continue;
      const row: Record<string, unknown> = { series: s.name, kind: s.reference ? 'reference' : 'ours', iteration: pt.iteration, mean: pt.mean };
      if (pt.lo !== undefined && pt.hi !== undefined && Number.isFinite(pt.lo) && Number.isFinite(pt.hi)) {
        row.lo = p.log ? Math.max(clip(pt.lo, p), pt.mean / 100) : clip(pt.lo, p);
        row.hi = clip(pt.hi, p);
      }
      rows.push(row);
    }
    const yScale: Record<string, unknown> = p.log ? { type: 'log' } : { zero: false };
    if (p.domain) yScale.domain = p.domain;
    const y = { field: 'mean', type: 'quantitative', title: p.yTitle, scale: yScale };
    const runsLayer = thin.length === 0 ? [] : [{
      data: { values: thin },
      mark: { type: 'line', strokeWidth: 0.7, opacity: 0.35, clip: true },
      encoding: { x, y: { field: 'value', type: 'quantitative', scale: yScale, title: p.yTitle }, detail: { field: 'run', type: 'nominal' }, color },
    }];
    return {
      title: { text: p.title, fontSize: 13, limit: (f.width ?? 320) + 130 },
      width: f.width ?? 320,
      height: f.height ?? 220,
      data: { values: rows },
      layer: [
        ...runsLayer,
        {
          transform: [{ filter: 'isValid(datum.lo)' }],
          mark: { type: 'area', opacity: 0.18 },
          encoding: { x, y: { field: 'lo', type: 'quantitative', scale: yScale, title: p.yTitle }, y2: { field: 'hi' }, color },
        },
        { mark: { type: 'line', strokeWidth: 1.8, clip: true }, encoding: { x, y, color, strokeDash: dash } },
      ],
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: f.title, ...(f.subtitle ? { subtitle: f.subtitle } : {}), anchor: 'start' },
    background: 'white',
    padding: 12,
    ...(f.columns ? { concat: panels, columns: f.columns } : { hconcat: panels }),
    resolve: { scale: { color: 'shared', y: 'independent' } },
    // Sizes for a figure shown ≈ 900 px wide (README): tick labels stay ≥ 10 px once the SVG is scaled to fit.
    config: {
      font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' },
      axis: { grid: true, gridColor: '#eee', labelFontSize: 11, titleFontSize: 12 },
      legend: { labelFontSize: 12 }, title: { fontSize: 15, subtitleFontSize: 12 }, header: { labelFontSize: 12 },
    },
  };
}

// Optional peer dependencies (package.json): a library user who never plots does not install them.
async function loadVega(): Promise<[typeof import('vega'), typeof import('vega-lite')]> {
  try {
    return await Promise.all([import('vega'), import('vega-lite')]);
  } catch (err) {
    throw new ModpropError('Plots need the npm packages vega and vega-lite (npm install vega@5 vega-lite@5), ' +
      `which could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Renders a vega-lite spec to an SVG string, headless. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vl] = await loadVega();
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function figureSvg(f: Figure): Promise<string> {
  return renderSvg(figureSpec(f));
}
