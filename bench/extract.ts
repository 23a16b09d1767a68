// Extraction throughput benchmark: our activation extraction (ActivationEngine.extract) against
// node-llama-cpp evaluating the same tokens of the same model, measured side by side in one run.
//
//   npx tsx bench/extract.ts [--model PATH|catalogue-id] [--layers N] [--texts N] [--threads N]
//                            [--repeats N] [--variants a,b,...] [--json FILE]
//
// Without --model the model has Qwen2.5-0.5B's shapes with seeded random weights (generated once,
// cached in the OS temp folder); --model takes a GGUF file or a catalogue id (smollm2-135m,
// gemma3-270m: fetched into the model cache when missing). Each timed run is a child process of its own that loads the model, warms up, times
// the workload and exits: one model in memory at a time, and every peak RSS starts from the same
// clean process instead of inheriting the heap of the runs before it. Variants rotate order each
// repeat and the median is reported, so drift (page cache, heat) does not favour either side.
import { existsSync, readFileSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem } from 'node-llama-cpp';
import { SeededRandom } from '../src/core/random.js';
import { ActivationEngine, type ExtractedExample } from '../src/engine/activationEngine.js';
import { cachedCatalogModel } from '../src/engine/modelCache.js';
import type { ExtractionExample, ExtractionOptions } from '../src/engine/protocol.js';
import {
  benchModel,
  benchModelOptions,
  describeBenchModel,
  describeCpu,
  median,
  mib,
  positiveOption,
  printTable,
  RssSampler,
  runBenchmark,
  runInChild,
  sendToParent,
  sharedDatasetsDir,
  timedWithContention,
  type RssReport,
} from './benchSupport.js';

const CONTEXT_SIZE = 4096;
const BATCH_SIZE = 512;
const PACKED_SEQUENCES = 64;
const WARMUP_TEXTS = 8;

const variantNames = ['extract-packed+raw', 'extract-packed', 'extract-per-text', 'nlc-per-text', 'nlc-per-text+logits'] as const;
type VariantName = (typeof variantNames)[number];

interface Variant {
  readonly name: VariantName;
  readonly label: string;
  readonly sequencesPerDecode: number;
}

const allVariants: readonly Variant[] = [
  // Every token's MLP output of every layer copied out and handed to JavaScript, besides the statistics.
  { name: 'extract-packed+raw', label: `extract + raw (packed, ${PACKED_SEQUENCES} seq)`, sequencesPerDecode: PACKED_SEQUENCES },
  { name: 'extract-packed', label: `extract (packed, ${PACKED_SEQUENCES} seq)`, sequencesPerDecode: PACKED_SEQUENCES },
  { name: 'extract-per-text', label: 'extract (1 seq)', sequencesPerDecode: 1 },
  // No output row, so llama.cpp skips the LM head, and the last layer's MLP too (it runs on output
  // rows only): about 1/layers of the MLP work less than extract, which needs every token there.
  { name: 'nlc-per-text', label: 'node-llama-cpp (no logits)', sequencesPerDecode: 1 },
  // The usual prompt path: last token's logits and one sampled token (adds the LM head per text).
  { name: 'nlc-per-text+logits', label: 'node-llama-cpp (last logits)', sequencesPerDecode: 1 },
];

/** [numerator, denominator, what the ratio says]. */
const ratioPairs: readonly (readonly [VariantName, VariantName, string])[] = [
  ['extract-packed+raw', 'nlc-per-text', 'every token of every layer kept, vs the plain forward pass without logits'],
  ['extract-packed+raw', 'nlc-per-text+logits', 'every token of every layer kept, vs the usual prompt evaluation (last token logits)'],
  ['extract-packed', 'nlc-per-text', 'each as normally used; node-llama-cpp skips the last layer MLP (no output rows)'],
  ['extract-per-text', 'nlc-per-text', 'one sequence per decode on both sides; node-llama-cpp skips the last layer MLP'],
  ['extract-packed', 'nlc-per-text+logits', 'each as normally used, node-llama-cpp also runs the LM head'],
  ['extract-per-text', 'nlc-per-text+logits', 'one sequence per decode, node-llama-cpp also runs the LM head'],
];

interface RunResult extends RssReport {
  readonly tokens: number;
  readonly ms: number;
  /** CPU cores other processes kept busy during the timed part (Linux only). */
  readonly otherCores?: number;
  /** extract only: time inside llama_decode and in the reduction, from the summary. */
  readonly decodeMs?: number;
  readonly reduceMs?: number;
  readonly windows?: number;
  /** node-llama-cpp only: the flash attention setting its context resolved. */
  readonly flashAttention?: string;
  /** extract only: what the engine says of the model. */
  readonly model?: string;
}

/** What a child process sends back: its measurements and the tokens it read, for the check. */
interface ChildReport {
  readonly result: RunResult;
  readonly tokens: number[][];
}

interface Workload {
  readonly source: string;
  readonly texts: readonly string[];
}

interface Args {
  readonly layers: number;
  readonly texts: number;
  readonly threads: number;
  readonly repeats: number;
  readonly json: string | undefined;
  readonly variants: readonly Variant[];
  /** Internal: run one variant on `model` and report to the parent. */
  readonly child: VariantName | undefined;
  /** A GGUF file or a catalogue id; the generated model when absent. */
  readonly model: string | undefined;
  readonly layersGiven: boolean;
}

function parseCommandLine(): Args {
  const { values } = parseArgs({
    options: {
      layers: { type: 'string' },
      texts: { type: 'string' },
      threads: { type: 'string' },
      repeats: { type: 'string' },
      json: { type: 'string' },
      child: { type: 'string' },
      model: { type: 'string' },
      variants: { type: 'string' },
    },
    strict: true,
  });
  const isVariant = (name: string): name is VariantName => (variantNames as readonly string[]).includes(name);
  const child = values.child;
  if (child !== undefined && !isVariant(child)) throw new Error(`unknown variant '${child}'`);
  const chosen = values.variants === undefined ? [...variantNames] : values.variants.split(',').map((v) => v.trim());
  for (const name of chosen) if (!isVariant(name)) throw new Error(`--variants: unknown variant '${name}' (known: ${variantNames.join(', ')})`);
  return {
    layers: positiveOption('layers', values.layers, 24),
    texts: positiveOption('texts', values.texts, 64),
    // Explicit on both sides: llama.cpp's own default (4) would oversubscribe small machines.
    threads: positiveOption('threads', values.threads, os.availableParallelism()),
    repeats: positiveOption('repeats', values.repeats, 3),
    json: values.json,
    variants: allVariants.filter((v) => chosen.includes(v.name)),
    child: child as VariantName | undefined,
    model: values.model,
    layersGiven: values.layers !== undefined,
  };
}

function loadWorkload(count: number): Workload {
  const sst2 = path.join(sharedDatasetsDir(), 'sst2', 'validation.jsonl');
  if (existsSync(sst2)) {
    const texts = readFileSync(sst2, 'utf8')
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .slice(0, count)
      .map((line) => (JSON.parse(line) as { text: string }).text);
    if (texts.length === count) return { source: `SST-2 validation, first ${count} sentences (${sst2})`, texts };
  }
  return { source: `generated word-salad sentences (seed 1; ${sst2} not found or too short)`, texts: wordSalad(count, 1) };
}

const SALAD_WORDS = (
  'the a film story actor scene plot music moment audience director camera script ending character ' +
  'is was feels seems remains becomes never always quite rather almost very too so ' +
  'charming dull bright slow clever tired warm cold funny bleak tender loud honest strange ' +
  "and but yet with without about into through over under , 's --"
).split(' ');

/** Sentence-like texts of 4–40 words, so token counts spread like real short examples. */
function wordSalad(count: number, seed: number): string[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => {
    const words = Array.from({ length: 4 + random.int(37) }, () => SALAD_WORDS[random.int(SALAD_WORDS.length)]!);
    return `${words.join(' ')} .`;
  });
}

async function runExtract(modelPath: string, texts: readonly string[], maxSequences: number, threads: number, keepRaw: boolean): Promise<ChildReport> {
  const rss = new RssSampler();
  let engine: ActivationEngine | undefined;
  try {
    engine = await ActivationEngine.create('cpu');
    const info = await engine.loadModel(modelPath);
    const options: ExtractionOptions = { mask: 'isolated', contextSize: CONTEXT_SIZE, batchSize: BATCH_SIZE, maxSequences, threads, exact: false, ...(keepRaw ? { rawExamples: 'all' as const } : {}) };
    const examples: ExtractionExample[] = texts.map((text, example) => ({ example, text }));
    const rawValues = (span: number): number => info.layers * span * info.embeddingLength;
    let results = 0;
    const onExample = (result: ExtractedExample): void => {
      // The raw rows must really arrive: every layer of every span token.
      if (keepRaw && result.raw?.length !== rawValues(result.spanTokens)) throw new Error(`example ${result.example}: ${result.raw?.length ?? 0} raw values, expected ${rawValues(result.spanTokens)}`);
      results++;
    };
    await engine.extract(examples.slice(0, WARMUP_TEXTS), options, onExample, () => {});
    results = 0;
    const ready = engine;
    const { value: summary, ms, otherCores } = await timedWithContention(() => ready.extract(examples, options, onExample, () => {}));
    if (results !== texts.length) throw new Error(`extract returned ${results} of ${texts.length} examples`);
    const tokens = texts.map((text) => Array.from(ready.tokenize(text)));
    await engine.dispose();
    engine = undefined;
    const result: RunResult = {
      tokens: summary.tokens,
      ms,
      ...(otherCores === undefined ? {} : { otherCores }),
      decodeMs: summary.decodeMs,
      reduceMs: summary.reduceMs,
      windows: summary.windows,
      model: `${info.architecture} ${info.description}, ${info.layers} layers, width ${info.embeddingLength}, vocabulary ${info.vocabularySize}, ${info.quantization}: ${mib(info.fileBytes)}`,
      ...rss.stop(),
    };
    return { result, tokens };
  } finally {
    await engine?.dispose();
    rss.stop();
  }
}

async function runNodeLlamaCpp(modelPath: string, texts: readonly string[], threads: number, withLogits: boolean): Promise<ChildReport> {
  const rss = new RssSampler();
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.warn });
  try {
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ contextSize: CONTEXT_SIZE, batchSize: BATCH_SIZE, threads, sequences: 1 });
    const sequence = context.getSequence();
    // Tokenizing is inside the timed loop, as extract tokenizes inside its call too.
    const evaluate = async (text: string): Promise<number> => {
      const tokens = model.tokenize(text);
      if (withLogits) {
        const last = tokens.length - 1;
        await sequence.controlledEvaluate(
          tokens.map((token, i): ControlledEvaluateInputItem => (i === last ? [token, { generateNext: { token: true } }] : token)),
        );
      } else {
        await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      }
      await sequence.clearHistory();
      return tokens.length;
    };
    for (const text of texts.slice(0, WARMUP_TEXTS)) await evaluate(text);
    const { value: count, ms, otherCores } = await timedWithContention(async () => {
      let n = 0;
      for (const text of texts) n += await evaluate(text);
      return n;
    });
    const tokens = texts.map((text) => Array.from(model.tokenize(text)));
    const flashAttention = String(context.flashAttention);
    await llama.dispose();
    const result: RunResult = { tokens: count, ms, ...(otherCores === undefined ? {} : { otherCores }), flashAttention, ...rss.stop() };
    return { result, tokens };
  } finally {
    await llama.dispose();
    rss.stop();
  }
}

async function childMain(variant: VariantName, args: Args): Promise<void> {
  if (!args.model || !process.send) throw new Error('--child is internal: run the benchmark without it');
  const { texts } = loadWorkload(args.texts);
  const report = variant.startsWith('extract')
    ? await runExtract(args.model, texts, variant === 'extract-per-text' ? 1 : PACKED_SEQUENCES, args.threads, variant === 'extract-packed+raw')
    : await runNodeLlamaCpp(args.model, texts, args.threads, variant === 'nlc-per-text+logits');
  await sendToParent(report);
}

/** Runs one variant in a fresh process (with the same loader, e.g. tsx) and returns its report. */
function runVariant(variant: VariantName, modelPath: string, args: Args): Promise<ChildReport> {
  const childArgs = ['--child', variant, '--model', modelPath, '--texts', String(args.texts), '--threads', String(args.threads)];
  return runInChild<ChildReport>(fileURLToPath(import.meta.url), variant, childArgs);
}

/** A GGUF file when `model` names one, else a catalogue id resolved through the model cache. */
async function resolveModel(model: string): Promise<string> {
  if (existsSync(model)) return path.resolve(model);
  if (/[\\/]|\.gguf$/i.test(model)) throw new Error(`--model ${model}: no such file`);
  return cachedCatalogModel(model);
}

/** Both sides must read exactly the same tokens; the first run sets the reference. */
class TokenCheck {
  private reference: number[][] | undefined;

  check(variant: string, tokens: number[][]): void {
    if (!this.reference) {
      this.reference = tokens;
      return;
    }
    tokens.forEach((a, i) => {
      const r = this.reference![i]!;
      if (a.length !== r.length || a.some((t, j) => t !== r[j])) {
        throw new Error(`${variant}: text ${i} tokenizes to ${a.length} tokens where another variant got ${r.length}: the comparison would be unfair`);
      }
    });
  }
}

async function main(): Promise<void> {
  const args = parseCommandLine();
  if (args.child) return childMain(args.child, args);

  const variants = args.variants;
  if (variants.length === 0) throw new Error('--variants chose none');
  const options = benchModelOptions(args.layers);
  if (args.model && args.layersGiven) throw new Error('--layers shapes the generated model; it cannot be combined with --model');
  const model = args.model ? { path: await resolveModel(args.model) } : await benchModel(options);
  const modelBytes = (await stat(model.path)).size;
  const workload = loadWorkload(args.texts);
  const cpus = os.cpus();
  const tokenCheck = new TokenCheck();

  const runs = new Map<VariantName, RunResult[]>(variants.map((v) => [v.name, []]));
  for (let repeat = 0; repeat < args.repeats; repeat++) {
    const order = variants.map((_, i) => variants[(i + repeat) % variants.length]!);
    for (const variant of order) {
      const { result, tokens } = await runVariant(variant.name, model.path, args);
      tokenCheck.check(variant.name, tokens);
      runs.get(variant.name)!.push(result);
      const others = result.otherCores === undefined ? '' : `  others ${result.otherCores.toFixed(2)} cores`;
      console.log(`  repeat ${repeat + 1}/${args.repeats} ${variant.name.padEnd(20)} ${((result.tokens / result.ms) * 1000).toFixed(1).padStart(8)} tok/s  peak RSS ${mib(result.peakRssBytes)}${others}`);
    }
  }

  const rows = variants.map((variant) => {
    const results = runs.get(variant.name)!;
    const tokensPerSecond = results.map((r) => (r.tokens / r.ms) * 1000);
    const optional = (pick: (r: RunResult) => number | undefined): number | undefined => {
      const values = results.map(pick).filter((v): v is number => v !== undefined);
      return values.length > 0 ? median(values) : undefined;
    };
    return {
      ...variant,
      tokens: results[0]!.tokens,
      tokensPerSecond,
      medianTokensPerSecond: median(tokensPerSecond),
      // Contention only ever slows a run down, so the best run is the least disturbed one.
      bestTokensPerSecond: Math.max(...tokensPerSecond),
      medianMs: median(results.map((r) => r.ms)),
      decodeMs: optional((r) => r.decodeMs),
      reduceMs: optional((r) => r.reduceMs),
      windows: optional((r) => r.windows),
      otherCores: optional((r) => r.otherCores),
      peakRssBytes: Math.max(...results.map((r) => r.peakRssBytes)),
      maxRssBytes: Math.max(...results.map((r) => r.maxRssBytes)),
      startRssBytes: median(results.map((r) => r.startRssBytes)),
      flashAttention: results[0]!.flashAttention,
      model: results[0]!.model,
    };
  });
  const byName = new Map(rows.map((r) => [r.name, r]));
  const ratios = ratioPairs.filter(([a, b]) => byName.has(a) && byName.has(b)).map(([a, b, note]) => ({
    a,
    b,
    note,
    value: byName.get(a)!.medianTokensPerSecond / byName.get(b)!.medianTokensPerSecond,
    bestRunsValue: byName.get(a)!.bestTokensPerSecond / byName.get(b)!.bestTokensPerSecond,
  }));
  const nlcFlashAttention = rows.find((r) => r.flashAttention !== undefined)?.flashAttention ?? 'unknown';
  const engineModel = rows.find((r) => r.model !== undefined)?.model;

  const device = describeCpu();
  const busiest = Math.max(...rows.map((r) => r.otherCores ?? 0));
  console.log('');
  console.log('ICL Activation Lab: extraction vs node-llama-cpp');
  console.log(`device    ${device}; threads ${args.threads}; CUDA used: no (both sides run llama.cpp's CPU backend, getLlama({ gpu: false }))`);
  console.log(`others    other processes used up to ${busiest.toFixed(2)} cores during a timed run (median per variant in the table)${busiest > 0.25 ? ': timings are skewed by contention, rerun on an idle machine' : ''}`);
  console.log(`model     ${args.model ? (engineModel ?? `${mib(modelBytes)} (${modelBytes} bytes)`) : describeBenchModel(options, model, modelBytes)}`);
  console.log(`          ${model.path}`);
  console.log(`workload  ${workload.texts.length} texts, ${rows[0]!.tokens} tokens: ${workload.source}`);
  console.log(`settings  contextSize ${CONTEXT_SIZE}, batchSize ${BATCH_SIZE}, extract exact:false (f16 KV, flash attention auto), node-llama-cpp flashAttention ${nlcFlashAttention}; median of ${args.repeats} timed runs, each in a fresh process after a ${Math.min(WARMUP_TEXTS, workload.texts.length)}-text warm-up`);
  console.log('');
  const header = ['variant', 'seq/decode', 'tok/s (median)', 'best', 'runs tok/s', 'time ms', 'decode ms', 'reduce ms', 'peak RSS', 'RSS before load', 'others'];
  const table = rows.map((r) => [
    r.label,
    String(r.sequencesPerDecode),
    r.medianTokensPerSecond.toFixed(1),
    r.bestTokensPerSecond.toFixed(1),
    r.tokensPerSecond.map((v) => v.toFixed(0)).join('/'),
    r.medianMs.toFixed(0),
    r.decodeMs === undefined ? '-' : r.decodeMs.toFixed(0),
    r.reduceMs === undefined ? '-' : r.reduceMs.toFixed(1),
    mib(r.peakRssBytes),
    mib(r.startRssBytes),
    r.otherCores === undefined ? '-' : r.otherCores.toFixed(2),
  ]);
  printTable(header, table);
  console.log('');
  for (const r of ratios) console.log(`ratio=${r.value.toFixed(3)} ${r.a} / ${r.b} (${r.note}; best runs: ${r.bestRunsValue.toFixed(3)})`);

  if (args.json) {
    const report = {
      date: new Date().toISOString(),
      device: { cpu: cpus[0]?.model.trim(), logicalCores: cpus.length, threads: args.threads, cuda: false },
      model: args.model ? { path: model.path, fileBytes: modelBytes, engine: engineModel } : { ...options, path: model.path, fileBytes: modelBytes },
      workload: { source: workload.source, texts: workload.texts.length, tokens: rows[0]!.tokens },
      settings: { contextSize: CONTEXT_SIZE, batchSize: BATCH_SIZE, packedSequences: PACKED_SEQUENCES, repeats: args.repeats, warmupTexts: WARMUP_TEXTS, nodeLlamaCppFlashAttention: nlcFlashAttention },
      variants: rows,
      ratios,
    };
    await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${args.json}`);
  }
}

runBenchmark(main);
