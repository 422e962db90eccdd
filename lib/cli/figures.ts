/** The CLI's figures: learning curves of one run (`train --plot`) or of rules × seeds (`compare --plot`). */
import type { Figure, Panel, Series } from '../plot';
import { RULE_NAMES, ruleEntry } from '../rules';
import type { CurvePoint } from '../trainTypes';
import { anchorCurves, anchorLabel } from './anchor';
import { bandLabel, bandOver, type Band } from './stats';

export interface RuleCurves {
  label: string;
  curves: CurvePoint[][];
  /** Per run: cosine alignment with bptt over iterations (compare --align-every). */
  alignment?: { iteration: number; cosine: number }[][];
}

function lossPanel(series: Series[]): Panel {
  return { title: 'loss (fresh batch)', yTitle: 'loss', log: true, series };
}

function metricPanel(metric: 'accuracy' | 'nmse', series: Series[]): Panel {
  return metric === 'accuracy'
    ? { title: 'accuracy (fresh batch)', yTitle: 'accuracy', domain: [0, 1], series }
    : { title: 'normalised MSE (fresh batch)', yTitle: 'NMSE', log: true, series };
}

/** Anchor series (delayed XOR only), optionally limited to the iterations we ran. */
function anchorSeries(what: 'accuracy' | 'loss', band: Band, upTo?: number): Series {
  const curves = anchorCurves().map((c) => (upTo === undefined ? c : c.filter((p) => p.iteration <= upTo)));
  return { name: anchorLabel(), reference: true, points: bandOver(curves, (p) => (what === 'accuracy' ? p.accuracy : p.loss), band) };
}

export function runFigure(curve: CurvePoint[], o: { title: string; subtitle: string[]; metric: 'accuracy' | 'nmse'; label: string; anchor: boolean }): Figure {
  const point = (value: (p: CurvePoint) => number | undefined): Series['points'] =>
    curve.filter((p) => value(p) !== undefined).map((p) => ({ iteration: p.iteration, mean: value(p)! }));
  const loss: Series[] = [{ name: o.label, points: point((p) => p.loss) }];
  const metric: Series[] = [{ name: o.label, points: point((p) => (o.metric === 'accuracy' ? p.accuracy : p.nmse)) }];
  if (curve.some((p) => p.testAccuracy !== undefined)) {
    metric.push({ name: `${o.label} — held-out test set`, points: point((p) => p.testAccuracy) });
    loss.push({ name: `${o.label} — held-out test set`, points: point((p) => p.testLoss) });
  }
  const subtitle = [...o.subtitle];
  if (o.anchor) {
    const last = curve.length ? curve[curve.length - 1].iteration : 0;
    const upTo = Math.max(last, 20);
    loss.push(anchorSeries('loss', 'iqr', upTo));
    metric.push(anchorSeries('accuracy', 'iqr', upTo));
    subtitle.push(`grey dashed: public reference runs, median with an interquartile band over ${anchorCurves().length} runs`);
  }
  return { title: o.title, subtitle, panels: [lossPanel(loss), metricPanel(o.metric, metric)] };
}

/** One colour per rule family in every figure (lib/rules.ts); ModProp with cell feedback keeps its own brown. */
export function ruleColor(label: string): string | undefined {
  if (/^modprop\b.*\bcell\b/.test(label)) return '#8c564b';
  const name = RULE_NAMES.find((r) => new RegExp(`^${r}\\b`).test(label));
  return name === undefined ? undefined : ruleEntry(name).colour;
}

export function compareFigure(rules: RuleCurves[], o: { title: string; subtitle: string[]; metric: 'accuracy' | 'nmse'; band: Band; anchor: boolean; iterations: number }): Figure {
  const loss: Series[] = rules.map((r) => ({ name: r.label, color: ruleColor(r.label), points: bandOver(r.curves, (p) => p.loss, o.band) }));
  const metric: Series[] = rules.map((r) => ({ name: r.label, color: ruleColor(r.label), points: bandOver(r.curves, (p) => (o.metric === 'accuracy' ? p.accuracy : p.nmse), o.band) }));
  const subtitle = [...o.subtitle, o.band === 'iqr' ? bandLabel(o.band) : `${bandLabel(o.band)} (clipped to the axis)`];
  if (o.anchor) {
    loss.push(anchorSeries('loss', o.band, o.iterations));
    metric.push(anchorSeries('accuracy', o.band, o.iterations));
    subtitle.push('grey dashed: public reference runs (same band statistic)');
  }
  const panels = [lossPanel(loss), metricPanel(o.metric, metric)];
  const aligned = rules.filter((r) => r.alignment && r.alignment.some((a) => a.length > 0));
  if (aligned.length > 0) {
    panels.push({
      title: 'alignment with bptt (cosine of the Wrec gradients)', yTitle: 'cosine', bounds: [-1, 1],
      series: aligned.map((r) => ({ name: r.label, color: ruleColor(r.label), points: bandOver(r.alignment!, (p) => p.cosine, o.band) })),
    });
  }
  // At most ≈ 900 px in all, so the README shows it unscaled.
  return { title: o.title, subtitle, panels, width: panels.length > 2 ? 230 : 340 };
}

/**
 * One small panel per group (accuracy, or any value per curve point): each run a thin line, the median over runs a
 * thick line with its interquartile band, and the public runs' median dashed grey in every panel for reference.
 */
export function smallMultiples(groups: RuleCurves[], o: { title: string; subtitle: string[]; anchor: boolean; iterations: number; columns?: number }): Figure {
  // Regression tasks have no accuracy: their panels show the normalised MSE on a log axis.
  const nmse = !groups.some((g) => g.curves.some((c) => c.some((p) => p.accuracy !== undefined)));
  const value = (p: CurvePoint): number | undefined => (nmse ? p.nmse : p.accuracy);
  const panels = groups.map((g): Panel => {
    const series: Series[] = [{
      name: g.label, color: ruleColor(g.label), points: bandOver(g.curves, value, 'iqr'),
      runs: g.curves.map((c) => c.filter((p) => value(p) !== undefined).map((p) => ({ iteration: p.iteration, value: value(p)! }))),
    }];
    if (o.anchor) series.push({ ...anchorSeries('accuracy', 'iqr', o.iterations), points: anchorSeries('accuracy', 'iqr', o.iterations).points.map(({ iteration, mean }) => ({ iteration, mean })) });
    return nmse ? { title: g.label, yTitle: 'NMSE', log: true, series } : { title: g.label, yTitle: 'accuracy', domain: [0, 1], series };
  });
  const subtitle = [...o.subtitle, 'thin lines: single runs; thick line and band: median and interquartile range over runs'];
  if (o.anchor) subtitle.push('grey dashed: median of the public runs');
  const columns = o.columns ?? 3;
  return { title: o.title, subtitle, panels, columns, width: columns >= 3 ? 220 : 360, height: 150, legend: false };
}
