// `icl-lab sae RUN_FOLDER`: the sae phase of `icl-lab run` (core/experiment/saePhase.ts) on a run
// folder whose extract and quality phases finished: a TopK sparse autoencoder trained on the
// pool's activations into RUN/sae/, its signals added to stats.csv as the site `sae`, the
// correlation grid and the headline recomputed with them, the report re-rendered. The settings are
// the run config's `sae:` block (or its defaults), changed by the options. Ctrl-C stops the work in
// flight; the activations extracted so far are kept and reused by the next invocation.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { correlationsCsv, readStatsCsv, readTokenCounts } from '../core/experiment/correlations.js';
import type { ModelFacts } from '../core/experiment/experimentModel.js';
import { saeDefaults, type LayerSpec, type RunConfig, type SaeConfig } from '../core/experiment/runConfig.js';
import { correlationGrid, prepareRun, readRunRecord, RunCancelledError, runInputsFor, writeAtomic } from '../core/experiment/runExperiment.js';
import { compareRunInputs, rowLinesOf } from '../core/experiment/runInputs.js';
import { acquireRunLock, type RunLock } from '../core/experiment/runLock.js';
import { runSaePhase, saeFolderName, saeRecordName, type SaeRecord } from '../core/experiment/saePhase.js';
import { sha256File } from '../core/format/fileDigest.js';
import { statsCsvWithDerivedSite } from '../core/format/statsCsv.js';
import { formatDuration } from '../core/format/duration.js';
import { renderReport } from '../core/report/renderReport.js';
import { readQualityRows, runFiles } from '../core/report/runFolderFiles.js';
import { siteNames, type SiteName } from '../core/sites.js';
import { startCliEngine } from './engineOptions.js';
import { positiveInteger, oneOf } from './optionParsers.js';
import { ProgressLine } from './progressLine.js';
import { EngineExperimentModel, JsonProgress } from './run.js';

export interface SaeCliOptions {
  layer?: LayerSpec;
  site?: SiteName;
  expansion?: number;
  k?: number;
  text?: string;
  epochs?: number;
  report: boolean;
  progress: 'text' | 'json';
}

function layerSpec(value: string): LayerSpec {
  if (value === 'middle' || value === 'last') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a layer number, middle or last');
  return n;
}

export function registerSaeCommand(program: Command): void {
  program
    .command('sae')
    .description("train a sparse autoencoder on a run folder's pool activations (RUN/sae/) and add its features to stats.csv, the correlations and the report")
    .argument('<run>', 'run folder written by `icl-lab run` (its extract and quality phases finished)')
    .option('--layer <layer>', "layer number, middle or last (default: the config's sae.layer, else middle)", layerSpec)
    .option('--site <site>', `activations trained on: ${siteNames.join(' | ')} (default mlp_out)`, oneOf(siteNames))
    .option('--expansion <n>', `latents per input dimension (default ${saeDefaults.expansion})`, positiveInteger)
    .option('--k <n>', `active latents per token (default ${saeDefaults.k})`, positiveInteger)
    .option('--text <file>', 'an extra unlabelled text file, one text per line, trained on beside the pool')
    .option('--epochs <n>', `passes over the training tokens (default ${saeDefaults.epochs})`, positiveInteger)
    .option('--no-report', 'leave report.html as it is')
    .addOption(new Option('--progress <format>', 'progress on stderr: text bars, or JSON lines for programs').choices(['text', 'json']).default('text'))
    .action(async (run: string, options: SaeCliOptions) => {
      process.exitCode = await runSaeCommand(run, options);
    });
}

/** The run config's `sae:` block (or its defaults with the run's seed), with the command's options over it. */
export function saeSettings(config: RunConfig, options: Omit<SaeCliOptions, 'report' | 'progress'>): SaeConfig {
  const base: SaeConfig = config.sae ?? { ...saeDefaults, seed: config.seed };
  return {
    ...base,
    ...(options.layer !== undefined ? { layer: options.layer } : {}),
    ...(options.site !== undefined ? { site: options.site } : {}),
    ...(options.expansion !== undefined ? { expansion: options.expansion } : {}),
    ...(options.k !== undefined ? { k: options.k } : {}),
    ...(options.text !== undefined ? { text: path.resolve(options.text) } : {}),
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
  };
}

export async function runSaeCommand(run: string, options: SaeCliOptions): Promise<number> {
  const dir = path.resolve(run);
  const fail = (message: string): number => {
    console.error(`error: ${message}`);
    return 1;
  };
  let record;
  try {
    record = await readRunRecord(dir);
  } catch (error) {
    return fail(`${path.join(dir, 'run.json')} cannot be read (${(error as Error).message})`);
  }
  if (!record?.model) return fail(`${dir} holds no run with a model (no run.json, or a run that failed before its model loaded)`);
  for (const file of [runFiles.stats, runFiles.quality]) {
    if (!existsSync(path.join(dir, file))) return fail(`${dir} has no ${file}: train an SAE on a run whose extract and quality phases finished (icl-lab run CONFIG --out ${run} --resume)`);
  }
  const config = record.config as RunConfig;
  const sae = saeSettings(config, options);
  let lock: RunLock;
  try {
    lock = await acquireRunLock(dir);
  } catch (error) {
    return fail((error as Error).message);
  }
  const client = startCliEngine({ gpu: config.engine.gpu });
  const controller = new AbortController();
  let model: EngineExperimentModel | undefined;
  const onSigint = (): void => {
    if (controller.signal.aborted) return;
    console.error('\ncancelling: the work in flight stops; the activations extracted so far are kept for the next `icl-lab sae`');
    controller.abort();
    model?.cancel();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const json = options.progress === 'json';
  const jsonProgress = new JsonProgress();
  let bar: { unit: string; line: ProgressLine } | undefined;
  const endBar = (): void => {
    bar?.line.finish();
    bar = undefined;
  };
  const log = (line: string): void => {
    if (json) return void process.stderr.write(JSON.stringify({ event: 'log', message: line }) + '\n');
    endBar();
    console.error(line);
  };
  const progress = (done: number, total: number, unit: string): void => {
    if (json) return jsonProgress.update({ phase: 'sae', done, total, unit });
    if (bar?.unit !== unit) {
      bar?.line.finish();
      bar = { unit, line: new ProgressLine('sae', unit) };
    }
    bar.line.update(done, total);
  };
  try {
    const prepared = await prepareRun(config, log);
    if (record.inputs) {
      const { differences } = compareRunInputs(record.inputs, await runInputsFor(config, prepared), rowLinesOf(prepared.splits));
      if (differences.length > 0) return fail(`the inputs of the run in ${dir} changed since it ran:\n${differences.map((d) => `  - ${d}`).join('\n')}`);
    }
    await client.start();
    const [loaded, sha256] = await Promise.all([client.loadModel(config.model), sha256File(config.model)]);
    if (sha256 !== record.model.sha256) return fail(`${config.model} is not the model file the run in ${dir} used (sha256 ${record.model.sha256.slice(0, 12)}…, now ${sha256.slice(0, 12)}…)`);
    const facts: ModelFacts = { ...loaded, ...record.model, sha256 };
    model = new EngineExperimentModel(client, config, facts, log);
    const qualityRows = await readQualityRows(path.join(dir, runFiles.quality));
    const result = await runSaePhase({
      dir,
      config,
      sae,
      prepared,
      model,
      qualityRows,
      checkCancelled: () => {
        if (controller.signal.aborted) throw new RunCancelledError('sae');
      },
      log,
      onProgress: progress,
      onTraining: (p) => progress(p.step, p.steps, 'training steps'),
    });
    endBar();
    // The signals join stats.csv; the grid and the headline are recomputed with them.
    const statsFile = path.join(dir, runFiles.stats);
    await writeAtomic(statsFile, statsCsvWithDerivedSite(await readFile(statsFile, 'utf8'), 'sae', result.columns, result.rows));
    const grid = correlationGrid(config, await readStatsCsv([statsFile]), await readTokenCounts([statsFile]), qualityRows, (done, total) => progress(done, total, 'cells'));
    endBar();
    await writeAtomic(path.join(dir, runFiles.correlations), correlationsCsv(grid.rows));
    await writeAtomic(path.join(dir, 'run.json'), JSON.stringify({ ...record, headline: grid.headline }, null, 2) + '\n');
    if (options.report && existsSync(path.join(dir, 'report.html'))) await renderReport(dir);
    printFigures(result.record, result.reused, path.join(dir, saeFolderName, saeRecordName));
    const strongest = grid.rows.filter((r) => r.site === 'sae' && Number.isFinite(r.rho)).sort((a, b) => Math.abs(b.rho) - Math.abs(a.rho))[0];
    if (strongest) console.log(`strongest SAE signal: ${strongest.statistic} vs ${strongest.estimator} ${strongest.metric}: ρ ${strongest.rho.toFixed(3)} (q ${strongest.qValue.toPrecision(2)}, n ${strongest.n})`);
    return 0;
  } catch (error) {
    endBar();
    if (error instanceof RunCancelledError || controller.signal.aborted) {
      console.error('cancelled: finished work is kept; run the same command again to continue');
      return 130;
    }
    return fail((error as Error).message);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await client.stop();
    await lock.release();
  }
}

function printFigures(record: SaeRecord, reused: boolean, file: string): void {
  const e = record.evaluation;
  const fixed = (v: number | null, digits: number): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  console.log(`\nsparse autoencoder${reused ? ' (reused: the folder already held it for these settings)' : ''}: ${record.site} layer ${record.layer}, ${record.settings.latents} latents (${record.settings.width} × ${record.config.expansion}), k ${record.settings.k}, seed ${record.seed}`);
  console.log(`variance explained  ${fixed(e.varianceExplained, 3)} (held-out tokens: ${e.heldOutTokens})`);
  console.log(`L0                  ${fixed(e.l0, 1)}`);
  console.log(`dead latents        ${e.deadLatents} of ${record.settings.latents}`);
  console.log(`loss recovered      ${fixed(e.lossRecovered, 3)} (next-token loss clean ${fixed(e.nextTokenLoss.clean, 3)}, SAE ${fixed(e.nextTokenLoss.reconstructed, 3)}, zero-ablated ${fixed(e.nextTokenLoss.zeroAblated, 3)} nats/token)`);
  console.log(`training            ${e.trainingMs < 60_000 ? `${(e.trainingMs / 1000).toFixed(1)} s` : formatDuration(e.trainingMs / 1000)}, ${e.trainTokens} tokens × ${record.settings.epochs} epochs, ${Math.round(e.tokensPerSecond)} tokens/s (${e.backend})`);
  console.log(`\n${file}`);
}
