// The messages between the extension and its chart panels (webviews/*), one union per direction,
// with the guards both sides check them with. No vscode import: the webview bundles import it too.
//
// Everything crosses as JSON, which has no NaN or ±Infinity: numbers that may be missing travel as
// `number | null` (`wireNumber` on the way out, `fromWire` on the way in). A webview renders data
// from files the user did not write (dataset text, ids), so the extension treats what a webview
// sends as untrusted: `parseWebviewMessage` accepts only these shapes, for the panel that sent them.
import type { CorrelationCell } from '../../core/experiment/correlations.js';
import type { SaeFigure } from './saeFeatures.js';

export const panelKinds = ['histograms', 'correlations', 'learningCurves', 'features'] as const;
export type PanelKind = (typeof panelKinds)[number];

export const panelViewTypes: Readonly<Record<PanelKind, string>> = {
  histograms: 'iclLab.histograms',
  correlations: 'iclLab.correlations',
  learningCurves: 'iclLab.learningCurves',
  features: 'iclLab.features',
};

export const panelTitles: Readonly<Record<PanelKind, string>> = {
  histograms: 'Activation Histograms',
  correlations: 'Correlations',
  learningCurves: 'Learning Curves',
  features: 'SAE Features',
};

/** A JSON number: null where the value is NaN or infinite. */
export type WireNumber = number | null;

export function wireNumber(value: number): WireNumber {
  return Number.isFinite(value) ? value : null;
}

export function fromWire(value: WireNumber): number {
  return value === null ? NaN : value;
}

// --- payload rows ---------------------------------------------------------------------------------

export interface RunInfo {
  /** The run folder, absolute: what a restored panel reopens. */
  readonly dir: string;
  readonly name: string;
  /** The model the run's figures came from, as the terminal headline names it (absent before run.json exists). */
  readonly model?: string;
  /** Set only when that model is a generated one with random weights: the banner every panel shows. */
  readonly generatedModelBanner?: string;
}

export interface WireHistogramRow {
  readonly mask: string;
  readonly layer: number;
  readonly binLow: number;
  readonly binHigh: number;
  readonly count: number;
}

export interface WireMassiveRow {
  readonly mask: string;
  readonly layer: number;
  readonly example: number;
  readonly token: number;
  readonly dim: number;
  readonly value: WireNumber;
}

export interface WireLayerSummary {
  readonly mask: string;
  readonly layer: number;
  readonly examples: number;
  readonly values: number;
  readonly nanValues: number;
  readonly medianAbs: WireNumber;
  readonly massiveCount: number;
}

export interface WireCorrelationRow extends CorrelationCell {
  readonly rho: WireNumber;
  readonly pValue: WireNumber;
  readonly qValue: WireNumber;
  readonly ciLow: WireNumber;
  readonly ciHigh: WireNumber;
  readonly n: number;
  readonly partialRho: WireNumber;
  readonly partialPValue: WireNumber;
  readonly partialQValue: WireNumber;
}

export interface WireCurveRow {
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
  readonly metric: string;
  readonly value: WireNumber;
}

/** One feature of sae/features.json without its examples: a row of the Features panel's list. */
export interface WireFeatureSummary {
  readonly latent: number;
  readonly density: WireNumber;
  readonly qualityRho: WireNumber;
  readonly qualityP: WireNumber;
  /** How many top activating examples the file holds for it. */
  readonly examples: number;
  /** The largest activation among them. */
  readonly maxActivation: WireNumber;
}

export interface WireFeatureToken {
  /** The token's text as plain text (never HTML). */
  readonly text: string;
  readonly activation: WireNumber;
}

export interface WireFeatureExample {
  readonly example: number;
  readonly id: string;
  /** The row's first line in the dataset file (1-based), when the dataset can be read. */
  readonly line?: number;
  readonly maxActivation: WireNumber;
  readonly tokens: readonly WireFeatureToken[];
}

/** What the SAE was trained on (features.json's header). */
export interface WireSaeInfo {
  readonly model: string;
  readonly site: string;
  readonly layer: number;
  readonly latents: number;
  readonly k: number;
}

/** One grid cell of correlations.csv: what a click on the heatmap asks the scatter plot of. */
export type CellKey = CorrelationCell;

/** One statistic of stats.csv for one mask / site / layer / pooling: the histograms panel's pooled view. */
export interface StatisticKey {
  readonly mask: string;
  readonly site: string;
  readonly layer: number;
  readonly pooling: string;
  readonly statistic: string;
}

export interface WireScatterPoint {
  readonly example: number;
  readonly id: string;
  readonly statistic: WireNumber;
  readonly quality: WireNumber;
  /** The example's input text, as plain text (never HTML); absent when the dataset is not readable. */
  readonly text?: string;
}

export interface WireStatisticValue {
  readonly example: number;
  readonly id: string;
  readonly value: WireNumber;
}

/** What stats.csv offers the histograms panel's pooled view. */
export interface StatisticsCatalog {
  readonly masks: readonly string[];
  readonly sites: readonly string[];
  readonly layers: readonly number[];
  readonly poolings: readonly string[];
  readonly statistics: readonly string[];
}

// --- host → webview ---------------------------------------------------------------------------------

interface DataNotificationBase {
  readonly run: RunInfo;
  /** What is missing or degraded, one line each (not errors: the panel still shows what it has). */
  readonly notes: readonly string[];
}

export interface HistogramsDataNotification extends DataNotificationBase {
  readonly type: 'histograms/data';
  readonly histograms: readonly WireHistogramRow[];
  readonly massive: readonly WireMassiveRow[];
  readonly summaries: readonly WireLayerSummary[];
  readonly stats: StatisticsCatalog;
}

export interface CorrelationsDataNotification extends DataNotificationBase {
  readonly type: 'correlations/data';
  readonly rows: readonly WireCorrelationRow[];
  /** The run's quality estimator / metric and the site and pooling of its strongest cell, when known. */
  readonly defaults: { readonly estimator?: string; readonly metric?: string; readonly site?: string; readonly pooling?: string };
}

export interface LearningCurvesDataNotification extends DataNotificationBase {
  readonly type: 'learningCurves/data';
  readonly rows: readonly WireCurveRow[];
  /** The run's evaluation metric, when known. */
  readonly defaultMetric?: string;
}

export interface FeaturesDataNotification extends DataNotificationBase {
  readonly type: 'features/data';
  /** Absent when the run has no sae/features.json (a note says what to do). */
  readonly sae?: WireSaeInfo;
  /** sae.json's known numeric figures (variance explained, L0, …). */
  readonly figures: readonly SaeFigure[];
  readonly features: readonly WireFeatureSummary[];
}

/** A feature's top activating examples, token by token (the answer to a FeatureSelectedRequest). */
export interface FeatureExamplesResponse {
  readonly type: 'feature/examples';
  readonly requestId: number;
  readonly latent: number;
  readonly examples: readonly WireFeatureExample[];
}

export interface ScatterResponse {
  readonly type: 'scatter/data';
  readonly requestId: number;
  readonly cell: CellKey;
  readonly points: readonly WireScatterPoint[];
  readonly correlation?: WireCorrelationRow;
  readonly notes: readonly string[];
}

export interface StatisticResponse {
  readonly type: 'statistic/data';
  readonly requestId: number;
  readonly key: StatisticKey;
  readonly values: readonly WireStatisticValue[];
}

/** Something failed in the extension: shown in the panel's #error element. */
export interface ErrorNotification {
  readonly type: 'error';
  readonly message: string;
  /** The request that failed, if one did. */
  readonly requestId?: number;
}

/**
 * Are you there? Sent when a panel is shown or moved: the webview's shared host answers `pong`
 * whatever the panel, so the extension can tell a live page from one whose script never loaded.
 * Not a HostMessage: no panel app sees it.
 */
export interface PingRequest {
  readonly type: 'ping';
}

export function isPing(value: unknown): value is PingRequest {
  return isObject(value) && value['type'] === 'ping';
}

export type HostMessage =
  | HistogramsDataNotification
  | CorrelationsDataNotification
  | LearningCurvesDataNotification
  | FeaturesDataNotification
  | FeatureExamplesResponse
  | ScatterResponse
  | StatisticResponse
  | ErrorNotification;

// --- webview → host ---------------------------------------------------------------------------------

/** The webview's script runs and listens: the host answers with the panel's data. */
export interface ReadyNotification {
  readonly type: 'ready';
}

/** A heatmap cell was clicked: the host answers with a ScatterResponse (same requestId). */
export interface CellSelectedRequest {
  readonly type: 'cellSelected';
  readonly requestId: number;
  readonly cell: CellKey;
}

/** The histograms panel's pooled view: the host answers with a StatisticResponse. */
export interface StatisticRequest {
  readonly type: 'statistic';
  readonly requestId: number;
  readonly key: StatisticKey;
}

/** A feature was clicked: the host answers with a FeatureExamplesResponse (same requestId). */
export interface FeatureSelectedRequest {
  readonly type: 'featureSelected';
  readonly requestId: number;
  readonly latent: number;
}

/** A scatter point (or a feature's example) was clicked: open the dataset file at that example's row. */
export interface RevealExampleCommand {
  readonly type: 'revealExample';
  readonly example: number;
}

export const exportFormats = ['svg', 'png', 'csv'] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** Save a chart (SVG text, PNG data URL) or its data (CSV text) where the user chooses. */
export interface ExportCommand {
  readonly type: 'export';
  readonly format: ExportFormat;
  readonly content: string;
  /** Suggested file name without extension ([A-Za-z0-9._-], no leading dot). */
  readonly name: string;
}

/** The webview failed (a chart did not render): the host logs it. */
export interface WebviewErrorNotification {
  readonly type: 'error';
  readonly message: string;
}

/** The answer to a PingRequest: the page's script runs. */
export interface PongNotification {
  readonly type: 'pong';
}

export type WebviewMessage = ReadyNotification | PongNotification | CellSelectedRequest | StatisticRequest | FeatureSelectedRequest | RevealExampleCommand | ExportCommand | WebviewErrorNotification;

/** Which messages each panel may send. */
const allowed: Readonly<Record<PanelKind, ReadonlySet<WebviewMessage['type']>>> = {
  histograms: new Set(['ready', 'pong', 'statistic', 'export', 'error']),
  correlations: new Set(['ready', 'pong', 'cellSelected', 'revealExample', 'export', 'error']),
  learningCurves: new Set(['ready', 'pong', 'export', 'error']),
  features: new Set(['ready', 'pong', 'featureSelected', 'revealExample', 'error']),
};

/** Longest name (mask, statistic, …) a message may carry. */
const maxName = 200;
/** An export's suggested file name: letters, digits, '.', '_' and '-', not starting with '.' (no path). */
const exportName = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,119}$/;
/** Largest export: a PNG data URL of a big chart is a few MiB. */
export const maxExportChars = 64 * 1024 * 1024;
const maxErrorChars = 10_000;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxName;
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function hasOnly(value: Fields, keys: readonly string[]): boolean {
  return Object.keys(value).every((k) => keys.includes(k));
}

const cellKeys = ['mask', 'site', 'layer', 'statistic', 'pooling', 'estimator', 'metric'] as const;
const statisticKeys = ['mask', 'site', 'layer', 'pooling', 'statistic'] as const;

export function isCellKey(value: unknown): value is CellKey {
  return (
    isObject(value) &&
    hasOnly(value, cellKeys) &&
    isIndex(value['layer']) &&
    isName(value['mask']) &&
    isName(value['site']) &&
    isName(value['statistic']) &&
    isName(value['pooling']) &&
    isName(value['estimator']) &&
    isName(value['metric'])
  );
}

export function isStatisticKey(value: unknown): value is StatisticKey {
  return isObject(value) && hasOnly(value, statisticKeys) && isIndex(value['layer']) && isName(value['mask']) && isName(value['site']) && isName(value['pooling']) && isName(value['statistic']);
}

/** A PNG export must be a PNG data URL; SVG and CSV are text. */
function exportContentOk(format: ExportFormat, content: string): boolean {
  if (content.length === 0 || content.length > maxExportChars) return false;
  if (format === 'png') return /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/.test(content);
  if (format === 'svg') return /^\s*<svg[\s>]/.test(content);
  return true;
}

/** A message from `kind`'s webview, or undefined when it is not one this panel may send. */
export function parseWebviewMessage(value: unknown, kind: PanelKind): WebviewMessage | undefined {
  if (!isObject(value) || typeof value['type'] !== 'string') return undefined;
  const type = value['type'] as WebviewMessage['type'];
  if (!allowed[kind].has(type)) return undefined;
  switch (type) {
    case 'ready':
    case 'pong':
      return hasOnly(value, ['type']) ? { type } : undefined;
    case 'cellSelected':
      return hasOnly(value, ['type', 'requestId', 'cell']) && isIndex(value['requestId']) && isCellKey(value['cell'])
        ? { type, requestId: value['requestId'], cell: value['cell'] }
        : undefined;
    case 'statistic':
      return hasOnly(value, ['type', 'requestId', 'key']) && isIndex(value['requestId']) && isStatisticKey(value['key'])
        ? { type, requestId: value['requestId'], key: value['key'] }
        : undefined;
    case 'featureSelected':
      return hasOnly(value, ['type', 'requestId', 'latent']) && isIndex(value['requestId']) && isIndex(value['latent'])
        ? { type, requestId: value['requestId'], latent: value['latent'] }
        : undefined;
    case 'revealExample':
      return hasOnly(value, ['type', 'example']) && isIndex(value['example']) ? { type, example: value['example'] } : undefined;
    case 'export': {
      const { format, content, name } = value;
      if (!hasOnly(value, ['type', 'format', 'content', 'name'])) return undefined;
      if (!(exportFormats as readonly unknown[]).includes(format) || typeof content !== 'string' || typeof name !== 'string' || !exportName.test(name)) return undefined;
      return exportContentOk(format as ExportFormat, content) ? { type, format: format as ExportFormat, content, name } : undefined;
    }
    case 'error':
      return hasOnly(value, ['type', 'message']) && typeof value['message'] === 'string' ? { type, message: value['message'].slice(0, maxErrorChars) } : undefined;
    default:
      return undefined;
  }
}

const hostTypes: ReadonlySet<string> = new Set(['histograms/data', 'correlations/data', 'learningCurves/data', 'features/data', 'feature/examples', 'scatter/data', 'statistic/data', 'error']);

/** The webview's check on what arrives: a host message by its type (the host built it, so the shape is trusted). */
export function isHostMessage(value: unknown): value is HostMessage {
  return isObject(value) && typeof value['type'] === 'string' && hostTypes.has(value['type']);
}

// --- what a panel remembers (vscode.setState; the WebviewPanelSerializer gets it back) ---------------

export interface HistogramsUi {
  readonly mask?: string;
  /** The site of the pooled statistics (stats.csv). */
  readonly site?: string;
  readonly layer?: number;
  /** 'raw' (the |activation| histogram) or a pooling of stats.csv. */
  readonly pooling?: string;
  readonly statistic?: string;
  readonly logScale?: boolean;
}

export interface CorrelationsUi {
  /** A mask, or '' for all masks stacked. */
  readonly mask?: string;
  /** The activation site whose layer × statistic grid is shown. */
  readonly site?: string;
  readonly estimator?: string;
  readonly metric?: string;
  readonly pooling?: string;
  /** The cell whose scatter plot is open. */
  readonly cell?: CellKey;
}

export interface LearningCurvesUi {
  readonly metric?: string;
  readonly band?: 'min-max' | 'sd';
}

export const featureSorts = ['quality', 'density', 'latent'] as const;
export type FeatureSort = (typeof featureSorts)[number];

export interface FeaturesUi {
  /** The feature whose examples are shown. */
  readonly latent?: number;
  /** The list's order: |ρ| with quality (largest first), density (largest first) or latent number. */
  readonly sort?: FeatureSort;
  /** Latent numbers starting with this are listed. */
  readonly filter?: string;
}

export interface PanelState {
  readonly kind: PanelKind;
  readonly runDir: string;
  readonly ui: HistogramsUi | CorrelationsUi | LearningCurvesUi | FeaturesUi;
}

/** A saved panel state, or undefined when `value` is not one (an old or foreign state). */
export function parsePanelState(value: unknown): PanelState | undefined {
  if (!isObject(value)) return undefined;
  const { kind, runDir, ui } = value;
  if (!(panelKinds as readonly unknown[]).includes(kind)) return undefined;
  if (typeof runDir !== 'string' || runDir.length === 0 || runDir.length > 4096) return undefined;
  return { kind: kind as PanelKind, runDir, ui: isObject(ui) ? (ui as PanelState['ui']) : {} };
}
