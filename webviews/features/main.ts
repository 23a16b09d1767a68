/// <reference lib="dom" />
// The Features panel: the sparse autoencoder of a run (sae/features.json), one row per feature with
// its density and the correlation of its activation with example quality; a click on a feature
// shows its top activating examples with each token shaded by the feature's activation, and a click
// on an example opens its row in the dataset file. All dataset text goes in with textContent.
import { formatDuration } from '../../src/core/format/duration.js';
import {
  featureSorts,
  fromWire,
  type FeatureSort,
  type FeaturesDataNotification,
  type FeaturesUi,
  type WireFeatureExample,
  type WireFeatureSummary,
} from '../../src/extension/panels/panelMessages.js';
import type { SaeFigure } from '../../src/extension/panels/saeFeatures.js';
import { byId, errorText, showError, showNotes, showRun } from '../shared/dom.js';
import { connectHost } from '../shared/host.js';
import { PendingRequests } from '../shared/requests.js';

/** Rows the list shows at once (a wide SAE has thousands of latents: sort or filter for the others). */
const maxListed = 500;

const host = connectHost<FeaturesUi>('features');
const requests = new PendingRequests();
const list = byId<HTMLTableElement>('feature-list');
const sortSelect = byId<HTMLSelectElement>('sort');
const filterInput = byId<HTMLInputElement>('filter');
const examplesList = byId<HTMLOListElement>('examples');

let runDir = '';
let data: FeaturesDataNotification | undefined;
let ui: FeaturesUi = host.savedUi();
/** Each feature's examples, asked for once per data (a new features.json asks again). */
let examplesByLatent = new Map<number, Promise<readonly WireFeatureExample[]>>();

// --- formatting --------------------------------------------------------------------------------------

const dash = '–';

function percent(value: number): string {
  if (!Number.isFinite(value)) return dash;
  const p = value * 100;
  if (p === 0) return '0%';
  return `${p >= 10 ? p.toFixed(1) : p >= 1 ? p.toFixed(2) : p.toPrecision(2)}%`;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits).replace(/^-/, '−') : dash;
}

function pValue(value: number): string {
  if (!Number.isFinite(value)) return dash;
  return value < 0.001 ? value.toExponential(1) : value.toPrecision(2);
}

function activation(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(3) : dash;
}

const whole = (value: number): string => Math.round(value).toLocaleString('en-US');

const figureLabels: Readonly<Record<SaeFigure['name'], string>> = {
  varianceExplained: 'variance explained',
  l0: 'L0',
  deadLatents: 'dead latents',
  lossRecovered: 'loss recovered',
  trainTokens: 'training tokens',
  trainingMs: 'training time',
  tokensPerSecond: 'tokens/s',
};

function figureText(figure: SaeFigure, latents: number | undefined): string {
  switch (figure.name) {
    case 'varianceExplained':
    case 'lossRecovered':
      return fixed(figure.value, 3);
    case 'l0':
      return fixed(figure.value, 1);
    case 'deadLatents':
      return latents ? `${whole(figure.value)} (${percent(figure.value / latents)})` : whole(figure.value);
    case 'trainingMs':
      return formatDuration(figure.value / 1000);
    case 'trainTokens':
    case 'tokensPerSecond':
      return whole(figure.value);
  }
}

// --- the list ------------------------------------------------------------------------------------------

function sorted(features: readonly WireFeatureSummary[], sort: FeatureSort): WireFeatureSummary[] {
  const byLatent = (a: WireFeatureSummary, b: WireFeatureSummary) => a.latent - b.latent;
  // Largest first, features without a value last.
  const descending = (key: (f: WireFeatureSummary) => number) => (a: WireFeatureSummary, b: WireFeatureSummary) => {
    const [x, y] = [key(a), key(b)];
    if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
    return (Number.isNaN(x) ? 0 : y - x) || byLatent(a, b);
  };
  const copy = [...features];
  if (sort === 'quality') return copy.sort(descending((f) => Math.abs(fromWire(f.qualityRho))));
  if (sort === 'density') return copy.sort(descending((f) => fromWire(f.density)));
  return copy.sort(byLatent);
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render(): void {
  if (!data) return;
  const sort: FeatureSort = featureSorts.includes(ui.sort as FeatureSort) ? ui.sort! : 'quality';
  sortSelect.value = sort;
  const filter = (ui.filter ?? '').trim();
  filterInput.value = ui.filter ?? '';
  const matching = sorted(data.features, sort).filter((f) => filter === '' || String(f.latent).startsWith(filter));
  const shown = matching.slice(0, maxListed);
  // The feature shown: the saved one if it is still there, else the first listed.
  const latent = data.features.some((f) => f.latent === ui.latent) ? ui.latent : shown[0]?.latent;
  ui = { ...ui, sort, latent };
  save();
  const tbody = list.tBodies[0]!;
  tbody.replaceChildren(
    ...shown.map((f) => {
      const tr = document.createElement('tr');
      tr.dataset['latent'] = String(f.latent);
      tr.tabIndex = 0;
      tr.setAttribute('aria-selected', String(f.latent === latent));
      if (f.latent === latent) tr.classList.add('selected');
      const rho = fromWire(f.qualityRho);
      tr.append(cell(String(f.latent)), cell(percent(fromWire(f.density))), cell(fixed(rho, 3), rho > 0 ? 'positive' : rho < 0 ? 'negative' : undefined), cell(pValue(fromWire(f.qualityP))), cell(activation(fromWire(f.maxActivation))));
      return tr;
    }),
  );
  const total = data.features.length;
  byId('list-note').textContent =
    total === 0
      ? 'No features.'
      : `${matching.length === total ? `${total} features` : `${matching.length} of ${total} features`}${shown.length < matching.length ? `, the first ${shown.length} listed (sort or filter for the others)` : ''}. Click one for its top activating examples.`;
  void showExamples(latent);
}

function save(): void {
  if (runDir !== '') host.save(runDir, ui);
}

function select(latent: number): void {
  if (latent === ui.latent) return;
  ui = { ...ui, latent };
  for (const row of Array.from(list.tBodies[0]!.rows)) {
    const on = row.dataset['latent'] === String(latent);
    row.classList.toggle('selected', on);
    row.setAttribute('aria-selected', String(on));
  }
  save();
  void showExamples(latent);
}

// --- a feature's examples ----------------------------------------------------------------------------------

function loadExamples(latent: number): Promise<readonly WireFeatureExample[]> {
  let load = examplesByLatent.get(latent);
  if (!load) {
    const { requestId, answer } = requests.start();
    host.post({ type: 'featureSelected', requestId, latent });
    load = answer.then((response) => {
      if (response.type !== 'feature/examples') throw new Error(`unexpected answer ${response.type}`);
      return response.examples;
    });
    examplesByLatent.set(latent, load);
    load.catch(() => examplesByLatent.delete(latent));
  }
  return load;
}

async function showExamples(latent: number | undefined): Promise<void> {
  const title = byId('examples-title');
  if (latent === undefined) {
    title.textContent = 'Top activating examples';
    examplesList.replaceChildren();
    return;
  }
  const feature = data?.features.find((f) => f.latent === latent);
  title.textContent = `Latent ${latent}: top activating examples`;
  if (feature) title.title = `density ${percent(fromWire(feature.density))}, ρ with quality ${fixed(fromWire(feature.qualityRho), 3)} (p ${pValue(fromWire(feature.qualityP))})`;
  try {
    const examples = await loadExamples(latent);
    // Another feature was chosen while these were on their way.
    if (ui.latent !== latent) return;
    examplesList.replaceChildren(...examples.map((e) => exampleItem(e, examples)));
    if (examples.length === 0) examplesList.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'No examples activate this feature.', className: 'hint' }));
  } catch (error) {
    if (ui.latent === latent) fail(error);
  }
}

function exampleItem(e: WireFeatureExample, all: readonly WireFeatureExample[]): HTMLLIElement {
  // Shading is relative to the feature's largest activation over its examples.
  const top = Math.max(0, ...all.flatMap((x) => [fromWire(x.maxActivation), ...x.tokens.map((t) => fromWire(t.activation))]).filter((v) => Number.isFinite(v)));
  const li = document.createElement('li');
  li.className = 'feature-example';
  li.tabIndex = 0;
  li.setAttribute('role', 'button');
  li.dataset['example'] = String(e.example);
  li.title = 'Open this row in the dataset';
  const head = document.createElement('div');
  head.className = 'example-head';
  const id = document.createElement('span');
  id.className = 'example-id';
  id.textContent = `id ${e.id}`;
  const meta = document.createElement('span');
  meta.className = 'example-meta';
  meta.textContent = `${e.line !== undefined ? `line ${e.line}` : `row ${e.example}`} · max ${activation(fromWire(e.maxActivation))}`;
  head.append(id, meta);
  const tokens = document.createElement('div');
  tokens.className = 'example-tokens';
  tokens.append(
    ...e.tokens.map((t) => {
      const span = document.createElement('span');
      span.className = 'token';
      span.textContent = t.text;
      const a = fromWire(t.activation);
      span.title = `activation ${activation(a)}`;
      const level = top > 0 && Number.isFinite(a) ? Math.min(1, Math.max(0, a / top)) : 0;
      if (level > 0) {
        span.classList.add('active');
        // CSSOM, not a style attribute: the Content-Security-Policy allows no inline style.
        span.style.setProperty('--level', level.toFixed(3));
      }
      return span;
    }),
  );
  li.append(head, tokens);
  return li;
}

// --- events ----------------------------------------------------------------------------------------------

function onData(message: FeaturesDataNotification): void {
  data = message;
  runDir = message.run.dir;
  examplesByLatent = new Map();
  showRun(message.run);
  showNotes(byId('notes'), message.notes);
  showError(undefined);
  const info = byId('sae-info');
  info.textContent = message.sae ? `SAE · ${message.sae.site} layer ${message.sae.layer} · ${whole(message.sae.latents)} latents · k ${message.sae.k}` : '';
  info.title = message.sae ? `trained on ${message.sae.model}` : '';
  const figures = byId('sae-figures');
  figures.replaceChildren(
    ...message.figures.flatMap((figure) => {
      const wrap = document.createElement('div');
      const dt = document.createElement('dt');
      dt.textContent = figureLabels[figure.name];
      const dd = document.createElement('dd');
      dd.textContent = figureText(figure, message.sae?.latents);
      wrap.append(dt, dd);
      return [wrap];
    }),
  );
  figures.hidden = message.figures.length === 0;
  render();
}

function fail(error: unknown): void {
  const message = errorText(error);
  showError(message);
  host.post({ type: 'error', message });
}

const rowLatent = (target: EventTarget | null): number | undefined => {
  const row = (target as Element | null)?.closest?.('tr[data-latent]') as HTMLElement | null | undefined;
  const latent = Number(row?.dataset['latent']);
  return row && Number.isSafeInteger(latent) ? latent : undefined;
};

const exampleOf = (target: EventTarget | null): number | undefined => {
  const item = (target as Element | null)?.closest?.('li[data-example]') as HTMLElement | null | undefined;
  const example = Number(item?.dataset['example']);
  return item && Number.isSafeInteger(example) && example >= 0 ? example : undefined;
};

list.addEventListener('click', (event) => {
  const latent = rowLatent(event.target);
  if (latent !== undefined) select(latent);
});
list.addEventListener('keydown', (event) => {
  const latent = rowLatent(event.target);
  if (latent === undefined) return;
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    select(latent);
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    const row = (event.target as HTMLElement).closest('tr');
    const next = (event.key === 'ArrowDown' ? row?.nextElementSibling : row?.previousElementSibling) as HTMLElement | null | undefined;
    next?.focus();
    const nextLatent = rowLatent(next ?? null);
    if (nextLatent !== undefined) select(nextLatent);
  }
});
examplesList.addEventListener('click', (event) => {
  const example = exampleOf(event.target);
  if (example !== undefined) host.post({ type: 'revealExample', example });
});
examplesList.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' && event.key !== ' ') return;
  const example = exampleOf(event.target);
  if (example === undefined) return;
  event.preventDefault();
  host.post({ type: 'revealExample', example });
});
sortSelect.addEventListener('change', () => {
  ui = { ...ui, sort: sortSelect.value as FeatureSort };
  render();
});
filterInput.addEventListener('input', () => {
  ui = { ...ui, filter: filterInput.value };
  render();
});

host.onMessage((message) => {
  if (requests.settle(message)) return;
  if (message.type === 'features/data') onData(message);
  else if (message.type === 'error') showError(message.message);
});
host.post({ type: 'ready' });
