// The study's question in numbers: for every mask × site × layer × statistic × pooling, how well does the
// activation statistic rank the candidates by example quality (each estimator × metric)?
// Spearman's ρ with scipy's p-value, a seeded bootstrap interval, and Benjamini–Hochberg q-values
// across the whole grid. Beside them, the length baseline: the span's token count correlated with
// each quality measure (rows with statistic `token_count`, one per mask × estimator × metric, site,
// layer and pooling empty), and for every cell the Spearman partial correlation controlling for token
// count (src/core/stats/partialSpearman.ts) with its p and its own BH q over the grid.
import { numberCell, readCsvTable } from '../format/csvTable.js';
import { formatNumber, statsIndexColumns, statsRowSite } from '../format/statsCsv.js';
import { activationStatistics } from '../stats/activationStatistics.js';
import { benjaminiHochberg } from '../stats/benjaminiHochberg.js';
import { bootstrapSpearmanInterval } from '../stats/bootstrap.js';
import { partialSpearman } from '../stats/partialSpearman.js';
import { spearman } from '../stats/spearman.js';

export const correlationsCsvColumns = [
  'mask', 'site', 'layer', 'statistic', 'pooling', 'estimator', 'metric', 'rho', 'p_value', 'q_value', 'ci_low', 'ci_high', 'n',
  'partial_rho', 'partial_p_value', 'partial_q_value',
] as const;
/** The columns readers require: site and the partial_* columns are newer, and optional. */
export const correlationsCsvRequiredColumns = correlationsCsvColumns.filter((c) => c !== 'site' && !c.startsWith('partial_'));

/** The length baseline's statistic name: the span's token count (stats.csv's token_count column). */
export const lengthStatistic = 'token_count';

/** Where a correlation sits in the grid: mask × site × layer × statistic × pooling × estimator × metric. */
export type CorrelationCell = Pick<CorrelationRow, 'mask' | 'site' | 'layer' | 'statistic' | 'pooling' | 'estimator' | 'metric'>;

export interface CorrelationRow {
  readonly mask: string;
  /** The activation site (src/core/sites.ts); empty on the length rows, which read no activation. */
  readonly site: string;
  readonly layer: number;
  readonly statistic: string;
  readonly pooling: string;
  readonly estimator: string;
  readonly metric: string;
  readonly rho: number;
  readonly pValue: number;
  readonly qValue: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly n: number;
  /** Spearman partial correlation controlling for the span's token count; NaN without token counts (and for the length row itself). */
  readonly partialRho: number;
  readonly partialPValue: number;
  /** Benjamini–Hochberg over every defined partial p of the grid. */
  readonly partialQValue: number;
}

/** Every statistic but top_dim, which names a dimension: ranking by it means nothing. */
export const correlatedStatistics = activationStatistics.filter((s) => s !== 'top_dim');


/** One column of stats.csv restricted to one mask, site, layer and pooling: a grid cell's statistic. */
export interface StatsCell {
  readonly mask: string;
  readonly site: string;
  readonly layer: number;
  readonly pooling: string;
  readonly statistic: string;
}

/** The key of a stats cell in readStatsCsv's map: `mask|site|layer|pooling|statistic`. */
export function statsCellKey(cell: StatsCell): string {
  return `${cell.mask}|${cell.site}|${cell.layer}|${cell.pooling}|${cell.statistic}`;
}

export function parseStatsCellKey(key: string): StatsCell {
  const [mask, site, layer, pooling, statistic] = key.split('|') as [string, string, string, string, string];
  return { mask, site, layer: Number(layer), pooling, statistic };
}

/**
 * statistic value by statsCellKey, then example; rows without a site (older files) are the MLP
 * output's. The statistics are the activation statistics (but top_dim) and any column a derived site
 * appended (src/core/format/statsCsv.ts); an empty cell is a statistic that does not apply to the row.
 */
export async function readStatsCsv(files: readonly string[]): Promise<Map<string, Map<number, number>>> {
  const cells = new Map<string, Map<number, number>>();
  for (const file of files) {
    let statistics: readonly string[] | undefined;
    for (const row of await readCsvTable(file)) {
      statistics ??= [...correlatedStatistics, ...Object.keys(row).filter((c) => !(statsIndexColumns as readonly string[]).includes(c) && !(activationStatistics as readonly string[]).includes(c))];
      for (const statistic of statistics) {
        if (row[statistic] === '') continue;
        const key = statsCellKey({ mask: row['mask']!, site: statsRowSite(row), layer: Number(row['layer']), pooling: row['pooling']!, statistic });
        let byExample = cells.get(key);
        if (!byExample) cells.set(key, (byExample = new Map()));
        byExample.set(Number(row['example']), numberCell(row[statistic]!));
      }
    }
  }
  return cells;
}

/**
 * The span's token count by mask, then example, from stats.csv's token_count column (empty for files
 * written before it existed). An example whose rows disagree is an error naming the file.
 */
export async function readTokenCounts(files: readonly string[]): Promise<Map<string, Map<number, number>>> {
  const byMask = new Map<string, Map<number, number>>();
  for (const file of files) {
    for (const row of await readCsvTable(file)) {
      if (row[lengthStatistic] === undefined) continue;
      const mask = row['mask']!;
      const example = Number(row['example']);
      const tokens = numberCell(row[lengthStatistic]);
      let byExample = byMask.get(mask);
      if (!byExample) byMask.set(mask, (byExample = new Map()));
      const seen = byExample.get(example);
      if (seen !== undefined && seen !== tokens) throw new Error(`${file}: example ${example} (${mask}) has token_count ${seen} and ${tokens} on different rows`);
      byExample.set(example, tokens);
    }
  }
  return byMask;
}

/** quality value by `estimator|metric`, then example. */
export async function readQualityCsv(file: string): Promise<Map<string, Map<number, number>>> {
  return qualityByCell((await readCsvTable(file)).map((row) => ({ example: Number(row['example']), estimator: row['estimator']!, metric: row['metric']!, value: numberCell(row['value']!) })));
}

/** Quality rows by `estimator|metric`, then example: what `correlate` takes. */
export function qualityByCell(rows: readonly { readonly example: number; readonly estimator: string; readonly metric: string; readonly value: number }[]): Map<string, Map<number, number>> {
  const cells = new Map<string, Map<number, number>>();
  for (const row of rows) {
    const key = `${row.estimator}|${row.metric}`;
    let byExample = cells.get(key);
    if (!byExample) cells.set(key, (byExample = new Map()));
    byExample.set(row.example, row.value);
  }
  return cells;
}

export interface CorrelationOptions {
  readonly bootstrapResamples: number;
  readonly seed: number;
  /** The span's token count by mask, then example: adds the length rows and the partial correlations. */
  readonly tokenCounts?: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** Called after each grid cell (the bootstrap makes the whole grid take a while). */
  readonly onProgress?: (done: number, total: number) => void;
}

type UnrankedRow = Omit<CorrelationRow, 'qValue' | 'partialQValue'>;

export function correlate(
  stats: ReadonlyMap<string, ReadonlyMap<number, number>>,
  quality: ReadonlyMap<string, ReadonlyMap<number, number>>,
  options: CorrelationOptions,
): CorrelationRow[] {
  const partial: UnrankedRow[] = [];
  const masks = [...new Set([...stats.keys()].map((key) => parseStatsCellKey(key).mask))];
  const lengthCells = masks.filter((mask) => options.tokenCounts?.has(mask)).length;
  const total = (stats.size + lengthCells) * quality.size;
  const cell = (mask: string, site: string, layer: number, statistic: string, pooling: string, statByExample: ReadonlyMap<number, number>): void => {
    const tokens = options.tokenCounts?.get(mask);
    for (const [qualityKey, qualityByExample] of quality) {
      const [estimator, metric] = qualityKey.split('|') as [string, string];
      const x: number[] = [];
      const y: number[] = [];
      const z: number[] = [];
      for (const [example, value] of statByExample) {
        const q = qualityByExample.get(example);
        if (q !== undefined && Number.isFinite(value) && Number.isFinite(q)) {
          x.push(value);
          y.push(q);
          z.push(tokens?.get(example) ?? NaN);
        }
      }
      const { rho, p, n } = spearman(x, y);
      const interval = options.bootstrapResamples > 0 && Number.isFinite(rho)
        ? bootstrapSpearmanInterval(x, y, { resamples: options.bootstrapResamples, seed: options.seed })
        : { lower: NaN, upper: NaN };
      // Controlling length for length itself means nothing: the length rows get no partial.
      const controlled = tokens && statistic !== lengthStatistic ? partialSpearman(x, y, z) : { rho: NaN, p: NaN };
      partial.push({ mask, site, layer, statistic, pooling, estimator, metric, rho, pValue: p, ciLow: interval.lower, ciHigh: interval.upper, n, partialRho: controlled.rho, partialPValue: controlled.p });
      options.onProgress?.(partial.length, total);
    }
  };
  for (const [statKey, statByExample] of stats) {
    const { mask, site, layer, pooling, statistic } = parseStatsCellKey(statKey);
    cell(mask, site, layer, statistic, pooling, statByExample);
  }
  for (const mask of masks) {
    const tokens = options.tokenCounts?.get(mask);
    if (tokens) cell(mask, '', NaN, lengthStatistic, '', tokens);
  }
  const q = benjaminiHochberg(partial.map((row) => row.pValue));
  const partialQ = benjaminiHochberg(partial.map((row) => row.partialPValue));
  return partial.map((row, i) => ({ ...row, qValue: q[i]!, partialQValue: partialQ[i]! }));
}

export function correlationsCsv(rows: readonly CorrelationRow[]): string {
  const lines = rows.map((r) =>
    [
      r.mask, r.site, Number.isNaN(r.layer) ? '' : r.layer, r.statistic, r.pooling, r.estimator, r.metric,
      formatNumber(r.rho), formatNumber(r.pValue), formatNumber(r.qValue), formatNumber(r.ciLow), formatNumber(r.ciHigh), r.n,
      formatNumber(r.partialRho), formatNumber(r.partialPValue), formatNumber(r.partialQValue),
    ].join(','),
  );
  return [correlationsCsvColumns.join(','), ...lines].join('\n') + '\n';
}

/** The headline, as in the paper: the largest |ρ| of an activation statistic in the grid (the length baseline is not one). */
export function strongestCorrelation(rows: readonly CorrelationRow[]): CorrelationRow | undefined {
  let best: CorrelationRow | undefined;
  for (const row of rows) {
    if (row.statistic === lengthStatistic || !Number.isFinite(row.rho)) continue;
    if (!best || Math.abs(row.rho) > Math.abs(best.rho)) best = row;
  }
  return best;
}

/** The length baseline of a cell: token count vs the same quality measure under the same mask (whatever the site: length reads no activation). */
export function lengthCorrelation(rows: readonly CorrelationRow[], of: CorrelationCell): CorrelationRow | undefined {
  return rows.find((r) => r.statistic === lengthStatistic && r.mask === of.mask && r.estimator === of.estimator && r.metric === of.metric);
}
