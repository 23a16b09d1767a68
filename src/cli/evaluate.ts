// `icl-lab evaluate`: the k-shot accuracy (classification) or exact match (generative) of a given
// list of demonstrations on the test split.
import type { Command } from 'commander';
import { macroF1 } from '../core/metrics/classificationMetrics.js';
import { evaluatePrompts } from '../core/quality/promptEvaluation.js';
import { addEngineOptions, withCliEngine, type EngineCliOptions } from './engineOptions.js';
import { addDatasetOptions } from './datasetOptions.js';
import { mean } from '../core/stats/descriptive.js';
import { nonNegativeInteger } from './optionParsers.js';
import { addPromptTaskOptions, preparePromptTaskOrReport, type PromptTaskCliOptions } from './promptTask.js';

interface EvaluateCliOptions extends EngineCliOptions, PromptTaskCliOptions {
  demos: number[];
}

export function registerEvaluateCommand(program: Command): void {
  const command = program.command('evaluate').description('k-shot accuracy / exact match of chosen demonstrations on the test split');
  addPromptTaskOptions(addEngineOptions(addDatasetOptions(command)))
    .requiredOption('--demos <list>', 'demonstrations, as row indices in the data file (the `example` key), in prompt order', (v) =>
      v.split(',').map((x) => nonNegativeInteger(x.trim())),
    )
    .action(async (options: EvaluateCliOptions) => {
      process.exitCode = await runEvaluate(options);
    });
}

async function runEvaluate(options: EvaluateCliOptions): Promise<number> {
  const prepared = await preparePromptTaskOrReport(options);
  if (!prepared) return 1;
  const { splits, template, task } = prepared;
  const byIndex = new Map([...splits.pool, ...splits.probe].map((row) => [row.index, row]));
  const demos = options.demos.map((index) => byIndex.get(index));
  const missing = options.demos.filter((_, i) => !demos[i]);
  if (missing.length > 0) {
    console.error(`error: demonstration rows ${missing.join(', ')} are not in the pool or probe set (test rows or outside the file)`);
    return 1;
  }
  if (splits.test.length === 0) {
    console.error('error: the test set is empty (--test)');
    return 1;
  }
  return withCliEngine(options, async (client) => {
    const result = await evaluatePrompts(client.promptScorer({ ...options, maxTokens: 0, stop: [] }), template, task, [demos.map((d) => d!)], splits.test);
    const meanOf = (name: string): number => mean(result.metrics.get(name)![0]!);
    const summary =
      task.type === 'classification'
        ? `accuracy ${meanOf('accuracy').toFixed(4)}, macro-F1 ${macroF1(result.predictions[0]!, splits.test.map((row) => row.label!)).toFixed(4)}, ` +
          `mean gold log-probability ${meanOf('gold_logprob').toFixed(4)}`
        : `exact match ${meanOf('em').toFixed(4)}, token F1 ${meanOf('f1').toFixed(4)}, ROUGE-L ${meanOf('rouge_l').toFixed(4)}, ` +
          `mean reference log-likelihood per token ${meanOf('reference_loglik').toFixed(4)}`;
    console.log(`${demos.length}-shot on ${splits.test.length} test rows: ${summary}`);
  });
}
