// The learning curves as a plain-text table for a terminal: per strategy and budget, the test metric's
// mean ± sample sd over seeds (from curves.csv) and, beside it, the paired difference from random
// with its bootstrap interval over test items and seeds (from strategy_vs_random.csv).
import { summarizeCurves, type CurveRow, type RandomDifference } from '../experiment/learningCurves.js';

/** The part of a strategy_vs_random.csv row the table shows. */
export type RandomDifferenceCell = Pick<RandomDifference, 'strategy' | 'budget' | 'metric' | 'diff' | 'ciLow' | 'ciHigh'>;

/** The metric a run's curves are read by: the configured one, else accuracy, else exact match, else the first in the file. */
export function curvesMetric(rows: readonly CurveRow[], configured?: string): string | undefined {
  const metrics = new Set(rows.map((r) => r.metric));
  if (configured && metrics.has(configured)) return configured;
  for (const m of ['accuracy', 'em']) if (metrics.has(m)) return m;
  return rows[0]?.metric;
}

const signed = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}` : 'nan');

/**
 * Lines of the table: a header naming the metric and the seeds, one row per strategy (sorted by name,
 * random first), one column per budget. A difference whose interval excludes zero is marked `*`.
 */
export function learningCurvesTable(curves: readonly CurveRow[], differences: readonly RandomDifferenceCell[], metric: string): string[] {
  const points = summarizeCurves(curves, metric);
  if (points.length === 0) return [];
  const budgets = [...new Set(points.map((p) => p.budget))].sort((a, b) => a - b);
  const strategies = [...new Set(points.map((p) => p.strategy))].sort((a, b) => (a === 'random' ? -1 : b === 'random' ? 1 : a.localeCompare(b)));
  const seeds = Math.max(...points.map((p) => p.seeds));
  const cell = (strategy: string, budget: number): string => {
    const p = points.find((x) => x.strategy === strategy && x.budget === budget);
    if (!p) return '';
    const d = differences.find((x) => x.strategy === strategy && x.budget === budget && x.metric === metric);
    const spread = `${p.mean.toFixed(3)} ± ${p.sd.toFixed(3)}`;
    if (!d) return spread;
    const excludesZero = d.ciLow > 0 || d.ciHigh < 0;
    return `${spread}  ${signed(d.diff)} [${signed(d.ciLow)}, ${signed(d.ciHigh)}]${excludesZero ? '*' : ''}`;
  };
  const width = Math.max(...strategies.map((s) => s.length), 'strategy'.length) + 2;
  const cells = strategies.map((s) => budgets.map((b) => cell(s, b)));
  const columnWidth = Math.max(...cells.flat().map((c) => c.length), 14) + 3;
  const lines = [
    `learning curves: test ${metric}, mean ± sd over ${seeds} seed${seeds === 1 ? '' : 's'}; beside it the difference from random [95% paired bootstrap over test items and seeds]`,
    'strategy'.padEnd(width) + budgets.map((b) => `budget ${b}`.padEnd(columnWidth)).join('').trimEnd(),
    ...strategies.map((s, i) => (s.padEnd(width) + cells[i]!.map((c) => c.padEnd(columnWidth)).join('')).trimEnd()),
  ];
  if (cells.flat().some((c) => c.endsWith('*'))) lines.push('(* : the interval excludes zero)');
  return lines;
}
