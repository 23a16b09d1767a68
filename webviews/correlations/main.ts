/// <reference lib="dom" />
// The correlations panel: Spearman ρ over layer × statistic per mask (one mask, or all stacked) at
// one activation site,
// significant cells (Benjamini–Hochberg q < 0.05) starred and the others faded. A click on a cell
// opens its scatter plot (statistic vs example quality, the example's text in the tooltip); a click
// on a point opens that example's row in the dataset file.
import type { CorrelationRow } from '../../src/core/experiment/correlations.js';
import { correlationHeatmapSpec, correlationHeatmapsSpec, qualityScatterSpec, type ScatterPoint } from '../../src/core/report/charts.js';
import {
  fromWire,
  isCellKey,
  type CellKey,
  type CorrelationsDataNotification,
  type CorrelationsUi,
  type WireCorrelationRow,
} from '../../src/extension/panels/panelMessages.js';
import { ChartSlot, fileName, wireExports, type Datum, onPanelResize, panelFit } from '../shared/chart.js';
import { toCsv } from '../shared/csv.js';
import { byId, choices, errorText, fillSelect, showError, showNotes, showRun } from '../shared/dom.js';
import { connectHost } from '../shared/host.js';
import { PendingRequests } from '../shared/requests.js';
import { currentChartTheme, watchTheme } from '../shared/theme.js';

const alpha = 0.05;
const allMasks = '';

const host = connectHost<CorrelationsUi>('correlations');
const requests = new PendingRequests();
const heatmap = new ChartSlot(byId('heatmap'));
const scatter = new ChartSlot(byId('scatter'));
const maskSelect = byId<HTMLSelectElement>('mask');
const siteSelect = byId<HTMLSelectElement>('site');
const qualitySelect = byId<HTMLSelectElement>('quality');
const poolingSelect = byId<HTMLSelectElement>('pooling');
const scatterSection = byId('scatter-section');

let runDir = '';
/** An error the extension reported (loading the data): shown until data arrives. */
let hostError: string | undefined;
let rows: CorrelationRow[] = [];
let defaults: CorrelationsDataNotification['defaults'] = {};
let ui: CorrelationsUi = host.savedUi();
/** What the heatmap shows. */
let heatmapMasks: string[] = [];
let selection: { site: string; estimator: string; metric: string; pooling: string } | undefined;
interface ShownScatter {
  readonly cell: CellKey;
  readonly points: ScatterPoint[];
  readonly notes: readonly string[];
  readonly correlation?: CorrelationRow;
}
interface ScatterLoad {
  readonly cell: CellKey;
  readonly scatter: Promise<ShownScatter>;
}
/** The open cell's points, asked for or arrived (a redraw, e.g. on a theme change, does not ask again). */
let scatterLoad: ScatterLoad | undefined;
/** The scatter plot shown (for its export). */
let shownScatter: ShownScatter | undefined;

function toRow(r: WireCorrelationRow): CorrelationRow {
  return { ...r, rho: fromWire(r.rho), pValue: fromWire(r.pValue), qValue: fromWire(r.qValue), ciLow: fromWire(r.ciLow), ciHigh: fromWire(r.ciHigh), partialRho: fromWire(r.partialRho), partialPValue: fromWire(r.partialPValue), partialQValue: fromWire(r.partialQValue) };
}

function onData(message: CorrelationsDataNotification): void {
  showRun(message.run);
  showNotes(byId('notes'), message.notes);
  runDir = message.run.dir;
  rows = message.rows.map(toRow);
  defaults = message.defaults;
  hostError = undefined;
  // New data (the run folder changed): the scatter plot's points are asked for again.
  scatterLoad = undefined;
  void update();
}

const pairKey = (estimator: string, metric: string) => JSON.stringify([estimator, metric]);

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

async function update(): Promise<void> {
  if (runDir === '') return;
  const masks = unique(rows.map((r) => r.mask));
  const mask = fillSelect(maskSelect, [...(masks.length > 1 ? [{ value: allMasks, label: 'all masks' }] : []), ...choices(masks)], ui.mask ?? (masks.length > 1 ? allMasks : masks[0]));
  const site = fillSelect(siteSelect, choices(unique(rows.map((r) => r.site))), ui.site ?? defaults.site);
  const pairs = unique(rows.map((r) => pairKey(r.estimator, r.metric))).map((key) => JSON.parse(key) as [string, string]);
  const wantedPair = pairKey(ui.estimator ?? defaults.estimator ?? '', ui.metric ?? defaults.metric ?? '');
  const pair = fillSelect(qualitySelect, pairs.map(([e, m]) => ({ value: pairKey(e, m), label: `${m} (${e})` })), wantedPair);
  const [estimator, metric] = pair === '' ? ['', ''] : (JSON.parse(pair) as [string, string]);
  const poolings = unique(rows.filter((r) => r.site === site && r.estimator === estimator && r.metric === metric).map((r) => r.pooling));
  const pooling = fillSelect(poolingSelect, choices(poolings), ui.pooling ?? defaults.pooling);
  ui = { ...ui, mask, site, estimator, metric, pooling };
  selection = { site, estimator, metric, pooling };
  heatmapMasks = (mask === allMasks ? masks : [mask]).filter((m) => rows.some((r) => r.mask === m && r.site === site && r.estimator === estimator && r.metric === metric && r.pooling === pooling));
  save();
  showError(hostError);
  if (heatmapMasks.length === 0) {
    heatmap.clear();
  } else {
    const options = { site, estimator, metric, pooling, alpha, significanceMark: '*', theme: currentChartTheme() };
    const spec = heatmapMasks.length === 1 ? correlationHeatmapSpec(rows, { ...options, mask: heatmapMasks[0]! }) : correlationHeatmapsSpec(rows, heatmapMasks, options);
    await heatmap.render(spec, onCellClick).catch(fail);
  }
  if (ui.cell && (ui.cell.site !== site || ui.cell.estimator !== estimator || ui.cell.metric !== metric || ui.cell.pooling !== pooling)) closeScatter();
  else if (ui.cell && isCellKey(ui.cell)) await openScatter(ui.cell);
}

function save(): void {
  if (runDir !== '') host.save(runDir, ui);
}

function onCellClick(datum: Datum): void {
  const { mask, layer, statistic } = datum;
  if (!selection || typeof mask !== 'string' || typeof layer !== 'number' || typeof statistic !== 'string') return;
  const cell: CellKey = { mask, layer, statistic, ...selection };
  ui = { ...ui, cell };
  save();
  void openScatter(cell);
}

const sameCell = (a: CellKey, b: CellKey) =>
  a.mask === b.mask && a.site === b.site && a.layer === b.layer && a.statistic === b.statistic && a.pooling === b.pooling && a.estimator === b.estimator && a.metric === b.metric;

/** Asks the extension for a cell's points (once per cell: a redraw reuses the answer). */
function loadScatter(cell: CellKey): ScatterLoad {
  if (scatterLoad && sameCell(scatterLoad.cell, cell)) return scatterLoad;
  const { requestId, answer } = requests.start();
  host.post({ type: 'cellSelected', requestId, cell });
  const scatter = answer.then((response): ShownScatter => {
    if (response.type !== 'scatter/data') throw new Error(`unexpected answer ${response.type}`);
    const points = response.points.map((p) => ({ example: p.example, id: p.id, statistic: fromWire(p.statistic), quality: fromWire(p.quality), ...(p.text !== undefined ? { text: p.text } : {}) }));
    return { cell, points, notes: response.notes, ...(response.correlation ? { correlation: toRow(response.correlation) } : {}) };
  });
  scatterLoad = { cell, scatter };
  return scatterLoad;
}

/** Shows a cell's scatter plot. */
async function openScatter(cell: CellKey): Promise<void> {
  scatterSection.hidden = false;
  byId('scatter-title').textContent = `${cell.site} layer ${cell.layer}, ${cell.statistic} (${cell.pooling}), ${cell.mask} mask vs ${cell.metric}`;
  const load = loadScatter(cell);
  const first = shownScatter === undefined || !sameCell(shownScatter.cell, cell);
  try {
    const shown = await load.scatter;
    // Another cell was chosen, or the plot closed, while the points were on their way.
    if (scatterLoad !== load) return;
    shownScatter = shown;
    showNotes(byId('scatter-notes'), shown.notes);
    await scatter.render(qualityScatterSpec(shown.points, { ...cell, theme: currentChartTheme(), fit: panelFit(scatter.container), ...(shown.correlation ? { correlation: shown.correlation } : {}) }), onPointClick);
    if (first) scatterSection.scrollIntoView({ block: 'nearest' });
  } catch (error) {
    if (scatterLoad === load) {
      scatterLoad = undefined;
      fail(error);
    }
  }
}

function onPointClick(datum: Datum): void {
  const example = datum['example'];
  if (typeof example === 'number' && Number.isSafeInteger(example) && example >= 0) host.post({ type: 'revealExample', example });
}

function closeScatter(): void {
  scatterLoad = undefined;
  shownScatter = undefined;
  scatter.clear();
  scatterSection.hidden = true;
  ui = { ...ui, cell: undefined };
  save();
}

function fail(error: unknown): void {
  const message = errorText(error);
  showError(message);
  host.post({ type: 'error', message });
}

function heatmapCsv(): string {
  const columns = ['mask', 'site', 'layer', 'statistic', 'pooling', 'estimator', 'metric', 'rho', 'p_value', 'q_value', 'ci_low', 'ci_high', 'n', 'significant'];
  const s = selection;
  const shown = s ? rows.filter((r) => heatmapMasks.includes(r.mask) && r.site === s.site && r.estimator === s.estimator && r.metric === s.metric && r.pooling === s.pooling) : [];
  return toCsv(
    columns,
    shown.map((r) => ({ ...r, p_value: r.pValue, q_value: r.qValue, ci_low: r.ciLow, ci_high: r.ciHigh, significant: Number.isFinite(r.qValue) && r.qValue < alpha })),
  );
}

function scatterCsv(): string {
  if (!shownScatter) return toCsv(['example'], []);
  const { cell, points } = shownScatter;
  const columns = ['mask', 'site', 'layer', 'pooling', 'estimator', 'example', 'id', cell.statistic, cell.metric, 'text'];
  return toCsv(columns, points.map((p) => ({ mask: cell.mask, site: cell.site, layer: cell.layer, pooling: cell.pooling, estimator: cell.estimator, example: p.example, id: p.id, [cell.statistic]: p.statistic, [cell.metric]: p.quality, text: p.text })));
}

for (const [select, key] of [
  [maskSelect, 'mask'],
  [siteSelect, 'site'],
  [poolingSelect, 'pooling'],
] as const) {
  select.addEventListener('change', () => {
    ui = { ...ui, [key]: select.value };
    void update();
  });
}
qualitySelect.addEventListener('change', () => {
  const [estimator, metric] = JSON.parse(qualitySelect.value) as [string, string];
  ui = { ...ui, estimator, metric };
  void update();
});
byId('scatter-close').addEventListener('click', closeScatter);
wireExports('', { slot: heatmap, name: () => fileName('heatmap', heatmapMasks.join('+') || 'none', selection?.site ?? '', selection?.pooling ?? ''), csv: heatmapCsv }, host.post, fail);
wireExports(
  'scatter-',
  {
    slot: scatter,
    name: () => (shownScatter ? fileName('scatter', shownScatter.cell.mask, shownScatter.cell.site, `L${shownScatter.cell.layer}`, shownScatter.cell.statistic, shownScatter.cell.pooling) : 'scatter'),
    csv: scatterCsv,
  },
  host.post,
  fail,
);
watchTheme(() => void update());
onPanelResize(() => void update());

host.onMessage((message) => {
  if (requests.settle(message)) return;
  if (message.type === 'correlations/data') onData(message);
  else if (message.type === 'error') {
    hostError = message.message;
    showError(hostError);
  }
});
host.post({ type: 'ready' });
