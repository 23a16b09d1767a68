// The dataset a finished run read, found again from its run.json: what the report and the panels
// show beside example ids (the example's own text, escaped where it is shown).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadDataset } from '../dataset/loadDataset.js';
import { exampleText } from '../experiment/runExperiment.js';
import { datasetFormats, type DatasetFormat } from '../dataset/datasetFormat.js';
import type { ClassLabel, DatasetSpec } from '../dataset/datasetSpec.js';
import { jsonField } from './runFolderFiles.js';

function stringField(obj: unknown, ...keys: string[]): string | undefined {
  const value = jsonField(obj, ...keys);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The dataset spec a run read its examples with (run.json's `config.data`, as prepareRun builds
 * it), or why there is none. A relative file is taken from the config file's folder.
 */
export function datasetSpecOfRun(run: unknown): { spec: DatasetSpec } | { problem: string } {
  const data = jsonField(run, 'config', 'data');
  const file = stringField(data, 'file');
  const inputs = jsonField(data, 'inputs');
  if (!file) return { problem: 'run.json names no dataset file (config.data.file)' };
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((i) => typeof i === 'string')) {
    return { problem: 'run.json names no input fields (config.data.inputs)' };
  }
  const configFile = stringField(run, 'config', 'configFile');
  const resolved = path.isAbsolute(file) || !configFile ? file : path.resolve(path.dirname(configFile), file);
  const format = stringField(data, 'format');
  const id = stringField(data, 'id');
  const target = stringField(data, 'target');
  const labels = jsonField(data, 'labels');
  const task = stringField(data, 'task') ?? 'classification';
  const labelList = Array.isArray(labels) && labels.every((l) => typeof jsonField(l, 'value') === 'string' && typeof jsonField(l, 'verbalizer') === 'string') ? (labels as ClassLabel[]) : undefined;
  return {
    spec: {
      file: resolved,
      ...(format && (datasetFormats as readonly string[]).includes(format) ? { format: format as DatasetFormat } : {}),
      inputs: inputs as string[],
      ...(id ? { id } : {}),
      ...(target ? { task: task === 'generative' ? { type: 'generative', target } : { type: 'classification', target, ...(labelList ? { labels: labelList } : {}) } } : {}),
    },
  };
}

/** One example as the report and panels show it: id, its input text and where its row starts. */
export interface ExampleRecord {
  readonly id: string;
  readonly text: string;
  readonly line: number;
}

export interface DatasetExamples {
  readonly file: string;
  readonly byExample: ReadonlyMap<number, ExampleRecord>;
}

/** The run's dataset rows by example (row index), or why they cannot be read (shown by ids only then). */
export async function runExamples(run: unknown): Promise<DatasetExamples | { problem: string }> {
  const found = datasetSpecOfRun(run);
  if ('problem' in found) return found;
  const { spec } = found;
  if (!(await stat(spec.file).then((s) => s.isFile(), () => false))) return { problem: `dataset file ${spec.file} not found` };
  try {
    const { rows } = await loadDataset(spec, { badRows: 'skip' });
    const byExample = new Map<number, ExampleRecord>();
    for (const row of rows) byExample.set(row.index, { id: row.id, text: exampleText(row, spec.inputs), line: row.line });
    return { file: spec.file, byExample };
  } catch (error) {
    return { problem: `dataset ${spec.file} could not be read: ${(error as Error).message}` };
  }
}
