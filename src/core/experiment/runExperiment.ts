// `icl-lab run`: the whole study on one model and dataset, phase by phase, every unit of work
// checkpointed in the run folder so a crash, a cancel or a sharded run loses nothing and a resumed
// run gives the same bytes.
//   extract   — activation statistics of every pool example at every site under every mask
//               (stats.csv), pooled vectors for the similarity strategies and KATE (default: the
//               token-mean residual stream after the last layer), raw MLP outputs of a few
//               examples (histograms)
//   quality   — each pool example's quality on the probe set (quality.csv)
//   sae       — with the config's `sae:` key: a TopK sparse autoencoder trained on the pool's
//               activations (RUN/sae/, saePhase.ts); its per-example signals join stats.csv as the
//               site `sae`, its codes feed sae-coverage and sae-diverse
//   correlate — statistic × quality Spearman over the grid (correlations.csv)
//   select    — every strategy × seed × budget, round by round (selections.csv)
//   evaluate  — k-shot performance of each selection on the test set, demonstrations in one seeded
//               order (curves.csv with intervals over test items, strategy_vs_random.csv,
//               acquisition_correlations.csv)
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetRow, DatasetSpec } from '../dataset/datasetSpec.js';
import { loadDataset } from '../dataset/loadDataset.js';
import { loadSplits, seededSplit, type DatasetSplits } from '../dataset/splits.js';
import { qualityCsv } from '../format/qualityCsv.js';
import { statsCsvHeader, statsCsvRows, statsCsvWithDerivedSite } from '../format/statsCsv.js';
import { readLabelsFile } from '../dataset/labelSet.js';
import { inContextDemonstrations, maskLayout, spanText, type MaskStrategy } from '../masks.js';
import { influencePromptCount, influencePrompts, kShotInfluence, oneShotGain, type QualityRow } from '../quality/exampleQuality.js';
import { continuationText, demonstrationOf, evaluatePromptItems, type ClassificationTask, type GenerativeTask, type PromptItem, type PromptMetrics } from '../quality/promptEvaluation.js';
import { activationHistograms, decodeNpyFloat32, histogramsCsv, massiveCsv } from '../report/activationHistograms.js';
import { demonstrationOrder } from '../selection/demonstrationOrder.js';
import { centredUnitVectors } from '../selection/embeddings.js';
import { retrieveDemonstrations, type RetrievalStrategy } from '../selection/retrieval.js';
import { labelConfidence, type Candidate, type ConfidenceScorer } from '../selection/selectionStrategy.js';
import { assertSignalUsableForSelection, strategyByName } from '../selection/strategyRegistry.js';
import { labelEntropy } from '../selection/uncertainty.js';
import { defaultTemplateFor } from '../template/defaultTemplates.js';
import { renderDemonstrationInput, renderPromptPrefix, renderQuerySuffix } from '../template/promptRenderer.js';
import type { SiteName } from '../sites.js';
import type { Template } from '../template/template.js';
import { checkTemplateFields } from '../template/templateFields.js';
import { parseTemplate } from '../template/templateParser.js';
import { acquire, randomBudget, selectionsCsv, type SelectionRow } from './acquisition.js';
import { writeFileAtomic } from '../format/atomicFile.js';
import { writeCheckpointManifest } from './checkpointManifest.js';
import type { ReusableUnits } from './unitReuse.js';
import { CheckpointStore } from './checkpointStore.js';
import { checkUnitExamples, exampleDigests, runInputsOf, type ExampleDigest, type RunInputs } from './runInputs.js';
import { correlate, correlationsCsv, parseStatsCellKey, qualityByCell, readStatsCsv, readTokenCounts, statsCellKey } from './correlations.js';
import { buildHeadline, qualityReliability, type Headline } from './headline.js';
import type { ExperimentModel, ModelFacts } from './experimentModel.js';
import { predictionsCsv, type PredictionRow } from './predictions.js';
import { acquisitionCorrelations, acquisitionCorrelationsCsv, curveRows, curvesCsv, differencesFromRandom, strategyVsRandomCsv, type ItemScores } from './learningCurves.js';
import { checkLayersAgainstModel, classificationOnlyStrategies, ownModelEmbedding, resolveLayer, retrievalStrategyNames, runConfigToJson, vectorStrategyNames, type RunConfig } from './runConfig.js';
import { chunk, describeShard, ownsUnit, type Shard } from './workUnits.js';
import { readSaeRecord, runSaePhase, saeFolderName, saeRecordName } from './saePhase.js';
import { derivedSiteNames } from '../sites.js';

export const runPhases = ['extract', 'quality', 'sae', 'correlate', 'select', 'evaluate'] as const;
export type RunPhase = (typeof runPhases)[number];

/** Phases a shard runs: the model-heavy ones whose units can be split across machines. */
export const shardablePhases: readonly RunPhase[] = ['extract', 'quality'];

/** Examples per extraction unit, prompts per quality and evaluation unit: fixed, so resumed and sharded runs decode the same windows. */
export const unitSizes = { extract: 16, quality: 8, evaluate: 4, kate: 16 } as const;

export interface RunProgress {
  readonly phase: RunPhase;
  readonly done: number;
  readonly total: number;
  /** What `done` counts: examples, prompts, … */
  readonly unit: string;
}

export interface RunOptions {
  readonly dir: string;
  /** Only this shard's extract and quality units; the run stops after the quality phase. */
  readonly shard?: Shard;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RunProgress) => void;
  readonly log?: (line: string) => void;
  /** Recorded in run.json: package and library versions. */
  readonly versions?: Readonly<Record<string, string>>;
  /** Renders report.html and figures/ from the finished folder (kept out of core's dependencies). */
  readonly report?: (dir: string) => Promise<unknown>;
  /** The run's inputs when the caller computed them already (to compare with a previous run's); else computed here. */
  readonly inputs?: RunInputs;
  /** An earlier run's per-example results to assemble pool-free extraction units from (`--reuse`). */
  readonly reuse?: ReusableUnits;
}

export interface PhaseRecord {
  status: 'running' | 'complete' | 'skipped' | 'failed' | 'cancelled';
  /** Wall time over every invocation of the phase (each resume, each merged shard). */
  wallMs: number;
  /** Units computed over every invocation, a cancelled or failed one included. */
  computed: number;
  /** Units the latest invocation found finished in the folder. */
  reused: number;
  /** How many invocations the times and counts add up (absent in run folders from before: 1). */
  invocations?: number;
  /**
   * Where the latest invocation's time went (extract only): per pass `site/mask` (and `vectors`,
   * the embedding model), the units computed, examples, tokens evaluated and wall time; and
   * `assemble`, writing stats.csv and the histograms. bench:study prints it.
   */
  breakdown?: Record<string, { units: number; examples: number; tokens: number; ms: number }>;
}

/** A phase's record after one more invocation: `elapsedMs` and `computed` added to what earlier ones recorded. */
export function accumulatePhase(earlier: PhaseRecord | undefined, status: PhaseRecord['status'], elapsedMs: number, counts: { computed: number; reused: number }): PhaseRecord {
  return {
    status,
    wallMs: (earlier?.wallMs ?? 0) + Math.round(elapsedMs),
    computed: (earlier?.computed ?? 0) + counts.computed,
    reused: counts.reused,
    invocations: (earlier ? (earlier.invocations ?? 1) : 0) + 1,
  };
}

export interface RunRecord {
  format: 'icl-lab-run/1';
  status: 'running' | 'complete' | 'shard-complete' | 'merged' | 'failed' | 'cancelled';
  error?: string;
  startedAt: string;
  finishedAt?: string;
  /** The process running it: a viewer tells a live run from one that died without a word. */
  pid: number;
  shard?: string;
  seed: number;
  config: unknown;
  /** Absent only in the record of a run that failed before its model loaded (then `error` says why). */
  model?: ModelFacts;
  data: { file: string; pool: number; probe: number; test: number };
  /** The files and examples the checkpoints were computed from (absent in run folders from before). */
  inputs?: RunInputs;
  versions: Readonly<Record<string, string>>;
  phases: Partial<Record<RunPhase | 'report', PhaseRecord>>;
  headline?: Headline;
  /**
   * What embedded the examples for the similarity strategies and KATE (`model: resid_post mean,
   * layer 29`, or `embedding model: /path/to/embedder.gguf`); absent when no strategy compared vectors.
   */
  embedding?: string;
}

export class RunCancelledError extends Error {
  constructor(phase: string) {
    super(`cancelled during ${phase}; finished work is kept: resume with --resume`);
    this.name = 'RunCancelledError';
  }
}

/** The data, the template and the task, read and checked before any model work. */
export interface PreparedRun {
  readonly splits: DatasetSplits;
  readonly template: Template;
  readonly task: ClassificationTask | GenerativeTask;
  readonly spec: DatasetSpec;
}

export async function prepareRun(config: RunConfig, log?: (line: string) => void): Promise<PreparedRun> {
  const declaredLabels = config.data.labels ?? (config.data.verbalizers ? await readLabelsFile(config.data.verbalizers) : undefined);
  const spec: DatasetSpec = {
    file: config.data.file,
    ...(config.data.format ? { format: config.data.format } : {}),
    inputs: config.data.inputs,
    ...(config.data.id ? { id: config.data.id } : {}),
    ...(config.data.humanLabels ? { humanLabelsFile: config.data.humanLabels } : {}),
    task:
      config.data.task === 'classification'
        ? { type: 'classification', target: config.data.target, ...(declaredLabels ? { labels: declaredLabels } : {}) }
        : { type: 'generative', target: config.data.target },
  };
  const file = config.template
    ? parseTemplate(await readFile(config.template, 'utf8'), config.template)
    : defaultTemplateFor(config.data.task, spec.inputs);
  // One instruction for every prompt and mask: the config's, where it gives one.
  const template = config.instruction === undefined ? file : { ...file, instruction: config.instruction };
  checkTemplateFields(template, spec.inputs);
  if (config.masks.includes('shared-prefix') && template.instruction === '') {
    throw new Error(`${config.configFile}: the shared-prefix mask needs an instruction: ${template.file} has no @instruction; add one, or set instruction in the config`);
  }
  // The span's text must exist for every example: a template whose demonstration puts an input after {{answer}} has none.
  if (config.span === 'input') renderDemonstrationInput(template, Object.fromEntries(spec.inputs.map((f) => [f, ''])));
  let splits: DatasetSplits;
  try {
    splits = await splitRows(config, spec, log);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new Error(`${config.configFile}: split: ${error.message} in ${spec.file}${spec.humanLabelsFile ? ` (labelled there or in ${spec.humanLabelsFile})` : ''}; make split.test, split.probe and split.pool fit the data`);
  }
  let task: ClassificationTask | GenerativeTask;
  if (config.data.task === 'generative') {
    task = { type: 'generative', maxTokens: 32, stop: ['\n'] };
  } else {
    const seen = [...new Set(Object.values(splits).flat().map((row) => row.label!))].sort();
    task = { type: 'classification', labels: declaredLabels ?? seen.map((value) => ({ value, verbalizer: value })), scoring: config.scoring.labels };
  }
  const budgetsTooLarge = config.selection.budgets.filter((b) => b > splits.pool.length);
  if (budgetsTooLarge.length > 0) throw new Error(`${config.configFile}: selection.budgets: ${budgetsTooLarge.join(', ')} exceed${budgetsTooLarge.length === 1 ? 's' : ''} the pool of ${splits.pool.length} examples`);
  for (const name of classificationOnlyStrategies) {
    if (config.selection.strategies.includes(name) && task.type !== 'classification') {
      throw new Error(`${config.configFile}: selection.strategies: ${name} needs a classification task (it reads the label distribution or the labels)`);
    }
  }
  return { splits, template, task, spec };
}

/** The run's pool, probe and test rows: with human labels, of the labelled rows only. */
async function splitRows(config: RunConfig, spec: DatasetSpec, log?: (line: string) => void): Promise<DatasetSplits> {
  if (spec.humanLabelsFile) {
    if (!existsSync(spec.humanLabelsFile)) throw new Error(`${config.configFile}: data.humanLabels: ${spec.humanLabelsFile} not found (label some rows first, or remove the key)`);
    // Human labels: only the rows someone labelled take part.
    const { rows } = await loadDataset(spec);
    const labelled = rows.filter((row) => row.label !== undefined || (row.references?.length ?? 0) > 0);
    if (labelled.length < rows.length) log?.(`${rows.length - labelled.length} of ${rows.length} rows have no label in ${spec.file} or ${spec.humanLabelsFile}: left out`);
    return seededSplit(labelled, config.split, config.seed);
  }
  return (await loadSplits({ from: 'one-file', data: spec, sizes: config.split, seed: config.seed })).splits;
}

/** The files and resolved examples a run's checkpoints depend on (recorded in run.json, compared on resume). */
export function runInputsFor(config: RunConfig, prepared: PreparedRun): Promise<RunInputs> {
  return runInputsOf({
    dataFile: config.data.file,
    humanLabelsFile: config.data.humanLabels,
    verbalizersFile: config.data.verbalizers,
    templateFile: config.template,
    splits: prepared.splits,
  });
}

/** An example's input fields, one per line: how the panels show it (the masks read maskLayout's span). */
export function exampleText(row: DatasetRow, inputs: readonly string[]): string {
  return inputs.map((field) => row.inputs[field] ?? '').join('\n');
}

const vectorStrategies = new Set<string>(vectorStrategyNames);

/**
 * Where the run model's own vectors come from (selection.embedding `model`): the token-mean
 * activation at selection.vectorSite and selection.vectorLayer under the isolated mask, by default
 * the residual stream after the last layer. Mean-centred and L2-normalised before use (embeddings.ts).
 */
export function selectionEmbedding(config: RunConfig, layerCount: number): { readonly site: SiteName; readonly layer: number } {
  return { site: config.selection.vectorSite, layer: resolveLayer(config.selection.vectorLayer, layerCount) };
}

/** What embedded the examples, as run.json records it. */
export function describeEmbedding(config: RunConfig, layerCount: number): string {
  if (config.selection.embedding !== ownModelEmbedding) return `embedding model: ${config.selection.embedding}`;
  const { site, layer } = selectionEmbedding(config, layerCount);
  return `model: ${site} mean, layer ${layer}`;
}

/** The site whose isolated pass writes the raw activations of the histograms (the MLP output's). */
const histogramSite: SiteName = 'mlp_out';

/**
 * An extraction unit's checkpoint name. The MLP output keeps the name it had before runs read other
 * sites, so run folders written then resume and merge as they are.
 */
export function extractUnitName(site: SiteName, mask: MaskStrategy, chunkIndex: number): string {
  return site === 'mlp_out' ? `extract-${mask}-${chunkIndex}.json` : `extract-${site}-${mask}-${chunkIndex}.json`;
}

/** A checkpoint of vectors from selection.embedding's embedding model. */
export function embeddingUnitName(set: 'pool' | 'test', chunkIndex: number): string {
  return `embedding-${set}-${chunkIndex}.json`;
}

/**
 * Runs (or resumes) the study in `options.dir`. Units already in the folder's checkpoints are
 * read, not recomputed. Throws RunCancelledError when options.signal aborts.
 */
export async function runExperiment(config: RunConfig, prepared: PreparedRun, model: ExperimentModel, options: RunOptions): Promise<RunRecord> {
  const { dir } = options;
  const log = options.log ?? (() => undefined);
  const store = new CheckpointStore(dir);
  const { splits, template, task } = prepared;
  const pool = splits.pool;
  const layerCount = model.facts.layers;
  const layerProblems = checkLayersAgainstModel(config, layerCount);
  if (layerProblems.length > 0) throw new Error(`${config.configFile}: ${layerProblems.join('; ')}`);
  const { site: vectorSite, layer: vectorLayer } = selectionEmbedding(config, layerCount);
  const needsVectors = config.selection.strategies.some((s) => vectorStrategies.has(s));
  // The vectors come from the run model's own pass, or from a GGUF embedding model (selection.embedding).
  const embeddingModel = config.selection.embedding === ownModelEmbedding ? undefined : config.selection.embedding;
  const needsModelVectors = needsVectors && embeddingModel === undefined;
  const needsKate = config.selection.strategies.includes('kate');
  const retrievers = config.selection.strategies.filter((s) => (retrievalStrategyNames as readonly string[]).includes(s));

  await mkdir(dir, { recursive: true });
  // What a killed or broken earlier invocation left: stale partial files, units that do not parse.
  for (const line of await store.heal()) log(line);
  // A resumed (or merged) run's phases so far: this invocation adds its time and units to theirs.
  const earlier: RunRecord['phases'] = (await readRunRecord(dir).catch(() => undefined))?.phases ?? {};
  const record: RunRecord = {
    format: 'icl-lab-run/1',
    status: 'running',
    startedAt: new Date().toISOString(),
    pid: process.pid,
    ...(options.shard ? { shard: describeShard(options.shard) } : {}),
    seed: config.seed,
    config: runConfigToJson(config),
    model: model.facts,
    data: { file: config.data.file, pool: pool.length, probe: splits.probe.length, test: splits.test.length },
    inputs: options.inputs ?? (await runInputsFor(config, prepared)),
    versions: options.versions ?? {},
    phases: {},
    ...(needsVectors ? { embedding: describeEmbedding(config, layerCount) } : {}),
  };
  const saveRecord = (): Promise<void> => writeAtomic(path.join(dir, 'run.json'), JSON.stringify(record, null, 2) + '\n');
  await saveRecord();
  await mkdir(store.dir, { recursive: true });
  await writeCheckpointManifest(dir, { format: 'icl-lab-checkpoints/1', seed: record.seed, ...(record.shard ? { shard: record.shard } : {}), config: record.config, model: model.facts, ...(record.inputs ? { inputs: record.inputs } : {}) });

  const checkCancelled = (phase: string): void => {
    if (options.signal?.aborted) throw new RunCancelledError(phase);
  };
  // Shardable units are numbered across the extract and quality phases, in one fixed order.
  let shardableUnit = 0;
  let current: RunPhase = 'extract';
  let currentStarted = performance.now();
  let currentCounts = { computed: 0, reused: 0 };

  const breakdown: NonNullable<PhaseRecord['breakdown']> = {};
  const addBreakdown = (key: string, examples: number, tokens: number, ms: number): void => {
    const entry = (breakdown[key] ??= { units: 0, examples: 0, tokens: 0, ms: 0 });
    entry.units++;
    entry.examples += examples;
    entry.tokens += tokens;
    entry.ms += ms;
  };

  async function phase(name: RunPhase, work: (counts: { computed: number; reused: number }) => Promise<void>): Promise<void> {
    current = name;
    const started = (currentStarted = performance.now());
    const counts = (currentCounts = { computed: 0, reused: 0 });
    record.phases[name] = { ...accumulatePhase(earlier[name], 'running', 0, counts), invocations: earlier[name]?.invocations ?? (earlier[name] ? 1 : 0) };
    await saveRecord();
    await work(counts);
    record.phases[name] = accumulatePhase(earlier[name], 'complete', performance.now() - started, counts);
    if (name === 'extract' && Object.keys(breakdown).length > 0) record.phases[name] = { ...record.phases[name]!, breakdown: roundedBreakdown(breakdown) };
    await saveRecord();
    log(`${name}: ${counts.computed} units computed, ${counts.reused} reused (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }

  try {
    // ---- extract -------------------------------------------------------------------------------
    const poolChunks = chunk(pool.map((_, position) => position), unitSizes.extract);
    const testChunks = needsKate ? chunk(splits.test.map((_, position) => position), unitSizes.extract) : [];
    const modelTestChunks = needsModelVectors ? testChunks : [];
    const histogramExamples = new Set(pool.slice(0, config.histogramExamples).map((row) => row.index));
    const rawDir = path.join(dir, 'raw');
    const inContext = inContextDemonstrations(pool.length, Math.min(config.inContextShots, pool.length - 1), config.seed);
    interface ExtractUnit {
      /** Absent in units written before sites existed, whose stats rows have no site column. */
      site?: SiteName;
      /** The examples the unit covers, in order (absent in units written before inputs were recorded). */
      examples?: ExampleDigest[];
      stats: string;
      vectors?: number[][];
    }
    await phase('extract', async (counts) => {
      const units: { name: string; site: SiteName; mask: MaskStrategy; rows: readonly DatasetRow[]; positions: readonly number[]; statsWanted: boolean; set: 'pool' | 'test' }[] = [];
      // One pass per site and mask. The vectors are vectorSite's under the isolated mask: that pass
      // carries them when the run reads it anyway, else it runs for the vectors alone (no stats rows).
      const passes: { site: SiteName; mask: MaskStrategy }[] = config.sites.flatMap((site) => config.masks.map((mask) => ({ site, mask })));
      if (needsModelVectors && !passes.some((p) => p.site === vectorSite && p.mask === 'isolated')) passes.push({ site: vectorSite, mask: 'isolated' });
      for (const { site, mask } of passes) {
        poolChunks.forEach((positions, c) =>
          units.push({ name: extractUnitName(site, mask, c), site, mask, rows: pool, positions, statsWanted: config.masks.includes(mask) && config.sites.includes(site), set: 'pool' }),
        );
      }
      modelTestChunks.forEach((positions, c) => units.push({ name: `extract-test-${c}.json`, site: vectorSite, mask: 'isolated', rows: splits.test, positions, statsWanted: false, set: 'test' }));
      const total = units.length;
      let done = 0;
      let reusedExamples = 0;
      for (const unit of units) {
        const number = shardableUnit++;
        if (!ownsUnit(options.shard, number)) continue;
        checkCancelled('extract');
        // A finished unit whose raw dumps (the histograms' input) are missing or short is recomputed.
        const dumps = unit.set === 'pool' && unit.mask === 'isolated' && unit.site === histogramSite ? unit.positions.map((p) => unit.rows[p]!.index).filter((e) => histogramExamples.has(e)) : [];
        const brokenDump = store.has(unit.name) ? await firstBrokenRawDump(rawDir, dumps, layerCount) : undefined;
        if (brokenDump) log(`${brokenDump}: extract unit ${unit.name} is recomputed`);
        if (store.has(unit.name) && !brokenDump) {
          counts.reused++;
        } else {
          const wantsVectors = needsModelVectors && unit.mask === 'isolated' && unit.site === vectorSite;
          const unitRows = unit.positions.map((position) => unit.rows[position]!);
          // --reuse: the examples an earlier run computed with the same content (and their raw dumps) are taken from it.
          const earlier = options.reuse ? await options.reuse.takeEach(unit.site, unit.mask, unitRows, unit.statsWanted, wantsVectors, dumps, layerCount, rawDir) : new Map<number, { stats: string; vector?: number[] }>();
          const toCompute = unit.positions.filter((position) => !earlier.has(unit.rows[position]!.index));
          const byExample = new Map<number, { spanTokens: number; stats: Float64Array; pooled?: Float64Array }>();
          if (toCompute.length > 0) {
            // Test rows have no label to show: only the label-free input span is read of them (KATE's vectors).
            const layout = maskLayout(
              template,
              unit.mask,
              unit.set === 'test' ? 'input' : config.span,
              toCompute.map((position) => {
                const row = unit.rows[position]!;
                return { example: row.index, demonstration: unit.set === 'test' ? { inputs: row.inputs, answer: '' } : demonstrationOf(row, task) };
              }),
              (i) => inContext[toCompute[i]!]!.map((p) => demonstrationOf(pool[p]!, task)),
            );
            const passStarted = performance.now();
            let passTokens = 0;
            const raw = unit.set === 'pool' && unit.mask === 'isolated' && unit.site === histogramSite ? layout.examples.map((e) => e.example).filter((e) => histogramExamples.has(e)) : [];
            try {
              await model.extract(
                {
                  ...layout,
                  site: unit.site,
                  ...(raw.length > 0 ? { rawExamples: raw, rawDir } : {}),
                  ...(wantsVectors ? { pooledLayers: [vectorLayer] } : {}),
                },
                (result) => byExample.set(result.example, result),
                (exampleDone, _total, tokens) => {
                  passTokens = tokens;
                  options.onProgress?.({ phase: 'extract', done: done * unitSizes.extract + exampleDone, total: total * unitSizes.extract, unit: 'examples' });
                },
              );
            } catch (error) {
              throw locateExamples(error, unit.rows, config.data.file);
            }
            addBreakdown(`${unit.site}/${unit.mask}${unit.set === 'test' ? ' (test)' : ''}${wantsVectors ? ' +vectors' : ''}${raw.length > 0 ? ' +raw' : ''}`, layout.examples.length, passTokens, performance.now() - passStarted);
          }
          reusedExamples += earlier.size;
          // In the unit's order, each example's rows from wherever they came: the same bytes either way.
          const statsOf = (row: DatasetRow): string => earlier.get(row.index)?.stats ?? statsCsvRows(row.index, unit.site, unit.mask, byExample.get(row.index)!.spanTokens, byExample.get(row.index)!.stats);
          const vectorOf = (row: DatasetRow): number[] => earlier.get(row.index)?.vector ?? Array.from(byExample.get(row.index)!.pooled!);
          const value: ExtractUnit = {
            site: unit.site,
            examples: exampleDigests(unitRows),
            stats: unit.statsWanted ? unitRows.map(statsOf).join('') : '',
            ...(wantsVectors ? { vectors: unitRows.map(vectorOf) } : {}),
          };
          await store.writeJson(unit.name, value);
          counts.computed++;
        }
        done++;
        options.onProgress?.({ phase: 'extract', done: done * unitSizes.extract, total: total * unitSizes.extract, unit: 'examples' });
      }
      if (options.reuse) log(`--reuse: ${reusedExamples} example extractions taken from ${options.reuse.dir} (isolated and shared-prefix, content unchanged); the rest computed`);
      // An embedding model's vectors: each example's label-free input span, as the masks read it.
      if (embeddingModel !== undefined && needsVectors) {
        const embeddingUnits = [
          ...poolChunks.map((positions, c) => ({ name: embeddingUnitName('pool', c), rows: pool, positions })),
          ...testChunks.map((positions, c) => ({ name: embeddingUnitName('test', c), rows: splits.test, positions })),
        ];
        for (const unit of embeddingUnits) {
          const number = shardableUnit++;
          if (!ownsUnit(options.shard, number)) continue;
          checkCancelled('extract');
          if (store.has(unit.name)) {
            counts.reused++;
            continue;
          }
          if (!model.embed) throw new Error(`selection.embedding: this runner cannot load a second model (${embeddingModel})`);
          const rows = unit.positions.map((position) => unit.rows[position]!);
          const texts = rows.map((row) => spanText(template, { inputs: row.inputs, answer: '' }, 'input', `${config.data.file}: example ${row.id}`));
          const embedStarted = performance.now();
          const vectors = await model.embed(embeddingModel, texts);
          addBreakdown('vectors (embedding model)', texts.length, 0, performance.now() - embedStarted);
          await store.writeJson(unit.name, { examples: exampleDigests(rows), vectors: vectors.map((v) => Array.from(v)) });
          counts.computed++;
        }
      }
      if (options.shard) return;
      const assembleStarted = performance.now();
      let csv = statsCsvHeader();
      for (const site of config.sites) {
        for (const mask of config.masks) {
          for (const [c, positions] of poolChunks.entries()) {
            const name = extractUnitName(site, mask, c);
            const unit = await store.readJson<ExtractUnit>(name);
            checkUnitExamples(unit.examples, positions.map((p) => pool[p]!), store.file(name));
            csv += unit.site === undefined ? withSiteColumn(unit.stats, site) : unit.stats;
          }
        }
      }
      await writeAtomic(path.join(dir, 'stats.csv'), csv);
      if (existsSync(rawDir)) {
        const { histograms, massive } = await activationHistograms(rawDir, 'isolated');
        await writeAtomic(path.join(dir, 'histograms.csv'), histogramsCsv(histograms));
        await writeAtomic(path.join(dir, 'massive.csv'), massiveCsv(massive));
      }
      addBreakdown('assemble (stats.csv, histograms)', 0, 0, performance.now() - assembleStarted);
    });

    // ---- quality -------------------------------------------------------------------------------
    const qualityPrompts: DatasetRow[][] =
      config.quality.estimator === 'one-shot'
        ? [[], ...pool.map((row) => [row])]
        : influencePrompts(pool.length, { shots: config.quality.shots, prompts: qualityPromptCount(config, pool.length), seed: config.seed }).map((positions) => positions.map((p) => pool[p]!));
    const qualityChunks = chunk(qualityPrompts, unitSizes.quality);
    await phase('quality', async (counts) => {
      let done = 0;
      for (const [c, prompts] of qualityChunks.entries()) {
        const number = shardableUnit++;
        if (!ownsUnit(options.shard, number)) continue;
        checkCancelled('quality');
        const name = `quality-${c}.json`;
        if (store.has(name)) counts.reused++;
        else {
          // One-shot gain is a difference of two prompts on the same probes: each prompt alone in its windows, the same layout for both.
          const result = await evaluatePromptItems(model, template, task, prompts.map((demonstrations) => ({ demonstrations, probes: splits.probe })), { ownWindows: config.quality.estimator === 'one-shot' });
          await store.writeJson(name, metricsUnit(result));
          counts.computed++;
        }
        done += prompts.length;
        options.onProgress?.({ phase: 'quality', done, total: qualityPrompts.length, unit: 'prompts' });
      }
    });
    if (options.shard) {
      record.status = 'shard-complete';
      record.finishedAt = new Date().toISOString();
      await saveRecord();
      return record;
    }
    let qualityRows: QualityRow[] = [];
    {
      const assembled = await assembleMetrics(qualityChunks.map((_, c) => `quality-${c}.json`));
      const evaluate = async (prompts: readonly (readonly DatasetRow[])[]): Promise<PromptMetrics> => {
        if (prompts.length !== qualityPrompts.length) throw new Error(`internal: the estimator asked for ${prompts.length} prompts, the quality units hold ${qualityPrompts.length}`);
        return { ...assembled, predictions: assembled.predictions ?? [] };
      };
      qualityRows =
        config.quality.estimator === 'one-shot'
          ? await oneShotGain(pool, evaluate)
          : await kShotInfluence(pool, evaluate, { shots: config.quality.shots, prompts: qualityPromptCount(config, pool.length), seed: config.seed });
      await writeAtomic(path.join(dir, 'quality.csv'), qualityCsv(qualityRows));
    }

    // ---- sae -----------------------------------------------------------------------------------
    let saeFeatures: ReadonlyMap<number, ReadonlyMap<number, number>> | undefined;
    // An SAE that `icl-lab sae` trained on this folder stays part of it when the config has no
    // `sae:` key: its settings come from its sae.json (and it is reused, not retrained).
    const trainedHere = config.sae ? undefined : await readSaeRecord(path.join(dir, saeFolderName, saeRecordName)).catch(() => undefined);
    if (trainedHere) log(`sae: keeping the sparse autoencoder in ${path.join(dir, saeFolderName)} (trained by icl-lab sae; the config has no sae: key)`);
    const saeSettings = config.sae ?? trainedHere?.config;
    if (saeSettings) {
      await phase('sae', async (counts) => {
        const result = await runSaePhase({
          dir,
          config,
          sae: saeSettings,
          prepared,
          model,
          qualityRows,
          checkCancelled: () => checkCancelled('sae'),
          log,
          onProgress: (done, total, unit) => options.onProgress?.({ phase: 'sae', done, total, unit }),
          onTraining: (p) => options.onProgress?.({ phase: 'sae', done: p.step, total: p.steps, unit: 'training steps' }),
        });
        // stats.csv was just assembled by extract: the `sae` site's rows join it, every time.
        const statsFile = path.join(dir, 'stats.csv');
        await writeAtomic(statsFile, statsCsvWithDerivedSite(await readFile(statsFile, 'utf8'), 'sae', result.columns, result.rows));
        saeFeatures = result.features;
        if (result.reused) counts.reused++;
        else counts.computed += result.computed;
      });
    }

    // ---- correlate -----------------------------------------------------------------------------
    const statsByCell = await readStatsCsv([path.join(dir, 'stats.csv')]);
    const tokenCounts = await readTokenCounts([path.join(dir, 'stats.csv')]);
    await phase('correlate', async (counts) => {
      const grid = correlationGrid(config, statsByCell, tokenCounts, qualityRows, (done, total) => options.onProgress?.({ phase: 'correlate', done, total, unit: 'cells' }));
      await writeAtomic(path.join(dir, 'correlations.csv'), correlationsCsv(grid.rows));
      record.headline = grid.headline;
      counts.computed++;
    });

    // ---- select --------------------------------------------------------------------------------
    const poolVectors: Float64Array[] = [];
    const testVectors: Float64Array[] = [];
    if (needsVectors) {
      const poolUnit = (c: number): string => (embeddingModel === undefined ? extractUnitName(vectorSite, 'isolated', c) : embeddingUnitName('pool', c));
      const testUnit = (c: number): string => (embeddingModel === undefined ? `extract-test-${c}.json` : embeddingUnitName('test', c));
      // Joined to the examples by the ids each unit records, never by position alone.
      const readVectors = async (name: string, rows: readonly DatasetRow[], into: Float64Array[]): Promise<void> => {
        const unit = await store.readJson<ExtractUnit>(name);
        checkUnitExamples(unit.examples, rows, store.file(name));
        if (unit.vectors?.length !== rows.length) throw new Error(`${store.file(name)}: holds ${unit.vectors?.length ?? 0} vectors for ${rows.length} examples`);
        for (const v of unit.vectors) into.push(Float64Array.from(v));
      };
      for (const [c, positions] of poolChunks.entries()) await readVectors(poolUnit(c), positions.map((p) => pool[p]!), poolVectors);
      for (const [c, positions] of testChunks.entries()) await readVectors(testUnit(c), positions.map((p) => splits.test[p]!), testVectors);
    }
    // Mean-centred on the pool and unit length: raw pooled states share a large common direction.
    const poolEmbeddings = centredUnitVectors(poolVectors);
    const testEmbeddings = centredUnitVectors(testVectors, poolVectors);
    const chosen = config.selection.statistic;
    const statisticKey = statsCellKey({ mask: chosen.mask, site: chosen.site, layer: resolveLayer(chosen.layer, layerCount), pooling: chosen.pooling, statistic: chosen.statistic });
    const statisticByExample = statsByCell.get(statisticKey);
    const qualityByExample = new Map(qualityRows.filter((r) => r.metric === config.quality.metric).map((r) => [r.example, r.value]));
    const baseCandidates: Candidate[] = pool.map((row, position) => ({
      index: row.index,
      id: row.id,
      ...(needsVectors ? { vector: poolEmbeddings[position]! } : {}),
      ...(row.label !== undefined ? { label: row.label } : {}),
      ...(statisticByExample ? { statistic: statisticByExample.get(row.index)! } : {}),
      ...(qualityByExample.has(row.index) ? { quality: qualityByExample.get(row.index)! } : {}),
      ...(saeFeatures ? { features: saeFeatures.get(row.index) ?? new Map<number, number>() } : {}),
    }));

    /** Label entropy of every unlabelled pool example as the query after the labelled demonstrations. */
    const uncertainties = async (labelled: readonly number[], unitName: string): Promise<number[]> => {
      if (store.has(unitName)) return store.readJson<number[]>(unitName);
      if (task.type !== 'classification') throw new Error('uncertainty needs a classification task');
      const taken = new Set(labelled);
      const prefix = renderPromptPrefix(template, labelled.map((p) => demonstrationOf(pool[p]!, task))).text;
      const continuations = task.labels.map((l) => continuationText(template.answerPrefix, l.verbalizer));
      const queries = pool.flatMap((row, position) => (taken.has(position) ? [] : [{ key: position, query: renderQuerySuffix(template, { inputs: row.inputs }).text, continuations }]));
      const scored = await model.scoreTexts([{ prefix, queries }]);
      // Labelled examples are never chosen again; 0 keeps every candidate's field finite.
      const entropy = pool.map((_, position) => (taken.has(position) ? 0 : labelEntropy(scored.scores.get(position)!.map((s) => s.logprob))));
      await store.writeJson(unitName, entropy);
      return entropy;
    };

    /** The model's confidence per request, checkpointed as `unitName`: requests sharing demonstrations share one prefix. */
    const confidences = (unitName: string, counted: (unit: string) => void): ConfidenceScorer => async (requests) => {
      counted(unitName);
      if (store.has(unitName)) return Float64Array.from(await store.readJson<number[]>(unitName));
      if (task.type !== 'classification') throw new Error('model confidence needs a classification task');
      const continuations = task.labels.map((l) => continuationText(template.answerPrefix, l.verbalizer));
      const groups = new Map<string, { prefix: string; queries: { key: number; query: string; continuations: string[] }[] }>();
      requests.forEach((r, key) => {
        const demos = r.demonstrations.join(' ');
        let group = groups.get(demos);
        if (!group) groups.set(demos, (group = { prefix: renderPromptPrefix(template, r.demonstrations.map((p) => demonstrationOf(pool[p]!, task))).text, queries: [] }));
        group.queries.push({ key, query: renderQuerySuffix(template, { inputs: pool[r.position]!.inputs }).text, continuations });
      });
      const scored = await model.scoreTexts([...groups.values()]);
      const confidence = requests.map((_, key) => labelConfidence(scored.scores.get(key)!.map((s) => s.logprob)));
      await store.writeJson(unitName, confidence);
      return Float64Array.from(confidence);
    };

    const selections: SelectionRow[] = [];
    await phase('select', async (counts) => {
      const strategies = config.selection.strategies.filter((s) => !(retrievalStrategyNames as readonly string[]).includes(s));
      // Activation signals and vectors were read over config.span: one that shows the label may not choose.
      if (strategies.some((s) => !['random', 'label-balanced-random', 'top-quality'].includes(s))) assertSignalUsableForSelection(config.span);
      if (strategies.includes('vote-k') && task.type !== 'classification') log('vote-k: a generative task has no label distribution to be confident in; the graph stage chooses the whole budget (fast vote-k)');
      const counted = new Set<string>();
      const total = strategies.length * config.selection.seeds.length * config.selection.budgets.length;
      let done = 0;
      const countUnit = (unit: string): void => {
        if (counted.has(unit)) return;
        counted.add(unit);
        if (store.has(unit)) counts.reused++;
        else counts.computed++;
      };
      for (const name of strategies) {
        const strategy = strategyByName(name, config.selection.voteK);
        if ((name === 'highest-first' || name === 'lowest-first') && !statisticByExample) {
          throw new Error(`${config.configFile}: selection.statistic: stats.csv has no ${statisticKey.replaceAll('|', ' / ')} column to select by`);
        }
        for (const seed of config.selection.seeds) {
          for (const budget of config.selection.budgets) {
            checkCancelled('select');
            const picked = await acquire({
              strategy,
              budget,
              rounds: config.selection.rounds,
              seed,
              ...(task.type === 'classification' ? { confidenceForRound: (round: number) => confidences(`confidence-${name}-${seed}-${budget}-${round}.json`, countUnit) } : {}),
              poolForRound: async (labelled, round) => {
                if (name !== 'uncertainty') return baseCandidates;
                // Round 1 sees no demonstrations, whatever the seed: one unit serves every run.
                const unit = round === 1 ? 'uncertainty-zero-shot.json' : `uncertainty-${seed}-${budget}-${round}.json`;
                countUnit(unit);
                const entropy = await uncertainties(labelled, unit);
                return baseCandidates.map((c, position) => ({ ...c, uncertainty: entropy[position]! }));
              },
            });
            for (const p of picked) selections.push({ strategy: name, seed, budget, round: p.round, example: pool[p.position]!.index, id: pool[p.position]!.id, score: p.score });
            options.onProgress?.({ phase: 'select', done: ++done, total, unit: 'selections' });
          }
        }
      }
      await writeAtomic(path.join(dir, 'selections.csv'), selectionsCsv(selections));
    });

    // ---- evaluate ------------------------------------------------------------------------------
    await phase('evaluate', async (counts) => {
      const positionOf = new Map(pool.map((row, position) => [row.index, position]));
      // Every prompt shows its demonstrations in the one seeded order (demonstrationOrder), so two
      // strategies that chose the same set at a seed build the same prompt, evaluated once.
      const prompts: number[][] = [];
      const promptIndex = new Map<string, number>();
      const built: { strategy: string; seed: number; budget: number; prompt: number }[] = [];
      const bySelection = new Map<string, number[]>();
      for (const s of selections) {
        const key = `${s.strategy}\u0000${s.seed}\u0000${s.budget}`;
        const list = bySelection.get(key) ?? [];
        list.push(s.example);
        bySelection.set(key, list);
      }
      for (const [key, examples] of bySelection) {
        const [strategy, seed, budget] = key.split('\u0000') as [string, string, string];
        const ordered = demonstrationOrder(examples, Number(seed));
        const k = ordered.join(' ');
        if (!promptIndex.has(k)) {
          promptIndex.set(k, prompts.length);
          prompts.push(ordered);
        }
        built.push({ strategy, seed: Number(seed), budget: Number(budget), prompt: promptIndex.get(k)! });
      }
      const promptChunks = chunk(prompts, unitSizes.evaluate);
      // KATE and BM25: per test query, from the examples random selection labelled at this seed and
      // budget (the same budget the other strategies spend), the retrievalShots most similar.
      const retrievalUnits = retrievers.flatMap((strategy) =>
        config.selection.seeds.flatMap((seed) =>
          config.selection.budgets.flatMap((budget) => chunk(splits.test.map((_, q) => q), unitSizes.kate).map((queries, c) => ({ strategy, seed, budget, queries, c }))),
        ),
      );
      const retrievalUnitName = (u: { strategy: string; seed: number; budget: number; c: number }): string => `evaluate-${u.strategy}-${u.seed}-${u.budget}-${u.c}.json`;
      const total = prompts.length + retrievalUnits.length;
      let done = 0;
      for (const [c, examples] of promptChunks.entries()) {
        checkCancelled('evaluate');
        const name = `evaluate-${c}.json`;
        if (store.has(name)) counts.reused++;
        else {
          const items: PromptItem[] = examples.map((list) => ({ demonstrations: list.map((e) => pool[positionOf.get(e)!]!), probes: splits.test }));
          await store.writeJson(name, metricsUnit(await evaluatePromptItems(model, template, task, items), true));
          counts.computed++;
        }
        done += examples.length;
        options.onProgress?.({ phase: 'evaluate', done, total, unit: 'prompts' });
      }
      const promptMetrics = await assembleMetrics(promptChunks.map((_, c) => `evaluate-${c}.json`));
      const itemScores: ItemScores[] = [];
      const metricNames = [...promptMetrics.metrics.keys()];
      const predictionRows: PredictionRow[] | undefined = promptMetrics.predictions ? [] : undefined;
      for (const b of built) {
        for (const metric of metricNames) itemScores.push({ strategy: b.strategy, seed: b.seed, budget: b.budget, metric, values: promptMetrics.metrics.get(metric)![b.prompt]! });
        splits.test.forEach((row, q) =>
          predictionRows?.push({ ...b, row, prediction: promptMetrics.predictions![b.prompt]![q]!, values: metricNames.map((m) => promptMetrics.metrics.get(m)![b.prompt]![q]!) }),
        );
      }
      const poolTexts = pool.map((row) => exampleText(row, config.data.inputs));
      const rowIndex = pool.map((row) => row.index);
      for (const unit of retrievalUnits) {
        checkCancelled('evaluate');
        const name = retrievalUnitName(unit);
        if (store.has(name)) counts.reused++;
        else {
          const labelled = await randomBudget(pool.length, unit.budget, config.selection.rounds, unit.seed);
          const items: PromptItem[] = unit.queries.map((q) => {
            const retrieved = retrieveDemonstrations({
              strategy: unit.strategy as RetrievalStrategy,
              labelled,
              shots: config.selection.retrievalShots,
              seed: unit.seed,
              rowIndex,
              ...(unit.strategy === 'kate' ? { vectors: { query: testEmbeddings[q]!, pool: poolEmbeddings } } : { texts: { query: exampleText(splits.test[q]!, config.data.inputs), pool: poolTexts } }),
            });
            return { demonstrations: retrieved.map((s) => pool[s.position]!), probes: [splits.test[q]!] };
          });
          await store.writeJson(name, metricsUnit(await evaluatePromptItems(model, template, task, items), true));
          counts.computed++;
        }
        options.onProgress?.({ phase: 'evaluate', done: ++done, total, unit: 'prompts' });
      }
      for (const strategy of retrievers) {
        for (const seed of config.selection.seeds) {
          for (const budget of config.selection.budgets) {
            const perQuery = await assembleMetrics(retrievalUnits.filter((u) => u.strategy === strategy && u.seed === seed && u.budget === budget).map(retrievalUnitName));
            for (const metric of metricNames) itemScores.push({ strategy, seed, budget, metric, values: Float64Array.from(perQuery.metrics.get(metric)!, (values) => values[0]!) });
            if (predictionRows && perQuery.predictions) {
              splits.test.forEach((row, q) => predictionRows.push({ strategy, seed, budget, row, prediction: perQuery.predictions![q]![0]!, values: metricNames.map((m) => perQuery.metrics.get(m)![q]![0]!) }));
            }
          }
        }
      }
      // Units written before predictions were kept have none: then no predictions.csv rather than a partial one.
      const expectedPredictions = built.length * splits.test.length + retrievers.length * config.selection.seeds.length * config.selection.budgets.length * splits.test.length;
      if (predictionRows && predictionRows.length === expectedPredictions) await writeAtomic(path.join(dir, 'predictions.csv'), predictionsCsv(predictionRows, metricNames));
      else log('predictions.csv: some evaluation units predate it (they keep no answers); not written');
      const bootstrap = { resamples: config.evaluation.bootstrap, seed: config.seed };
      const curves = curveRows(itemScores, bootstrap);
      await writeAtomic(path.join(dir, 'curves.csv'), curvesCsv(curves));
      await writeAtomic(path.join(dir, 'strategy_vs_random.csv'), strategyVsRandomCsv(differencesFromRandom(itemScores, bootstrap)));
      await writeAtomic(path.join(dir, 'acquisition_correlations.csv'), acquisitionCorrelationsCsv(metricNames.flatMap((metric) => acquisitionCorrelations(selections, curves, metric))));
    });
    if (options.report) {
      const started = performance.now();
      await options.report(dir);
      record.phases.report = accumulatePhase(earlier.report, 'complete', performance.now() - started, { computed: 1, reused: 0 });
    }
    record.status = 'complete';
    record.finishedAt = new Date().toISOString();
    await saveRecord();
    return record;
  } catch (error) {
    const cancelled = error instanceof RunCancelledError || options.signal?.aborted === true;
    // A cancel that lands inside an engine request surfaces as that request's error.
    const reported = cancelled && !(error instanceof RunCancelledError) ? new RunCancelledError(current) : (error as Error);
    record.status = cancelled ? 'cancelled' : 'failed';
    record.error = reported.message;
    record.finishedAt = new Date().toISOString();
    // The interrupted phase keeps its time and the units it finished before the stop.
    if (record.phases[current]?.status === 'running') record.phases[current] = accumulatePhase(earlier[current], cancelled ? 'cancelled' : 'failed', performance.now() - currentStarted, currentCounts);
    await saveRecord();
    throw reported;
  }

  /** The units' metrics, and their predictions where every unit kept them. */
  async function assembleMetrics(units: readonly string[]): Promise<Omit<PromptMetrics, 'predictions'> & { predictions?: string[][] }> {
    const metrics = new Map<string, Float64Array[]>();
    let predictions: string[][] | undefined = [];
    let evaluatedTokens = 0;
    let minimumTokens = 0;
    for (const name of units) {
      if (!store.has(name)) throw new Error(`${store.file(name)} is missing: run every shard (or --resume without --shard) before this phase`);
      const unit = await store.readJson<MetricsUnit>(name);
      for (const [metric, perPrompt] of Object.entries(unit.metrics)) {
        const list = metrics.get(metric) ?? [];
        for (const values of perPrompt) list.push(Float64Array.from(values));
        metrics.set(metric, list);
      }
      predictions = unit.predictions && predictions ? [...predictions, ...unit.predictions] : undefined;
      evaluatedTokens += unit.evaluatedTokens;
      minimumTokens += unit.minimumTokens;
    }
    return { metrics, ...(predictions ? { predictions } : {}), evaluatedTokens, minimumTokens };
  }
}

/** Quality rows as the correlation grid reads them (quality.csv's, or the quality phase's). */
type GridQualityRow = Pick<QualityRow, 'example' | 'metric' | 'value' | 'halfA' | 'halfB'> & { readonly estimator: string };

/**
 * The correlation grid of stats.csv's cells against quality: correlations.csv's rows and the
 * headline. layers, poolings and statistics choose among the activation sites' cells; a derived
 * site's (the SAE's: its own layer, its own statistics) enter whole.
 */
export function correlationGrid(
  config: RunConfig,
  statsByCell: ReadonlyMap<string, ReadonlyMap<number, number>>,
  tokenCounts: ReadonlyMap<string, ReadonlyMap<number, number>>,
  qualityRows: readonly GridQualityRow[],
  onProgress?: (done: number, total: number) => void,
): { rows: ReturnType<typeof correlate>; headline: Headline } {
  const layers = config.layers === 'all' ? undefined : new Set(config.layers.map(String));
  const derived = new Set<string>(derivedSiteNames);
  const wanted = new Map(
    [...statsByCell].filter(([key]) => {
      const { site, layer, pooling, statistic } = parseStatsCellKey(key);
      if (derived.has(site)) return true;
      return (layers === undefined || layers.has(String(layer))) && config.poolings.includes(pooling as never) && config.statistics.includes(statistic);
    }),
  );
  const quality = qualityByCell(qualityRows);
  const rows = correlate(wanted, quality, { bootstrapResamples: config.correlation.bootstrap, seed: config.seed, tokenCounts, ...(onProgress ? { onProgress } : {}) });
  const headline = buildHeadline(rows, wanted, quality, qualityReliability(qualityRows), config.masks, {
    maxResamples: config.correlation.maxBootstrap,
    permutations: config.correlation.permutations,
    seed: config.seed,
  });
  return { rows, headline };
}

/** stats.csv rows written before the site column (`example,layer,…`) with `site` put after `example`, where the column now is. */
function withSiteColumn(rows: string, site: SiteName): string {
  return rows.replace(/^(\d+),/gm, `$1,${site},`);
}

/** A quality or evaluation unit: metric[prompt][probe] of its prompts. */
interface MetricsUnit {
  metrics: Record<string, number[][]>;
  /** predictions[prompt][probe] (evaluation units; absent in quality units and in units written before predictions.csv). */
  predictions?: string[][];
  evaluatedTokens: number;
  minimumTokens: number;
}

function metricsUnit(result: PromptMetrics, withPredictions = false): MetricsUnit {
  return {
    metrics: Object.fromEntries([...result.metrics].map(([name, perPrompt]) => [name, perPrompt.map((values) => Array.from(values))])),
    ...(withPredictions ? { predictions: result.predictions.map((perProbe) => [...perProbe]) } : {}),
    evaluatedTokens: result.evaluatedTokens,
    minimumTokens: result.minimumTokens,
  };
}

function qualityPromptCount(config: RunConfig, poolSize: number): number {
  return config.quality.prompts ?? influencePromptCount(poolSize, config.quality.shots, config.quality.influenceAppearances);
}

/** An engine error that names examples by row index gets their file:line. */
function locateExamples(error: unknown, rows: readonly DatasetRow[], file: string): unknown {
  const examples = (error as { data?: { examples?: readonly number[] } }).data?.examples;
  if (!examples?.length) return error;
  const lines = examples.slice(0, 5).map((e) => `${file}:${rows.find((r) => r.index === e)?.line ?? '?'}`);
  const located = new Error(`${(error as Error).message} (${lines.join(', ')})`);
  Object.assign(located, { code: (error as { code?: string }).code, data: (error as { data?: unknown }).data });
  return located;
}

/** Wall times to the millisecond: the breakdown is for reading, not for byte-identical comparisons. */
function roundedBreakdown(breakdown: NonNullable<PhaseRecord['breakdown']>): NonNullable<PhaseRecord['breakdown']> {
  return Object.fromEntries(Object.entries(breakdown).map(([key, b]) => [key, { ...b, ms: Math.round(b.ms) }]));
}

/** The first raw dump of `examples` × every layer that is missing or does not decode to a whole float32 array, with why. */
async function firstBrokenRawDump(rawDir: string, examples: readonly number[], layers: number): Promise<string | undefined> {
  for (const example of examples) {
    for (let layer = 0; layer < layers; layer++) {
      const file = path.join(rawDir, `${example}_L${layer}.npy`);
      if (!existsSync(file)) return `${file} is missing`;
      try {
        decodeNpyFloat32(await readFile(file), file);
      } catch (error) {
        return (error as Error).message;
      }
    }
  }
  return undefined;
}

/** A run folder's files are written whole or not at all (see format/atomicFile.ts). */
export function writeAtomic(file: string, text: string): Promise<void> {
  return writeFileAtomic(file, text);
}

/** The run.json of a folder, or undefined when it holds none. */
export async function readRunRecord(dir: string): Promise<RunRecord | undefined> {
  const file = path.join(dir, 'run.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as RunRecord;
}
