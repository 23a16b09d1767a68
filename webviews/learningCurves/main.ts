/// <reference lib="dom" />
// The learning curves panel: each selection strategy's test metric against the budget, mean over
// seeds with a band (min–max or ± 1 sd), random dashed as the baseline; a metric picker.
import { summarizeCurves, type CurveRow } from '../../src/core/experiment/learningCurves.js';
import { learningCurvesSpec } from '../../src/core/report/charts.js';
import { fromWire, type LearningCurvesDataNotification, type LearningCurvesUi } from '../../src/extension/panels/panelMessages.js';
import { ChartSlot, fileName, onPanelResize, panelFit, wireExports } from '../shared/chart.js';
import { toCsv } from '../shared/csv.js';
import { byId, choices, errorText, fillSelect, showError, showNotes, showRun } from '../shared/dom.js';
import { connectHost } from '../shared/host.js';
import { currentChartTheme, watchTheme } from '../shared/theme.js';

const host = connectHost<LearningCurvesUi>('learningCurves');
const slot = new ChartSlot(byId('chart'));
const metricSelect = byId<HTMLSelectElement>('metric');
const bandSelect = byId<HTMLSelectElement>('band');

let runDir = '';
/** An error the extension reported (loading the data): shown until data arrives. */
let hostError: string | undefined;
let rows: CurveRow[] = [];
let defaultMetric: string | undefined;
let ui: LearningCurvesUi = host.savedUi();

function onData(message: LearningCurvesDataNotification): void {
  showRun(message.run);
  showNotes(byId('notes'), message.notes);
  runDir = message.run.dir;
  rows = message.rows.map((r) => ({ ...r, value: fromWire(r.value) }));
  defaultMetric = message.defaultMetric;
  hostError = undefined;
  void update();
}

async function update(): Promise<void> {
  if (runDir === '') return;
  const metric = fillSelect(metricSelect, choices([...new Set(rows.map((r) => r.metric))]), ui.metric ?? defaultMetric);
  const band = ui.band === 'sd' ? 'sd' : 'min-max';
  bandSelect.value = band;
  ui = { metric, band };
  host.save(runDir, ui);
  showError(hostError);
  if (metric === '') {
    slot.clear();
    return;
  }
  await slot.render(learningCurvesSpec(rows, { metric, band, theme: currentChartTheme(), fit: panelFit(slot.container) })).catch(fail);
}

function fail(error: unknown): void {
  const message = errorText(error);
  showError(message);
  host.post({ type: 'error', message });
}

/** The plotted points: each strategy × budget's mean, spread and number of seeds. */
function csv(): string {
  const metric = ui.metric ?? '';
  return toCsv(['strategy', 'budget', 'metric', 'mean', 'sd', 'min', 'max', 'seeds'], summarizeCurves(rows, metric).map((p) => ({ ...p, metric })));
}

metricSelect.addEventListener('change', () => {
  ui = { ...ui, metric: metricSelect.value };
  void update();
});
bandSelect.addEventListener('change', () => {
  ui = { ...ui, band: bandSelect.value === 'sd' ? 'sd' : 'min-max' };
  void update();
});
wireExports('', { slot, name: () => fileName('curves', ui.metric ?? 'metric'), csv }, host.post, fail);
watchTheme(() => void update());
onPanelResize(() => void update());

host.onMessage((message) => {
  if (message.type === 'learningCurves/data') onData(message);
  else if (message.type === 'error') {
    hostError = message.message;
    showError(hostError);
  }
});
host.post({ type: 'ready' });
