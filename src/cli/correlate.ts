// `icl-lab correlate`: Spearman's ρ between every activation statistic (stats.csv) and every
// example-quality measure (quality.csv), with p, BH q-values and bootstrap intervals.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { correlate, correlationsCsv, describeCorrelation, readQualityCsv, readStatsCsv, strongestCorrelation } from '../core/experiment/correlations.js';
import { nonNegativeInteger } from './optionParsers.js';

export interface CorrelateCliOptions {
  stats: string[];
  quality: string;
  out: string;
  bootstrap: number;
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
    .option('--seed <s>', 'bootstrap seed', nonNegativeInteger, 0)
    .action(async (options: CorrelateCliOptions) => {
      process.exitCode = await runCorrelate(options);
    });
}

export async function runCorrelate(options: CorrelateCliOptions): Promise<number> {
  try {
    const rows = correlate(await readStatsCsv(options.stats), await readQualityCsv(options.quality), {
      bootstrapResamples: options.bootstrap,
      seed: options.seed,
    });
    if (rows.length === 0) {
      console.error('error: no statistic and quality measure share an example');
      return 1;
    }
    await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    await writeFile(options.out, correlationsCsv(rows));
    const best = strongestCorrelation(rows);
    console.log(`${rows.length} correlations → ${options.out}`);
    if (best) console.log(describeCorrelation(best));
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
}
