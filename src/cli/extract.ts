// `icl-lab extract`: activation statistics (MLP output by default, or another site) of every example of a JSONL file, written to stats.csv
// as they arrive (a crash or Ctrl-C keeps every finished row), with the settings in <stem>.run.json.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { loadDataset } from '../core/dataset/loadDataset.js';
import { statsCsvHeader, statsCsvRows } from '../core/format/statsCsv.js';
import { inContextDemonstrations, maskLayout, maskStrategies, spanKinds, type MaskLayout, type MaskStrategy, type SpanKind } from '../core/masks.js';
import { siteNames, type SiteName } from '../core/sites.js';
import { classificationTemplate } from '../core/template/defaultTemplates.js';
import type { Template } from '../core/template/template.js';
import { answerPlaceholder, templatePlaceholders } from '../core/template/template.js';
import { parseTemplate } from '../core/template/templateParser.js';
import { sha256File } from '../core/format/fileDigest.js';
import type { EngineClient } from '../engine/client.js';
import type { EngineError, ExtractionSummary } from '../engine/protocol.js';
import { engineVersion, llamaCppRelease, nodeLlamaCppVersion } from '../engine/version.js';
import { addEngineOptions, startCliEngine, type EngineCliOptions } from './engineOptions.js';
import { nonNegativeInteger, oneOf } from './optionParsers.js';
import { ProgressLine } from './progressLine.js';

export interface ExtractCliOptions extends EngineCliOptions {
  data: string;
  input?: string;
  /** The old name of --input. */
  field?: string;
  template?: string;
  instruction?: string;
  target?: string;
  span: SpanKind;
  mask: MaskStrategy;
  site: SiteName;
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
    .option('--input <field>', "field holding the example text, as in the other commands (the default template's {{text}}; default: text)")
    .addOption(new Option('--field <name>', 'the old name of --input').hideHelp())
    .option('--template <file>', 'prompt template (*.icl.tmpl) the masks lay examples out with; its fields are read from the data (default: the built-in classification template)')
    .option('--instruction <text>', "replaces the template's @instruction (shared-prefix and in-context masks)")
    .option('--target <field>', 'field whose value a demonstration shows as its answer (in-context mask, --span demonstration)')
    .option('--span <kind>', `what each mask reads: ${spanKinds.join(' | ')} (input: the input as a demonstration shows it, without the label)`, oneOf(spanKinds), 'input')
    .option('--mask <strategy>', `attention mask: ${maskStrategies.join(' | ')}`, oneOf(maskStrategies), 'isolated')
    .option('--site <site>', `activations read: ${siteNames.join(' | ')} (each block's MLP output, or the residual stream after the block)`, oneOf(siteNames), 'mlp_out')
    .option('--shots <k>', 'demonstrations before each example (in-context mask)', nonNegativeInteger, 4)
    .option('--seed <s>', 'seed for choosing in-context demonstrations', nonNegativeInteger, 0)
    .requiredOption('--out <file>', 'statistics CSV to write')
    .option('--raw <dir>', 'also write each example\'s activations at --site as <example>_L<layer>.npy')
    .option('--raw-examples <list>', 'with --raw: only these example indices (comma-separated)', (v) =>
      v.split(',').map((x) => nonNegativeInteger(x.trim())),
    )
    .action(async (options: ExtractCliOptions) => {
      process.exitCode = await runExtract(options);
    });
}

export async function runExtract(options: ExtractCliOptions): Promise<number> {
  if ((options.mask === 'in-context' || options.span === 'demonstration') && !options.target) {
    console.error(`error: ${options.mask === 'in-context' ? '--mask in-context' : '--span demonstration'} needs --target FIELD: demonstrations show their answers, as the k-shot prompt does`);
    return 1;
  }
  if (options.input !== undefined && options.field !== undefined && options.input !== options.field) {
    console.error(`error: --input ${options.input} and --field ${options.field} name two fields; --field is the old name of --input: give one`);
    return 1;
  }
  const field = options.input ?? options.field ?? 'text';
  let rows: { example: number; line: number; inputs: Record<string, string>; answer: string }[];
  let layout: MaskLayout;
  try {
    let template: Template = options.template ? parseTemplate(await readFile(options.template, 'utf8'), options.template) : classificationTemplate;
    if (options.instruction !== undefined) template = { ...template, instruction: options.instruction };
    // The built-in template's {{text}} reads --input; a template of one's own names its fields.
    const fields = options.template ? [...new Set(templatePlaceholders(template).map((p) => p.name).filter((n) => n !== answerPlaceholder))] : [field];
    const loaded = await loadDataset({ file: options.data, inputs: fields, ...(options.target ? { task: { type: 'classification', target: options.target } } : {}) });
    rows = loaded.rows.map((r) => ({
      example: r.index,
      line: r.line,
      inputs: options.template ? { ...r.inputs } : { text: r.inputs[field]! },
      answer: r.label ?? '',
    }));
    if (rows.length === 0) throw new Error(`${options.data}: no rows`);
    const demonstrations = options.mask === 'in-context' ? inContextDemonstrations(rows.length, options.shots, options.seed) : [];
    layout = maskLayout(
      template,
      options.mask,
      options.span,
      rows.map((r) => ({ example: r.example, demonstration: { inputs: r.inputs, answer: r.answer } })),
      (i) => demonstrations[i]!.map((d) => ({ inputs: rows[d]!.inputs, answer: rows[d]!.answer })),
    );
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  const lineOf = new Map(rows.map((r) => [r.example, r.line]));

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
        ...layout,
        site: options.site,
        contextSize: options.contextSize,
        batchSize: options.batchSize,
        maxSequences: options.maxSequences,
        threads: options.threads,
        exact: options.exact,
        ...(options.raw ? { rawDir: path.resolve(options.raw), rawExamples: options.rawExamples ?? 'all' } : {}),
      },
      (result) => {
        csv.write(statsCsvRows(result.example, options.site, options.mask, result.spanTokens, result.stats));
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
        data: { file: path.resolve(options.data), field: options.template ? undefined : field, target: options.target, rows: rows.length, examplesWritten: written },
        template: options.template ? path.resolve(options.template) : 'built-in classification',
        instruction: options.instruction,
        mask: options.mask,
        site: options.site,
        span: options.span,
        prefix: layout.prefix,
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
