// `icl-lab validate`: checks a dataset file against a spec (inputs, target, label set, ids) without
// a model, and prints how many rows are good or where the first bad ones are.
import { Option, InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { datasetFormats, type DatasetFormat } from '../core/dataset/datasetFormat.js';
import type { ClassLabel, DatasetRow, DatasetSpec, SkippedRow, TaskSpec } from '../core/dataset/datasetSpec.js';
import { parseLabelList, readLabelsFile } from '../core/dataset/labelSet.js';
import { loadDataset } from '../core/dataset/loadDataset.js';
import { positiveNumber } from './optionParsers.js';

export interface ValidateCliOptions {
  data: string;
  format?: DatasetFormat;
  input?: string[];
  target?: string;
  id?: string;
  task: TaskSpec['type'];
  labels?: ClassLabel[];
  labelsFile?: string;
  skipBadRows: boolean;
  maxLineMb: number;
}

/** Bad rows printed before the rest are only counted. */
const shownProblems = 20;

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a dataset file (JSON Lines, JSON array, CSV, TSV) against its fields and label set, without a model')
    .requiredOption('--data <file>', 'dataset file (.jsonl, .json, .csv or .tsv)')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(datasetFormats))
    .option('--input <field>', 'field holding (part of) the input; repeat for several (premise, hypothesis)', (value: string, previous?: string[]) => [...(previous ?? []), value])
    .option('--target <field>', 'field holding the label (classification) or the reference answers (generative)')
    .option('--id <field>', 'field holding a unique row id (default: the row index)')
    .addOption(new Option('--task <type>', 'what the target holds').choices(['classification', 'generative']).default('classification'))
    .option('--labels <list>', 'label set with verbalizers, 0=negative,1=positive (or a,b,c: each label is its own verbalizer)', labelList)
    .option('--labels-file <file>', 'JSON object mapping each label to its verbalizer (like the datasets\' labels.json)')
    .option('--skip-bad-rows', 'leave bad rows out (listed) instead of failing', false)
    .option('--max-line-mb <n>', 'longest line accepted, in MB', positiveNumber, 10)
    .action(async (options: ValidateCliOptions) => {
      process.exitCode = await runValidate(options);
    });
}

function labelList(value: string): ClassLabel[] {
  try {
    return parseLabelList(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export async function runValidate(options: ValidateCliOptions): Promise<number> {
  const usage = usageProblem(options);
  if (usage) {
    console.error(`error: ${usage}`);
    return 1;
  }
  let spec: DatasetSpec;
  let rows: DatasetRow[];
  let skipped: SkippedRow[];
  try {
    spec = await datasetSpec(options);
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

function usageProblem(options: ValidateCliOptions): string | undefined {
  if (!options.input?.length) return 'give at least one --input field';
  if (options.labels && options.labelsFile) return 'give --labels or --labels-file, not both';
  if ((options.labels || options.labelsFile) && options.task !== 'classification') return '--labels and --labels-file are for --task classification';
  if ((options.labels || options.labelsFile || options.task === 'generative') && !options.target) return 'give the --target field';
  return undefined;
}

async function datasetSpec(options: ValidateCliOptions): Promise<DatasetSpec> {
  const labels = options.labelsFile ? await readLabelsFile(options.labelsFile) : options.labels;
  let task: TaskSpec | undefined;
  if (options.target !== undefined) {
    task = options.task === 'generative' ? { type: 'generative', target: options.target } : { type: 'classification', target: options.target, ...(labels ? { labels } : {}) };
  }
  return {
    file: options.data,
    ...(options.format ? { format: options.format } : {}),
    inputs: options.input ?? [],
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(task ? { task } : {}),
  };
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
