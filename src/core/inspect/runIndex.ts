// A finished run seen from its data file: for each row index, what the run measured and chose —
// its split, quality values, the run's selection statistic, the statistics of every layer under
// the selection's mask and pooling, and the selections it is part of. The editor's CodeLens, hover
// and gutter read it; nothing here knows about the editor.
import { recordedModel } from '../experiment/modelLabel.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DatasetRow } from '../dataset/datasetSpec.js';
import { splitNames, type SplitName } from '../dataset/splits.js';
import { selectionsCsvColumns, type SelectionRow } from '../experiment/acquisition.js';
import type { RunFolder } from '../experiment/runFolders.js';
import { prepareRun, readRunRecord, type PreparedRun, type RunRecord } from '../experiment/runExperiment.js';
import { resolveLayer, type RunConfig } from '../experiment/runConfig.js';
import { numberCell, readCsvTable } from '../format/csvTable.js';
import { qualityCsvRequiredColumns } from '../format/qualityCsv.js';
import { siteOfUnlabelledRows } from '../format/statsCsv.js';
import { readStatsTable, type LayerValues, type StatsTable } from './statsTable.js';

export interface QualityCell {
  readonly estimator: string;
  readonly metric: string;
  readonly value: number;
  readonly stderr: number;
  readonly nPrompts: number;
}

/** A selection (strategy × seed × budget) that holds the row. */
export interface RowSelection {
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
  /** 1-based acquisition round. */
  readonly round: number;
  /** Place in the selection (0-based): its demonstration's place in the prompt. */
  readonly order: number;
  readonly score: number;
}

export interface RowInspection {
  readonly row: DatasetRow;
  readonly split: SplitName;
  /** quality.csv rows of the example, the run's quality metric first (pool rows only). */
  readonly quality: readonly QualityCell[];
  /** The run's selection statistic (selection.statistic) of the example, when stats.csv has it. */
  readonly statistic?: number;
  /** layer → statistics under the selection's mask and pooling (pool rows only). */
  readonly layers?: ReadonlyMap<number, LayerValues>;
  readonly selections: readonly RowSelection[];
}

/** The run's selection statistic, its layer resolved against the model. */
export interface ChosenStatistic {
  readonly mask: string;
  readonly site: string;
  readonly layer: number;
  readonly statistic: string;
  readonly pooling: string;
}

export interface RunIndex {
  readonly dir: string;
  readonly record: RunRecord;
  readonly config: RunConfig;
  readonly prepared: PreparedRun;
  readonly layerCount: number;
  readonly chosen: ChosenStatistic;
  readonly stats: StatsTable;
  /** Every row in one of the run's splits, by row index (rows the split left out are absent). */
  readonly rows: ReadonlyMap<number, RowInspection>;
  readonly selections: readonly SelectionRow[];
  /** Set when the data file no longer matches what the run read (indices would point at other rows). */
  readonly stale?: string;
}

/** Same file, as paths are compared on this platform. */
export function samePath(a: string, b: string): boolean {
  const norm = (p: string): string => (process.platform === 'win32' || process.platform === 'darwin' ? path.resolve(p).toLowerCase() : path.resolve(p));
  return norm(a) === norm(b);
}

/** The newest complete run (runs come newest first) whose data file is `dataFile`. */
export function newestRunOnFile(runs: readonly RunFolder[], dataFile: string): RunFolder | undefined {
  return runs.find((run) => run.state === 'complete' && typeof run.record.data?.file === 'string' && samePath(run.record.data.file, dataFile));
}

/** Every complete run on `dataFile`, newest first. */
export function runsOnFile(runs: readonly RunFolder[], dataFile: string): RunFolder[] {
  return runs.filter((run) => run.state === 'complete' && typeof run.record.data?.file === 'string' && samePath(run.record.data.file, dataFile));
}

/** selections.csv back as rows, in file order (which is each selection's order); none when the run has no such file. */
export async function readSelectionsCsv(file: string): Promise<SelectionRow[]> {
  if (!existsSync(file)) return [];
  return (await readCsvTable(file, selectionsCsvColumns)).map((r) => ({
    strategy: r['strategy']!,
    seed: Number(r['seed']),
    budget: Number(r['budget']),
    round: Number(r['round']),
    example: Number(r['example']),
    id: r['id']!,
    score: numberCell(r['score']),
  }));
}

/** Reads a finished run folder into its per-row index. Throws when the folder has no run.json or its data cannot be read. */
export async function loadRunIndex(dir: string): Promise<RunIndex> {
  const record = await readRunRecord(dir);
  if (!record) throw new Error(`${dir}: no run.json`);
  const config = record.config as RunConfig;
  const prepared = await prepareRun(config);
  const layerCount = recordedModel(record, dir).layers;
  const wanted = config.selection.statistic;
  // Runs from before sites read the MLP output only.
  const chosen: ChosenStatistic = { mask: wanted.mask, site: (wanted as { site?: string }).site ?? siteOfUnlabelledRows, layer: resolveLayer(wanted.layer, layerCount), statistic: wanted.statistic, pooling: wanted.pooling };
  const statsFile = path.join(dir, 'stats.csv');
  const stats: StatsTable = existsSync(statsFile) ? await readStatsTable(statsFile, chosen.mask, chosen.pooling, chosen.site) : { mask: chosen.mask, pooling: chosen.pooling, site: chosen.site, layers: [], byExample: new Map() };
  const selections = await readSelectionsCsv(path.join(dir, 'selections.csv'));
  const qualityFile = path.join(dir, 'quality.csv');
  const qualityRows = existsSync(qualityFile) ? await readCsvTable(qualityFile, qualityCsvRequiredColumns) : [];

  const rows = new Map<number, { row: DatasetRow; split: SplitName; quality: QualityCell[]; selections: RowSelection[] }>();
  for (const split of splitNames) for (const row of prepared.splits[split]) rows.set(row.index, { row, split, quality: [], selections: [] });

  const mismatches: string[] = [];
  const check = (example: number, id: string, where: string): void => {
    const seen = rows.get(example)?.row.id;
    if (seen !== id && mismatches.length < 3) mismatches.push(`${where} names row ${example} "${id}", the file now has ${seen === undefined ? 'no such row in the run\'s splits' : `"${seen}"`}`);
  };
  for (const q of qualityRows) {
    const example = Number(q['example']);
    check(example, q['id']!, 'quality.csv');
    rows.get(example)?.quality.push({
      estimator: q['estimator']!,
      metric: q['metric']!,
      value: numberCell(q['value']),
      stderr: numberCell(q['stderr']),
      nPrompts: Number(q['n_prompts']),
    });
  }
  for (const entry of rows.values()) entry.quality.sort((a, b) => Number(b.metric === config.quality.metric) - Number(a.metric === config.quality.metric));
  const order = new Map<string, number>();
  for (const s of selections) {
    check(s.example, s.id, 'selections.csv');
    const key = `${s.strategy}\u0000${s.seed}\u0000${s.budget}`;
    const place = order.get(key) ?? 0;
    order.set(key, place + 1);
    rows.get(s.example)?.selections.push({ strategy: s.strategy, seed: s.seed, budget: s.budget, round: s.round, order: place, score: s.score });
  }
  const counts = record.data;
  const sizes = { pool: prepared.splits.pool.length, probe: prepared.splits.probe.length, test: prepared.splits.test.length };
  if (counts && (counts.pool !== sizes.pool || counts.probe !== sizes.probe || counts.test !== sizes.test)) {
    mismatches.unshift(`the run split ${counts.pool}/${counts.probe}/${counts.test} pool/probe/test rows, the file now gives ${sizes.pool}/${sizes.probe}/${sizes.test}`);
  }

  const inspections = new Map<number, RowInspection>();
  for (const [index, entry] of rows) {
    const layers = stats.byExample.get(index);
    const statistic = layers?.get(chosen.layer)?.[chosen.statistic];
    inspections.set(index, { ...entry, ...(layers ? { layers } : {}), ...(statistic !== undefined ? { statistic } : {}) });
  }
  return {
    dir,
    record,
    config,
    prepared,
    layerCount,
    chosen,
    stats,
    rows: inspections,
    selections,
    ...(mismatches.length > 0 ? { stale: `the data file changed since the run: ${mismatches.join('; ')}` } : {}),
  };
}
