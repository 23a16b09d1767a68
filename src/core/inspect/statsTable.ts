// The rows of a stats.csv (a run's, or `icl-lab extract`'s) for one mask, pooling and site, per
// example and layer: what the hover's layer table shows and what highest-/lowest-first rank by.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { LayerSpec } from '../experiment/runConfig.js';
import { resolveLayer } from '../experiment/runConfig.js';
import { numberCell } from '../format/csvTable.js';
import { siteOfUnlabelledRows, statsRowSite } from '../format/statsCsv.js';
import { activationStatistics } from '../stats/activationStatistics.js';

/** statistic name → value, one layer of one example. */
export type LayerValues = Readonly<Record<string, number>>;

export interface StatsTable {
  readonly mask: string;
  readonly pooling: string;
  /** The activation site of the rows (src/core/sites.ts). */
  readonly site: string;
  /** Layers present, ascending. */
  readonly layers: readonly number[];
  /** example (row index) → layer → statistic values. */
  readonly byExample: ReadonlyMap<number, ReadonlyMap<number, LayerValues>>;
}

/**
 * The rows of `file` with this mask, pooling and site, streamed: a stats.csv holds every mask ×
 * site × pooling × layer, which can be large. Without `site`: the MLP output's rows where the file
 * has them (the paper's site, and every file from before sites), else the file's only site; a file
 * holding several other sites is an error naming them.
 */
export async function readStatsTable(file: string, mask: string, pooling: string, site?: string): Promise<StatsTable> {
  const bySite = new Map<string, { byExample: Map<number, Map<number, LayerValues>>; layers: Set<number> }>();
  const parser = createReadStream(file).pipe(parse({ columns: true, skip_empty_lines: true, bom: true }));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    if (row['mask'] !== mask || row['pooling'] !== pooling) continue;
    const rowSite = statsRowSite(row);
    if (site !== undefined && rowSite !== site) continue;
    let table = bySite.get(rowSite);
    if (!table) bySite.set(rowSite, (table = { byExample: new Map(), layers: new Set() }));
    const example = Number(row['example']);
    const layer = Number(row['layer']);
    const values: Record<string, number> = {};
    for (const statistic of activationStatistics) if (row[statistic] !== undefined) values[statistic] = numberCell(row[statistic]);
    let perLayer = table.byExample.get(example);
    if (!perLayer) table.byExample.set(example, (perLayer = new Map()));
    perLayer.set(layer, values);
    table.layers.add(layer);
  }
  let chosen = site ?? (bySite.has(siteOfUnlabelledRows) ? siteOfUnlabelledRows : [...bySite.keys()][0]);
  if (site === undefined && bySite.size > 1 && !bySite.has(siteOfUnlabelledRows)) {
    throw new Error(`${file} holds several sites (${[...bySite.keys()].join(', ')}) for mask ${mask} and pooling ${pooling}: name the site`);
  }
  chosen ??= '';
  const table = bySite.get(chosen);
  return { mask, pooling, site: chosen, layers: [...(table?.layers ?? [])].sort((a, b) => a - b), byExample: table?.byExample ?? new Map() };
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
