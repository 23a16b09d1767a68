// Evaluation results: each strategy's k-shot performance on the test set per seed and budget
// (curves.csv), their mean and spread over seeds, and how well a strategy's own acquisition scores
// predicted the performance of the prompts it built.
import { formatNumber } from '../format/statsCsv.js';
import { mean, sampleVariance } from '../stats/descriptive.js';
import { spearman } from '../stats/spearman.js';
import type { SelectionRow } from './acquisition.js';

/** One row of curves.csv: the mean of `metric` over the test set for one prompt. */
export interface CurveRow {
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
  readonly metric: string;
  readonly value: number;
}

export const curvesCsvColumns = ['strategy', 'seed', 'budget', 'metric', 'value'] as const;

export function curvesCsv(rows: readonly CurveRow[]): string {
  return [curvesCsvColumns.join(','), ...rows.map((r) => [r.strategy, r.seed, r.budget, r.metric, formatNumber(r.value)].join(','))].join('\n') + '\n';
}

export interface CurvePoint {
  readonly strategy: string;
  readonly budget: number;
  readonly mean: number;
  /** Sample standard deviation over seeds (0 for one seed). */
  readonly sd: number;
  readonly min: number;
  readonly max: number;
  readonly seeds: number;
}

/** Per strategy and budget: mean, sd, min and max over seeds of one metric (finite values only), by strategy then budget. */
export function summarizeCurves(rows: readonly CurveRow[], metric: string): CurvePoint[] {
  const groups = new Map<string, { strategy: string; budget: number; values: number[] }>();
  for (const r of rows) {
    if (r.metric !== metric || !Number.isFinite(r.value) || !Number.isFinite(r.budget)) continue;
    const key = `${r.strategy}\u0000${r.budget}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { strategy: r.strategy, budget: r.budget, values: [] }));
    group.values.push(r.value);
  }
  return [...groups.values()]
    .map(({ strategy, budget, values }) => {
      return { strategy, budget, mean: mean(values), sd: Math.sqrt(sampleVariance(values)), min: Math.min(...values), max: Math.max(...values), seeds: values.length };
    })
    .sort((a, b) => a.strategy.localeCompare(b.strategy) || a.budget - b.budget);
}

/** One row of acquisition_correlations.csv. */
export interface AcquisitionCorrelation {
  readonly strategy: string;
  readonly budget: number;
  readonly metric: string;
  readonly rho: number;
  readonly pValue: number;
  readonly n: number;
}

export const acquisitionCorrelationsCsvColumns = ['strategy', 'budget', 'metric', 'rho', 'p_value', 'n'] as const;

/**
 * Per strategy and budget: Spearman, over seeds, between the mean acquisition score of each
 * prompt's examples and that prompt's test performance. Per budget because scores and performance
 * both move with the budget (k-center's distances shrink as it grows), which would make a pooled ρ
 * a budget effect. A strategy × budget whose mean score is the same for every seed (random's 0, a
 * seed-free ranking's identical prompts) has nothing to correlate and gets no row, nor does one with
 * fewer than 3 seeds. A prompt with a non-finite score (a NaN statistic ranked by highest-first)
 * is left out of its cell rather than making its mean NaN.
 */
export function acquisitionCorrelations(selections: readonly SelectionRow[], curves: readonly CurveRow[], metric: string): AcquisitionCorrelation[] {
  const scores = new Map<string, number[]>();
  for (const s of selections) {
    const key = `${s.strategy}\u0000${s.seed}\u0000${s.budget}`;
    const list = scores.get(key);
    if (list) list.push(s.score);
    else scores.set(key, [s.score]);
  }
  const byCell = new Map<string, { strategy: string; budget: number; x: number[]; y: number[] }>();
  for (const c of curves) {
    if (c.metric !== metric) continue;
    const picked = scores.get(`${c.strategy}\u0000${c.seed}\u0000${c.budget}`);
    if (!picked || !picked.every(Number.isFinite)) continue;
    const key = `${c.strategy}\u0000${c.budget}`;
    let entry = byCell.get(key);
    if (!entry) byCell.set(key, (entry = { strategy: c.strategy, budget: c.budget, x: [], y: [] }));
    entry.x.push(mean(picked));
    entry.y.push(c.value);
  }
  return [...byCell.values()]
    .filter(({ x }) => x.length >= 3 && x.some((v) => v !== x[0]))
    .map(({ strategy, budget, x, y }) => {
      const { rho, p, n } = spearman(x, y);
      return { strategy, budget, metric, rho, pValue: p, n };
    });
}

export function acquisitionCorrelationsCsv(rows: readonly AcquisitionCorrelation[]): string {
  return [acquisitionCorrelationsCsvColumns.join(','), ...rows.map((r) => [r.strategy, r.budget, r.metric, formatNumber(r.rho), formatNumber(r.pValue), r.n].join(','))].join('\n') + '\n';
}
