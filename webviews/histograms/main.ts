/// <reference lib="dom" />
// The activation histograms panel: |MLP output| of one layer under one mask (log-binned, from
// histograms.csv or raw/), massive activations marked with their dimension; or, with a pooling
// picked, one stats.csv statistic's distribution across examples for that mask / site / layer /
// pooling (the raw histograms are the MLP output's).
import type { HistogramRow, LayerSummary, MassiveRow } from '../../src/core/report/activationHistograms.js';
import { activationHistogramSpec, formatPrecision, statisticDistributionSpec, type StatisticValue } from '../../src/core/report/charts.js';
import {
  fromWire,
  type HistogramsDataNotification,
  type HistogramsUi,
  type StatisticKey,
} from '../../src/extension/panels/panelMessages.js';
import { ChartSlot, fileName, wireExports, onPanelResize, panelFit } from '../shared/chart.js';
import { toCsv } from '../shared/csv.js';
import { byId, choices, errorText, fillSelect, showError, showNotes, showRun, type Choice } from '../shared/dom.js';
import { connectHost } from '../shared/host.js';
import { PendingRequests } from '../shared/requests.js';
import { currentChartTheme, watchTheme } from '../shared/theme.js';

/** The pooling picker's value for the raw-activation histogram (which has no pooling). */
const raw = 'raw';

interface Data {
  readonly runDir: string;
  readonly histograms: HistogramRow[];
  readonly massive: MassiveRow[];
  readonly summaries: LayerSummary[];
  readonly stats: HistogramsDataNotification['stats'];
}

const host = connectHost<HistogramsUi>('histograms');
const requests = new PendingRequests();
const slot = new ChartSlot(byId('chart'));
const maskSelect = byId<HTMLSelectElement>('mask');
const siteSelect = byId<HTMLSelectElement>('site');
const siteLabel = byId('site-label');
const layerInput = byId<HTMLInputElement>('layer');
const layerValue = byId<HTMLOutputElement>('layer-value');
const poolingSelect = byId<HTMLSelectElement>('pooling');
const statisticSelect = byId<HTMLSelectElement>('statistic');
const statisticLabel = byId('statistic-label');
const logScale = byId<HTMLInputElement>('log-scale');

let data: Data | undefined;
/** An error the extension reported (loading the data): shown until data arrives. */
let hostError: string | undefined;
let ui: HistogramsUi = host.savedUi();
let layers: number[] = [];
let shown: { key: StatisticKey; values: StatisticValue[] } | { mask: string; layer: number } | undefined;
const statisticCache = new Map<string, Promise<StatisticValue[]>>();

function onData(message: HistogramsDataNotification): void {
  showRun(message.run);
  showNotes(byId('notes'), message.notes);
  data = {
    runDir: message.run.dir,
    histograms: [...message.histograms],
    massive: message.massive.map((m) => ({ ...m, value: fromWire(m.value) })),
    summaries: message.summaries.map((s) => ({ ...s, medianAbs: fromWire(s.medianAbs) })),
    stats: message.stats,
  };
  statisticCache.clear();
  hostError = undefined;
  void update();
}

/** Fills the pickers from the data and the UI choices, then draws. */
async function update(): Promise<void> {
  if (!data) return;
  const d = data;
  const histogramMasks = new Set(d.histograms.map((h) => h.mask));
  const masks = [...new Set([...histogramMasks, ...d.stats.masks])];
  const mask = fillSelect(maskSelect, choices(masks), ui.mask);
  const poolings: Choice[] = [
    ...(histogramMasks.has(mask) ? [{ value: raw, label: 'none (raw |activation|)' }] : []),
    ...(d.stats.masks.includes(mask) ? d.stats.poolings.map((p) => ({ value: p, label: `${p} (stats.csv)` })) : []),
  ];
  const pooling = fillSelect(poolingSelect, poolings, ui.pooling);
  const pooled = pooling !== raw && pooling !== '';
  const statistic = fillSelect(statisticSelect, choices(pooled ? d.stats.statistics : []), ui.statistic ?? 'kurtosis');
  const site = fillSelect(siteSelect, choices(pooled ? d.stats.sites : []), ui.site);
  statisticLabel.hidden = !pooled;
  siteLabel.hidden = !pooled;
  layers = pooled ? [...d.stats.layers] : [...new Set(d.histograms.filter((h) => h.mask === mask).map((h) => h.layer))].sort((a, b) => a - b);
  const layer = layers.includes(ui.layer ?? -1) ? ui.layer! : (layers[0] ?? 0);
  layerInput.max = String(Math.max(0, layers.length - 1));
  layerInput.value = String(Math.max(0, layers.indexOf(layer)));
  layerInput.disabled = layers.length <= 1;
  layerValue.textContent = layers.length > 0 ? String(layer) : '–';
  logScale.checked = ui.logScale ?? true;
  ui = {
    mask,
    layer,
    pooling,
    ...(pooled ? { statistic } : ui.statistic ? { statistic: ui.statistic } : {}),
    ...(pooled ? { site } : ui.site ? { site: ui.site } : {}),
    logScale: logScale.checked,
  };
  host.save(d.runDir, ui);
  try {
    showError(hostError);
    if (masks.length === 0 || layers.length === 0) {
      slot.clear();
      shown = undefined;
      showMassive([]);
    } else if (pooled) {
      await drawStatistic({ mask, site, layer, pooling, statistic });
    } else {
      drawHistogram(d, mask, layer);
    }
  } catch (error) {
    fail(error);
  }
}

function drawHistogram(d: Data, mask: string, layer: number): void {
  const summary = d.summaries.find((s) => s.mask === mask && s.layer === layer);
  shown = { mask, layer };
  showMassive(d.massive.filter((m) => m.mask === mask && m.layer === layer));
  void slot
    .render(activationHistogramSpec(d.histograms, d.massive, {
        mask,
        layer,
        logCount: ui.logScale ?? true,
        theme: currentChartTheme(),
        fit: panelFit(slot.container),
        massiveLayers: [...new Set(d.massive.filter((m) => m.mask === mask).map((m) => m.layer))].sort((a, b) => a - b),
        ...(summary ? { summary } : {}),
      }))
    .catch(fail);
}

async function drawStatistic(key: StatisticKey): Promise<void> {
  const cacheKey = JSON.stringify(key);
  let values = statisticCache.get(cacheKey);
  if (!values) {
    const { requestId, answer } = requests.start();
    host.post({ type: 'statistic', requestId, key });
    values = answer.then((a) => (a.type === 'statistic/data' ? a.values.map((v) => ({ ...v, value: fromWire(v.value) })) : []));
    statisticCache.set(cacheKey, values);
    values.catch(() => statisticCache.delete(cacheKey));
  }
  const got = await values;
  // The user may have moved on while the values were on their way.
  if (ui.mask !== key.mask || ui.site !== key.site || ui.layer !== key.layer || ui.pooling !== key.pooling || ui.statistic !== key.statistic) return;
  shown = { key, values: got };
  showMassive([]);
  await slot.render(statisticDistributionSpec(got, { ...key, logCount: ui.logScale ?? true, theme: currentChartTheme(), fit: panelFit(slot.container) }));
}

/** The listed massive activations of the layer shown (dimension first: it is what recurs). */
function showMassive(rows: readonly MassiveRow[]): void {
  const body = byId('massive').querySelector('tbody')!;
  body.replaceChildren(
    ...rows.map((m) => {
      const tr = document.createElement('tr');
      for (const cell of [String(m.layer), String(m.example), String(m.token), String(m.dim), formatPrecision(m.value, 4)]) {
        const td = document.createElement('td');
        td.textContent = cell;
        tr.append(td);
      }
      return tr;
    }),
  );
  byId('massive-section').hidden = rows.length === 0;
}

function fail(error: unknown): void {
  const message = errorText(error);
  showError(message);
  host.post({ type: 'error', message });
}

function csv(): string {
  if (!data || !shown) return toCsv(['mask', 'layer'], []);
  if ('key' in shown) {
    const { key, values } = shown;
    return toCsv(['mask', 'site', 'layer', 'pooling', 'statistic', 'example', 'id', 'value'], values.map((v) => ({ ...key, example: v.example, id: v.id, value: v.value })));
  }
  const { mask, layer } = shown;
  const bins = data.histograms.filter((h) => h.mask === mask && h.layer === layer).map((h) => ({ mask, layer, bin_low: h.binLow, bin_high: h.binHigh, count: h.count }));
  return toCsv(['mask', 'layer', 'bin_low', 'bin_high', 'count'], bins);
}

function chartName(): string {
  if (!shown) return 'histogram';
  return 'key' in shown ? fileName('distribution', shown.key.mask, shown.key.site, `L${shown.key.layer}`, shown.key.statistic, shown.key.pooling) : fileName('histogram', shown.mask, `L${shown.layer}`);
}

maskSelect.addEventListener('change', () => {
  ui = { ...ui, mask: maskSelect.value };
  void update();
});
siteSelect.addEventListener('change', () => {
  ui = { ...ui, site: siteSelect.value };
  void update();
});
poolingSelect.addEventListener('change', () => {
  ui = { ...ui, pooling: poolingSelect.value };
  void update();
});
statisticSelect.addEventListener('change', () => {
  ui = { ...ui, statistic: statisticSelect.value };
  void update();
});
layerInput.addEventListener('input', () => {
  ui = { ...ui, layer: layers[Number(layerInput.value)] ?? ui.layer ?? 0 };
  void update();
});
logScale.addEventListener('change', () => {
  ui = { ...ui, logScale: logScale.checked };
  void update();
});
wireExports('', { slot, name: chartName, csv }, host.post, fail);
watchTheme(() => void update());
onPanelResize(() => void update());

host.onMessage((message) => {
  if (requests.settle(message)) return;
  if (message.type === 'histograms/data') onData(message);
  else if (message.type === 'error') {
    hostError = message.message;
    showError(hostError);
  }
});
host.post({ type: 'ready' });
