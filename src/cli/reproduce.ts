// `icl-lab reproduce [--preset cpu-small|cpu-medium|paper | --preset-file FILE] --out DIR`: the paper's table
// on real models. Each model × dataset cell is one `icl-lab run` in DIR/<model>/<dataset>/ (its
// config beside it, DIR/<model>/<dataset>.run.yaml), resumed where it stopped; after each cell,
// DIR/table.csv and DIR/table.md are rewritten from every finished cell (src/core/reproduce/).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml, stringify } from 'yaml';
import { parseRunConfig, type RunConfig } from '../core/experiment/runConfig.js';
import { exampleText, prepareRun, readRunRecord, writeAtomic, type PreparedRun } from '../core/experiment/runExperiment.js';
import { parseShard, type Shard } from '../core/experiment/workUnits.js';
import { formatDuration } from '../core/format/duration.js';
import { catalogModel } from '../core/models/modelCatalog.js';
import { resolveModelsFolder } from '../core/models/modelsFolder.js';
import { parseModelSource } from '../core/models/modelSource.js';
import { evaluatePromptItems } from '../core/quality/promptEvaluation.js';
import { cellSeconds, cellTokens, type CellTokens, type TokenCost } from '../core/reproduce/gridEstimate.js';
import { builtInPreset, builtInPresets, checkPreset, modelName, type ReproduceModel, type ReproducePreset } from '../core/reproduce/presets.js';
import { cellConfigFile, cellDir, cellRunConfig, checkDatasetFiles, gridCells, plannedCells, readLabelsJson, templateFile, type ReproduceCell } from '../core/reproduce/reproducePlan.js';
import { readCellRows, tableCsv, tableMarkdown, type TableRow } from '../core/reproduce/reproduceTable.js';
import { tableSummaryMarkdown } from '../core/reproduce/tableSummary.js';
import { cachedCatalogModel, cachedModelPath } from '../engine/modelCache.js';
import { downloadModel } from '../engine/modelDownload.js';
import { startCliEngine } from './engineOptions.js';
import { runRunCommand, type RunCliOptions } from './run.js';

export interface ReproduceCliOptions {
  preset?: string;
  presetFile?: string;
  out: string;
  shard?: Shard;
  only?: string[];
  dryRun: boolean;
  datasets?: string;
  report: boolean;
  estimate: boolean;
  /** Finished cells too: rewrite their configs and resume them, so the analysis after evaluation (correlations, headline, curves, table) is recomputed by this version from their checkpoints. */
  refresh?: boolean;
}

/** What reproduce needs from outside core: running a cell, finding a model, measuring its cost. Tests inject their own. */
export interface ReproduceDeps {
  runCell(configFile: string, options: RunCliOptions): Promise<number>;
  /** The model's GGUF path; `download` false: only a file already on this machine, else undefined. */
  resolveModel(model: ReproduceModel, presetDir: string, download: boolean): Promise<string | undefined>;
  calibrate(modelFile: string, config: RunConfig, prepared: PreparedRun): Promise<TokenCost & { charsPerToken: number }>;
}

export function registerReproduceCommand(program: Command): void {
  program
    .command('reproduce')
    .description("run the paper's grid of models × datasets (one `icl-lab run` per cell, resumable) and write its table")
    .option('--preset <name>', `built-in grid: ${builtInPresets.map((p) => p.name).join(' | ')}`, 'cpu-small')
    .option('--preset-file <file>', 'a grid of your own (JSON or YAML: name, models, datasets, study); see README')
    .requiredOption('--out <dir>', 'folder of the grid: DIR/<model>/<dataset>/ per cell, DIR/table.csv, DIR/table.md and DIR/summary.md')
    .option('--shard <I/N>', "only the grid's cells k with k mod N = I − 1 (cells numbered models outer, datasets inner)", parseShard)
    .option('--only <cells>', 'only these cells: model/dataset, a model or a dataset, comma-separated', (v: string) => v.split(','))
    .option('--datasets <dir>', 'folder holding the datasets (default: ../shared/datasets from the current folder)')
    .option('--dry-run', 'print the plan and the expected time, run nothing', false)
    .option('--no-estimate', 'skip measuring the per-token cost (and the expected time) before starting')
    .option('--no-report', "skip each cell's report.html")
    .option('--refresh', "also resume the finished cells: their correlations, headline, curves and table recomputed from their checkpoints by this version (no model work)", false)
    .action(async (options: ReproduceCliOptions) => {
      process.exitCode = await runReproduce(options);
    });
}

const defaultDeps: ReproduceDeps = { runCell: runRunCommand, resolveModel, calibrate };

interface CellPlan {
  readonly cell: ReproduceCell;
  readonly dir: string;
  readonly configFile: string;
  readonly config: Record<string, unknown>;
  readonly resolved: RunConfig;
  readonly prepared: PreparedRun;
  readonly tokens: CellTokens;
  readonly charsInput: number;
  readonly charsAnswer: number;
}

export async function runReproduce(options: ReproduceCliOptions, deps: ReproduceDeps = defaultDeps): Promise<number> {
  const log = (line: string): void => console.error(line);
  let preset: ReproducePreset;
  let presetDir = process.cwd();
  const out = path.resolve(options.out);
  let plans: CellPlan[];
  try {
    if (options.presetFile) {
      const file = path.resolve(options.presetFile);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new Error(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`);
      }
      let raw: unknown;
      try {
        raw = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}`);
      }
      preset = checkPreset(raw, file);
      presetDir = path.dirname(file);
    } else preset = builtInPreset(options.preset ?? 'cpu-small');

    const datasetsDir = path.resolve(options.datasets ?? path.join('..', 'shared', 'datasets'));
    if (!existsSync(datasetsDir)) {
      throw new Error(`datasets folder ${datasetsDir} not found${options.datasets ? '' : ' (the default, ../shared/datasets from the current folder)'}; give it with --datasets DIR`);
    }
    const cells = plannedCells(preset, { ...(options.shard ? { shard: options.shard } : {}), ...(options.only ? { only: options.only } : {}) });
    checkDatasetFiles(datasetsDir, [...new Set(cells.map((c) => c.dataset))]);
    log(`preset ${preset.name}: ${preset.description}`);
    log(`${cells.length} of ${gridCells(preset).length} cells${options.shard ? ` (shard ${options.shard.index}/${options.shard.count})` : ''} → ${out}; datasets from ${datasetsDir}`);

    // Every cell's config, checked (and its data split) before any model work; placeholder model
    // paths where the model is not on this machine yet (the config is rewritten once it is).
    const modelFiles = new Map<string, string | undefined>();
    for (const model of preset.models) modelFiles.set(modelName(model), await deps.resolveModel(model, presetDir, false));
    plans = [];
    for (const cell of cells) {
      const labels = cell.dataset.labelsJson ? await readLabelsJson(path.resolve(datasetsDir, cell.dataset.labelsJson)) : undefined;
      const template = cell.dataset.template ? templateFile(out, cell.dataset) : undefined;
      const modelFile = modelFiles.get(modelName(cell.model)) ?? path.join(out, `${modelName(cell.model)}.gguf`);
      const config = cellRunConfig(preset, cell, { modelFile, datasetsDir, ...(labels ? { labels } : {}), ...(template ? { templateFile: template } : {}) });
      const configFile = cellConfigFile(out, cell);
      // The template must exist for prepareRun to read it.
      if (template && cell.dataset.template) {
        await mkdir(path.dirname(template), { recursive: true });
        await writeFile(template, cell.dataset.template);
      }
      const resolved = parseRunConfig(stringify(config), configFile);
      const prepared = await prepareRun(resolved);
      plans.push({ cell, dir: cellDir(out, cell), configFile, config, resolved, prepared, ...shapeOf(resolved, prepared) });
    }
  } catch (error) {
    log(`error: ${(error as Error).message}`);
    return 1;
  }

  // Which cells are finished already; the estimate covers the rest.
  const finished = new Set<string>();
  for (const plan of plans) if ((await readRunRecord(plan.dir).catch(() => undefined))?.status === 'complete') finished.add(plan.cell.key);
  const pending = plans.filter((p) => !finished.has(p.cell.key));
  if (finished.size > 0) log(`${finished.size} cell${finished.size === 1 ? ' is' : 's are'} finished already: ${[...finished].join(', ')}`);

  // The expected time: the grid's tokens at a per-token cost measured on each model.
  const costs = new Map<string, TokenCost & { charsPerToken: number }>();
  if (options.estimate && pending.length > 0) {
    for (const model of preset.models) {
      const first = pending.find((p) => modelName(p.cell.model) === modelName(model));
      if (!first) continue;
      let file: string | undefined;
      try {
        file = await deps.resolveModel(model, presetDir, !options.dryRun);
      } catch (error) {
        log(`error: ${(error as Error).message}`);
        return 1;
      }
      if (!file) {
        log(`${modelName(model)}: not on this machine, so its per-token cost is not measured (a run without --dry-run downloads it first)`);
        continue;
      }
      log(`${modelName(model)}: measuring the per-token cost on ${first.cell.dataset.name}…`);
      try {
        costs.set(modelName(model), await deps.calibrate(file, first.resolved, first.prepared));
      } catch (error) {
        log(`error: measuring ${modelName(model)} on ${file}: ${(error as Error).message}`);
        return 1;
      }
    }
  }
  printPlan(pending, costs, log);
  if (options.dryRun) return 0;

  const times: { key: string; seconds: number; code: number }[] = [];
  const failed: string[] = [];
  // --refresh: the finished cells first (checkpoints only, seconds each), then the pending ones.
  const toRun = options.refresh ? [...plans.filter((p) => finished.has(p.cell.key)), ...pending] : pending;
  for (const [i, plan] of toRun.entries()) {
    const { cell } = plan;
    let modelFile: string | undefined;
    try {
      modelFile = await deps.resolveModel(cell.model, presetDir, true);
    } catch (error) {
      log(`error: ${(error as Error).message}`);
      return 1;
    }
    const config = { ...plan.config, model: modelFile };
    await mkdir(path.dirname(plan.configFile), { recursive: true });
    await writeFile(plan.configFile, `# icl-lab reproduce, preset ${preset.name}, cell ${cell.key}; run alone with: icl-lab run ${plan.configFile} --out ${plan.dir} --resume\n${stringify(config)}`);
    const resume = existsSync(path.join(plan.dir, 'run.json'));
    log(`\n[${i + 1}/${toRun.length}] ${cell.key}${finished.has(cell.key) ? ' (refreshing)' : resume ? ' (resuming)' : ''} → ${plan.dir}`);
    const started = performance.now();
    const code = await deps.runCell(plan.configFile, { out: plan.dir, resume, report: options.report });
    const seconds = (performance.now() - started) / 1000;
    times.push({ key: cell.key, seconds, code });
    const cost = costs.get(modelName(cell.model));
    const expected = cost && !finished.has(cell.key) ? ` (expected ${formatDuration(cellSeconds(plan.tokens, cost))})` : '';
    log(`[${i + 1}/${toRun.length}] ${cell.key}: ${code === 0 ? 'done' : code === 130 ? 'cancelled' : 'failed'} in ${formatDuration(seconds)}${expected}`);
    if (code === 130) {
      await writeTables(out, preset, log);
      return 130;
    }
    if (code !== 0) failed.push(cell.key);
    await writeTables(out, preset, log);
  }
  // Rewritten after each cell already; once more when no cell ran (a merge of shard folders).
  if (times.length === 0) await writeTables(out, preset, log);
  if (times.length > 0) {
    log('\ncell                          wall time');
    for (const t of times) log(`${t.key.padEnd(30)}${formatDuration(t.seconds)}${t.code === 0 ? '' : ` (exit ${t.code})`}`);
    log(`${'total'.padEnd(30)}${formatDuration(times.reduce((a, t) => a + t.seconds, 0))}`);
  }
  console.log(path.join(out, 'table.md'));
  if (failed.length > 0) {
    log(`failed: ${failed.join(', ')}; run the same command again to retry them (finished units are kept)`);
    return 1;
  }
  return 0;
}

/** The cell's token counts from its sizes and its data's mean text lengths (characters / 4 until measured). */
function shapeOf(config: RunConfig, prepared: PreparedRun): { tokens: CellTokens; charsInput: number; charsAnswer: number } {
  const rows = [...prepared.splits.pool, ...prepared.splits.probe, ...prepared.splits.test];
  const mean = (values: number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  const charsInput = mean(rows.map((r) => exampleText(r, config.data.inputs).length));
  const charsAnswer =
    prepared.task.type === 'classification'
      ? mean(prepared.task.labels.map((l) => l.verbalizer.length + 1))
      : mean(rows.map((r) => (r.references?.[0]?.length ?? 0) + 1));
  return { tokens: tokensOf(config, prepared, charsInput, charsAnswer, 4), charsInput, charsAnswer };
}

function tokensOf(config: RunConfig, prepared: PreparedRun, charsInput: number, charsAnswer: number, charsPerToken: number): CellTokens {
  return cellTokens({
    task: config.data.task,
    pool: prepared.splits.pool.length,
    probe: prepared.splits.probe.length,
    test: prepared.splits.test.length,
    masks: config.masks,
    inContextShots: config.inContextShots,
    strategies: config.selection.strategies,
    budgets: config.selection.budgets,
    seeds: config.selection.seeds.length,
    rounds: config.selection.rounds,
    retrievalShots: config.selection.retrievalShots,
    labels: prepared.task.type === 'classification' ? prepared.task.labels.length : 1,
    inputTokens: charsInput / charsPerToken,
    answerTokens: Math.max(1, charsAnswer / charsPerToken),
    maxTokens: prepared.task.type === 'generative' ? prepared.task.maxTokens : 0,
  });
}

function printPlan(plans: readonly CellPlan[], costs: ReadonlyMap<string, TokenCost & { charsPerToken: number }>, log: (line: string) => void): void {
  if (plans.length === 0) return log('every planned cell is finished');
  log('\ncell                          pool/probe/test  tokens (extract + scoring)   expected');
  let total = 0;
  let tokens = 0;
  let unknown = false;
  for (const plan of plans) {
    const cost = costs.get(modelName(plan.cell.model));
    const t = cost ? tokensOf(plan.resolved, plan.prepared, plan.charsInput, plan.charsAnswer, cost.charsPerToken) : plan.tokens;
    const seconds = cost ? cellSeconds(t, cost) : NaN;
    if (cost) total += seconds;
    else unknown = true;
    tokens += t.extract + t.scoring;
    const { pool, probe, test } = plan.prepared.splits;
    log(`${plan.cell.key.padEnd(30)}${`${pool.length}/${probe.length}/${test.length}`.padEnd(17)}${`≈${t.extract} + ${t.scoring}`.padEnd(29)}${cost ? `≈${formatDuration(seconds)}` : 'not measured'}`);
  }
  for (const [model, cost] of costs) {
    log(`${model}: measured ${(1 / cost.extractSecondsPerToken).toFixed(0)} tok/s extracting, ${(1 / cost.scoringSecondsPerToken).toFixed(0)} tok/s scoring, ${cost.charsPerToken.toFixed(2)} characters per token`);
  }
  const expected = costs.size === 0 ? 'expected time not measured' : `expected time ≈${formatDuration(total)}${unknown ? ' for the measured models' : ''} (an estimate from token counts and the measured cost)`;
  log(`grid: ≈${tokens} tokens; ${expected}`);
}

/** DIR/table.csv, DIR/table.md, DIR/summary.md and each finished cell's own table.csv, from every finished cell of the grid. */
async function writeTables(out: string, preset: ReproducePreset, log: (line: string) => void): Promise<void> {
  const rows: TableRow[] = [];
  let finished = 0;
  const cells = gridCells(preset);
  for (const cell of cells) {
    try {
      const cellRows = await readCellRows(cellDir(out, cell), modelName(cell.model), cell.dataset.name);
      if (!cellRows) continue;
      finished++;
      rows.push(...cellRows);
      await writeAtomic(path.join(cellDir(out, cell), 'table.csv'), tableCsv(cellRows));
    } catch (error) {
      log(`warning: ${cell.key} left out of the table: ${(error as Error).message}`);
    }
  }
  await mkdir(out, { recursive: true });
  await writeAtomic(path.join(out, 'table.csv'), tableCsv(rows));
  await writeAtomic(path.join(out, 'table.md'), tableMarkdown(rows, { preset: preset.name, finished, cells: cells.length }));
  await writeAtomic(path.join(out, 'summary.md'), tableSummaryMarkdown(rows, { preset: preset.name, finished, cells: cells.length }));
  log(`table: ${finished} of ${cells.length} cells → ${path.join(out, 'table.md')}`);
}

/** A catalogue model from the cache (pinned sha256) or the models folder (hf: URIs), or a GGUF file of the preset. */
async function resolveModel(model: ReproduceModel, presetDir: string, download: boolean): Promise<string | undefined> {
  if ('file' in model) {
    const file = path.resolve(presetDir, model.file);
    if (!existsSync(file)) throw new Error(`model ${model.name}: ${file} not found`);
    return file;
  }
  const entry = catalogModel(model.id);
  if (!entry) throw new Error(`model "${model.id}" is not in the catalogue (icl-lab download-model --help lists it); give { name, file } for a GGUF file of your own`);
  if (entry.sha256 && entry.file) {
    const cached = cachedModelPath(entry);
    if (!download) return existsSync(cached) ? cached : undefined;
    return cachedCatalogModel(entry.id, { onStart: (s) => !s.existing && console.error(`downloading ${entry.id} (${entry.uri})…`) });
  }
  const source = parseModelSource(entry.uri);
  const dir = resolveModelsFolder(undefined);
  // node-llama-cpp names hf: files hf_<user>_<file> and renames a download to it only once whole:
  // a file there is used as it is, with no network (a machine without Hugging Face access can hold a copy).
  const local = path.join(dir, `hf_${entry.uri.replace(/^hf:/, '').split('/')[0]}_${path.basename(entry.uri)}`);
  if (existsSync(local)) return local;
  if (!download) return undefined;
  try {
    const result = await downloadModel({ source, dir, onStart: (s) => !s.existing && console.error(`downloading ${entry.uri} to ${s.file}…`) });
    return result.file;
  } catch (error) {
    throw new Error(
      `model ${entry.id}: ${(error as Error).message}. Fetch it where Hugging Face is reachable with \`icl-lab download-model ${entry.id}\` and copy the file to ${local}, or point HF_ENDPOINT at a mirror`,
    );
  }
}

/** Per-token cost on this machine: extraction of 32 pool examples, then one-shot scoring of 4 candidates × 8 probes. */
async function calibrate(modelFile: string, config: RunConfig, prepared: PreparedRun): Promise<TokenCost & { charsPerToken: number }> {
  const client = startCliEngine({ gpu: config.engine.gpu });
  try {
    await client.start();
    await client.loadModel(modelFile);
    const { contextSize, batchSize, maxSequences, threads, exact } = config.engine;
    const rows = prepared.splits.pool.slice(0, 32);
    const texts = rows.map((r) => exampleText(r, config.data.inputs));
    let started = performance.now();
    const run = client.extract({ examples: rows.map((r, i) => ({ example: r.index, text: texts[i]! })), mask: 'isolated', contextSize, batchSize, maxSequences, threads, exact }, () => undefined);
    const summary = await run.done;
    const extractSeconds = (performance.now() - started) / 1000;
    const charsPerToken = texts.reduce((a, t) => a + t.length, 0) / Math.max(1, summary.tokens - rows.length);
    const scorer = client.promptScorer({ contextSize, batchSize, maxSequences, threads, exact, maxTokens: 0, stop: [] });
    const items = prepared.splits.pool.slice(0, 4).map((d) => ({ demonstrations: [d], probes: prepared.splits.probe.slice(0, 8) }));
    started = performance.now();
    const scored = await evaluatePromptItems(scorer, prepared.template, prepared.task, items);
    const scoringSeconds = (performance.now() - started) / 1000;
    return { extractSecondsPerToken: extractSeconds / Math.max(1, summary.tokens), scoringSecondsPerToken: scoringSeconds / Math.max(1, scored.evaluatedTokens), charsPerToken };
  } finally {
    await client.stop();
  }
}
