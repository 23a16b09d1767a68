// What a dataset file holds and which fields mean what: the contract between a data file and the
// rest of the lab (templates, selection, scoring), checked row by row when the file is loaded.
import type { DatasetFormat } from './datasetFormat.js';

/** A class: its value as written in the data (compared as a string) and the words the model should produce for it. */
export interface ClassLabel {
  readonly value: string;
  readonly verbalizer: string;
}

export type TaskSpec =
  | {
      readonly type: 'classification';
      /** Field holding the label; numbers and booleans are read as their string form (0 → "0"). */
      readonly target: string;
      /** The label set; when absent, any non-empty label is accepted. */
      readonly labels?: readonly ClassLabel[];
    }
  | {
      readonly type: 'generative';
      /** Field holding the reference answer: a string, or a list of accepted answers. */
      readonly target: string;
    };

export interface DatasetSpec {
  readonly file: string;
  /** Default: from the file's extension. */
  readonly format?: DatasetFormat;
  /** Fields making up the example's input, in order (`text`, or `premise` and `hypothesis`). */
  readonly inputs: readonly string[];
  /** Field holding a unique id; default: the row index. */
  readonly id?: string;
  /** Absent for unlabelled data (extraction needs only the inputs). */
  readonly task?: TaskSpec;
  /**
   * Human labels kept beside the file (`<file>.labels.jsonl`, src/core/labelling/labelSidecar.ts):
   * a row's label there wins over the target field, and a row labelled in neither place loads
   * without a label instead of being a bad row. Needs `task`.
   */
  readonly humanLabelsFile?: string;
}

export interface DatasetRow {
  /** 0-based index among the file's data rows (blank lines and a CSV header are not rows): the `example` key used across the lab. */
  readonly index: number;
  /** 1-based line where the row starts (a CSV header is line 1). */
  readonly line: number;
  readonly id: string;
  readonly inputs: Readonly<Record<string, string>>;
  /** Classification: the label's value. */
  readonly label?: string;
  /** Generative: the accepted answers, at least one. */
  readonly references?: readonly string[];
}

/** A row left out by `badRows: 'skip'`, with why. */
export interface SkippedRow {
  readonly line: number;
  readonly column?: number;
  readonly problem: string;
}

/** What is wrong with the spec itself, before any file is read (empty when nothing is). */
export function datasetSpecProblems(spec: DatasetSpec): string[] {
  const problems: string[] = [];
  if (spec.inputs.length === 0) problems.push('no input field given');
  const repeated = spec.inputs.filter((field, i) => spec.inputs.indexOf(field) !== i);
  if (repeated.length > 0) problems.push(`input field "${repeated[0]}" is given twice`);
  for (const field of [...spec.inputs, spec.id, spec.task?.target]) {
    if (field !== undefined && field.trim() === '') problems.push('a field name is empty');
  }
  if (spec.task && spec.inputs.includes(spec.task.target)) problems.push(`field "${spec.task.target}" is both an input and the target`);
  if (spec.humanLabelsFile !== undefined && spec.humanLabelsFile.trim() === '') problems.push('the labels file name is empty');
  if (spec.humanLabelsFile !== undefined && !spec.task) problems.push('a labels file needs a task (the target field and label set) to merge into');
  if (spec.task?.type === 'classification' && spec.task.labels) {
    const { labels } = spec.task;
    if (labels.length === 0) problems.push('the label set is empty');
    const values = new Set<string>();
    const verbalizers = new Map<string, string>();
    for (const label of labels) {
      if (label.value === '') problems.push('a label value is empty');
      if (label.verbalizer.trim() === '') problems.push(`label "${label.value}" has an empty verbalizer`);
      if (values.has(label.value)) problems.push(`label "${label.value}" is listed twice`);
      const other = verbalizers.get(label.verbalizer);
      if (other !== undefined) problems.push(`labels "${other}" and "${label.value}" have the same verbalizer "${label.verbalizer}"`);
      values.add(label.value);
      verbalizers.set(label.verbalizer, label.value);
    }
  }
  return problems;
}
