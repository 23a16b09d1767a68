// The rows of a stats.csv (a run's, or `icl-lab extract`'s) for one mask and pooling, per example
// and layer: what the hover's layer table shows and what highest-/lowest-first rank by.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { LayerSpec } from '../experiment/runConfig.js';
import { resolveLayer } from '../experiment/runConfig.js';
import { numberCell } from '../format/csvTable.js';
import { activationStatistics } from '../stats/activationStatistics.js';

/** statistic name → value, one layer of one example. */
export type LayerValues = Readonly<Record<string, number>>;

export interface StatsTable {
  readonly mask: string;
  readonly pooling: string;
  /** Layers present, ascending. */
  readonly layers: readonly number[];
  /** example (row index) → layer → statistic values. */
  readonly byExample: ReadonlyMap<number, ReadonlyMap<number, LayerValues>>;
}

/** The rows of `file` with this mask and pooling, streamed: a stats.csv holds every mask × pooling × layer, which can be large. */
export async function readStatsTable(file: string, mask: string, pooling: string): Promise<StatsTable> {
  const byExample = new Map<number, Map<number, LayerValues>>();
  const layers = new Set<number>();
  const parser = createReadStream(file).pipe(parse({ columns: true, skip_empty_lines: true, bom: true }));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    if (row['mask'] !== mask || row['pooling'] !== pooling) continue;
    const example = Number(row['example']);
    const layer = Number(row['layer']);
    const values: Record<string, number> = {};
    for (const statistic of activationStatistics) if (row[statistic] !== undefined) values[statistic] = numberCell(row[statistic]);
    let perLayer = byExample.get(example);
    if (!perLayer) byExample.set(example, (perLayer = new Map()));
    perLayer.set(layer, values);
    layers.add(layer);
  }
  return { mask, pooling, layers: [...layers].sort((a, b) => a - b), byExample };
}

/**
 * One statistic at one layer for every example of the table. `middle` and `last` are resolved
 * against `layerCount` (the model's depth), or, without it, against the layers the file holds.
 */
export function statisticColumn(table: StatsTable, statistic: string, layer: LayerSpec, layerCount?: number): { layer: number; values: Map<number, number> } {
  const count = layerCount ?? (table.layers.length > 0 ? table.layers.at(-1)! + 1 : 0);
  const resolved = resolveLayer(layer, count);
  const values = new Map<number, number>();
  for (const [example, perLayer] of table.byExample) {
    const value = perLayer.get(resolved)?.[statistic];
    if (value !== undefined) values.set(example, value);
  }
  return { layer: resolved, values };
}
