// `icl-lab run CONFIG --out DIR`: the whole study from a run configuration, resumable and
// shardable (see core/experiment/runExperiment.ts for the phases and the folder's files).
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { checkpointManifestFile, readCheckpointManifest } from '../core/experiment/checkpointManifest.js';
import { CheckpointStore } from '../core/experiment/checkpointStore.js';
import type { ExperimentModel, ModelExtraction } from '../core/experiment/experimentModel.js';
import { beatsLength, describeCorrelation } from '../core/experiment/headline.js';
import { generatedModelBanner, isGeneratedModel, modelLabel } from '../core/experiment/modelLabel.js';
import { changedComputationKeys, loadRunConfig, runConfigToJson, type RunConfig } from '../core/experiment/runConfig.js';
import { prepareRun, readRunRecord, RunCancelledError, runExperiment, runInputsFor, writeAtomic, type RunPhase, type RunProgress, type RunRecord } from '../core/experiment/runExperiment.js';
import { compareRunInputs, rowLinesOf } from '../core/experiment/runInputs.js';
import { acquireRunLock, type RunLock } from '../core/experiment/runLock.js';
import { ReusableUnits } from '../core/experiment/unitReuse.js';
import { checkRunFolderWritable, describeWriteError } from '../core/experiment/runFolderSpace.js';
import { describeShard, parseShard, type Shard } from '../core/experiment/workUnits.js';
import { sha256File } from '../core/format/fileDigest.js';
import { curvesMetric, learningCurvesTable } from '../core/report/curvesTable.js';
import { renderReport } from '../core/report/renderReport.js';
import { readCurvesCsv, readStrategyVsRandomCsv, runFiles } from '../core/report/runFolderFiles.js';
import { describeSiteCheck, judgeSiteCheck, passedSiteCheck, type SiteCheckResult } from '../core/siteCheck.js';
import type { EngineClient } from '../engine/client.js';
import { decodeFloat64, EngineError, type EncodedSaeFile } from '../engine/protocol.js';
import type { SaeFileCodes, SaeRunner } from '../core/sae/saeRunner.js';
import { engineVersion, llamaCppRelease, nodeLlamaCppVersion } from '../engine/version.js';
import { startCliEngine } from './engineOptions.js';
import { ProgressLine } from './progressLine.js';

export interface RunCliOptions {
  out?: string;
  resume: boolean;
  shard?: Shard;
  report: boolean;
  /** An earlier run folder whose unchanged per-example results the new run assembles units from. */
  reuse?: string;
  /** `json`: progress and log lines as JSON objects on stderr, for the VS Code extension and scripts. */
  progress?: 'text' | 'json';
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the whole study from a run configuration (JSON or YAML) into a run folder')
    .argument('<config>', 'run configuration (.json, .yaml or .yml)')
    .option('--out <dir>', 'run folder (default: the config\'s `output`)')
    .option('--resume', 'continue the run in --out after a crash or cancel, reusing every finished unit', false)
    .option('--shard <I/N>', 'only shard I of N of the extract and quality work (join shard folders with `icl-lab merge`)', parseShard)
    .option('--reuse <dir>', "an earlier run's folder: its isolated and shared-prefix results of examples whose content is unchanged are reused (a labelling round that added labels); equal to a fresh run's up to float32 rounding")
    .option('--no-report', 'skip report.html and figures/')
    .addOption(new Option('--progress <format>', 'progress on stderr: text bars, or JSON lines for programs').choices(['text', 'json']).default('text'))
    .action(async (configFile: string, options: RunCliOptions) => {
      process.exitCode = await runRunCommand(configFile, options);
    });
}

/** `runs/<config name>-<UTC time>` beside the config: where a run goes when nothing names its folder. */
export function defaultRunFolder(configFile: string, now: Date): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-');
  return path.join(path.dirname(configFile), 'runs', `${runConfigStem(configFile)}-${stamp}`);
}

function runConfigStem(configFile: string): string {
  return path.basename(configFile).replace(/(\.run)?\.(ya?ml|json)$/i, '');
}

/** The newest default run folder of this config that holds a run, if any. */
function newestRunFolder(configFile: string): string | undefined {
  const runs = path.join(path.dirname(configFile), 'runs');
  const prefix = `${runConfigStem(configFile)}-`;
  if (!existsSync(runs)) return undefined;
  const names = readdirSync(runs)
    .filter((name) => name.startsWith(prefix) && /^\d{8}-\d{6}$/.test(name.slice(prefix.length)) && existsSync(path.join(runs, name, 'run.json')))
    .sort();
  return names.length > 0 ? path.join(runs, names.at(-1)!) : undefined;
}

/**
 * The run record in `dir`, if any. A folder with checkpoints but no readable run.json is an error:
 * without the record nothing says which config and inputs those checkpoints came from.
 */
async function previousRun(dir: string, resume: boolean): Promise<{ record?: RunRecord; rebuilt?: string } | { error: string }> {
  const units = (await new CheckpointStore(dir).units().catch(() => [])).length;
  let record: RunRecord | undefined;
  let problem: string | undefined;
  try {
    record = await readRunRecord(dir);
  } catch (error) {
    problem = `${path.join(dir, 'run.json')} cannot be read (${(error as Error).message})`;
  }
  if (record) return { record };
  if (units === 0) return problem ? { error: `${problem}: restore it, or start the run in another folder` } : {};
  const missing = problem ?? `${dir} holds ${units} checkpoints but no run.json`;
  let manifest;
  try {
    manifest = await readCheckpointManifest(dir);
  } catch (error) {
    return { error: `${missing}, and their manifest cannot be read (${(error as Error).message}): restore run.json, or start the run in another folder` };
  }
  if (!manifest) return { error: `${missing}, and no manifest says which config and inputs the ${units} checkpoints came from: restore run.json, or start the run in another folder` };
  if (!resume) return { error: `${missing}; their manifest (${checkpointManifestFile(dir)}) names the config, inputs and model they came from: pass --resume to check them against this run and rebuild run.json, or start the run in another folder` };
  // Rebuilt from the manifest; the checks below (config, shard, inputs, model) then apply as to any resume.
  return {
    rebuilt: `${missing}: rebuilding it from ${checkpointManifestFile(dir)}`,
    record: { format: 'icl-lab-run/1', status: 'cancelled', startedAt: new Date(0).toISOString(), pid: 0, seed: manifest.seed, ...(manifest.shard ? { shard: manifest.shard } : {}), config: manifest.config, model: manifest.model, data: { file: '', pool: 0, probe: 0, test: 0 }, ...(manifest.inputs ? { inputs: manifest.inputs } : {}), versions: {}, phases: {} },
  };
}

/** run.json of a run that failed before its model loaded: what a viewer lists, with why. */
async function writeFailedRecord(dir: string, config: RunConfig, message: string): Promise<void> {
  const now = new Date().toISOString();
  const record: RunRecord = {
    format: 'icl-lab-run/1',
    status: 'failed',
    error: message,
    startedAt: now,
    finishedAt: now,
    pid: process.pid,
    seed: config.seed,
    config: runConfigToJson(config),
    data: { file: config.data.file, pool: 0, probe: 0, test: 0 },
    versions: { iclLab: engineVersion, node: process.version },
    phases: {},
  };
  await mkdir(dir, { recursive: true });
  await writeAtomic(path.join(dir, 'run.json'), JSON.stringify(record, null, 2) + '\n');
}

export async function runRunCommand(configFile: string, options: RunCliOptions): Promise<number> {
  let config: RunConfig;
  try {
    config = await loadRunConfig(configFile);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  let out = options.out ?? config.output;
  if (!out) {
    // Neither --out nor `output`: a new folder beside the config; --resume continues the newest one.
    const folder = defaultRunFolder(config.configFile, new Date());
    out = options.resume ? newestRunFolder(config.configFile) : folder;
    if (!out) {
      console.error(`error: --resume: no run of ${configFile} in ${path.dirname(folder)}; give the run folder with --out DIR`);
      return 1;
    }
    console.error(`run folder: ${out} (neither --out nor the config's \`output\` names one)`);
  }
  const dir = path.resolve(out);
  // One process per run folder, for the whole run: a second run or resume is refused with who holds it.
  let lock: RunLock;
  try {
    lock = await acquireRunLock(dir);
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    console.error(`error: ${failure.code ? describeWriteError(failure, dir) : failure.message}`);
    return 1;
  }
  try {
    return await runInFolder(configFile, config, options, out, dir);
  } finally {
    await lock.release();
  }
}

async function runInFolder(configFile: string, config: RunConfig, options: RunCliOptions, out: string, dir: string): Promise<number> {
  const found = await previousRun(dir, options.resume);
  if ('error' in found) {
    console.error(`error: ${found.error}`);
    return 1;
  }
  if (found.rebuilt) console.error(found.rebuilt);
  // A run that failed before its model loaded left only its record: nothing to resume, so a new start replaces it.
  const previous = found.record && !(found.record.status === 'failed' && !found.record.model) ? found.record : undefined;
  if (previous && !options.resume) {
    console.error(`error: ${dir} already holds a run (${previous.status}); pass --resume to continue it, or choose another --out`);
    return 1;
  }
  // A re-submitted batch job passes --resume whether or not it ran before.
  if (!previous && options.resume) console.error(`--resume: ${dir} holds no run yet; starting one`);
  if (previous) {
    const changed = changedComputationKeys(previous.config, runConfigToJson(config));
    if (changed.length > 0) {
      console.error(`error: ${configFile} differs from the run in ${dir} in ${changed.map((k) => `\`${k}\``).join(', ')}; resuming would mix two computations (use another --out)`);
      return 1;
    }
    if (options.shard !== undefined && previous.shard !== describeShard(options.shard)) {
      console.error(`error: ${dir} holds ${previous.shard === undefined ? 'an unsharded run' : `shard ${previous.shard}`}, not shard ${describeShard(options.shard)}`);
      return 1;
    }
    if (previous.shard !== undefined && options.shard === undefined) {
      console.error(`error: ${dir} is shard ${previous.shard}; join the shard folders with \`icl-lab merge\` first`);
      return 1;
    }
  }

  // Before any model work, every failure leaves run.json (status failed, with the message) where
  // no earlier run's record would be overwritten, so the Runs view lists the failed run.
  const failEarly = async (message: string): Promise<number> => {
    console.error(`error: ${message}`);
    if (!previous) await writeFailedRecord(dir, config, message).catch(() => undefined);
    return 1;
  };
  let prepared;
  let inputs;
  try {
    prepared = await prepareRun(config, (line) => console.error(line));
    inputs = await runInputsFor(config, prepared);
  } catch (error) {
    return failEarly((error as Error).message);
  }
  if (previous?.inputs) {
    const { differences, notes } = compareRunInputs(previous.inputs, inputs, rowLinesOf(prepared.splits));
    for (const note of notes) console.error(`note: ${note}`);
    if (differences.length > 0) {
      console.error(`error: the inputs of the run in ${dir} changed since it started, so its checkpoints would mix two computations:\n${differences.map((d) => `  - ${d}`).join('\n')}\nstart a new run folder (--out NEW_DIR --reuse ${dir} reuses what did not change), or restore the inputs the run started with`);
      return 1;
    }
  } else if (previous) {
    console.error(`note: ${dir} was started by a version that did not record its inputs' digests: they cannot be checked`);
  }
  try {
    await checkRunFolderWritable(dir);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }

  const client = startCliEngine({ gpu: config.engine.gpu });
  const controller = new AbortController();
  let model: EngineExperimentModel | undefined;
  const onSigint = (): void => {
    if (controller.signal.aborted) return;
    console.error('\ncancelling: the work in flight stops, finished units are kept (resume with --resume)');
    controller.abort();
    model?.cancel();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let progress: { phase: RunPhase; line: ProgressLine } | undefined;
  const jsonProgress = new JsonProgress();
  try {
    await client.start();
    const [loaded, sha256] = await Promise.all([client.loadModel(config.model), sha256File(config.model)]);
    if (previous?.model && previous.model.sha256 !== sha256) {
      console.error(`error: ${config.model} is not the model file the run in ${dir} used (sha256 ${previous.model.sha256.slice(0, 12)}…, now ${sha256.slice(0, 12)}…)`);
      return 1;
    }
    // Before any extraction: the model's sites must be what the site table says.
    const siteCheck = await preflightSiteCheck(client, config, loaded.fileBytes, previous, options.progress === 'json');
    if (!siteCheck) {
      if (!previous) await writeFailedRecord(dir, config, `the site check of ${config.model} failed or could not run; nothing was extracted`).catch(() => undefined);
      return 1;
    }
    let reuse: ReusableUnits | undefined;
    if (options.reuse) {
      const found = await ReusableUnits.load(path.resolve(options.reuse), { config: runConfigToJson(config), modelSha256: sha256, inputs });
      if ('refused' in found) {
        console.error(`error: --reuse: ${found.refused}; nothing can be reused from it (drop --reuse to compute everything)`);
        return 1;
      }
      reuse = found;
    }
    model = new EngineExperimentModel(client, config, { ...loaded, sha256, siteCheck }, (line) => {
      if (options.progress === 'json') return void process.stderr.write(JSON.stringify({ event: 'log', message: line }) + '\n');
      progress?.line.finish();
      progress = undefined;
      console.error(line);
    });
    if (previous) {
      const finished = (await new CheckpointStore(dir).units()).length;
      console.error(`resuming ${dir}: ${finished} finished units are reused`);
    }
    const record = await runExperiment(config, prepared, model, {
      dir,
      inputs,
      ...(reuse ? { reuse } : {}),
      ...(options.shard ? { shard: options.shard } : {}),
      signal: controller.signal,
      versions: { iclLab: engineVersion, nodeLlamaCpp: nodeLlamaCppVersion, llamaCpp: llamaCppRelease, node: process.version },
      ...(options.report ? { report: (folder: string) => renderReport(folder) } : {}),
      onProgress: (p) => {
        if (options.progress === 'json') return jsonProgress.update(p);
        if (progress?.phase !== p.phase) {
          progress?.line.finish();
          progress = { phase: p.phase, line: new ProgressLine(p.phase, p.unit) };
        }
        progress.line.update(p.done, p.total);
      },
      log: (line) => {
        if (options.progress === 'json') return void process.stderr.write(JSON.stringify({ event: 'log', message: line }) + '\n');
        progress?.line.finish();
        progress = undefined;
        console.error(line);
      },
    });
    progress?.line.finish();
    await printSummary(record, dir);
    return 0;
  } catch (error) {
    progress?.line.finish();
    if (error instanceof RunCancelledError) {
      console.error(`cancelled: ${error.message}`);
      return 130;
    }
    const failure = error as NodeJS.ErrnoException;
    // Only where something was made: a model that fails to load leaves nothing to resume.
    const finished = await new CheckpointStore(dir).units().catch(() => []);
    console.error(`error: ${failure.code && failure.path ? describeWriteError(failure, failure.path, finished.length > 0) : failure.message}`);
    // A failure before runExperiment wrote its record (a model that does not load): record it here.
    if (!previous && !existsSync(path.join(dir, 'run.json'))) await writeFailedRecord(dir, config, (error as Error).message).catch(() => undefined);
    if (finished.length > 0) console.error(`${finished.length} finished units are kept in ${path.join(dir, 'checkpoints')}; continue with \`icl-lab run ${configFile} --out ${out} --resume\``);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await client.stop();
  }
}

/**
 * The site self-check (src/core/siteCheck.ts) once per model, before any extraction; undefined,
 * with the error printed, when it fails or cannot run. A resumed run whose run.json records a
 * passed check of this very file (same sha256, checked by the caller, and size) reuses it.
 */
async function preflightSiteCheck(client: EngineClient, config: RunConfig, fileBytes: number, previous: RunRecord | undefined, json: boolean): Promise<SiteCheckResult | undefined> {
  const recorded = previous?.model?.fileBytes === fileBytes ? passedSiteCheck(previous.model['siteCheck']) : undefined;
  if (recorded) return recorded;
  let result: SiteCheckResult;
  try {
    result = judgeSiteCheck(await client.checkSites({ threads: config.engine.threads }));
  } catch (error) {
    console.error(`error: ${config.model}: the site check cannot run: ${(error as Error).message}; nothing was extracted`);
    return undefined;
  }
  if (!result.passed) {
    console.error(`error: ${describeSiteCheck(result, config.model)}; nothing was extracted (see \`icl-lab check-model ${config.model}\`)`);
    return undefined;
  }
  const line = describeSiteCheck(result, path.basename(config.model));
  if (json) process.stderr.write(JSON.stringify({ event: 'log', message: line }) + '\n');
  else console.error(line);
  return result;
}

async function printSummary(record: RunRecord, dir: string): Promise<void> {
  if (record.status === 'shard-complete') {
    console.log(`shard ${record.shard} complete → ${dir}; join every shard with \`icl-lab merge SHARD_DIR... --out DIR\``);
    return;
  }
  console.log(`\nmodel: ${record.model ? modelLabel(record.model) : 'none loaded'}`);
  const banner = isGeneratedModel(record.model) ? `!! ${generatedModelBanner.toUpperCase()} !!` : undefined;
  if (banner) console.log(banner);
  console.log('\nphase        wall time');
  for (const [name, phase] of Object.entries(record.phases)) console.log(`${name.padEnd(13)}${(phase.wallMs / 1000).toFixed(1)} s${phase.reused > 0 ? ` (${phase.reused} units reused)` : ''}`);
  console.log('\nmask           largest |ρ|   ρ        q        max-aware CI  fw p     length ρ  partial ρ  ceiling  site        layer  statistic              pooling     quality');
  const cell = (v: number | undefined, text: (v: number) => string, width: number): string => (v === undefined || Number.isNaN(v) ? 'nan' : text(v)).padEnd(width);
  for (const row of record.headline?.byMask ?? []) {
    const beats = beatsLength(row);
    console.log(
      `${row.mask.padEnd(15)}${Math.abs(row.rho).toFixed(3).padEnd(14)}${row.rho.toFixed(3).padEnd(9)}${row.qValue.toPrecision(3).padEnd(9)}` +
        `${(row.maxCiLow === undefined ? '' : `${cell(row.maxCiLow, (v) => v.toFixed(2), 0)}..${cell(row.maxCiHigh, (v) => v.toFixed(2), 0)}`).padEnd(14)}` +
        `${cell(row.familywiseP, (v) => v.toPrecision(2), 9)}` +
        `${cell(row.lengthRho, (v) => `${v.toFixed(3)}${beats === false ? '!' : ''}`, 10)}${cell(row.partialRho, (v) => v.toFixed(3), 11)}${cell(row.ceiling, (v) => v.toFixed(2), 9)}` +
        `${(row.site ?? '').padEnd(12)}${String(row.layer).padEnd(7)}${row.statistic.padEnd(23)}${row.pooling.padEnd(12)}${row.estimator} ${row.metric}`,
    );
  }
  if ((record.headline?.byMask ?? []).some((row) => beatsLength(row) === false)) console.log("(! : the statistic's |ρ| does not beat the length baseline's)");
  if (record.headline?.overall) console.log(`\n${describeCorrelation(record.headline.overall)}`);
  if (banner && record.headline) console.log(banner);
  const curvesFile = path.join(dir, runFiles.curves);
  if (existsSync(curvesFile)) {
    const curves = await readCurvesCsv(curvesFile);
    const differencesFile = path.join(dir, runFiles.strategyVsRandom);
    const differences = existsSync(differencesFile) ? await readStrategyVsRandomCsv(differencesFile) : [];
    const metric = curvesMetric(curves, (record.config as { evaluation?: { metric?: string } } | undefined)?.evaluation?.metric);
    if (metric) console.log(['', ...learningCurvesTable(curves, differences, metric)].join('\n'));
  }
  console.log(`\nrun folder: ${dir}`);
}

/** The engine process as a run's model: the config's engine settings on every request. */
export class EngineExperimentModel implements ExperimentModel {
  private inFlight: { cancel(): void } | undefined;
  private scorer;
  private cancelled = false;

  constructor(
    private readonly client: EngineClient,
    private readonly config: RunConfig,
    readonly facts: ExperimentModel['facts'],
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {
    this.scorer = this.newScorer();
  }

  private newScorer(): ReturnType<EngineClient['promptScorer']> {
    const { contextSize, batchSize, maxSequences, threads, exact } = this.config.engine;
    return this.client.promptScorer({ contextSize, batchSize, maxSequences, threads, exact, maxTokens: 0, stop: [] });
  }

  /**
   * `work`, and once more in a restarted engine (model reloaded) when the engine process died
   * under it: a native crash costs the unit in flight one retry, not the run. A second crash, or
   * any other error, fails the run as before.
   */
  private async retriedOnCrash<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (this.cancelled || !(error instanceof EngineError) || error.code !== 'engine-exited') throw error;
      this.log(`the engine process died during ${what} (${error.message}): restarting it and retrying the unit once`);
      await this.client.restart();
      await this.client.loadModel(this.config.model);
      this.scorer = this.newScorer();
      return work();
    }
  }

  embed(embeddingModel: string, texts: readonly string[]): Promise<Float64Array[]> {
    return this.retriedOnCrash('embedding', async () => {
      const vectors = await this.client.embedTexts({ model: embeddingModel, texts, threads: this.config.engine.threads });
      return vectors.map((v) => Float64Array.from(v));
    });
  }

  extract(request: ModelExtraction, onResult: Parameters<ExperimentModel['extract']>[1], onProgress?: Parameters<ExperimentModel['extract']>[2]): Promise<void> {
    return this.retriedOnCrash('extraction', () => this.extractOnce(request, onResult, onProgress));
  }

  private async extractOnce(request: ModelExtraction, onResult: Parameters<ExperimentModel['extract']>[1], onProgress?: Parameters<ExperimentModel['extract']>[2]): Promise<void> {
    const { contextSize, batchSize, maxSequences, threads, exact } = this.config.engine;
    const run = this.client.extract(
      {
        examples: request.examples,
        mask: request.mask,
        ...(request.site ? { site: request.site } : {}),
        ...(request.prefix !== undefined ? { prefix: request.prefix } : {}),
        ...(request.rawExamples ? { rawExamples: request.rawExamples } : {}),
        ...(request.rawDir ? { rawDir: request.rawDir } : {}),
        ...(request.rawLayers ? { rawLayers: request.rawLayers } : {}),
        ...(request.pooledLayers ? { pooledLayers: request.pooledLayers } : {}),
        contextSize,
        batchSize,
        maxSequences,
        threads,
        exact,
      },
      onResult,
      (p) => onProgress?.(p.done, p.total, p.tokens),
    );
    this.inFlight = run;
    try {
      await run.done;
    } finally {
      this.inFlight = undefined;
    }
  }

  /** The SAE requests of the engine (EngineClient's trainSae, encodeSae, saeLossRecovered, tokenPieces), with the config's engine settings. */
  readonly sae: SaeRunner = {
    train: (request, onProgress) =>
      this.retriedOnCrash('SAE training', async () => {
        if (this.cancelled) throw new EngineError('cancelled', 'cancelled before training');
        const listeners: (() => void)[] = [];
        this.inFlight = { cancel: () => listeners.forEach((listener) => listener()) };
        try {
          return await this.client.trainSae({ ...request, options: { ...request.options, threads: this.config.engine.threads } }, onProgress, { onCancel: (listener) => listeners.push(listener) });
        } finally {
          this.inFlight = undefined;
        }
      }),
    encode: (request) => this.retriedOnCrash('SAE encoding', async () => (await this.client.encodeSae({ ...request, threads: this.config.engine.threads })).map(fileCodes)),
    lossRecovered: (request) => {
      const { contextSize, batchSize, maxSequences, threads, exact } = this.config.engine;
      return this.retriedOnCrash('SAE loss recovered', () => this.client.saeLossRecovered({ ...request, options: { contextSize, batchSize, maxSequences, threads, exact } }));
    },
    tokenPieces: (text) => this.retriedOnCrash('tokenizing', () => this.client.tokenPieces(text)),
  };

  scoreTexts: ExperimentModel['scoreTexts'] = (groups) => this.retriedOnCrash('scoring', () => this.scorer.scoreTexts(groups));
  generateTexts: ExperimentModel['generateTexts'] = (groups, maxTokens, stop) => this.retriedOnCrash('generation', () => this.scorer.generateTexts(groups, maxTokens, stop));

  cancel(): void {
    this.cancelled = true;
    this.inFlight?.cancel();
  }
}

/** An encoded file's base64 arrays as typed arrays. */
function fileCodes(encoded: EncodedSaeFile): SaeFileCodes {
  const bytes = (text: string): ArrayBuffer => {
    const b = Buffer.from(text, 'base64');
    const copy = new Uint8Array(b.length);
    copy.set(b);
    return copy.buffer;
  };
  return {
    file: encoded.file,
    ...(encoded.example === undefined ? {} : { example: encoded.example }),
    tokens: encoded.tokens,
    latents: new Int32Array(bytes(encoded.latents)),
    values: new Float32Array(bytes(encoded.values)),
    relativeError: decodeFloat64(encoded.relativeError),
  };
}

/** Progress as JSON lines on stderr, at most four a second per phase (and always a phase's last). */
export class JsonProgress {
  private last = new Map<string, number>();
  private readonly started = new Map<string, number>();

  update(p: RunProgress): void {
    const now = performance.now();
    if (!this.started.has(p.phase)) this.started.set(p.phase, now);
    if (p.done < p.total && now - (this.last.get(p.phase) ?? -Infinity) < 250) return;
    this.last.set(p.phase, now);
    const seconds = (now - this.started.get(p.phase)!) / 1000;
    const rate = seconds >= 0.5 ? p.done / seconds : null;
    const etaSeconds = rate && p.done < p.total ? (p.total - p.done) / rate : null;
    process.stderr.write(JSON.stringify({ event: 'progress', ...p, rate, etaSeconds }) + '\n');
  }
}
