// The run configuration the wizard writes: the user's answers plus split sizes that fit the file.
// No vscode import (tested with mocha); the written YAML is what `icl-lab run` reads.
import path from 'node:path';
import { stringify } from 'yaml';

export interface WizardAnswers {
  readonly dataFile: string;
  readonly rows: number;
  readonly model: string;
  readonly inputs: readonly string[];
  /** Field holding a unique row id, when the file has one (selections and tooltips name rows by it). */
  readonly id?: string;
  readonly target: string;
  readonly task: 'classification' | 'generative';
  /** Classification: label values (verbalised as themselves unless `verbalizers` names their words). */
  readonly labels?: readonly string[];
  /** Classification: the word the model answers for a label (0 → negative). */
  readonly verbalizers?: Readonly<Record<string, string>>;
  readonly template?: string;
  readonly masks: readonly string[];
  readonly statistics: readonly string[];
  readonly strategies: readonly string[];
  readonly budgets: readonly number[];
  readonly engine: { readonly gpu: string; readonly contextSize: number; readonly batchSize: number; readonly maxSequences: number; readonly threads: number };
}

/**
 * Test, probe and pool sizes for a file of `rows`: the paper-sized 100 / 50 / 200 where the file is
 * large, else 30% / 15% / the rest, so a small file still runs.
 */
export function fittingSplit(rows: number): { test: number; probe: number; pool: number } {
  if (rows < 12) throw new RangeError(`the file has ${rows} rows; a run needs at least 12 (test, probe and pool sets)`);
  if (rows >= 350) return { test: 100, probe: 50, pool: 200 };
  const test = Math.max(3, Math.floor(rows * 0.3));
  const probe = Math.max(3, Math.floor(rows * 0.15));
  return { test, probe, pool: rows - test - probe };
}

/** The YAML text of the run configuration, with paths relative to `configDir`. */
export function runConfigDraft(answers: WizardAnswers, configDir: string): { text: string; split: ReturnType<typeof fittingSplit>; budgets: number[] } {
  const split = fittingSplit(answers.rows);
  const budgets = answers.budgets.filter((b) => b <= split.pool);
  if (budgets.length === 0) throw new RangeError(`every budget (${answers.budgets.join(', ')}) is larger than the pool of ${split.pool} examples`);
  const relative = (file: string): string => path.relative(configDir, file).split(path.sep).join('/') || '.';
  const config = {
    model: path.isAbsolute(answers.model) ? relative(answers.model) : answers.model,
    data: {
      file: relative(answers.dataFile),
      inputs: answers.inputs,
      ...(answers.id ? { id: answers.id } : {}),
      target: answers.target,
      task: answers.task,
      ...(answers.task === 'classification' && answers.labels ? { labels: Object.fromEntries(answers.labels.map((l) => [l, answers.verbalizers?.[l] ?? l])) } : {}),
    },
    split,
    ...(answers.template ? { template: relative(answers.template) } : {}),
    // An empty list would be refused: absent means every mask or statistic.
    ...(answers.masks.length > 0 ? { masks: answers.masks } : {}),
    ...(answers.statistics.length > 0 ? { statistics: answers.statistics } : {}),
    selection: { strategies: answers.strategies, budgets, rounds: Math.min(2, Math.min(...budgets)), seeds: [0, 1, 2] },
    seed: 0,
    engine: answers.engine,
  };
  const header = `# Written by ICL Lab's "Run Active Learning on Dataset…". Re-run with:\n#   npx icl-lab run ${path.basename(answers.dataFile).replace(/\.[^.]+$/, '')}.run.yaml --out DIR\n`;
  return { text: header + stringify(config), split, budgets };
}
