// The dataset options shared by every command that reads a labelled dataset (validate, quality,
// evaluate): which file, which fields, which task and label set.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { datasetFormats, type DatasetFormat } from '../core/dataset/datasetFormat.js';
import type { ClassLabel, DatasetSpec, TaskSpec } from '../core/dataset/datasetSpec.js';
import { parseLabelList, readLabelsFile } from '../core/dataset/labelSet.js';

export interface DatasetCliOptions {
  data: string;
  format?: DatasetFormat;
  input?: string[];
  target?: string;
  id?: string;
  task: TaskSpec['type'];
  labels?: ClassLabel[];
  labelsFile?: string;
}

export function addDatasetOptions(command: Command): Command {
  return command
    .requiredOption('--data <file>', 'dataset file (.jsonl, .json, .csv or .tsv)')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(datasetFormats))
    .option('--input <field>', 'field holding (part of) the input; repeat for several (premise, hypothesis)', (value: string, previous?: string[]) => [...(previous ?? []), value])
    .option('--target <field>', 'field holding the label (classification) or the reference answers (generative)')
    .option('--id <field>', 'field holding a unique row id (default: the row index)')
    .addOption(new Option('--task <type>', 'what the target holds').choices(['classification', 'generative']).default('classification'))
    .option('--labels <list>', 'label set with verbalizers, 0=negative,1=positive (or a,b,c: each label is its own verbalizer)', labelList)
    .option('--labels-file <file>', "JSON object mapping each label to its verbalizer (like the datasets' labels.json)");
}

function labelList(value: string): ClassLabel[] {
  try {
    return parseLabelList(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function datasetUsageProblem(options: DatasetCliOptions): string | undefined {
  if (!options.input?.length) return 'give at least one --input field';
  if (options.labels && options.labelsFile) return 'give --labels or --labels-file, not both';
  if ((options.labels || options.labelsFile) && options.task !== 'classification') return '--labels and --labels-file are for --task classification';
  if ((options.labels || options.labelsFile || options.task === 'generative') && !options.target) return 'give the --target field';
  return undefined;
}

export async function datasetSpecOf(options: DatasetCliOptions): Promise<DatasetSpec> {
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
