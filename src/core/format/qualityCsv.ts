// quality.csv: one row per candidate × estimator × metric. `example` is the same key as stats.csv.
import type { QualityRow } from '../quality/exampleQuality.js';
import { csvCell, formatNumber } from './statsCsv.js';

export const qualityCsvColumns = ['example', 'id', 'estimator', 'metric', 'value', 'stderr', 'n_prompts'] as const;


export function qualityCsv(rows: readonly QualityRow[]): string {
  const lines = rows.map((r) => [r.example, csvCell(r.id), r.estimator, r.metric, formatNumber(r.value), formatNumber(r.stderr), r.nPrompts].join(','));
  return [qualityCsvColumns.join(','), ...lines].join('\n') + '\n';
}
