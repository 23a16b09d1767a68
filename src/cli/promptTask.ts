// What quality and evaluate share: the dataset split, the template and the task, checked before
// any model is loaded so mistakes cost nothing.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { DatasetSpec } from '../core/dataset/datasetSpec.js';
import { loadSplits, type DatasetSplits } from '../core/dataset/splits.js';
import type { ClassificationTask, GenerativeTask } from '../core/quality/promptEvaluation.js';
import { defaultTemplateFor } from '../core/template/defaultTemplates.js';
import type { Template } from '../core/template/template.js';
import { checkTemplateFields } from '../core/template/templateFields.js';
import { parseTemplate } from '../core/template/templateParser.js';
import { datasetSpecOf, datasetUsageProblem, type DatasetCliOptions } from './datasetOptions.js';
import { nonNegativeInteger, positiveInteger } from './optionParsers.js';

export interface PromptTaskCliOptions extends DatasetCliOptions {
  template?: string;
  probe: number;
  test: number;
  poolSize?: number;
  seed: number;
  lengthNormalize: boolean;
  maxTokens: number;
  stop: string[];
  skipBadRows: boolean;
}

export function addPromptTaskOptions(command: Command): Command {
  return command
    .option('--template <file>', 'prompt template (*.icl.tmpl; default: the built-in one for the task)')
    .option('--probe <n>', 'probe (dev) rows, drawn by the seeded split', nonNegativeInteger, 50)
    .option('--test <n>', 'test rows, drawn first by the seeded split', nonNegativeInteger, 100)
    .option('--pool-size <n>', 'candidate rows (default: every row the probe and test sets leave)', positiveInteger)
    .option('--seed <s>', 'seed of the split and of every random choice', nonNegativeInteger, 0)
    .option('--length-normalize', 'compare labels by log-probability per token', false)
    .option('--max-tokens <n>', 'generative: most tokens generated per answer', positiveInteger, 32)
    .option('--stop <text>', 'generative: stop string (repeatable; default: a newline)', (value: string, previous?: string[]) => [...(previous ?? []), value])
    .option('--skip-bad-rows', 'leave bad rows out (listed) instead of failing', false);
}

export interface PromptTask {
  readonly spec: DatasetSpec;
  readonly splits: DatasetSplits;
  readonly template: Template;
  readonly task: ClassificationTask | GenerativeTask;
  /** `file:line[:column]: problem` of every row left out by --skip-bad-rows. */
  readonly skipped: readonly string[];
}

/** Everything but the model, or a message for the user. */
export async function preparePromptTask(options: PromptTaskCliOptions): Promise<PromptTask | string> {
  const usage = datasetUsageProblem(options) ?? (options.target === undefined ? 'give the --target field' : undefined);
  if (usage) return usage;
  const spec = await datasetSpecOf(options);
  const template = options.template
    ? parseTemplate(await readFile(options.template, 'utf8'), options.template)
    : defaultTemplateFor(options.task === 'generative' ? 'generative' : 'classification', spec.inputs);
  checkTemplateFields(template, spec.inputs);
  const { splits, skipped } = await loadSplits({
    from: 'one-file',
    data: spec,
    sizes: { probe: options.probe, test: options.test, ...(options.poolSize !== undefined ? { pool: options.poolSize } : {}) },
    seed: options.seed,
  }, { badRows: options.skipBadRows ? 'skip' : 'fail' });
  let task: ClassificationTask | GenerativeTask;
  if (options.task === 'generative') {
    task = { type: 'generative', maxTokens: options.maxTokens, stop: options.stop ?? ['\n'] };
  } else {
    const declared = spec.task?.type === 'classification' ? spec.task.labels : undefined;
    // Without a declared label set, the labels seen in the data are their own verbalizers.
    const seen = [...new Set(Object.values(splits).flat().map((row) => row.label!))].sort();
    task = { type: 'classification', labels: declared ?? seen.map((value) => ({ value, verbalizer: value })), scoring: options.lengthNormalize ? 'mean' : 'sum' };
  }
  const located = skipped.map((row) => `${row.file}:${row.line}${row.column !== undefined ? `:${row.column}` : ''}: ${row.problem}`);
  return { spec, splits, template, task, skipped: located };
}

/** preparePromptTask, with problems and skipped rows printed to stderr; undefined means exit 1. */
export async function preparePromptTaskOrReport(options: PromptTaskCliOptions): Promise<PromptTask | undefined> {
  let prepared: PromptTask | string;
  try {
    prepared = await preparePromptTask(options);
  } catch (error) {
    prepared = (error as Error).message;
  }
  if (typeof prepared === 'string') {
    console.error(`error: ${prepared}`);
    return undefined;
  }
  for (const row of prepared.skipped) console.error(`skipped ${row}`);
  return prepared;
}
