// Reading a run folder's result files back (no rendering, no vega): shared by the report and the
// VS Code panels, whose extension-host bundle must not pull in vega's canvas code.
import { readFile } from 'node:fs/promises';
import { correlationsCsvRequiredColumns, lengthStatistic, type CorrelationRow } from '../experiment/correlations.js';
import { curvesCsvColumns, strategyVsRandomCsvColumns, type CurveRow, type RandomDifference } from '../experiment/learningCurves.js';
import { numberCell, readCsvTable } from '../format/csvTable.js';
import { qualityCsvRequiredColumns } from '../format/qualityCsv.js';
import { siteOfUnlabelledRows } from '../format/statsCsv.js';

/** The run folder's files, by role. */
export const runFiles = {
  run: 'run.json',
  stats: 'stats.csv',
  quality: 'quality.csv',
  correlations: 'correlations.csv',
  curves: 'curves.csv',
  strategyVsRandom: 'strategy_vs_random.csv',
  histograms: 'histograms.csv',
  massive: 'massive.csv',
  raw: 'raw',
} as const;

export async function readCorrelationsCsv(file: string): Promise<CorrelationRow[]> {
  return (await readCsvTable(file, correlationsCsvRequiredColumns)).map((r) => ({
    mask: r['mask']!,
    // Files from before the site column: every activation row read the MLP output; the length rows read none.
    site: r['site'] ?? (r['statistic'] === lengthStatistic ? '' : siteOfUnlabelledRows),
    layer: numberCell(r['layer']),
    statistic: r['statistic']!,
    pooling: r['pooling']!,
    estimator: r['estimator']!,
    metric: r['metric']!,
    rho: numberCell(r['rho']),
    pValue: numberCell(r['p_value']),
    qValue: numberCell(r['q_value']),
    ciLow: numberCell(r['ci_low']),
    ciHigh: numberCell(r['ci_high']),
    n: Number(r['n']),
    partialRho: numberCell(r['partial_rho']),
    partialPValue: numberCell(r['partial_p_value']),
    partialQValue: numberCell(r['partial_q_value']),
  }));
}

export async function readCurvesCsv(file: string): Promise<CurveRow[]> {
  return (await readCsvTable(file, curvesCsvColumns)).map((r) => ({
    strategy: r['strategy']!,
    seed: Number(r['seed']),
    budget: Number(r['budget']),
    metric: r['metric']!,
    value: numberCell(r['value']),
    // Run folders from before the item bootstrap have no interval.
    ciLow: r['ci_low'] === undefined ? NaN : numberCell(r['ci_low']),
    ciHigh: r['ci_high'] === undefined ? NaN : numberCell(r['ci_high']),
  }));
}

export async function readStrategyVsRandomCsv(file: string): Promise<RandomDifference[]> {
  return (await readCsvTable(file, strategyVsRandomCsvColumns)).map((r) => ({
    strategy: r['strategy']!,
    budget: Number(r['budget']),
    metric: r['metric']!,
    diff: numberCell(r['diff']),
    ciLow: numberCell(r['ci_low']),
    ciHigh: numberCell(r['ci_high']),
    nItems: Number(r['n_items']),
    nSeeds: Number(r['n_seeds']),
  }));
}

export interface QualityCsvRow {
  readonly example: number;
  readonly id: string;
  readonly estimator: string;
  readonly metric: string;
  readonly value: number;
  /** The estimate on each half of its data (NaN in files written before these columns existed). */
  readonly halfA: number;
  readonly halfB: number;
}

export async function readQualityRows(file: string): Promise<QualityCsvRow[]> {
  return (await readCsvTable(file, qualityCsvRequiredColumns)).map((r) => ({
    example: Number(r['example']),
    id: r['id']!,
    estimator: r['estimator']!,
    metric: r['metric']!,
    value: numberCell(r['value']),
    halfA: numberCell(r['quality_half_a']),
    halfB: numberCell(r['quality_half_b']),
  }));
}

/** run.json as parsed JSON, or an error naming the file. */
export async function readRunJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${file}: invalid JSON (${(error as Error).message})`);
  }
}


/** obj.a.b.c of parsed JSON (run.json), or undefined when any step is missing or not an object. */
export function jsonField(obj: unknown, ...keys: string[]): unknown {
  let at = obj;
  for (const key of keys) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}
