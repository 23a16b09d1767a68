// The sae phase (issue 13): a TopK sparse autoencoder trained on the pool's activations and read
// back as signals. Between quality and correlate in `icl-lab run` (config key `sae:`), and alone in
// `icl-lab sae RUN`. Everything lands in RUN/sae/:
//   activations/<example>_L<layer>.npy  float32 [span tokens, width]: each pool example's span at
//                                        the SAE's site and layer under the isolated mask (the
//                                        spans the run measures)
//   activations/text-<line>_L<layer>.npy the same for each line of `sae.text` taken
//   W_enc.npy b_enc.npy W_dec.npy b_dec.npy   the weights (src/core/sae/saeWeights.ts for shapes)
//   features.json                        the Features panel's input (src/core/sae/saeSignals.ts)
//   sae.json                             settings, figures, files and how to encode (written last)
// and the per-example signals become stats.csv rows of the site `sae` (checkpointed as
// checkpoints/sae-signals.json). A folder whose sae.json and checkpoint carry the fingerprint of
// this config, model and inputs is reused without training again.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomicFile.js';
import { sha256File } from '../format/fileDigest.js';
import type { DerivedStatsRow } from '../format/statsCsv.js';
import { maskLayout } from '../masks.js';
import type { QualityRow } from '../quality/exampleQuality.js';
import { demonstrationOf } from '../quality/promptEvaluation.js';
import { capTokens, defaultLearningRate, npyShape, splitHeldOut, type SaeDataFile } from '../sae/saeData.js';
import type { SaeHyperparameters, SaeTrainProgress, SaeTrainResult } from '../sae/saeRunner.js';
import { activeTokenCounts, featuresFile, mostActiveLatents, saeStatisticColumns, saeStatsRows, summedActivations, tokenCodes, type ExampleCodes } from '../sae/saeSignals.js';
import { saeEncoderFormula, saeWeightFiles } from '../sae/saeWeights.js';
import { lossRecovered } from '../sae/topKSae.js';
import { CheckpointStore } from './checkpointStore.js';
import type { ExperimentModel } from './experimentModel.js';
import { exampleDigests } from './runInputs.js';
import { resolveLayer, type RunConfig, type SaeConfig } from './runConfig.js';
import type { PreparedRun } from './runExperiment.js';
import { chunk } from './workUnits.js';

export const saeFolderName = 'sae';
export const saeRecordName = 'sae.json';
export const saeFeaturesName = 'features.json';
export const saeSignalsUnit = 'sae-signals.json';
/** Examples (or text lines) per extraction of the phase. */
const extractionChunk = 16;

/** RUN/sae/sae.json. */
export interface SaeRecord {
  readonly format: 'icl-lab-sae/1';
  /** sha256 of everything the training depends on (settings, model, site, layer, spans, extra text): equal means reusable. */
  readonly fingerprint: string;
  readonly model: { readonly path: string; readonly sha256: string; readonly architecture: string; readonly layers: number };
  readonly site: string;
  readonly layer: number;
  readonly seed: number;
  /** The `sae:` block as the run resolved it (paths absolute). */
  readonly config: SaeConfig;
  /** What was trained with, every value resolved. */
  readonly settings: SaeHyperparameters;
  /** Multiply an activation by it before encoding; divide a reconstruction by it (see `encoder`). */
  readonly inputScale: number;
  readonly encoder: string;
  readonly files: Readonly<Record<'W_enc' | 'b_enc' | 'W_dec' | 'b_dec', { readonly file: string; readonly shape: readonly number[] }>> & {
    readonly activations: string;
    readonly features: string;
  };
  readonly data: {
    readonly poolExamples: number;
    readonly textLines: number;
    readonly trainFiles: number;
    readonly heldOutFiles: number;
    /** Held-out pool examples (row indexes) and text lines (1-based line numbers). */
    readonly heldOutExamples: readonly number[];
    readonly heldOutTextLines: readonly number[];
    /** Files left out by maxTokens. */
    readonly skippedFiles: number;
  };
  readonly evaluation: {
    readonly varianceExplained: number;
    readonly l0: number;
    readonly deadLatents: number;
    /** (L_zero − L_sae) / (L_zero − L_clean) on the held-out texts. */
    readonly lossRecovered: number;
    readonly nextTokenLoss: { readonly clean: number; readonly reconstructed: number; readonly zeroAblated: number; readonly tokens: number };
    readonly trainTokens: number;
    readonly heldOutTokens: number;
    readonly steps: number;
    readonly epochLoss: readonly number[];
    readonly trainingMs: number;
    readonly tokensPerSecond: number;
    readonly backend: string;
  };
  /** The latents with their own stats.csv column (max_f<latent>), most often active first. */
  readonly topLatents: readonly number[];
  readonly statistics: readonly string[];
  readonly createdAt: string;
}

/** checkpoints/sae-signals.json: what the rest of the run reads of the phase. */
interface SaeSignalsUnit {
  readonly fingerprint: string;
  readonly columns: readonly string[];
  readonly rows: readonly DerivedStatsRow[];
  /** [example, latents ascending, summed activations]. */
  readonly features: readonly (readonly [number, readonly number[], readonly number[]])[];
}

export interface SaePhaseOptions {
  readonly dir: string;
  readonly config: RunConfig;
  /** The SAE to train; default config.sae (`icl-lab sae` passes its own). */
  readonly sae?: SaeConfig;
  readonly prepared: PreparedRun;
  readonly model: ExperimentModel;
  /** Example quality (quality.csv's rows): the run's estimator and metric give features.json its ρ. */
  readonly qualityRows: readonly (Pick<QualityRow, 'example' | 'metric' | 'value'> & { readonly estimator: string })[];
  /** Throws when the run was cancelled; called between units. */
  readonly checkCancelled: () => void;
  readonly log?: (line: string) => void;
  readonly onProgress?: (done: number, total: number, unit: string) => void;
  readonly onTraining?: (progress: SaeTrainProgress) => void;
}

export interface SaePhaseResult {
  readonly reused: boolean;
  readonly record: SaeRecord;
  /** The `sae` site's statistic columns and rows for stats.csv (statsCsvWithDerivedSite). */
  readonly columns: readonly string[];
  readonly rows: readonly DerivedStatsRow[];
  /** Each pool example's activation summed per latent over its span: the candidates' `features`. */
  readonly features: ReadonlyMap<number, ReadonlyMap<number, number>>;
  /** Units computed by this invocation (extractions, training, encoding, evaluation). */
  readonly computed: number;
}

/** The phase: reuses RUN/sae when it matches, else extracts, trains, encodes, evaluates and writes. */
export async function runSaePhase(options: SaePhaseOptions): Promise<SaePhaseResult> {
  const { dir, config, prepared, model } = options;
  const sae = options.sae ?? config.sae;
  if (!sae) throw new Error(`${config.configFile}: the run config has no \`sae:\` key`);
  const log = options.log ?? (() => undefined);
  const store = new CheckpointStore(dir);
  const saeDir = path.join(dir, saeFolderName);
  const activationsDir = path.join(saeDir, 'activations');
  const layer = resolveLayer(sae.layer, model.facts.layers);
  const { template, task, splits } = prepared;
  const pool = splits.pool;
  const texts = sae.text ? await readTextLines(sae.text) : [];
  // What the activations depend on; the fingerprint adds the training settings.
  const extraction = {
    site: sae.site,
    layer,
    maxTokens: sae.maxTokens,
    model: model.facts.sha256,
    span: config.span,
    // What the template renders, not where its file is.
    template: { ...template, file: undefined },
    engine: { ...config.engine, threads: undefined },
    pool: exampleDigests(pool),
    text: sae.text ? await sha256File(sae.text) : null,
  };
  const extractionFingerprint = fingerprintOf(extraction);
  const fingerprint = fingerprintOf({ ...extraction, sae });

  const recordFile = path.join(saeDir, saeRecordName);
  const earlier = existsSync(recordFile) ? await readSaeRecord(recordFile).catch(() => undefined) : undefined;
  if (earlier?.fingerprint === fingerprint && store.has(saeSignalsUnit) && Object.values(saeWeightFiles).every((f) => existsSync(path.join(saeDir, f)))) {
    const unit = await store.readJson<SaeSignalsUnit>(saeSignalsUnit).catch(() => undefined);
    if (unit?.fingerprint === fingerprint) {
      log(`sae: ${path.relative(dir, recordFile)} matches this config, model and inputs: reused (no training)`);
      return { reused: true, record: earlier, columns: unit.columns, rows: unit.rows, features: featuresOf(unit), computed: 0 };
    }
  }

  // Activations an earlier invocation extracted are reused when they were extracted the same way
  // (a cancelled phase, or other training settings).
  const marker = path.join(activationsDir, '.fingerprint');
  if (existsSync(activationsDir) && (!existsSync(marker) || (await readFile(marker, 'utf8')).trim() !== extractionFingerprint)) await rm(activationsDir, { recursive: true, force: true });
  await mkdir(activationsDir, { recursive: true });
  await writeFileAtomic(marker, extractionFingerprint + '\n');
  // The new weights are trained, encoded with and evaluated here, and join sae/ only when the
  // phase has finished: a cancel or crash leaves the folder's earlier SAE whole.
  const stagingDir = path.join(saeDir, '.training');
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true });

  let computed = 0;
  // ---- 1. activations: the pool's spans under the isolated mask, then the extra text's lines
  const layout = maskLayout(
    template,
    'isolated',
    config.span,
    pool.map((row) => ({ example: row.index, demonstration: demonstrationOf(row, task) })),
  );
  const spanText = new Map(layout.examples.map((e) => [e.example, e.text]));
  const poolFile = (example: number): string => path.join(activationsDir, `${example}_L${layer}.npy`);
  const textFile = (line: number): string => path.join(activationsDir, `text-${line}_L${layer}.npy`);
  const poolChunks = chunk(layout.examples, extractionChunk);
  const textChunks = chunk(texts, extractionChunk);
  const progressTotal = poolChunks.length + textChunks.length;
  let progressDone = 0;
  const extract = async (examples: readonly { example: number; text: string }[], rawDir: string): Promise<void> => {
    options.checkCancelled();
    await model.extract({ mask: 'isolated', examples, site: sae.site, rawExamples: 'all', rawDir, rawLayers: [layer] }, () => undefined);
    computed++;
  };
  const files: (SaeDataFile & { width: number })[] = [];
  const dataFile = async (file: string, example?: number): Promise<SaeDataFile & { width: number }> => {
    const [rows, columns] = await npyShape(file);
    return { file, ...(example === undefined ? {} : { example }), tokens: rows!, width: columns! };
  };
  for (const examples of poolChunks) {
    if (!(await allReadable(examples.map((e) => poolFile(e.example))))) await extract(examples, activationsDir);
    for (const e of examples) files.push(await dataFile(poolFile(e.example), e.example));
    options.onProgress?.(++progressDone, progressTotal, 'extractions');
  }
  let tokens = files.reduce((n, f) => n + f.tokens, 0);
  let textLinesTaken = 0;
  for (const lines of textChunks) {
    if (tokens >= sae.maxTokens) break;
    if (!(await allReadable(lines.map((l) => textFile(l.line))))) {
      // Extracted under their line numbers into a folder of their own, then named text-<line>.
      const scratch = path.join(activationsDir, '.text');
      await rm(scratch, { recursive: true, force: true });
      await mkdir(scratch, { recursive: true });
      await extract(lines.map((l) => ({ example: l.line, text: l.text })), scratch);
      for (const l of lines) await rename(path.join(scratch, `${l.line}_L${layer}.npy`), textFile(l.line));
      await rm(scratch, { recursive: true, force: true });
    }
    for (const l of lines) {
      const f = await dataFile(textFile(l.line));
      files.push(f);
      tokens += f.tokens;
    }
    textLinesTaken += lines.length;
    options.onProgress?.(++progressDone, progressTotal, 'extractions');
  }
  const width = files[0]!.width;
  const other = files.find((f) => f.width !== width);
  if (other) throw new Error(`sae: ${other.file} holds ${other.width}-wide activations, ${files[0]!.file} ${width}-wide`);

  // ---- 2. held out, by example (and text line), seeded
  const taken = capTokens(files, sae.maxTokens);
  const { train, heldOut } = splitHeldOut(taken, sae.heldOutShare, sae.seed);
  const lineOf = new Map(texts.map((l) => [textFile(l.line), l]));

  // ---- 3. training
  const latents = width * sae.expansion;
  if (sae.k > latents) throw new Error(`${config.configFile}: sae.k: ${sae.k} active latents need at least as many latents; ${width} × expansion ${sae.expansion} gives ${latents}`);
  const trainTokens = train.reduce((n, f) => n + f.tokens, 0);
  const settings: SaeHyperparameters = {
    width,
    latents,
    k: sae.k,
    // Gao et al. take width / 2; the auxiliary code's gather costs auxK columns per token, and on
    // SmolLM2's width (576) 288 doubled a CPU step (4.7 s against 2.1 s at 2k = 64, one thread).
    auxK: Math.min(sae.auxK ?? 2 * sae.k, latents),
    auxCoefficient: sae.auxCoefficient,
    batchSize: sae.batchSize,
    epochs: sae.epochs,
    learningRate: sae.learningRate ?? defaultLearningRate(latents),
    deadWindowTokens: sae.deadWindowTokens ?? trainTokens,
    seed: sae.seed,
  };
  const runner = model.sae;
  if (!runner) throw new Error('sae: this model runner cannot train a sparse autoencoder');
  options.checkCancelled();
  log(`sae: training ${latents} latents (k ${sae.k}) on ${trainTokens} tokens of ${train.length} spans, ${heldOut.length} held out (${sae.site} layer ${layer})`);
  const asTokenFile = (f: SaeDataFile): { file: string; example?: number } => (f.example === undefined ? { file: f.file } : { file: f.file, example: f.example });
  const trained: SaeTrainResult = await runner.train({ train: train.map(asTokenFile), heldOut: heldOut.map(asTokenFile), outDir: stagingDir, options: settings }, options.onTraining);
  computed++;

  // ---- 4. codes of every pool example
  options.checkCancelled();
  const poolFiles = files.filter((f) => f.example !== undefined);
  const encoded = await runner.encode({ saeDir: stagingDir, inputScale: trained.inputScale, k: sae.k, files: poolFiles.map(asTokenFile) });
  computed++;
  const byFile = new Map(encoded.map((c) => [c.file, c]));
  const examples: (ExampleCodes & { id: string })[] = pool.map((row) => {
    const codes = byFile.get(poolFile(row.index));
    if (!codes) throw new Error(`sae: the encoder returned no codes for ${poolFile(row.index)}`);
    const expected = poolFiles.find((f) => f.example === row.index)!.tokens;
    if (codes.tokens !== expected) throw new Error(`sae: ${codes.file}: ${codes.tokens} codes for ${expected} tokens`);
    return { example: row.index, id: row.id, tokens: tokenCodes(codes), relativeError: codes.relativeError };
  });

  // ---- 5. loss recovered on the held-out texts
  options.checkCancelled();
  const heldOutTexts = heldOut.map((f) => (f.example !== undefined ? spanText.get(f.example)! : lineOf.get(f.file)!.text));
  const loss = await runner.lossRecovered({ saeDir: stagingDir, inputScale: trained.inputScale, k: sae.k, site: sae.site, layer, texts: heldOutTexts });
  computed++;

  // ---- 6. signals; the weights into sae/, features.json, the checkpoint, sae.json (last: it
  // marks the phase done; the earlier one goes first, so no sae.json ever names other weights)
  const topLatents = mostActiveLatents(activeTokenCounts(examples), sae.topFeatures);
  const columns = saeStatisticColumns(topLatents);
  const rows = saeStatsRows(examples, topLatents, layer);
  const quality = new Map(options.qualityRows.filter((r) => r.estimator === config.quality.estimator && r.metric === config.quality.metric).map((r) => [r.example, r.value]));
  let mismatched = 0;
  const panelFile = await featuresFile({
    model: path.basename(model.facts.path),
    site: sae.site,
    layer,
    latents,
    k: sae.k,
    examples,
    quality,
    pieces: async (example) => {
      const pieces = await runner.tokenPieces(spanText.get(example)!);
      if (pieces.length !== examples.find((e) => e.example === example)!.tokens.length) mismatched++;
      return pieces;
    },
  });
  options.checkCancelled();
  await rm(recordFile, { force: true });
  for (const file of Object.values(saeWeightFiles)) await rename(path.join(stagingDir, file), path.join(saeDir, file));
  await rm(stagingDir, { recursive: true, force: true });
  if (mismatched > 0) log(`sae: ${mismatched} examples' token pieces do not line up with their activations' tokens; features.json shows them as far as they do`);
  await writeFileAtomic(path.join(saeDir, saeFeaturesName), JSON.stringify(panelFile, null, 2) + '\n');
  const features: SaeSignalsUnit['features'] = examples.map((e) => {
    const sums = summedActivations(e.tokens);
    return [e.example, [...sums.keys()], [...sums.values()]] as const;
  });
  const unit: SaeSignalsUnit = { fingerprint, columns, rows, features };
  await store.writeJson(saeSignalsUnit, unit);
  const shapeOf = async (file: string): Promise<number[]> => npyShape(path.join(saeDir, file));
  const heldOutExamples = heldOut.filter((f) => f.example !== undefined).map((f) => f.example!);
  const record: SaeRecord = {
    format: 'icl-lab-sae/1',
    fingerprint,
    model: { path: model.facts.path, sha256: model.facts.sha256, architecture: model.facts.architecture, layers: model.facts.layers },
    site: sae.site,
    layer,
    seed: sae.seed,
    config: sae,
    settings,
    inputScale: trained.inputScale,
    encoder: saeEncoderFormula,
    files: {
      W_enc: { file: saeWeightFiles.encoder, shape: await shapeOf(saeWeightFiles.encoder) },
      b_enc: { file: saeWeightFiles.encoderBias, shape: await shapeOf(saeWeightFiles.encoderBias) },
      W_dec: { file: saeWeightFiles.decoder, shape: await shapeOf(saeWeightFiles.decoder) },
      b_dec: { file: saeWeightFiles.decoderBias, shape: await shapeOf(saeWeightFiles.decoderBias) },
      activations: `activations/<example>_L${layer}.npy and activations/text-<line>_L${layer}.npy: float32 [span tokens, ${width}], the inputs x before inputScale`,
      features: saeFeaturesName,
    },
    data: {
      poolExamples: pool.length,
      textLines: textLinesTaken,
      trainFiles: train.length,
      heldOutFiles: heldOut.length,
      heldOutExamples,
      heldOutTextLines: heldOut.filter((f) => f.example === undefined).map((f) => lineOf.get(f.file)!.line),
      skippedFiles: files.length - taken.length,
    },
    evaluation: {
      varianceExplained: trained.varianceExplained,
      l0: trained.l0,
      deadLatents: trained.deadLatents,
      lossRecovered: lossRecovered(loss.clean, loss.reconstructed, loss.zeroAblated),
      nextTokenLoss: { clean: loss.clean, reconstructed: loss.reconstructed, zeroAblated: loss.zeroAblated, tokens: loss.tokens },
      trainTokens: trained.trainTokens,
      heldOutTokens: trained.heldOutTokens,
      steps: trained.steps,
      epochLoss: trained.epochLoss,
      trainingMs: trained.trainingMs,
      tokensPerSecond: trained.tokensPerSecond,
      backend: trained.backend,
    },
    topLatents,
    statistics: columns,
    createdAt: new Date().toISOString(),
  };
  await writeFileAtomic(recordFile, JSON.stringify(record, nullForNonFinite, 2) + '\n');
  return { reused: false, record, columns, rows, features: featuresOf(unit), computed };
}

/** RUN/sae/sae.json, or undefined when the folder has none. */
export async function readSaeRecord(file: string): Promise<SaeRecord | undefined> {
  if (!existsSync(file)) return undefined;
  const value = JSON.parse(await readFile(file, 'utf8')) as SaeRecord;
  if (value?.format !== 'icl-lab-sae/1') throw new Error(`${file}: not an SAE record`);
  return value;
}

/** The lines of the extra text that hold something, with their 1-based line numbers. */
async function readTextLines(file: string): Promise<{ line: number; text: string }[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`sae.text: ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`);
  }
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t }))
    .filter((l) => l.text.trim() !== '');
}

/** Whether every file exists with a readable .npy header of two dimensions. */
async function allReadable(files: readonly string[]): Promise<boolean> {
  for (const file of files) {
    if (!existsSync(file)) return false;
    try {
      if ((await npyShape(file)).length !== 2) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function featuresOf(unit: SaeSignalsUnit): Map<number, Map<number, number>> {
  return new Map(unit.features.map(([example, latents, sums]) => [example, new Map(latents.map((l, i) => [l, sums[i]!]))]));
}

function fingerprintOf(value: unknown): string {
  const canonical = JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** JSON has no NaN: an undefined figure (a constant loss, no held-out tokens) is written null. */
function nullForNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
