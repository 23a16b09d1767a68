// quality.csv: one row per candidate × estimator × metric. `example` is the same key as stats.csv.
import type { QualityRow } from '../quality/exampleQuality.js';
import { csvCell, formatNumber } from './statsCsv.js';

export const qualityCsvColumns = ['example', 'id', 'estimator', 'metric', 'value', 'stderr', 'n_prompts', 'quality_half_a', 'quality_half_b'] as const;
/** The columns readers require: quality_half_a/b (for the noise ceiling) are newer, and optional. */
export const qualityCsvRequiredColumns = qualityCsvColumns.filter((c) => !c.startsWith('quality_half_'));


export function qualityCsv(rows: readonly QualityRow[]): string {
  const lines = rows.map((r) => [r.example, csvCell(r.id), r.estimator, r.metric, formatNumber(r.value), formatNumber(r.stderr), r.nPrompts, formatNumber(r.halfA), formatNumber(r.halfB)].join(','));
  return [qualityCsvColumns.join(','), ...lines].join('\n') + '\n';
}
