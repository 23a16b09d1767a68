// `icl-lab validate`: checks a dataset file against a spec (inputs, target, label set, ids) without
// a model, and prints how many rows are good or where the first bad ones are.
import type { Command } from 'commander';
import type { ClassLabel, DatasetRow, DatasetSpec, SkippedRow, TaskSpec } from '../core/dataset/datasetSpec.js';
import { addDatasetOptions, datasetSpecOf, datasetUsageProblem, type DatasetCliOptions } from './datasetOptions.js';
import { loadDataset } from '../core/dataset/loadDataset.js';
import { positiveNumber } from './optionParsers.js';

export interface ValidateCliOptions extends DatasetCliOptions {
  skipBadRows: boolean;
  maxLineMb: number;
}

/** Bad rows printed before the rest are only counted. */
const shownProblems = 20;

export function registerValidateCommand(program: Command): void {
  const command = program
    .command('validate')
    .description('check a dataset file (JSON Lines, JSON array, CSV, TSV) against its fields and label set, without a model');
  addDatasetOptions(command)
    .option('--skip-bad-rows', 'leave bad rows out (listed) instead of failing', false)
    .option('--max-line-mb <n>', 'longest line accepted, in MB', positiveNumber, 10)
    .action(async (options: ValidateCliOptions) => {
      process.exitCode = await runValidate(options);
    });
}

export async function runValidate(options: ValidateCliOptions): Promise<number> {
  const usage = datasetUsageProblem(options);
  if (usage) {
    console.error(`error: ${usage}`);
    return 1;
  }
  let spec: DatasetSpec;
  let rows: DatasetRow[];
  let skipped: SkippedRow[];
  try {
    spec = await datasetSpecOf(options);
    // Always loaded skipping bad rows, so that a failure can list the first few, not just one.
    ({ rows, skipped } = await loadDataset(spec, { badRows: 'skip', maxLineBytes: Math.round(options.maxLineMb * 1_000_000) }));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }

  const located = (s: SkippedRow): string => `${options.data}:${s.line}${s.column !== undefined ? `:${s.column}` : ''}: ${s.problem}`;
  const more = skipped.length - shownProblems;
  if (!options.skipBadRows && skipped.length > 0) {
    for (const s of skipped.slice(0, shownProblems)) console.error(`error: ${located(s)}`);
    if (more > 0) console.error(`… and ${more} more bad rows`);
    console.error(`${skipped.length} of ${rows.length + skipped.length} rows are bad (--skip-bad-rows leaves them out)`);
    return 1;
  }
  if (rows.length === 0) {
    console.error(`error: ${options.data}: no rows`);
    return 1;
  }

  console.log(`${rows.length} rows${skipped.length > 0 ? `, ${skipped.length} bad rows skipped` : ''}`);
  for (const s of skipped.slice(0, shownProblems)) console.log(`skipped ${located(s)}`);
  if (more > 0) console.log(`… and ${more} more skipped`);
  for (const line of targetSummary(spec.task, rows)) console.log(line);
  return 0;
}

/** Label counts in label-set order (naming labels that never occur), or the references per row. */
function targetSummary(task: TaskSpec | undefined, rows: readonly DatasetRow[]): string[] {
  if (task?.type === 'generative') {
    let fewest = Infinity;
    let most = 0;
    let total = 0;
    for (const row of rows) {
      const n = row.references!.length;
      fewest = Math.min(fewest, n);
      most = Math.max(most, n);
      total += n;
    }
    return [`references per row: ${fewest} to ${most} (mean ${(total / rows.length).toFixed(2)})`];
  }
  if (task?.type !== 'classification') return [];
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.label!, (counts.get(row.label!) ?? 0) + 1);
  const labels = task.labels ?? [...counts.keys()].sort().map((value) => ({ value, verbalizer: value }));
  const named = (l: ClassLabel): string => (l.verbalizer === l.value ? l.value : `${l.value} (${l.verbalizer})`);
  const lines = [`labels: ${labels.map((l) => `${named(l)} ${counts.get(l.value) ?? 0}`).join(', ')}`];
  const absent = labels.filter((l) => !counts.has(l.value)).map((l) => l.value);
  if (absent.length > 0) lines.push(`note: no row has label ${absent.join(', ')}`);
  return lines;
}
