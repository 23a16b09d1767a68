// Where a labelling round's ranking information comes from: a finished run on the same file (its
// selection statistic, and the pooled vectors its checkpoints keep) or any stats.csv over the file
// (`icl-lab extract` needs no labels, so an unlabelled file can have one).
import path from 'node:path';
import type { LayerSpec } from '../experiment/runConfig.js';
import type { RunIndex } from '../inspect/runIndex.js';
import { readRunVectors } from '../inspect/runVectors.js';
import { readStatsTable, statisticColumn } from '../inspect/statsTable.js';
import type { CandidateInfo } from './proposeRound.js';

/** The run's selection statistic per pool row and, when its checkpoints keep them, the pool's vectors. */
export async function candidateInfoFromRun(index: RunIndex): Promise<CandidateInfo> {
  const { chosen } = index;
  const statistic = new Map<number, number>();
  for (const [example, layers] of index.stats.byExample) {
    const value = layers.get(chosen.layer)?.[chosen.statistic];
    if (value !== undefined) statistic.set(example, value);
  }
  const pool = index.prepared.splits.pool;
  const found = await readRunVectors(index.dir, pool.length, index.prepared.splits.test.length);
  const vectors = found ? new Map(pool.map((row, position) => [row.index, found.pool[position]!])) : undefined;
  return {
    statistic,
    ...(vectors ? { vectors } : {}),
    source: `run ${path.basename(index.dir)} (${chosen.statistic}, ${chosen.site} layer ${chosen.layer}, ${chosen.mask}, ${chosen.pooling}${vectors ? '; pooled vectors' : ''})`,
  };
}

export interface StatisticChoice {
  readonly mask: string;
  /** The activation site; absent: the file's only one. */
  readonly site?: string;
  readonly pooling: string;
  readonly statistic: string;
  /** `middle` and `last` are read against the layers the file holds. */
  readonly layer: LayerSpec;
}

/** One statistic column of a stats.csv, per row. */
export async function candidateInfoFromStatsCsv(file: string, choice: StatisticChoice): Promise<CandidateInfo> {
  const table = await readStatsTable(file, choice.mask, choice.pooling, choice.site);
  if (table.byExample.size === 0) throw new Error(`${file} has no rows for mask ${choice.mask}${choice.site === undefined ? '' : `, site ${choice.site}`} and pooling ${choice.pooling}`);
  const { layer, values } = statisticColumn(table, choice.statistic, choice.layer);
  return { statistic: values, source: `${path.basename(file)} (${choice.statistic}, ${table.site} layer ${layer}, ${choice.mask}, ${choice.pooling})` };
}
