// predictions.csv: what the model answered for every test query under every evaluated prompt, beside
// the gold answer and the metrics computed from it, so accuracy, EM and F1 can be checked by hand.
import { csvCell, formatNumber } from '../format/statsCsv.js';
import type { DatasetRow } from '../dataset/datasetSpec.js';

export interface PredictionRow {
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
  /** The test row. */
  readonly row: DatasetRow;
  /** The predicted label's value (classification) or the generated answer (generative). */
  readonly prediction: string;
  /** Each metric's value for this query, in `metrics` order. */
  readonly values: readonly number[];
}

export const predictionsCsvColumns = ['strategy', 'seed', 'budget', 'example', 'id', 'prediction', 'gold'] as const;

/** The gold answer as a cell: the label's value, or every accepted answer as a JSON array. */
function goldOf(row: DatasetRow): string {
  return row.label !== undefined ? row.label : JSON.stringify(row.references ?? []);
}

/** Rows sorted by strategy, seed, budget and test row, one metric column each after `gold`. */
export function predictionsCsv(rows: readonly PredictionRow[], metrics: readonly string[]): string {
  const sorted = [...rows].sort((a, b) => a.strategy.localeCompare(b.strategy) || a.seed - b.seed || a.budget - b.budget || a.row.index - b.row.index);
  const lines = sorted.map((r) =>
    [r.strategy, r.seed, r.budget, r.row.index, csvCell(r.row.id), csvCell(r.prediction), csvCell(goldOf(r.row)), ...r.values.map(formatNumber)].join(','),
  );
  return [[...predictionsCsvColumns, ...metrics].join(','), ...lines].join('\n') + '\n';
}
