// Loads a dataset file as a spec describes it: streamed row by row, each row checked (inputs
// present and non-empty, label in the label set, ids unique), every problem located at file:line.
// With `spec.humanLabelsFile`, human labels from the sidecar beside the file are merged in.
import { readFile } from 'node:fs/promises';
import { readLabelSidecar, type HumanLabel } from '../labelling/labelSidecar.js';
import { DatasetError } from './datasetError.js';
import { datasetFormatOf, readSourceRecords } from './datasetFormat.js';
import { datasetSpecProblems, type DatasetRow, type DatasetSpec, type SkippedRow } from './datasetSpec.js';
import { defaultMaxLineBytes } from './lineReader.js';
import { describeJsonValue, type FieldLocation, type SourceRecord } from './sourceRecord.js';

export interface LoadOptions {
  /** 'fail' (the default): the first bad row throws a DatasetError. 'skip': bad rows are left out and listed. */
  readonly badRows?: 'fail' | 'skip';
  /** Longest line (CSV: record; JSON array: element) accepted, in bytes. Default 10 MB. */
  readonly maxLineBytes?: number;
  /** Stops the read between rows, rejecting with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface LoadedDataset {
  readonly rows: DatasetRow[];
  /** Rows left out under `badRows: 'skip'`, in file order (always empty under 'fail'). */
  readonly skipped: SkippedRow[];
}

export async function loadDataset(spec: DatasetSpec, options: LoadOptions = {}): Promise<LoadedDataset> {
  const rows: DatasetRow[] = [];
  const skipped: SkippedRow[] = [];
  for await (const item of readDatasetRows(spec, options)) {
    if (!('problem' in item)) rows.push(item);
    else if (options.badRows === 'skip') skipped.push(item);
    else throw new DatasetError(spec.file, item.line, item.problem, item.column);
  }
  return { rows, skipped };
}

/**
 * The file's rows in order, each checked against the spec: a DatasetRow, or the problem that spoils
 * it. Problems that spoil the whole file (unreadable, not UTF-8 in CSV, broken JSON array
 * structure) are thrown as DatasetError; a spec that cannot work is thrown as an Error up front.
 */
export async function* readDatasetRows(spec: DatasetSpec, options: LoadOptions = {}): AsyncGenerator<DatasetRow | SkippedRow> {
  const problems = datasetSpecProblems(spec);
  if (problems.length > 0) throw new Error(`invalid dataset spec: ${problems.join('; ')}`);
  const format = spec.format ?? datasetFormatOf(spec.file);
  // With a labels file the target may be missing altogether: the pool is labelled beside the file.
  const requiredFields = [...spec.inputs, ...(spec.id !== undefined ? [spec.id] : []), ...(spec.task && spec.humanLabelsFile === undefined ? [spec.task.target] : [])];
  const humanLabels = spec.humanLabelsFile !== undefined ? await sidecarLabels(spec.humanLabelsFile) : undefined;
  const labelSet = spec.task?.type === 'classification' && spec.task.labels ? new Set(spec.task.labels.map((l) => l.value)) : undefined;
  const idLines = new Map<string, number>();
  const fileIds = new Set<string>();
  let index = 0;
  for await (const record of readSourceRecords(spec.file, format, { maxLineBytes: options.maxLineBytes ?? defaultMaxLineBytes, requiredFields })) {
    options.signal?.throwIfAborted();
    const row = 'problem' in record ? record : checkedRow(record, index, spec, labelSet, idLines, humanLabels);
    // Every id the file has, a bad row's too: its label is reported with the row, not as unknown.
    if (humanLabels && spec.id !== undefined && !('problem' in record)) {
      const id = scalarText(Object.hasOwn(record.fields, spec.id) ? record.fields[spec.id] : undefined);
      if (id !== undefined) fileIds.add(id);
    }
    index++;
    yield row;
  }
  // A human label whose id no row of the file has (a row deleted or its id edited) is reported, never dropped silently.
  if (humanLabels) {
    const known = (id: string): boolean => (spec.id === undefined ? Number(id) < index && /^\d+$/.test(id) : fileIds.has(id));
    const unknown = [...humanLabels.entries()].filter(([id]) => !known(id));
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 5).map(([id, h]) => `${spec.humanLabelsFile}:${h.line}: id ${JSON.stringify(id)}`);
      throw new Error(`${unknown.length} human label${unknown.length === 1 ? ' is' : 's are'} for ids no row of ${spec.file} has: ${shown.join('; ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}; fix or remove ${unknown.length === 1 ? 'that line' : 'those lines'}`);
    }
  }
}

type FieldsRecord = Extract<SourceRecord, { fields: unknown }>;

function checkedRow(
  record: FieldsRecord,
  index: number,
  spec: DatasetSpec,
  labelSet: ReadonlySet<string> | undefined,
  idLines: Map<string, number>,
  humanLabels?: ReadonlyMap<string, HumanLabel>,
): DatasetRow | SkippedRow {
  const field = (name: string): unknown => (Object.hasOwn(record.fields, name) ? record.fields[name] : undefined);
  const bad = (name: string, problem: string): SkippedRow => {
    const at: FieldLocation = record.locate?.(name) ?? { line: record.line };
    return at.column === undefined ? { line: at.line, problem } : { line: at.line, column: at.column, problem };
  };

  const inputs: Record<string, string> = {};
  for (const name of spec.inputs) {
    const value = field(name);
    if (typeof value !== 'string') return bad(name, wrongKind(name, value, 'a string'));
    if (value.trim() === '') return bad(name, `field "${name}" is empty`);
    inputs[name] = value;
  }

  let label: string | undefined;
  let references: string[] | undefined;
  const task = spec.task;
  // A human label (spec.humanLabelsFile) wins over the file's; with a labels file, a row labelled nowhere is unlabelled, not bad.
  const human = humanLabels?.get(spec.id === undefined ? String(index) : (scalarText(field(spec.id)) ?? ''));
  const unlabelled = humanLabels !== undefined && human === undefined && isBlank(field(task?.target ?? ''));
  if (task?.type === 'classification' && human) {
    label = human.label;
    if (labelSet && !labelSet.has(label)) return bad(task.target, `label "${label}" (${spec.humanLabelsFile}:${human.line}) is not in the label set (${[...labelSet].join(', ')})`);
  } else if (task?.type === 'generative' && human) {
    references = [human.label];
  } else if (unlabelled) {
    // Left without a label: a candidate for the labeller.
  } else if (task?.type === 'classification') {
    const value = field(task.target);
    label = scalarText(value);
    if (label === undefined) return bad(task.target, wrongKind(task.target, value, 'a string or number'));
    if (label.trim() === '') return bad(task.target, `field "${task.target}" is empty`);
    if (labelSet && !labelSet.has(label)) return bad(task.target, `label "${label}" is not in the label set (${[...labelSet].join(', ')})`);
  } else if (task?.type === 'generative') {
    const value = field(task.target);
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) return bad(task.target, `field "${task.target}" is an empty list`);
    references = [];
    for (const [k, item] of items.entries()) {
      const text = scalarText(item);
      const which = Array.isArray(value) ? ` (item ${k + 1})` : '';
      if (text === undefined) return bad(task.target, Array.isArray(value) ? `field "${task.target}" has an item that is ${describeJsonValue(item)}${which}` : wrongKind(task.target, value, 'a string or a list of strings'));
      if (text.trim() === '') return bad(task.target, `field "${task.target}" has an empty answer${which}`);
      references.push(text);
    }
  }

  let id = String(index);
  if (spec.id !== undefined) {
    const value = field(spec.id);
    const text = scalarText(value);
    if (text === undefined || typeof value === 'boolean') return bad(spec.id, wrongKind(spec.id, value, 'a string or number'));
    if (text.trim() === '') return bad(spec.id, `field "${spec.id}" is empty`);
    id = text;
  }
  const firstLine = idLines.get(id);
  if (firstLine !== undefined) return bad(spec.id ?? '', `duplicate id "${id}" (first on line ${firstLine})`);
  idLines.set(id, record.line);

  return {
    index,
    line: record.line,
    id,
    inputs,
    ...(label !== undefined ? { label } : {}),
    ...(references !== undefined ? { references } : {}),
  };
}

/** The current human label of each id; a sidecar line that is JSON but not a label entry is an error, a torn line is skipped. */
async function sidecarLabels(file: string): Promise<ReadonlyMap<string, HumanLabel>> {
  const sidecar = await readLabelSidecar(file);
  const wrong = sidecar.problems.find((p) => p.kind === 'invalid');
  if (wrong) throw new DatasetError(file, wrong.line, `${wrong.problem}${(await looksLikeLabelMap(file)) ? ' — this file is a label → verbalizer map (labels.json), not human labels: give it as data.verbalizers' : ''}`);
  return sidecar.labels;
}

/** Whether the whole file is one JSON object of strings: a labels.json given where human labels belong. */
async function looksLikeLabelMap(file: string): Promise<boolean> {
  try {
    const value: unknown = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
  } catch {
    return false;
  }
}

/** No label given: absent, null, or only whitespace (an empty list of answers included). */
function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);
}

/** Labels and answers may be written as numbers or booleans: 0 and "0" are the same label. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  return undefined;
}

function wrongKind(name: string, value: unknown, expected: string): string {
  return value === undefined ? `missing field "${name}"` : `field "${name}" is ${describeJsonValue(value)}, not ${expected}`;
}
