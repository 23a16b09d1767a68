// What the chart panels show, read from a run folder: the payloads of panelMessages.ts, built with
// the report's readers (one parser per file) and kept per panel until the folder changes. No
// vscode import, so tests build the payloads from a synthetic run folder.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { datasetSpecOfRun, runExamples, type DatasetExamples, type ExampleRecord } from '../../core/report/runDataset.js';
import { lengthStatistic, parseStatsCellKey, readStatsCsv, statsCellKey, strongestCorrelation, type CorrelationRow } from '../../core/experiment/correlations.js';
import { siteNames } from '../../core/sites.js';
import type { ModelFacts } from '../../core/experiment/experimentModel.js';
import { generatedModelBanner, isGeneratedModel, modelLabel } from '../../core/experiment/modelLabel.js';
import { activationHistograms, findRawActivationDirs, readHistogramsCsv, readMassiveCsv, type HistogramRow, type LayerSummary, type MassiveRow } from '../../core/report/activationHistograms.js';
import { jsonField, readCorrelationsCsv, readCurvesCsv, readQualityRows, readRunJson, runFiles, type QualityCsvRow } from '../../core/report/runFolderFiles.js';
import { hasSaeFeatures, noSaeMessage, readSaeFeatures, readSaeFigures, saeFiles, type SaeFeature, type SaeFeaturesFile } from './saeFeatures.js';
import {
  wireNumber,
  type CellKey,
  type CorrelationsDataNotification,
  type FeatureExamplesResponse,
  type FeaturesDataNotification,
  type HistogramsDataNotification,
  type LearningCurvesDataNotification,
  type RunInfo,
  type ScatterResponse,
  type StatisticKey,
  type StatisticResponse,
  type StatisticsCatalog,
  type WireCorrelationRow,
} from './panelMessages.js';

/** Masks in the study's order first. */
const maskOrder = ['isolated', 'shared-prefix', 'in-context'];
const poolingOrder = ['all', 'token-mean', 'last'];

function ordered(values: Iterable<string>, order: readonly string[]): string[] {
  const set = new Set(values);
  return [...order.filter((v) => set.has(v)), ...[...set].filter((v) => !order.includes(v)).sort()];
}


function stringField(obj: unknown, ...keys: string[]): string | undefined {
  const value = jsonField(obj, ...keys);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false);
}

export { datasetSpecOfRun };
export type { DatasetExamples, ExampleRecord };

function toWireCorrelation(r: CorrelationRow): WireCorrelationRow {
  return {
    mask: r.mask,
    site: r.site,
    layer: r.layer,
    statistic: r.statistic,
    pooling: r.pooling,
    estimator: r.estimator,
    metric: r.metric,
    rho: wireNumber(r.rho),
    pValue: wireNumber(r.pValue),
    qValue: wireNumber(r.qValue),
    ciLow: wireNumber(r.ciLow),
    ciHigh: wireNumber(r.ciHigh),
    n: r.n,
    partialRho: wireNumber(r.partialRho),
    partialPValue: wireNumber(r.partialPValue),
    partialQValue: wireNumber(r.partialQValue),
  };
}

function featureSummary(f: SaeFeature): FeaturesDataNotification['features'][number] {
  const maxima = f.examples.map((e) => e.maxActivation).filter((v) => Number.isFinite(v));
  const top = maxima.length > 0 ? Math.max(...maxima) : NaN;
  return { latent: f.latent, density: wireNumber(f.density), qualityRho: wireNumber(f.qualityRho), qualityP: wireNumber(f.qualityP), examples: f.examples.length, maxActivation: wireNumber(top) };
}

/** The statistic values of stats.csv by statsCellKey, then example (readStatsCsv's layout). */
type StatsCells = Map<string, Map<number, number>>;

/**
 * One run folder's panel data. Files are read on first use and kept until `invalidate()` (the
 * panel calls it when the folder changes): a click on a heatmap cell does not re-read stats.csv.
 */
export class RunPanelSource {
  readonly dir: string;
  private cache = new Map<string, Promise<unknown>>();

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** The folder and, once run.json names it, the model (with the generated-model banner where it applies). */
  async runInfo(): Promise<RunInfo> {
    const model = jsonField(await this.runJson().catch(() => undefined), 'model');
    const facts = model as ModelFacts | undefined;
    const label = facts && typeof facts.path === 'string' && typeof facts.sha256 === 'string' ? modelLabel(facts) : undefined;
    return {
      dir: this.dir,
      name: path.basename(this.dir),
      ...(label ? { model: label } : {}),
      ...(isGeneratedModel(model) ? { generatedModelBanner } : {}),
    };
  }

  invalidate(): void {
    this.cache.clear();
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.cache.get(key) as Promise<T> | undefined;
    if (!value) {
      value = load();
      this.cache.set(key, value);
      // A failed read is not kept: the next request tries again.
      value.catch(() => this.cache.delete(key));
    }
    return value;
  }

  private at(name: string): string {
    return path.join(this.dir, name);
  }

  private async checkFolder(): Promise<void> {
    const s = await stat(this.dir).catch(() => undefined);
    if (!s?.isDirectory()) throw new Error(`${this.dir}: no such run folder`);
  }

  private runJson(): Promise<unknown> {
    return this.cached('run', async () => ((await isFile(this.at(runFiles.run))) ? readRunJson(this.at(runFiles.run)) : undefined));
  }

  private stats(): Promise<StatsCells | undefined> {
    return this.cached('stats', async () => ((await isFile(this.at(runFiles.stats))) ? readStatsCsv([this.at(runFiles.stats)]) : undefined));
  }

  private quality(): Promise<QualityCsvRow[] | undefined> {
    return this.cached('quality', async () => ((await isFile(this.at(runFiles.quality))) ? readQualityRows(this.at(runFiles.quality)) : undefined));
  }

  private correlations(): Promise<CorrelationRow[] | undefined> {
    return this.cached('correlations', async () => ((await isFile(this.at(runFiles.correlations))) ? readCorrelationsCsv(this.at(runFiles.correlations)) : undefined));
  }

  /** The run's dataset rows by example, or why they cannot be read (the panels then show ids only). */
  dataset(): Promise<DatasetExamples | { problem: string }> {
    return this.cached('dataset', async () => runExamples(await this.runJson()));
  }

  /** The histograms panel: histograms.csv and massive.csv, else computed from raw/; what stats.csv offers. */
  async histogramsData(): Promise<HistogramsDataNotification> {
    await this.checkFolder();
    const notes: string[] = [];
    let histograms: HistogramRow[] = [];
    let massive: MassiveRow[] = [];
    const summaries: LayerSummary[] = [];
    if (await isFile(this.at(runFiles.histograms))) {
      histograms = await readHistogramsCsv(this.at(runFiles.histograms));
      if (await isFile(this.at(runFiles.massive))) massive = await readMassiveCsv(this.at(runFiles.massive));
      else notes.push(`No ${runFiles.massive}: massive activations are not marked.`);
    } else {
      const rawDirs = await findRawActivationDirs(this.dir);
      for (const { mask, dir } of rawDirs) {
        const result = await activationHistograms(dir, mask);
        histograms.push(...result.histograms);
        massive.push(...result.massive);
        summaries.push(...result.layers);
      }
      if (rawDirs.length === 0) notes.push(`No ${runFiles.histograms} and no raw activations (${runFiles.raw}/<example>_L<layer>.npy) yet: only the pooled statistics of ${runFiles.stats} can be shown.`);
    }
    const stats = await this.stats();
    if (!stats) notes.push(`No ${runFiles.stats} yet: no pooled statistics.`);
    return {
      type: 'histograms/data',
      run: await this.runInfo(),
      notes,
      histograms: histograms.map((h) => ({ mask: h.mask, layer: h.layer, binLow: h.binLow, binHigh: h.binHigh, count: h.count })),
      massive: massive.map((m) => ({ mask: m.mask, layer: m.layer, example: m.example, token: m.token, dim: m.dim, value: wireNumber(m.value) })),
      summaries: summaries.map((s) => ({ ...s, medianAbs: wireNumber(s.medianAbs) })),
      stats: statisticsCatalog(stats),
    };
  }

  /** One statistic of stats.csv across examples (the histograms panel's pooled view). */
  async statistic(key: StatisticKey, requestId: number): Promise<StatisticResponse> {
    const stats = await this.stats();
    if (!stats) throw new Error(`No ${runFiles.stats} in ${this.dir}`);
    const byExample = stats.get(statsCellKey(key));
    if (!byExample) throw new Error(`${runFiles.stats} has no ${key.statistic} for the ${key.mask} mask, ${key.site} layer ${key.layer}, ${key.pooling} pooling`);
    const ids = await this.ids();
    const values = [...byExample].sort((a, b) => a[0] - b[0]).map(([example, value]) => ({ example, id: ids.get(example) ?? String(example), value: wireNumber(value) }));
    return { type: 'statistic/data', requestId, key, values };
  }

  /** Example ids: the dataset's, else quality.csv's. */
  private async ids(): Promise<Map<number, string>> {
    const ids = new Map<number, string>();
    for (const q of (await this.quality()) ?? []) if (!ids.has(q.example)) ids.set(q.example, q.id);
    const data = await this.dataset();
    if ('byExample' in data) for (const [example, record] of data.byExample) ids.set(example, record.id);
    return ids;
  }

  /** The correlations panel: correlations.csv and the heatmap's default estimator / metric / pooling. */
  async correlationsData(): Promise<CorrelationsDataNotification> {
    await this.checkFolder();
    const rows = await this.correlations();
    const notes: string[] = [];
    if (!rows) notes.push(`No ${runFiles.correlations} yet: the heatmap appears once the correlate phase has written it.`);
    else if (rows.length === 0) notes.push(`${runFiles.correlations} has no rows.`);
    const run = await this.runJson();
    const estimator = stringField(run, 'config', 'quality', 'estimator');
    const metric = stringField(run, 'config', 'quality', 'metric');
    const matching = (rows ?? []).filter((r) => r.estimator === estimator && r.metric === metric);
    const strongest = strongestCorrelation(matching.length > 0 ? matching : (rows ?? []));
    const defaults = matching.length > 0 ? { estimator, metric } : strongest ? { estimator: strongest.estimator, metric: strongest.metric } : {};
    return {
      type: 'correlations/data',
      run: await this.runInfo(),
      notes,
      // The length baseline (token_count) has no layer: it is no cell of the layer × statistic heatmap.
      rows: (rows ?? []).filter((r) => r.statistic !== lengthStatistic).map(toWireCorrelation),
      defaults: { ...defaults, ...(strongest ? { site: strongest.site, pooling: strongest.pooling } : {}) },
    };
  }

  /** A heatmap cell's scatter plot: each example's statistic against its quality, with its text. */
  async scatter(cell: CellKey, requestId: number): Promise<ScatterResponse> {
    const [stats, quality, correlations] = await Promise.all([this.stats(), this.quality(), this.correlations()]);
    if (!stats) throw new Error(`No ${runFiles.stats} in ${this.dir}: no scatter plot`);
    if (!quality) throw new Error(`No ${runFiles.quality} in ${this.dir}: no scatter plot`);
    const byExample = stats.get(statsCellKey(cell));
    if (!byExample) throw new Error(`${runFiles.stats} has no ${cell.statistic} for the ${cell.mask} mask, ${cell.site} layer ${cell.layer}, ${cell.pooling} pooling`);
    const data = await this.dataset();
    const notes = 'problem' in data ? [`Example text is not shown: ${data.problem}.`] : [];
    const examples = 'byExample' in data ? data.byExample : new Map<number, ExampleRecord>();
    const points = quality
      .filter((q) => q.estimator === cell.estimator && q.metric === cell.metric && byExample.has(q.example))
      .sort((a, b) => a.example - b.example)
      .map((q) => {
        const record = examples.get(q.example);
        return {
          example: q.example,
          id: record?.id ?? q.id,
          statistic: wireNumber(byExample.get(q.example)!),
          quality: wireNumber(q.value),
          ...(record ? { text: record.text } : {}),
        };
      });
    if (points.length === 0) notes.push(`${runFiles.quality} has no ${cell.estimator} ${cell.metric} values for these examples.`);
    const correlation = correlations?.find(
      (r) => r.mask === cell.mask && r.site === cell.site && r.layer === cell.layer && r.statistic === cell.statistic && r.pooling === cell.pooling && r.estimator === cell.estimator && r.metric === cell.metric,
    );
    return { type: 'scatter/data', requestId, cell, points, notes, ...(correlation ? { correlation: toWireCorrelation(correlation) } : {}) };
  }

  /** Where an example's row is: the dataset file and the row's first line (1-based). */
  async exampleLocation(example: number): Promise<{ file: string; line: number }> {
    const data = await this.dataset();
    if ('problem' in data) throw new Error(`Cannot reveal example ${example}: ${data.problem}`);
    const record = data.byExample.get(example);
    if (!record) throw new Error(`Example ${example} is not a row of ${data.file}`);
    return { file: data.file, line: record.line };
  }

  private saeFeatures(): Promise<SaeFeaturesFile | undefined> {
    return this.cached('saeFeatures', async () => ((await hasSaeFeatures(this.dir)) ? readSaeFeatures(this.at(saeFiles.features)) : undefined));
  }

  /** The Features panel: sae/features.json's features (without their examples) and sae.json's figures. */
  async featuresData(): Promise<FeaturesDataNotification> {
    await this.checkFolder();
    const file = await this.saeFeatures();
    const notes: string[] = [];
    if (!file) notes.push(`No ${saeFiles.features}: ${noSaeMessage}.`);
    else if (file.features.length === 0) notes.push(`${saeFiles.features} lists no features.`);
    return {
      type: 'features/data',
      run: await this.runInfo(),
      notes,
      ...(file ? { sae: { model: file.model, site: file.site, layer: file.layer, latents: file.latents, k: file.k } } : {}),
      figures: file ? await readSaeFigures(this.at(saeFiles.summary)) : [],
      features: (file?.features ?? []).map(featureSummary),
    };
  }

  /** One feature's top activating examples, token by token (a click on a feature in the list). */
  async featureExamples(latent: number, requestId: number): Promise<FeatureExamplesResponse> {
    const file = await this.saeFeatures();
    if (!file) throw new Error(`No ${saeFiles.features} in ${this.dir}`);
    const feature = file.features.find((f) => f.latent === latent);
    if (!feature) throw new Error(`${saeFiles.features} has no latent ${latent}`);
    const data = await this.dataset();
    const rows = 'byExample' in data ? data.byExample : undefined;
    return {
      type: 'feature/examples',
      requestId,
      latent,
      examples: feature.examples.map((e) => ({
        example: e.example,
        id: e.id,
        ...(rows?.has(e.example) ? { line: rows.get(e.example)!.line } : {}),
        maxActivation: wireNumber(e.maxActivation),
        tokens: e.tokens.map((t) => ({ text: t.text, activation: wireNumber(t.activation) })),
      })),
    };
  }

  /** The learning curves panel: curves.csv and the run's evaluation metric. */
  async learningCurvesData(): Promise<LearningCurvesDataNotification> {
    await this.checkFolder();
    const file = this.at(runFiles.curves);
    const rows = (await isFile(file)) ? await readCurvesCsv(file) : undefined;
    const notes: string[] = [];
    if (!rows) notes.push(`No ${runFiles.curves} yet: learning curves appear once the evaluate phase has written it.`);
    else if (rows.length === 0) notes.push(`${runFiles.curves} has no rows.`);
    const metric = stringField(await this.runJson(), 'config', 'evaluation', 'metric');
    return {
      type: 'learningCurves/data',
      run: await this.runInfo(),
      notes,
      rows: (rows ?? []).map((r) => ({ strategy: r.strategy, seed: r.seed, budget: r.budget, metric: r.metric, value: wireNumber(r.value) })),
      ...(metric && rows?.some((r) => r.metric === metric) ? { defaultMetric: metric } : {}),
    };
  }
}

/** The masks, sites, layers, poolings and statistics stats.csv holds. */
export function statisticsCatalog(stats: ReadonlyMap<string, unknown> | undefined): StatisticsCatalog {
  const masks = new Set<string>();
  const sites = new Set<string>();
  const layers = new Set<number>();
  const poolings = new Set<string>();
  const statistics: string[] = [];
  for (const key of stats?.keys() ?? []) {
    const { mask, site, layer, pooling, statistic } = parseStatsCellKey(key);
    masks.add(mask);
    sites.add(site);
    layers.add(layer);
    poolings.add(pooling);
    if (!statistics.includes(statistic)) statistics.push(statistic);
  }
  return { masks: ordered(masks, maskOrder), sites: ordered(sites, siteNames), layers: [...layers].sort((a, b) => a - b), poolings: ordered(poolings, poolingOrder), statistics };
}
