// `icl-lab correlate`: Spearman's ρ between every activation statistic (stats.csv) and every
// example-quality measure (quality.csv), with p, BH q-values and bootstrap intervals.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { correlate, correlationsCsv, qualityByCell, readStatsCsv, readTokenCounts } from '../core/experiment/correlations.js';
import { buildHeadline, describeCorrelation, qualityReliability } from '../core/experiment/headline.js';
import { readQualityRows } from '../core/report/runFolderFiles.js';
import { nonNegativeInteger } from './optionParsers.js';

export interface CorrelateCliOptions {
  stats: string[];
  quality: string;
  out: string;
  bootstrap: number;
  maxBootstrap: number;
  permutations: number;
  seed: number;
}

export function registerCorrelateCommand(program: Command): void {
  program
    .command('correlate')
    .description('Spearman correlations between activation statistics and example quality, written to correlations.csv')
    .requiredOption('--stats <file>', 'stats.csv from extract (repeatable: one per mask)', (value: string, previous?: string[]) => [...(previous ?? []), value])
    .requiredOption('--quality <file>', 'quality.csv from quality')
    .requiredOption('--out <file>', 'correlations CSV to write')
    .option('--bootstrap <n>', 'bootstrap resamples for the 95% interval (0: none)', nonNegativeInteger, 1000)
    .option('--max-bootstrap <n>', "resamples of the headline's max-aware interval (the largest |ρ| re-selected in each; 0: none)", nonNegativeInteger, 500)
    .option('--permutations <n>', "permutations of quality for the headline's family-wise p (0: none)", nonNegativeInteger, 500)
    .option('--seed <s>', 'bootstrap and permutation seed', nonNegativeInteger, 0)
    .action(async (options: CorrelateCliOptions) => {
      process.exitCode = await runCorrelate(options);
    });
}

export async function runCorrelate(options: CorrelateCliOptions): Promise<number> {
  try {
    const stats = await readStatsCsv(options.stats);
    const qualityRows = await readQualityRows(options.quality);
    const quality = qualityByCell(qualityRows);
    const rows = correlate(stats, quality, {
      bootstrapResamples: options.bootstrap,
      seed: options.seed,
      tokenCounts: await readTokenCounts(options.stats),
    });
    if (rows.length === 0) {
      console.error('error: no statistic and quality measure share an example');
      return 1;
    }
    await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    await writeFile(options.out, correlationsCsv(rows));
    console.log(`${rows.length} correlations → ${options.out}`);
    const { overall } = buildHeadline(rows, stats, quality, qualityReliability(qualityRows), [], {
      maxResamples: options.maxBootstrap,
      permutations: options.permutations,
      seed: options.seed,
    });
    if (overall) console.log(describeCorrelation(overall));
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
}
