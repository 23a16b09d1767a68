// `icl-lab prompt RUN --strategy S --seed N --budget K [--query ID]`: the exact prompt a finished run
// put before the model (core/inspect/promptPreview.ts renders it as the evaluate phase does), the
// same text Preview In-Context Prompt shows in the editor.
import { recordedModel } from '../core/experiment/modelLabel.js';
import path from 'node:path';
import type { Command } from 'commander';
import { formatPromptDocument } from '../core/inspect/promptDocument.js';
import { buildPromptPreview, promptChoices } from '../core/inspect/promptPreview.js';
import { loadRunIndex } from '../core/inspect/runIndex.js';
import { nonNegativeInteger } from './optionParsers.js';

export interface PromptCliOptions {
  strategy: string;
  seed: number;
  budget: number;
  query?: string;
  annotated: boolean;
}

export function registerPromptCommand(program: Command): void {
  program
    .command('prompt')
    .description('print the exact prompt a finished run scored for one selection and one query')
    .argument('<run>', 'run folder written by `icl-lab run`')
    .requiredOption('--strategy <name>', 'selection strategy (as in selections.csv, or kate / bm25)')
    .requiredOption('--seed <n>', 'selection seed', nonNegativeInteger)
    .requiredOption('--budget <k>', 'budget', nonNegativeInteger)
    .option('--query <id>', "the query row's id (default: the first test row)")
    .option('--annotated', 'print the pieces with marker lines (instruction, each demonstration with its row, the query), as the editor shows them', false)
    .action(async (run: string, options: PromptCliOptions) => {
      process.exitCode = await runPromptCommand(run, options);
    });
}

export async function runPromptCommand(run: string, options: PromptCliOptions): Promise<number> {
  try {
    const index = await loadRunIndex(path.resolve(run));
    let query: number | undefined;
    if (options.query !== undefined) {
      const found = [...index.rows.values()].find((r) => r.row.id === options.query);
      if (!found) throw new Error(`no row with id ${JSON.stringify(options.query)} in the run's splits (pool, probe, test) of ${index.config.data.file}`);
      query = found.row.index;
    }
    const choice = { strategy: options.strategy, seed: options.seed, budget: options.budget };
    const known = promptChoices(index);
    if (!known.some((c) => c.strategy === choice.strategy && c.seed === choice.seed && c.budget === choice.budget)) {
      const strategies = [...new Set(known.map((c) => c.strategy))].join(', ');
      throw new Error(`the run evaluated no prompt for ${choice.strategy}, seed ${choice.seed}, budget ${choice.budget} (strategies: ${strategies}; seeds ${index.config.selection.seeds.join(', ')}; budgets ${index.config.selection.budgets.join(', ')})`);
    }
    const preview = await buildPromptPreview(index, choice, query);
    for (const warning of preview.warnings) console.error(`warning: ${warning}`);
    if (options.annotated) {
      const model = recordedModel(index.record, index.dir);
      process.stdout.write(formatPromptDocument(preview, { runName: path.basename(index.dir), templateName: index.config.template ?? `the built-in ${index.config.data.task} template`, model: `${model.architecture}, ${model.layers} layers, ${path.basename(model.path)}` }));
    } else {
      // The prompt's exact bytes, nothing added: the model's answer would follow the last character.
      process.stdout.write(preview.text);
    }
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
}
