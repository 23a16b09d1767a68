// A run folder as a self-contained HTML report: model and dataset facts, phase times, the headline
// correlation per mask, the top correlations, and figures (heatmaps, strongest cells' scatter plots,
// learning curves, activation histograms) rendered to SVG in Node with vega — no canvas, no network.
// The figures are also written as figures/*.svg. Every text taken from the folder is HTML-escaped:
// dataset ids, masks and file names are untrusted. A missing input leaves a note in its section.
import { mkdir, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../format/atomicFile.js';
import path from 'node:path';
import { numberCell, readCsvTable } from '../format/csvTable.js';
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';
import type { CorrelationRow } from '../experiment/correlations.js';
import { strongestCorrelation } from '../experiment/correlations.js';
import { describeCorrelation, type HeadlineRow } from '../experiment/headline.js';
import { generatedModelBanner, isGeneratedModel, quantizationLabel } from '../experiment/modelLabel.js';
import { readSelectionsCsv } from '../inspect/runIndex.js';
import { runExamples } from './runDataset.js';
import { siteOfUnlabelledRows, statsRowSite } from '../format/statsCsv.js';
import { maskStrategies } from '../masks.js';
import { siteNames } from '../sites.js';
import type { HistogramRow, LayerSummary, MassiveRow } from './activationHistograms.js';
import {
  activationHistograms,
  findRawActivationDirs,
  readHistogramsCsv,
  readMassiveCsv,
} from './activationHistograms.js';
import type { ScatterPoint } from './charts.js';
import {
  activationHistogramSpec,
  correlationHeatmapSpec,
  formatFixed,
  formatPrecision,
  learningCurvesSpec,
  qualityScatterSpec,
} from './charts.js';

export interface ReportOptions {
  /** The HTML file; default `<dir>/report.html`. */
  readonly out?: string;
  /** Where the SVG figures go; default `<dir>/figures`. */
  readonly figuresDir?: string;
  /** Heatmap selection; defaults: run.json's quality estimator/metric, else the strongest cell's; its pooling. */
  readonly estimator?: string;
  readonly metric?: string;
  readonly pooling?: string;
  /** q-value threshold for the heatmaps' faded cells (default 0.05). */
  readonly alpha?: number;
  /** Scatter plots for this many strongest |ρ| cells (default 3). */
  readonly scatterCells?: number;
  /** Rows of the top-correlations table (default 10). */
  readonly topCorrelations?: number;
}

export interface ReportResult {
  readonly html: string;
  /** Every file written: the figures, then the HTML. */
  readonly files: string[];
  /** What is missing from the report, one line each. */
  readonly notes: string[];
}

import { jsonField, readCorrelationsCsv, readCurvesCsv, readQualityRows, readRunJson, runFiles, type QualityCsvRow } from './runFolderFiles.js';


function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

// --- SVG rendering ----------------------------------------------------------------------------------

/** A Vega-Lite spec as an SVG string, rendered headless (no canvas: text widths are estimated). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const quiet = vega.logger(vega.Error);
  const view = new vega.View(vega.parse(compile(spec, { logger: quiet }).spec), { renderer: 'none', logger: quiet });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Prefixes an SVG's ids (and references to them) so several SVGs can share one HTML page. */
export function scopeSvgIds(svg: string, prefix: string): string {
  let out = svg
    .replace(/\bid="([^"]*)"/g, `id="${prefix}$1"`)
    .replace(/url\(#/g, `url(#${prefix}`)
    .replace(/\bhref="#/g, `href="#${prefix}`);
  if (!/\sxlink:/.test(out.replace(/\sxmlns:xlink="[^"]*"/, ''))) out = out.replace(/\sxmlns:xlink="[^"]*"/, '');
  return out;
}

// --- HTML helpers -------------------------------------------------------------------------------------

export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const esc = escapeHtml;

function table(headers: readonly string[], rows: readonly (readonly string[])[], numericFrom = Infinity): string {
  const head = headers.map((h, i) => `<th${i >= numericFrom ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function facts(rows: readonly (readonly [string, string | undefined])[]): string {
  const present = rows.filter((r): r is readonly [string, string] => r[1] !== undefined && r[1] !== '');
  if (present.length === 0) return '';
  return `<table class="facts"><tbody>\n${present.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n')}\n</tbody></table>`;
}

function note(message: string): string {
  return `<p class="missing">${esc(message)}</p>`;
}

function formatBytes(value: unknown): string | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return undefined;
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB (${n} bytes)`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB (${n} bytes)`;
  return `${n} bytes`;
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

/** A file-name-safe form of an untrusted name. */
function slug(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 80);
  return s === '' ? '_' : s;
}

/** Masks in the study's order, then any others by name. */
function orderMasks(masks: Iterable<string>): string[] {
  const set = new Set(masks);
  const known = (maskStrategies as readonly string[]).filter((m) => set.has(m));
  return [...known, ...[...set].filter((m) => !known.includes(m)).sort()];
}

/**
 * What run.json's headline adds to a mask's strongest cell (max-aware interval, length baseline,
 * partial ρ, noise ceiling), as `; …` clauses; empty for run folders that predate them.
 */
function headlineControls(run: unknown, r: CorrelationRow): string {
  const byMask = (run as { headline?: { byMask?: HeadlineRow[] } } | undefined)?.headline?.byMask;
  // Headlines written before sites existed carry none: theirs was the MLP output.
  const row = byMask?.find((h) => h.mask === r.mask && (h.site ?? siteOfUnlabelledRows) === r.site && h.layer === r.layer && h.statistic === r.statistic && h.pooling === r.pooling && h.estimator === r.estimator && h.metric === r.metric);
  if (!row) return '';
  // describeCorrelation's clauses after the cell itself.
  const clauses = describeCorrelation(row).split('; ').slice(1);
  return clauses.length > 0 ? `; ${clauses.join('; ')}` : '';
}

/** An example's text for a table cell: one line, at most 160 characters. */
function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/**
 * `rows` (sorted) without the cells whose column is the same numbers as an earlier cell's under
 * another pooling (same mask, site, layer, statistic and quality); `twins` lists, per kept cell,
 * the poolings it also stands for. Columns are compared in stats.csv where it is given, else by
 * their identical ρ, p and interval.
 */
function distinctCells(rows: readonly CorrelationRow[], stats: readonly Record<string, string>[] | undefined): CorrelationRow[] & { twins: Map<CorrelationRow, string[]> } {
  const columns = new Map<string, string>();
  if (stats) {
    const byCell = new Map<string, string[]>();
    for (const row of stats) {
      for (const statistic of Object.keys(row)) {
        if (['example', 'site', 'layer', 'mask', 'pooling', 'span_tokens'].includes(statistic)) continue;
        const key = `${row['mask']}|${statsRowSite(row)}|${row['layer']}|${row['pooling']}|${statistic}`;
        let list = byCell.get(key);
        if (!list) byCell.set(key, (list = []));
        list.push(`${row['example']}:${row[statistic]}`);
      }
    }
    for (const [key, list] of byCell) columns.set(key, list.join(','));
  }
  const columnOf = (r: CorrelationRow): string => columns.get(`${r.mask}|${r.site}|${r.layer}|${r.pooling}|${r.statistic}`) ?? `ρ${r.rho}|p${r.pValue}|${r.ciLow}|${r.ciHigh}`;
  const kept = [] as unknown as CorrelationRow[] & { twins: Map<CorrelationRow, string[]> };
  kept.twins = new Map();
  const seen = new Map<string, CorrelationRow>();
  for (const r of rows) {
    const key = `${r.mask}|${r.site}|${r.layer}|${r.statistic}|${r.estimator}|${r.metric}|${columnOf(r)}`;
    const first = seen.get(key);
    if (first && first.pooling !== r.pooling) {
      kept.twins.get(first)!.push(r.pooling);
      continue;
    }
    seen.set(key, r);
    kept.twins.set(r, []);
    kept.push(r);
  }
  return kept;
}

function byAbsRho(a: CorrelationRow, b: CorrelationRow): number {
  return Math.abs(b.rho) - Math.abs(a.rho) || a.qValue - b.qValue || a.mask.localeCompare(b.mask) || a.layer - b.layer;
}

function describePlace(r: CorrelationRow): string {
  return `${r.site} layer ${r.layer}, ${r.statistic} (${r.pooling}) vs ${r.estimator} ${r.metric}`;
}

/** Sites in the study's order (src/core/sites.ts), then any others by name. */
function orderSites(sites: Iterable<string>): string[] {
  const set = new Set(sites);
  const known = (siteNames as readonly string[]).filter((s) => set.has(s));
  return [...known, ...[...set].filter((s) => !known.includes(s)).sort()];
}

const correlationHeaders = ['mask', 'site', 'layer', 'statistic', 'pooling', 'estimator', 'metric', 'ρ', '95% CI', 'p', 'q', 'n'];

function correlationCells(r: CorrelationRow): string[] {
  return [
    r.mask, r.site, String(r.layer), r.statistic, r.pooling, r.estimator, r.metric, formatFixed(r.rho, 3),
    `${formatFixed(r.ciLow, 2)} to ${formatFixed(r.ciHigh, 2)}`, formatPrecision(r.pValue, 2), formatPrecision(r.qValue, 2), String(r.n),
  ];
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

const css = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; }
.meta { color: #666; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.88rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
thead th { background: #f4f4f4; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.facts th { background: #f8f8f8; font-weight: 600; white-space: nowrap; }
p.warning { background: #fff4e5; border-left: 4px solid #e67e00; padding: 6px 10px; }
td { overflow-wrap: anywhere; }
.headline { font-size: 1.05rem; background: #f6f8fa; border-left: 4px solid #4c78a8; padding: 0.5rem 0.8rem; margin: 0.5rem 0; }
.missing { color: #8a6d3b; background: #fcf8e3; border: 1px solid #faebcc; padding: 0.4rem 0.7rem; }
figure { margin: 1rem 0; } figcaption { color: #555; font-size: 0.85rem; }
figure svg { max-width: 100%; height: auto; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; } .figures figure { margin: 0; }
`;

// --- the report -----------------------------------------------------------------------------------------

interface Figure {
  readonly file: string;
  readonly caption: string;
  readonly svg: string;
}

/** Reads a run folder and writes figures/*.svg and report.html (see the file comment). */
export async function renderReport(dir: string, options: ReportOptions = {}): Promise<ReportResult> {
  const runDir = path.resolve(dir);
  let dirStat;
  try {
    dirStat = await stat(runDir);
  } catch {
    throw new Error(`${dir}: no such run folder`);
  }
  if (!dirStat.isDirectory()) throw new Error(`${dir}: not a folder`);
  const out = path.resolve(options.out ?? path.join(runDir, 'report.html'));
  const figuresDir = path.resolve(options.figuresDir ?? path.join(runDir, 'figures'));
  const alpha = options.alpha ?? 0.05;
  const at = (name: string) => path.join(runDir, name);
  const has = Object.fromEntries(
    await Promise.all(Object.entries(runFiles).map(async ([role, name]) => [role, await exists(at(name))] as const)),
  ) as Record<keyof typeof runFiles, boolean>;
  const rawDirs = await findRawActivationDirs(runDir);
  if (!Object.values(has).some(Boolean)) {
    throw new Error(`${dir}: not a run folder (none of ${Object.values(runFiles).join(', ')} found)`);
  }

  const run = has.run ? await readRunJson(at(runFiles.run)) : undefined;
  const correlations = has.correlations ? await readCorrelationsCsv(at(runFiles.correlations)) : undefined;
  const curves = has.curves ? await readCurvesCsv(at(runFiles.curves)) : undefined;
  const quality = has.quality ? await readQualityRows(at(runFiles.quality)) : undefined;
  const stats = has.stats ? await readCsvTable(at(runFiles.stats), ['example', 'layer', 'mask', 'pooling']) : undefined;
  const selections = (await exists(at('selections.csv'))) ? await readSelectionsCsv(at('selections.csv')) : undefined;
  const acquisition = (await exists(at('acquisition_correlations.csv'))) ? await readCsvTable(at('acquisition_correlations.csv'), ['strategy', 'budget', 'metric', 'rho', 'p_value', 'n']) : undefined;
  // The examples' own text, shown beside their ids (escaped like every other cell).
  const examples = run === undefined ? { problem: `no ${runFiles.run}` } : await runExamples(run);
  const exampleTextOf = (example: number): string => ('byExample' in examples ? excerpt(examples.byExample.get(example)?.text ?? '') : '');

  const files: string[] = [];
  const notes: string[] = [];
  const figures: Figure[] = [];
  const usedNames = new Set<string>();
  const addFigure = async (name: string, spec: TopLevelSpec, caption: string): Promise<Figure> => {
    let file = `${name}.svg`;
    for (let i = 2; usedNames.has(file); i++) file = `${name}-${i}.svg`;
    usedNames.add(file);
    const svg = await renderSvg(spec);
    await mkdir(figuresDir, { recursive: true });
    const target = path.join(figuresDir, file);
    await writeFileAtomic(target, svg);
    files.push(target);
    const figure = { file, caption, svg };
    figures.push(figure);
    return figure;
  };
  const figureHtml = (f: Figure) =>
    `<figure>${scopeSvgIds(f.svg, `f${figures.indexOf(f)}-`)}<figcaption>${esc(f.caption)} (figures/${esc(f.file)})</figcaption></figure>`;
  const missing = (message: string) => {
    notes.push(message);
    return note(message);
  };

  // Model and data facts.
  const configQualityEstimator = text(jsonField(run, 'config', 'quality', 'estimator'));
  const configQualityMetric = text(jsonField(run, 'config', 'quality', 'metric'));
  let factsHtml: string;
  if (run === undefined) {
    factsHtml = missing(`No ${runFiles.run}: model and dataset facts are unknown.`);
  } else {
    const modelPath = text(jsonField(run, 'config', 'model'));
    const dataConfig = jsonField(run, 'config', 'data');
    const dataFacts: [string, string | undefined][] = [['dataset file', text(jsonField(dataConfig, 'file'))]];
    if (dataConfig && typeof dataConfig === 'object' && !Array.isArray(dataConfig)) {
      for (const [key, value] of Object.entries(dataConfig as Record<string, unknown>)) {
        if (key !== 'file') dataFacts.push([`data ${key}`, text(value) ?? (value !== undefined && value !== null ? JSON.stringify(value) : undefined)]);
      }
    }
    const examples = new Set([...(quality ?? []).map((q) => q.example), ...(stats ?? []).map((s) => Number(s['example']))]);
    const quantization = text(jsonField(run, 'model', 'quantization'));
    factsHtml =
      '<h3>Model</h3>' +
      (facts([
        ['model', text(jsonField(run, 'model', 'name'))],
        ['model file', modelPath],
        ['architecture', text(jsonField(run, 'model', 'architecture'))],
        ['layers', text(jsonField(run, 'model', 'layers'))],
        ['embedding length', text(jsonField(run, 'model', 'embeddingLength'))],
        ['quantization', quantization === undefined ? undefined : quantizationLabel(quantization)],
        ['file size', formatBytes(jsonField(run, 'model', 'fileBytes'))],
        ['sha256', text(jsonField(run, 'model', 'sha256'))],
      ]) || note('run.json names no model facts.')) +
      '<h3>Data and measures</h3>' +
      (facts([
        ...dataFacts,
        ['examples with statistics or quality', examples.size > 0 ? String(examples.size) : undefined],
        ['quality estimator', configQualityEstimator],
        ['quality metric', configQualityMetric],
        ['evaluation metric', text(jsonField(run, 'config', 'evaluation', 'metric'))],
      ]) || note('run.json names no dataset facts.'));
  }

  // Phases.
  let phasesHtml: string;
  const phases = jsonField(run, 'phases');
  if (phases && typeof phases === 'object' && !Array.isArray(phases) && Object.keys(phases).length > 0) {
    let total = 0;
    const rows = Object.entries(phases as Record<string, unknown>).map(([name, phase]) => {
      const wall = Number(jsonField(phase, 'wallMs'));
      if (Number.isFinite(wall)) total += wall;
      return [name, text(jsonField(phase, 'status')) ?? 'unknown', Number.isFinite(wall) ? formatDuration(wall) : 'n/a'];
    });
    rows.push(['total', '', formatDuration(total)]);
    phasesHtml = table(['phase', 'status', 'wall time'], rows, 2);
  } else {
    phasesHtml = missing(run === undefined ? `No ${runFiles.run}: phase times are unknown.` : 'run.json records no phases yet.');
  }

  // Headline, top correlations, heatmaps, scatter plots.
  let headlineHtml: string;
  let topHtml: string;
  let heatmapHtml: string;
  let scatterHtml: string;
  const finite = (correlations ?? []).filter((r) => Number.isFinite(r.rho)).sort(byAbsRho);
  if (correlations === undefined || finite.length === 0) {
    const why = correlations === undefined ? `No ${runFiles.correlations} yet` : `${runFiles.correlations} has no finite ρ`;
    headlineHtml = missing(`${why}: no headline correlation.`);
    topHtml = note(`${why}.`);
    heatmapHtml = note(`${why}: no heatmaps.`);
    scatterHtml = note(`${why}: no scatter plots.`);
  } else {
    const masks = orderMasks(correlations.map((r) => r.mask));
    const headlines = masks.map((mask) => strongestCorrelation(correlations.filter((r) => r.mask === mask)));
    headlineHtml =
      headlines
        .filter((r): r is CorrelationRow => r !== undefined)
        .map(
          (r) =>
            `<p class="headline"><strong>${esc(r.mask)}</strong>: largest |ρ| = ${esc(formatFixed(Math.abs(r.rho), 3))} ` +
            `(ρ = ${esc(formatFixed(r.rho, 3))}, 95% CI ${esc(formatFixed(r.ciLow, 2))} to ${esc(formatFixed(r.ciHigh, 2))}, ` +
            `q = ${esc(formatPrecision(r.qValue, 2))}, n = ${esc(String(r.n))}) at ${esc(describePlace(r))}${esc(headlineControls(run, r))}</p>`,
        )
        .join('\n') + table(correlationHeaders, headlines.filter((r): r is CorrelationRow => r !== undefined).map(correlationCells), 6);
    // A cell whose column is the same numbers under another pooling (e.g. max_abs over all tokens
    // and over the last one, for one-token spans) is listed once, with the poolings it stands for.
    const distinct = distinctCells(finite, stats);
    const top = distinct.slice(0, options.topCorrelations ?? 10);
    const twinNote = (r: CorrelationRow): string => {
      const twins = distinct.twins.get(r);
      return twins && twins.length > 0 ? ` (= ${twins.join(', ')})` : '';
    };
    topHtml =
      `<p>Largest |ρ| over the whole grid (${esc(String(correlations.length))} cells; q: Benjamini–Hochberg over the grid). A cell identical to one under another pooling is listed once, its twins after its pooling.</p>` +
      table(correlationHeaders, top.map((r) => correlationCells(r).map((c, i) => (i === 4 ? `${c}${twinNote(r)}` : c))), 6);

    // Heatmap selection.
    const hasPair = (e?: string, m?: string) => e !== undefined && m !== undefined && correlations.some((r) => r.estimator === e && r.metric === m);
    const best = finite[0]!;
    const [estimator, metric] = hasPair(options.estimator, options.metric)
      ? [options.estimator!, options.metric!]
      : hasPair(configQualityEstimator, configQualityMetric)
        ? [configQualityEstimator!, configQualityMetric!]
        : [best.estimator, best.metric];
    const pooling = options.pooling ?? finite.find((r) => r.estimator === estimator && r.metric === metric)?.pooling ?? best.pooling;
    const heatmaps: string[] = [];
    // One heatmap per mask × site; the MLP output's keep the names they had before other sites.
    const sites = orderSites(correlations.filter((r) => r.site !== '').map((r) => r.site));
    for (const mask of masks) {
      for (const site of sites) {
        if (!correlations.some((r) => r.mask === mask && r.site === site && r.estimator === estimator && r.metric === metric && r.pooling === pooling)) continue;
        const figure = await addFigure(
          site === 'mlp_out' ? `heatmap-${slug(mask)}` : `heatmap-${slug(mask)}-${slug(site)}`,
          correlationHeatmapSpec(correlations, { mask, site, estimator, metric, pooling, alpha }),
          `Spearman ρ over layer × statistic, ${mask} mask, ${site}, ${pooling} pooling, vs ${estimator} ${metric}; faded: q ≥ ${alpha}`,
        );
        heatmaps.push(figureHtml(figure));
      }
    }
    heatmapHtml =
      `<p>Estimator ${esc(estimator)}, metric ${esc(metric)}, pooling ${esc(pooling)} (other combinations are in correlations.csv).</p>` +
      (heatmaps.length > 0 ? `<div class="figures">${heatmaps.join('\n')}</div>` : note('No mask has cells for this combination.'));

    // Scatter plots of the strongest cells.
    if (stats === undefined || quality === undefined) {
      scatterHtml = missing(`No ${stats === undefined ? runFiles.stats : runFiles.quality}: no scatter plots of the strongest cells.`);
    } else {
      const ids = new Map<number, string>();
      for (const q of quality) if (!ids.has(q.example)) ids.set(q.example, q.id);
      const scatters: string[] = [];
      const cells = distinct.slice(0, options.scatterCells ?? 3);
      for (const [i, cell] of cells.entries()) {
        if (stats.length > 0 && !(cell.statistic in stats[0]!)) {
          scatters.push(note(`${runFiles.stats} has no column ${cell.statistic}.`));
          continue;
        }
        const qualityByExample = new Map<number, number>();
        for (const q of quality) if (q.estimator === cell.estimator && q.metric === cell.metric) qualityByExample.set(q.example, q.value);
        const points: ScatterPoint[] = [];
        for (const row of stats) {
          if (row['mask'] !== cell.mask || statsRowSite(row) !== cell.site || Number(row['layer']) !== cell.layer || row['pooling'] !== cell.pooling) continue;
          const example = Number(row['example']);
          const q = qualityByExample.get(example);
          if (q !== undefined) points.push({ example, id: ids.get(example) ?? String(example), statistic: numberCell(row[cell.statistic]), quality: q });
        }
        const figure = await addFigure(
          `scatter-${i + 1}-${slug(cell.mask)}-${slug(cell.site)}-L${cell.layer}-${slug(cell.statistic)}-${slug(cell.pooling)}`,
          qualityScatterSpec(points, { ...cell, correlation: cell }),
          `#${i + 1} strongest cell: ${cell.mask} mask, ${describePlace(cell)}, ρ = ${formatFixed(cell.rho, 3)}`,
        );
        scatters.push(figureHtml(figure));
      }
      scatterHtml = `<div class="figures">${scatters.join('\n')}</div>`;
    }
  }

  // Learning curves.
  let curvesHtml: string;
  if (curves === undefined) {
    curvesHtml = missing(`No ${runFiles.curves} yet: learning curves appear once the evaluation phase has written it.`);
  } else {
    const metrics = [...new Set(curves.map((c) => c.metric))];
    const parts: string[] = [];
    for (const metric of metrics) {
      const figure = await addFigure(`curves-${slug(metric)}`, learningCurvesSpec(curves, { metric }), `Learning curves, ${metric}: mean over seeds, band min–max`);
      parts.push(figureHtml(figure));
    }
    curvesHtml = parts.length > 0 ? `<div class="figures">${parts.join('\n')}</div>` : note(`${runFiles.curves} has no rows.`);
  }

  // Activation histograms.
  let histograms: HistogramRow[] | undefined;
  let massive: MassiveRow[] = [];
  let summaries: LayerSummary[] = [];
  let histogramSource = '';
  if (has.histograms) {
    histograms = await readHistogramsCsv(at(runFiles.histograms));
    massive = has.massive ? await readMassiveCsv(at(runFiles.massive)) : [];
    histogramSource = `from ${runFiles.histograms}${has.massive ? ` and ${runFiles.massive}` : ''}`;
  } else if (rawDirs.length > 0) {
    histograms = [];
    for (const { mask, dir: rawDir } of rawDirs) {
      const result = await activationHistograms(rawDir, mask);
      histograms.push(...result.histograms);
      massive.push(...result.massive);
      summaries.push(...result.layers);
    }
    histogramSource = `computed from ${runFiles.raw}/`;
  }
  let activationsHtml: string;
  if (histograms === undefined || histograms.length === 0) {
    activationsHtml = missing(`No ${runFiles.histograms} and no raw activations (${runFiles.raw}/<example>_L<layer>.npy): no activation histograms.`);
    summaries = [];
  } else {
    const parts: string[] = [`<p>Histograms of |MLP output| ${esc(histogramSource)}. Massive activations (Sun et al., 2024): |a| &gt; 100 and &gt; 1000 × the median |a| of the value's own token, both at once.</p>`];
    for (const mask of orderMasks(histograms.map((h) => h.mask))) {
      const layers = [...new Set(histograms.filter((h) => h.mask === mask).map((h) => h.layer))].sort((a, b) => a - b);
      const figs: string[] = [];
      for (const layer of layers) {
        const summary = summaries.find((s) => s.mask === mask && s.layer === layer);
        // The caption says what is drawn: the massive values marked, or that none qualify and how far the largest is.
        const marked = massive.filter((m) => m.mask === mask && m.layer === layer).length;
        const top = Math.max(...histograms.filter((h) => h.mask === mask && h.layer === layer && h.count > 0).map((h) => h.binHigh));
        const figure = await addFigure(
          `histogram-${slug(mask)}-L${layer}`,
          activationHistogramSpec(histograms, massive, { mask, layer, ...(summary ? { summary } : {}) }),
          marked > 0
            ? `Layer ${layer}, ${mask} mask: |MLP output| histogram; ${marked} massive activation${marked === 1 ? '' : 's'} marked in red`
            : `Layer ${layer}, ${mask} mask: |MLP output| histogram; no value is massive (|a| > 100 and > 1000 × its token's median |a|): the largest |a| is below ${formatPrecision(top, 3)}`,
        );
        figs.push(figureHtml(figure));
      }
      const listed = massive.filter((m) => m.mask === mask);
      const massiveTable =
        listed.length > 0
          ? `<details><summary>${esc(String(listed.length))} massive activations listed for the ${esc(mask)} mask</summary>` +
            table(['layer', 'example', 'token', 'dim', 'value'], listed.map((m) => [String(m.layer), String(m.example), String(m.token), String(m.dim), formatPrecision(m.value, 4)]), 0) +
            '</details>'
          : `<p>No massive activations in the ${esc(mask)} mask's raw activations.</p>`;
      parts.push(`<h3>${esc(mask)} mask</h3>${massiveTable}<div class="figures">${figs.join('\n')}</div>`);
    }
    activationsHtml = parts.join('\n');
  }

  // Examples by quality: ids are shown, so they are the untrusted text most likely to bite.
  let examplesHtml: string;
  if (quality === undefined || quality.length === 0) {
    examplesHtml = missing(`No ${runFiles.quality}: no example qualities.`);
  } else {
    const pairs = [...new Set(quality.map((q) => `${q.estimator}\u0000${q.metric}`))];
    const wanted = `${configQualityEstimator}\u0000${configQualityMetric}`;
    const [estimator, metric] = (pairs.includes(wanted) ? wanted : pairs[0]!).split('\u0000') as [string, string];
    const ranked = quality.filter((q) => q.estimator === estimator && q.metric === metric && Number.isFinite(q.value)).sort((a, b) => b.value - a.value);
    const show = (rows: QualityCsvRow[]) => table(['example', 'id', 'text', metric], rows.map((q) => [String(q.example), q.id, exampleTextOf(q.example), formatPrecision(q.value, 4)]), 3);
    examplesHtml =
      `<p>${esc(String(ranked.length))} examples by ${esc(estimator)} ${esc(metric)}.</p>` +
      ('problem' in examples ? note(`No example text: ${examples.problem}.`) : '') +
      (ranked.length <= 10
        ? show(ranked)
        : `<div class="figures"><div><h3>Highest</h3>${show(ranked.slice(0, 5))}</div><div><h3>Lowest</h3>${show(ranked.slice(-5).reverse())}</div></div>`);
  }

  // Selections: what each strategy put in the prompt (first seed, largest budget, last round).
  let selectionsHtml: string;
  if (selections === undefined || selections.length === 0) {
    selectionsHtml = missing('No selections.csv yet: the selection phase writes it.');
  } else {
    const rows: string[][] = [];
    for (const strategy of [...new Set(selections.map((s) => s.strategy))]) {
      const own = selections.filter((s) => s.strategy === strategy);
      const seed = own[0]!.seed;
      const budget = Math.max(...own.map((s) => s.budget));
      const atBudget = own.filter((s) => s.seed === seed && s.budget === budget);
      const round = Math.max(...atBudget.map((s) => s.round));
      for (const s of atBudget.filter((s) => s.round === round)) rows.push([strategy, String(seed), String(budget), s.id, exampleTextOf(s.example)]);
    }
    selectionsHtml = '<p>Each strategy\'s examples at its largest budget, for its first seed (every seed and budget: selections.csv).</p>' + table(['strategy', 'seed', 'budget', 'id', 'text'], rows, 5);
  }
  // Acquisition correlations: does a strategy's own score predict how well its prompt does?
  let acquisitionHtml: string;
  if (acquisition === undefined) {
    acquisitionHtml = missing('No acquisition_correlations.csv yet: the evaluation phase writes it.');
  } else if (acquisition.length === 0) {
    acquisitionHtml = note('No strategy × budget has a score that varies over three or more seeds: nothing to correlate.');
  } else {
    acquisitionHtml =
      '<p>Per strategy and budget: Spearman ρ, over seeds, between the mean acquisition score of a prompt\'s examples and that prompt\'s test performance.</p>' +
      table(['strategy', 'budget', 'metric', 'ρ', 'p', 'n'], acquisition.map((a) => [a['strategy']!, a['budget']!, a['metric']!, formatFixed(numberCell(a['rho']), 3), formatPrecision(numberCell(a['p_value']), 2), a['n']!]), 1);
  }

  const inputs = Object.entries(runFiles).map(([role, name]) => [name, has[role as keyof typeof runFiles] ? 'present' : 'missing']);
  const title = `ICL Activation Lab report: ${path.basename(runDir)}`;
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">Run folder ${esc(runDir)} · generated ${esc(new Date().toISOString())}</p>
${isGeneratedModel(jsonField(run, 'model')) ? `<p class="warning banner" id="generated-model-banner"><strong>${esc(generatedModelBanner)}</strong></p>` : ''}
<section id="facts"><h2>Model and data</h2>
${factsHtml}
</section>
<section id="phases"><h2>Phases</h2>
${phasesHtml}
</section>
<section id="headline"><h2>Headline</h2>
${headlineHtml}
</section>
<section id="top"><h2>Top correlations</h2>
${topHtml}
</section>
<section id="heatmaps"><h2>Correlation heatmaps</h2>
${heatmapHtml}
</section>
<section id="scatter"><h2>Strongest cells</h2>
${scatterHtml}
</section>
<section id="curves"><h2>Learning curves</h2>
${curvesHtml}
</section>
<section id="selections"><h2>Selections</h2>
${selectionsHtml}
</section>
<section id="acquisition"><h2>Acquisition correlations</h2>
${acquisitionHtml}
</section>
<section id="activations"><h2>Activation histograms</h2>
${activationsHtml}
</section>
<section id="examples"><h2>Examples by quality</h2>
${examplesHtml}
</section>
<section id="inputs"><h2>Inputs</h2>
${table(['file', 'state'], inputs)}
</section>
</body>
</html>
`;
  await mkdir(path.dirname(out), { recursive: true });
  await writeFileAtomic(out, html);
  files.push(out);
  return { html, files, notes };
}
