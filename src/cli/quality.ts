// `icl-lab quality`: measures every pool candidate's example quality (one-shot gain or k-shot
// influence) on the probe set and writes quality.csv.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { qualityCsv } from '../core/format/qualityCsv.js';
import { defaultInfluenceAppearances, influencePromptCount, kShotInfluence, oneShotGain, qualityEstimators, type QualityEstimator } from '../core/quality/exampleQuality.js';
import { evaluatePrompts } from '../core/quality/promptEvaluation.js';
import { addEngineOptions, withCliEngine, type EngineCliOptions } from './engineOptions.js';
import { addDatasetOptions } from './datasetOptions.js';
import { positiveInteger } from './optionParsers.js';
import { addPromptTaskOptions, preparePromptTaskOrReport, type PromptTaskCliOptions } from './promptTask.js';

export interface QualityCliOptions extends EngineCliOptions, PromptTaskCliOptions {
  estimator: QualityEstimator;
  shots: number;
  prompts?: number;
  out: string;
}

export function registerQualityCommand(program: Command): void {
  const command = program.command('quality').description("measure each candidate's example quality on the probe set and write quality.csv");
  addPromptTaskOptions(addEngineOptions(addDatasetOptions(command)))
    .addOption(new Option('--estimator <name>', 'one-shot gain or k-shot influence').choices(qualityEstimators).default('one-shot'))
    .option('--shots <k>', 'influence: demonstrations per random prompt', positiveInteger, 4)
    .option('--prompts <m>', `influence: prompts drawn (default: ${defaultInfluenceAppearances} × ⌈pool size ÷ shots⌉, so each candidate is in at least ${defaultInfluenceAppearances})`, positiveInteger)
    .requiredOption('--out <file>', 'quality CSV to write')
    .action(async (options: QualityCliOptions) => {
      process.exitCode = await runQuality(options);
    });
}

export async function runQuality(options: QualityCliOptions): Promise<number> {
  const prepared = await preparePromptTaskOrReport(options);
  if (!prepared) return 1;
  const { splits, template, task } = prepared;
  if (splits.pool.length === 0 || splits.probe.length === 0) {
    console.error('error: the pool and the probe set need at least one row each');
    return 1;
  }
  return withCliEngine(options, async (client) => {
    const scorer = client.promptScorer({ ...options, maxTokens: 0, stop: [] });
    let evaluated = 0;
    let minimum = 0;
    const started = performance.now();
    const evaluate = async (prompts: Parameters<typeof evaluatePrompts>[3]) => {
      // One-shot gain differences prompts on the same probes: each prompt gets the same window layout.
      const result = await evaluatePrompts(scorer, template, task, prompts, splits.probe, { ownWindows: options.estimator === 'one-shot' });
      evaluated += result.evaluatedTokens;
      minimum += result.minimumTokens;
      return result;
    };
    const rows =
      options.estimator === 'one-shot'
        ? await oneShotGain(splits.pool, evaluate)
        : await kShotInfluence(splits.pool, evaluate, {
            shots: options.shots,
            prompts: options.prompts ?? influencePromptCount(splits.pool.length, options.shots),
            seed: options.seed,
          });
    await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    await writeFile(options.out, qualityCsv(rows));
    console.log(
      `${splits.pool.length} candidates × ${splits.probe.length} probes (${options.estimator}) → ${options.out}; ` +
        `${evaluated} tokens evaluated, ${(evaluated / Math.max(minimum, 1)).toFixed(3)}× the minimum, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  });
}
