// Quality-scoring benchmark: the quality estimator's one-shot prompts (every candidate demonstration
// × every probe, both labels scored) with each candidate's prefix evaluated once and shared by its
// probes through the KV cache, against every prompt evaluated whole. Reports evaluated ÷ minimum
// tokens (the least any scorer must evaluate; target ≤ 1.05) and prompts per second of both.
//
//   npx tsx bench/quality.ts [--candidates N] [--probes N] [--layers N] [--threads N]
//                            [--max-sequences N] [--repeats N] [--json FILE]
//
// Same model and method as bench/extract.ts: Qwen2.5-0.5B's shapes with seeded weights (cached in
// the OS temp folder), each timed run in a fresh child process, variants rotating order per repeat,
// the median reported. The data is SST-2 from ../shared/datasets; without it nothing is measured.
import { existsSync, readFileSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { continuationText } from '../src/core/quality/promptEvaluation.js';
import { classificationTemplate } from '../src/core/template/defaultTemplates.js';
import { renderPromptPrefix, renderQuerySuffix } from '../src/core/template/promptRenderer.js';
import { ActivationEngine } from '../src/engine/activationEngine.js';
import type { ScoringOptions } from '../src/engine/protocol.js';
import { minimumTokens, planScoringWindows, type ContinuationQuery, type ScoringGroup } from '../src/engine/scoringPlanner.js';
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
const MAX_SEQUENCES = 64;
/** The task size; the default is smaller so a run fits a few minutes on 2 CPU cores. */
const FULL_CANDIDATES = 100;
const FULL_PROBES = 50;
const DEFAULT_CANDIDATES = 4;
const DEFAULT_PROBES = 50;
const WARMUP_PROBES = 4;
const TARGET_RATIO = 1.05;

const variantNames = ['reuse', 'no-reuse'] as const;
type VariantName = (typeof variantNames)[number];

interface Variant {
  readonly name: VariantName;
  readonly label: string;
}

const variants: readonly Variant[] = [
  { name: 'reuse', label: 'prefix reuse (group per candidate)' },
  { name: 'no-reuse', label: 'no reuse (group per prompt)' },
];

interface RunResult extends RssReport {
  readonly prompts: number;
  readonly groups: number;
  readonly evaluatedTokens: number;
  /** The least work for the task: each candidate's prefix once plus every query (same for both variants). */
  readonly taskMinimumTokens: number;
  /** minimumTokens of this variant's own grouping, as the engine's summary gives it. */
  readonly groupingMinimumTokens: number;
  readonly windows: number;
  readonly ms: number;
  readonly otherCores?: number;
  /** Token totals over all candidates' prefixes and all probes' queries; tokens per label. */
  readonly prefixTokens: number;
  readonly queryTokens: number;
  readonly labelTokens: readonly number[];
}

/** The planner's layout of the full task (nothing decoded): what a full run would evaluate. */
interface FullSizePlan {
  readonly minimumTokens: number;
  readonly reuseTokens: number;
  readonly reuseWindows: number;
  readonly noReuseTokens: number;
  readonly noReuseWindows: number;
}

interface ChildReport {
  readonly result: RunResult;
  /** Undefined without enough rows for the full task. */
  readonly fullSizePlan: FullSizePlan | undefined;
  /** log P(label) per prompt key and label, flattened, to check the variants agree. */
  readonly logprobs: number[];
}

interface Row {
  readonly text: string;
  readonly label: string;
}

interface Workload {
  readonly source: string;
  readonly candidates: readonly Row[];
  readonly probes: readonly Row[];
  /** Label value → verbalizer, in label order. */
  readonly verbalizers: ReadonlyMap<string, string>;
}

interface Args {
  readonly layers: number;
  readonly candidates: number;
  readonly probes: number;
  readonly threads: number;
  readonly maxSequences: number;
  readonly repeats: number;
  readonly json: string | undefined;
  /** Internal: run one variant on `model` and report to the parent. */
  readonly child: VariantName | undefined;
  readonly model: string | undefined;
}

function parseCommandLine(): Args {
  const { values } = parseArgs({
    options: {
      layers: { type: 'string' },
      candidates: { type: 'string' },
      probes: { type: 'string' },
      threads: { type: 'string' },
      'max-sequences': { type: 'string' },
      repeats: { type: 'string' },
      json: { type: 'string' },
      child: { type: 'string' },
      model: { type: 'string' },
    },
    strict: true,
  });
  const child = values.child;
  if (child !== undefined && !(variantNames as readonly string[]).includes(child)) throw new Error(`unknown variant '${child}'`);
  return {
    layers: positiveOption('layers', values.layers, 24),
    candidates: positiveOption('candidates', values.candidates, DEFAULT_CANDIDATES),
    probes: positiveOption('probes', values.probes, DEFAULT_PROBES),
    // Explicit: llama.cpp's own default (4) would oversubscribe small machines.
    threads: positiveOption('threads', values.threads, os.availableParallelism()),
    maxSequences: positiveOption('max-sequences', values['max-sequences'], MAX_SEQUENCES),
    repeats: positiveOption('repeats', values.repeats, 3),
    json: values.json,
    child: child as VariantName | undefined,
    model: values.model,
  };
}

/** SST-2's first rows: candidates from train, probes from validation; undefined without the data. */
function loadWorkload(candidates: number, probes: number): Workload | undefined {
  const dir = path.join(sharedDatasetsDir(), 'sst2');
  const files = ['train.jsonl', 'validation.jsonl', 'labels.json'].map((f) => path.join(dir, f));
  if (!files.every((f) => existsSync(f))) return undefined;
  const [train, validation, labelsFile] = files as [string, string, string];
  const labels = JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, string>;
  const verbalizers = new Map(Object.entries(labels));
  const firstRows = (file: string, count: number): Row[] => {
    const rows: Row[] = [];
    // Only the first `count` rows are parsed: train.jsonl has 67k.
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (rows.length === count) break;
      if (line.trim() === '') continue;
      const row = JSON.parse(line) as { text: string; label: number | string };
      const label = String(row.label);
      if (!verbalizers.has(label)) throw new Error(`${file}: label ${label} is not in ${labelsFile}`);
      rows.push({ text: row.text, label });
    }
    if (rows.length < count) throw new Error(`${file} has ${rows.length} rows, fewer than the ${count} asked for`);
    return rows;
  };
  return {
    source: `SST-2 (${dir}): candidates the first ${candidates} rows of train.jsonl, probes the first ${probes} of validation.jsonl`,
    candidates: firstRows(train, candidates),
    probes: firstRows(validation, probes),
    verbalizers,
  };
}

interface Prompts {
  /** Per candidate: BOS (if the model uses one), instruction, the demonstration, the separator. */
  readonly prefixes: readonly Int32Array[];
  /** Per probe: the query and the answer prefix ("\nLabel:"). */
  readonly queries: readonly Int32Array[];
  /** One per label, in label order: " negative", " positive". */
  readonly continuations: readonly Int32Array[];
}

/** Tokenized as ActivationEngine.scoreTexts does for the estimator: BOS on the prefix only. */
function tokenizePrompts(engine: ActivationEngine, workload: Workload): Prompts {
  const template = classificationTemplate;
  return {
    prefixes: workload.candidates.map((c) =>
      engine.tokenize(renderPromptPrefix(template, [{ inputs: { text: c.text }, answer: workload.verbalizers.get(c.label)! }]).text, true),
    ),
    queries: workload.probes.map((p) => engine.tokenize(renderQuerySuffix(template, { inputs: { text: p.text } }).text, false)),
    // As the estimator scores them: after the answer prefix "\nLabel:", " negative" and " positive".
    continuations: [...workload.verbalizers.values()].map((v) => engine.tokenize(continuationText(template.answerPrefix, v), false)),
  };
}

/** Prompt key = candidate × probes + probe, in both layouts. */
function scoringGroups(prompts: Prompts, variant: VariantName, candidates: number, probes: number): ScoringGroup[] {
  const query = (c: number, p: number): ContinuationQuery => ({ key: c * prompts.queries.length + p, query: prompts.queries[p]!, continuations: prompts.continuations });
  const groups: ScoringGroup[] = [];
  for (let c = 0; c < candidates; c++) {
    const prefix = prompts.prefixes[c]!;
    const queries = Array.from({ length: probes }, (_, p) => query(c, p));
    if (variant === 'reuse') groups.push({ prefix, queries });
    // Each prompt its own group: its prefix is evaluated again for every probe.
    else for (const q of queries) groups.push({ prefix, queries: [q] });
  }
  return groups;
}

/** Tokens and windows the engine would evaluate for `groups`: its own planner, without decoding. */
function planned(groups: readonly ScoringGroup[], maxSequences: number): { tokens: number; windows: number } {
  let tokens = 0;
  let windows = 0;
  for (const window of planScoringWindows(groups, { contextSize: CONTEXT_SIZE, maxSequences: Math.min(maxSequences, 256) })) {
    tokens += window.plan.tokens.length;
    windows++;
  }
  return { tokens, windows };
}

function planFullSize(engine: ActivationEngine, maxSequences: number): FullSizePlan | undefined {
  let workload: Workload | undefined;
  try {
    workload = loadWorkload(FULL_CANDIDATES, FULL_PROBES);
  } catch {
    return undefined; // fewer rows than the full task
  }
  if (!workload) return undefined;
  const prompts = tokenizePrompts(engine, workload);
  const reuse = planned(scoringGroups(prompts, 'reuse', FULL_CANDIDATES, FULL_PROBES), maxSequences);
  const noReuse = planned(scoringGroups(prompts, 'no-reuse', FULL_CANDIDATES, FULL_PROBES), maxSequences);
  return {
    minimumTokens: minimumTokens(scoringGroups(prompts, 'reuse', FULL_CANDIDATES, FULL_PROBES)),
    reuseTokens: reuse.tokens,
    reuseWindows: reuse.windows,
    noReuseTokens: noReuse.tokens,
    noReuseWindows: noReuse.windows,
  };
}

async function runScoring(modelPath: string, workload: Workload, variant: VariantName, args: Args): Promise<ChildReport> {
  const rss = new RssSampler();
  let engine: ActivationEngine | undefined;
  try {
    engine = await ActivationEngine.create('cpu');
    await engine.loadModel(modelPath);
    const options: ScoringOptions = { contextSize: CONTEXT_SIZE, batchSize: BATCH_SIZE, maxSequences: args.maxSequences, threads: args.threads, exact: false };
    // Tokenizing is outside the timed part: the estimator tokenizes each text once, not per prompt.
    const prompts = tokenizePrompts(engine, workload);
    const candidates = workload.candidates.length;
    const probes = workload.probes.length;
    const groups = scoringGroups(prompts, variant, candidates, probes);
    const taskMinimumTokens = minimumTokens(scoringGroups(prompts, 'reuse', candidates, probes));
    await engine.scoreContinuations(scoringGroups(prompts, variant, 1, Math.min(WARMUP_PROBES, probes)), options);
    const ready = engine;
    const { value: summary, ms, otherCores } = await timedWithContention(() => ready.scoreContinuations(groups, options));
    if (summary.evaluatedTokens !== planned(groups, args.maxSequences).tokens) throw new Error(`${variant}: the engine evaluated other tokens than its planner lays out`);
    const fullPlan = planFullSize(engine, args.maxSequences);
    await engine.dispose();
    engine = undefined;
    const logprobs: number[] = [];
    for (let key = 0; key < candidates * probes; key++) {
      const scores = summary.scores.get(key);
      if (!scores) throw new Error(`${variant}: no scores for prompt ${key}`);
      for (const s of scores) logprobs.push(s.logprob);
    }
    const result: RunResult = {
      prompts: candidates * probes,
      groups: groups.length,
      evaluatedTokens: summary.evaluatedTokens,
      taskMinimumTokens,
      groupingMinimumTokens: summary.minimumTokens,
      windows: summary.windows,
      ms,
      ...(otherCores === undefined ? {} : { otherCores }),
      prefixTokens: prompts.prefixes.reduce((n, t) => n + t.length, 0),
      queryTokens: prompts.queries.reduce((n, t) => n + t.length, 0),
      labelTokens: prompts.continuations.map((t) => t.length),
      ...rss.stop(),
    };
    return { result, fullSizePlan: fullPlan, logprobs };
  } finally {
    await engine?.dispose();
    rss.stop();
  }
}

async function childMain(variant: VariantName, args: Args): Promise<void> {
  if (!args.model || !process.send) throw new Error('--child is internal: run the benchmark without it');
  const workload = loadWorkload(args.candidates, args.probes);
  if (!workload) throw new Error('the SST-2 data went missing after the benchmark started');
  await sendToParent(await runScoring(args.model, workload, variant, args));
}

function runVariant(variant: VariantName, modelPath: string, args: Args): Promise<ChildReport> {
  const childArgs = ['--child', variant, '--model', modelPath, '--candidates', String(args.candidates), '--probes', String(args.probes)];
  childArgs.push('--threads', String(args.threads), '--max-sequences', String(args.maxSequences));
  return runInChild<ChildReport>(fileURLToPath(import.meta.url), variant, childArgs);
}

/** The prompts' token counts, for the header. */
function describeTokens(r: RunResult, candidates: number, probes: number): string {
  const labels = r.labelTokens.join('/');
  return `prefix (instruction, demonstration, separator; BOS if the model adds one) ${(r.prefixTokens / candidates).toFixed(1)} tokens on average, query ${(r.queryTokens / probes).toFixed(1)}, labels ${labels}; minimum ${r.taskMinimumTokens} tokens (each prefix once + every query)`;
}

async function main(): Promise<void> {
  const args = parseCommandLine();
  if (args.child) return childMain(args.child, args);

  const workload = loadWorkload(args.candidates, args.probes);
  if (!workload) {
    console.log(`${path.join(sharedDatasetsDir(), 'sst2')} not found (train.jsonl, validation.jsonl, labels.json): nothing measured.`);
    return;
  }
  const options = benchModelOptions(args.layers);
  const model = await benchModel(options);
  const modelBytes = (await stat(model.path)).size;
  const prompts = args.candidates * args.probes;

  let reference: number[] | undefined;
  let fullPlan: FullSizePlan | undefined;
  let maxLogprobDifference = 0;
  const runs = new Map<VariantName, RunResult[]>(variants.map((v) => [v.name, []]));
  for (let repeat = 0; repeat < args.repeats; repeat++) {
    const order = variants.map((_, i) => variants[(i + repeat) % variants.length]!);
    for (const variant of order) {
      const { result, fullSizePlan, logprobs } = await runVariant(variant.name, model.path, args);
      fullPlan ??= fullSizePlan;
      const first = [...runs.values()].flat()[0];
      if (first && first.taskMinimumTokens !== result.taskMinimumTokens) {
        throw new Error(`${variant.name}: ${result.taskMinimumTokens} minimum tokens where another run had ${first.taskMinimumTokens}: the runs read different prompts`);
      }
      // Another batch layout moves Q8_0 scores by a fraction of a nat; a layout bug would move them by nats.
      if (reference) logprobs.forEach((v, i) => (maxLogprobDifference = Math.max(maxLogprobDifference, Math.abs(v - reference![i]!))));
      else reference = logprobs;
      runs.get(variant.name)!.push(result);
      const others = result.otherCores === undefined ? '' : `  others ${result.otherCores.toFixed(2)} cores`;
      const ratio = result.evaluatedTokens / result.taskMinimumTokens;
      console.log(
        `  repeat ${repeat + 1}/${args.repeats} ${variant.name.padEnd(8)} ${((prompts / result.ms) * 1000).toFixed(2).padStart(8)} prompts/s  ` +
          `evaluated ${result.evaluatedTokens} tokens (${ratio.toFixed(3)}× minimum)  peak RSS ${mib(result.peakRssBytes)}${others}`,
      );
    }
  }

  const rows = variants.map((variant) => {
    const results = runs.get(variant.name)!;
    const promptsPerSecond = results.map((r) => (prompts / r.ms) * 1000);
    const others = results.map((r) => r.otherCores).filter((v): v is number => v !== undefined);
    const first = results[0]!;
    return {
      ...variant,
      groups: first.groups,
      windows: first.windows,
      evaluatedTokens: first.evaluatedTokens,
      minimumTokens: first.taskMinimumTokens,
      evaluatedOverMinimum: first.evaluatedTokens / first.taskMinimumTokens,
      promptsPerSecond,
      medianPromptsPerSecond: median(promptsPerSecond),
      // Contention only ever slows a run down, so the best run is the least disturbed one.
      bestPromptsPerSecond: Math.max(...promptsPerSecond),
      medianMs: median(results.map((r) => r.ms)),
      otherCores: others.length > 0 ? median(others) : undefined,
      peakRssBytes: Math.max(...results.map((r) => r.peakRssBytes)),
      maxRssBytes: Math.max(...results.map((r) => r.maxRssBytes)),
      startRssBytes: median(results.map((r) => r.startRssBytes)),
    };
  });
  const [reuse, noReuse] = rows as [(typeof rows)[number], (typeof rows)[number]];
  const reuseRun = runs.get('reuse')![0]!;
  if (reuseRun.groupingMinimumTokens !== reuseRun.taskMinimumTokens) throw new Error('the engine and the benchmark disagree on the minimum tokens');
  const ratios = {
    evaluatedOverMinimum: reuse.evaluatedOverMinimum,
    noReuseEvaluatedOverMinimum: noReuse.evaluatedOverMinimum,
    promptsPerSecond: reuse.medianPromptsPerSecond / noReuse.medianPromptsPerSecond,
    promptsPerSecondBestRuns: reuse.bestPromptsPerSecond / noReuse.bestPromptsPerSecond,
  };

  const busiest = Math.max(...rows.map((r) => r.otherCores ?? 0));
  const full = args.candidates === FULL_CANDIDATES && args.probes === FULL_PROBES;
  console.log('');
  console.log('ICL Activation Lab: quality scoring with and without prefix reuse');
  console.log(`device    ${describeCpu()}; threads ${args.threads}; CUDA used: no (llama.cpp's CPU backend)`);
  console.log(`others    other processes used up to ${busiest.toFixed(2)} cores during a timed run (median per variant in the table)${busiest > 0.25 ? ': timings are skewed by contention, rerun on an idle machine' : ''}`);
  console.log(`model     ${describeBenchModel(options, model, modelBytes)}`);
  console.log(`          ${model.path}`);
  console.log(`workload  ${args.candidates} candidates × ${args.probes} probes = ${prompts} one-shot prompts, ${workload.verbalizers.size} labels scored each (${[...workload.verbalizers.values()].map((v) => JSON.stringify(continuationText(classificationTemplate.answerPrefix, v))).join(', ')})`);
  console.log(`          ${workload.source}`);
  console.log(`          ${describeTokens(reuseRun, args.candidates, args.probes)}`);
  if (!full) console.log(`size      reduced from the issue's ${FULL_CANDIDATES} × ${FULL_PROBES} to fit a few minutes on small machines; the full task: --candidates ${FULL_CANDIDATES} --probes ${FULL_PROBES}`);
  if (!full && fullPlan) {
    const p = fullPlan;
    console.log(
      `          at the full size the planner lays out ${p.reuseTokens} tokens in ${p.reuseWindows} windows with reuse (${(p.reuseTokens / p.minimumTokens).toFixed(3)}× the minimum ${p.minimumTokens}), ` +
        `${p.noReuseTokens} in ${p.noReuseWindows} without (${(p.noReuseTokens / p.minimumTokens).toFixed(3)}×); not decoded`,
    );
  }
  console.log(`settings  contextSize ${CONTEXT_SIZE}, batchSize ${BATCH_SIZE}, maxSequences ${args.maxSequences}, exact:false (f16 KV, flash attention auto); default classification template; median of ${args.repeats} timed runs, each in a fresh process after a ${Math.min(WARMUP_PROBES, args.probes)}-prompt warm-up`);
  // Measured: with F32 weights the layouts agree within 1e-5 (exact:true); Q8_0 is what moves them.
  console.log(`check     the variants' label log-probabilities differ by up to ${maxLogprobDifference.toExponential(2)} nats: Q8_0 matmuls round activations to 8 bits, so batch-dependent float differences grow through the layers`);
  console.log('');
  const header = ['variant', 'groups', 'windows', 'evaluated', 'minimum', 'eval/min', 'prompts/s (median)', 'best', 'runs prompts/s', 'time ms', 'peak RSS', 'RSS before load', 'others'];
  printTable(
    header,
    rows.map((r) => [
      r.label,
      String(r.groups),
      String(r.windows),
      String(r.evaluatedTokens),
      String(r.minimumTokens),
      r.evaluatedOverMinimum.toFixed(3),
      r.medianPromptsPerSecond.toFixed(2),
      r.bestPromptsPerSecond.toFixed(2),
      r.promptsPerSecond.map((v) => v.toFixed(1)).join('/'),
      r.medianMs.toFixed(0),
      mib(r.peakRssBytes),
      mib(r.startRssBytes),
      r.otherCores === undefined ? '-' : r.otherCores.toFixed(2),
    ]),
  );
  console.log('');
  const verdict = ratios.evaluatedOverMinimum <= TARGET_RATIO ? 'met' : 'MISSED';
  console.log(`ratio=${ratios.evaluatedOverMinimum.toFixed(3)} evaluated / minimum tokens with prefix reuse (target ≤ ${TARGET_RATIO}: ${verdict}; without reuse: ${ratios.noReuseEvaluatedOverMinimum.toFixed(3)})`);
  console.log(`ratio=${ratios.promptsPerSecond.toFixed(3)} prompts/s with prefix reuse / without (best runs: ${ratios.promptsPerSecondBestRuns.toFixed(3)})`);

  if (args.json) {
    const cpus = os.cpus();
    const report = {
      date: new Date().toISOString(),
      device: { cpu: cpus[0]?.model.trim(), logicalCores: cpus.length, threads: args.threads, cuda: false },
      model: { ...options, path: model.path, fileBytes: modelBytes },
      workload: { source: workload.source, candidates: args.candidates, probes: args.probes, prompts, labels: [...workload.verbalizers.values()], fullSize: full },
      settings: { contextSize: CONTEXT_SIZE, batchSize: BATCH_SIZE, maxSequences: args.maxSequences, exact: false, repeats: args.repeats, warmupPrompts: Math.min(WARMUP_PROBES, args.probes) },
      maxLogprobDifference,
      fullSizePlan: full ? undefined : fullPlan,
      variants: rows,
      ratios: { ...ratios, target: TARGET_RATIO },
    };
    await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${args.json}`);
  }
}

runBenchmark(main);
