// `icl-lab extract`: MLP-output statistics of every example of a JSONL file, written to stats.csv
// as they arrive (a crash or Ctrl-C keeps every finished row), with the settings in <stem>.run.json.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadDataset } from '../core/dataset/loadDataset.js';
import { statsCsvHeader, statsCsvRows } from '../core/format/statsCsv.js';
import { inContextDemonstrations, maskStrategies, type MaskStrategy } from '../core/masks.js';
import { sha256File } from '../core/format/fileDigest.js';
import type { EngineClient } from '../engine/client.js';
import type { EngineError, ExtractionSummary } from '../engine/protocol.js';
import { engineVersion, llamaCppRelease, nodeLlamaCppVersion } from '../engine/version.js';
import { addEngineOptions, startCliEngine, type EngineCliOptions } from './engineOptions.js';
import { nonNegativeInteger, oneOf } from './optionParsers.js';
import { ProgressLine } from './progressLine.js';

export interface ExtractCliOptions extends EngineCliOptions {
  data: string;
  field: string;
  mask: MaskStrategy;
  prefix?: string;
  shots: number;
  seed: number;
  out: string;
  raw?: string;
  rawExamples?: number[];
}

export function registerExtractCommand(program: Command): void {
  const command = program.command('extract').description("capture every MLP block's output for each example and write per-layer statistics");
  addEngineOptions(command)
    .requiredOption('--data <file>', 'data file (.jsonl, .json, .csv or .tsv)')
    .option('--field <name>', 'field holding the example text', 'text')
    .option('--mask <strategy>', `attention mask: ${maskStrategies.join(' | ')}`, oneOf(maskStrategies), 'isolated')
    .option('--prefix <text>', 'shared prefix every example sees (shared-prefix mask)')
    .option('--shots <k>', 'demonstrations before each example (in-context mask)', nonNegativeInteger, 4)
    .option('--seed <s>', 'seed for choosing in-context demonstrations', nonNegativeInteger, 0)
    .requiredOption('--out <file>', 'statistics CSV to write')
    .option('--raw <dir>', 'also write each example\'s MLP outputs as <example>_L<layer>.npy')
    .option('--raw-examples <list>', 'with --raw: only these example indices (comma-separated)', (v) =>
      v.split(',').map((x) => nonNegativeInteger(x.trim())),
    )
    .action(async (options: ExtractCliOptions) => {
      process.exitCode = await runExtract(options);
    });
}

export async function runExtract(options: ExtractCliOptions): Promise<number> {
  if (options.mask === 'shared-prefix' && !options.prefix) {
    console.error('error: --mask shared-prefix needs --prefix TEXT');
    return 1;
  }
  let rows;
  try {
    const { field } = options;
    rows = (await loadDataset({ file: options.data, inputs: [field] })).rows.map((r) => ({ example: r.index, line: r.line, text: r.inputs[field]! }));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  if (rows.length === 0) {
    console.error(`error: ${options.data}: no rows`);
    return 1;
  }
  const lineOf = new Map(rows.map((r) => [r.example, r.line]));
  const demonstrations = options.mask === 'in-context' ? inContextDemonstrations(rows.length, options.shots, options.seed) : [];

  // llama.cpp's warnings are mostly about the model file's metadata; errors are worth showing.
  const client = startCliEngine(options);
  const outDir = path.dirname(path.resolve(options.out));
  await mkdir(outDir, { recursive: true });
  const metadataFile = path.join(outDir, `${path.basename(options.out, path.extname(options.out))}.run.json`);
  const csv = createWriteStream(options.out, { encoding: 'utf8' });
  csv.write(statsCsvHeader());
  const progress = new ProgressLine('extract');
  let written = 0;
  let summary: ExtractionSummary | undefined;
  let failure: EngineError | Error | undefined;
  const started = new Date();
  let model;
  let interrupted = false;
  let run: ReturnType<EngineClient['extract']> | undefined;
  const onSigint = (): void => {
    interrupted = true;
    run?.cancel();
  };
  process.on('SIGINT', onSigint);
  try {
    await client.start();
    const [loaded, sha256] = await Promise.all([client.loadModel(options.model), sha256File(options.model)]);
    model = { ...loaded, sha256 };
    run = client.extract(
      {
        examples: rows.map((r) => ({
          example: r.example,
          text: r.text,
          ...(options.mask === 'in-context' ? { demonstrations: demonstrations[r.example]!.map((d) => rows[d]!.text) } : {}),
        })),
        mask: options.mask,
        ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
        contextSize: options.contextSize,
        batchSize: options.batchSize,
        maxSequences: options.maxSequences,
        threads: options.threads,
        exact: options.exact,
        ...(options.raw ? { rawDir: path.resolve(options.raw), rawExamples: options.rawExamples ?? 'all' } : {}),
      },
      (result) => {
        csv.write(statsCsvRows(result.example, options.mask, result.spanTokens, result.stats));
        written++;
      },
      (p) => progress.update(p.done, p.total, p.tokens),
    );
    summary = await run.done;
  } catch (error) {
    failure = error as Error;
  } finally {
    process.off('SIGINT', onSigint);
    progress.finish();
    csv.end();
    await once(csv, 'finish');
    await client.stop();
  }

  const status = failure ? ((failure as EngineError).code === 'cancelled' || interrupted ? 'cancelled' : 'failed') : 'complete';
  await writeFile(
    metadataFile,
    JSON.stringify(
      {
        command: 'extract',
        status,
        error: failure?.message,
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        data: { file: path.resolve(options.data), field: options.field, rows: rows.length, examplesWritten: written },
        mask: options.mask,
        prefix: options.prefix,
        shots: options.mask === 'in-context' ? options.shots : undefined,
        seed: options.mask === 'in-context' ? options.seed : undefined,
        model,
        settings: summary?.settings ?? { contextSize: options.contextSize, batchSize: options.batchSize, maxSequences: options.maxSequences, exact: options.exact },
        gpu: options.gpu,
        timings: summary ? { elapsedMs: summary.elapsedMs, decodeMs: summary.decodeMs, reduceMs: summary.reduceMs, tokens: summary.tokens, windows: summary.windows } : undefined,
        versions: { iclLab: engineVersion, nodeLlamaCpp: nodeLlamaCppVersion, llamaCpp: llamaCppRelease, node: process.version },
      },
      null,
      2,
    ) + '\n',
  );

  if (failure) {
    const examples = (failure as EngineError).data?.examples;
    const where = examples?.length ? ` (${options.data}:${lineOf.get(examples[0]!) ?? '?'})` : '';
    console.error(`error: ${failure.message}${where}`);
    if (written > 0) console.error(`kept ${written} finished examples in ${options.out}`);
    return 1;
  }
  console.log(`${written} examples × ${model!.layers} layers → ${options.out} (${summary!.tokens} tokens in ${(summary!.elapsedMs / 1000).toFixed(1)} s)`);
  return 0;
}
