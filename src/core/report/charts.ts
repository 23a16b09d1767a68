// Vega-Lite specs for the report's figures, as pure functions of parsed data: no I/O and no Node
// APIs, so the VS Code webviews render the same specs (bundled for the browser). Every spec takes
// an optional `theme` (colours and font; the webviews pass VS Code's); without one it is the
// report's white figure.
//   activationHistogramSpec    — |MLP output| histogram of one layer, massive activations marked
//   statisticDistributionSpec  — one stats.csv statistic across examples (one mask / layer / pooling)
//   correlationHeatmapSpec     — Spearman ρ over layer × statistic for one mask / estimator / metric / pooling
//   correlationHeatmapsSpec    — those heatmaps for several masks, stacked in one figure
//   qualityScatterSpec         — one grid cell: statistic value vs example quality
//   learningCurvesSpec         — selection strategies' mean over seeds vs budget, min–max band
import type { TopLevelSpec } from 'vega-lite';
import type { CorrelationCell, CorrelationRow } from '../experiment/correlations.js';
import { summarizeCurves, type CurveRow } from '../experiment/learningCurves.js';
import { activationStatistics } from '../stats/activationStatistics.js';
import type { HistogramRow, LayerSummary, MassiveRow } from './activationHistograms.js';

/** White background, generic fonts: renders the same in Node (no canvas) and in a browser. */
export const chartConfig = {
  background: '#ffffff',
  font: 'sans-serif',
  view: { stroke: '#dddddd' },
  title: { anchor: 'start', fontSize: 13, subtitleFontSize: 11, subtitleColor: '#555555' },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  legend: { labelFontSize: 10, titleFontSize: 11 },
} as const;

/** Colours and font of a figure: the report's (`reportChartTheme`) or an editor theme's. */
export interface ChartTheme {
  readonly background: string;
  /** Titles, axis and legend text, heatmap labels of faded cells. */
  readonly foreground: string;
  /** Subtitles. */
  readonly subtleForeground: string;
  /** The view's frame, grid lines and axis lines. */
  readonly lines: string;
  readonly font: string;
  /** Histogram bars and scatter points. */
  readonly primary: string;
  /** Massive activations. */
  readonly highlight: string;
  /** The random baseline's curve. */
  readonly neutral: string;
  /** Strategies other than random, in order. */
  readonly palette: readonly string[];
}

const strategyPalette = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#ff9da6', '#9d755d', '#eeca3b'];

export const reportChartTheme: ChartTheme = {
  background: '#ffffff',
  foreground: '#000000',
  subtleForeground: '#555555',
  lines: '#dddddd',
  font: 'sans-serif',
  primary: '#4c78a8',
  highlight: '#d62728',
  neutral: '#555555',
  palette: strategyPalette,
};

/** The Vega-Lite config for a theme: `chartConfig` itself for the report's theme. */
export function chartConfigFor(theme: ChartTheme = reportChartTheme): object {
  if (theme === reportChartTheme) return chartConfig;
  const text = { labelColor: theme.foreground, titleColor: theme.foreground };
  return {
    ...chartConfig,
    background: theme.background,
    font: theme.font,
    view: { stroke: theme.lines },
    title: { ...chartConfig.title, color: theme.foreground, subtitleColor: theme.subtleForeground },
    axis: { ...chartConfig.axis, ...text, domainColor: theme.lines, tickColor: theme.lines, gridColor: theme.lines },
    legend: { ...chartConfig.legend, ...text },
    text: { color: theme.foreground },
  };
}

/** The correlated statistics in stats.csv order (top_dim names a dimension and is never correlated). */
const statisticOrder = activationStatistics.filter((s) => s !== 'top_dim') as string[];

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** A number for a label: fixed decimals, a real minus sign, 'n/a' when not finite. */
export function formatFixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits).replace('-', '−') : 'n/a';
}

/** A number for a label: significant digits, 'n/a' when not finite. */
export function formatPrecision(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  return (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5 ? value.toExponential(digits - 1) : value.toPrecision(digits)).replace('-', '−');
}

/**
 * A chart's whole width in pixels (axes, title and legend included) where it must fit a container
 * (the panels pass their webview's width); absent: the fixed size the report uses.
 */
export interface ChartFit {
  readonly width: number;
}

/** Below this width a legend goes under the plot instead of beside it. */
export const narrowChartWidth = 560;

/** Where the legend goes: right of the plot, or below it when the chart must fit a narrow panel. */
export function legendOrient(fit: ChartFit | undefined): 'right' | 'bottom' {
  return fit && fit.width < narrowChartWidth ? 'bottom' : 'right';
}

/** The size keys of a spec: the report's fixed width, or the container's width with everything fitted inside it. */
function chartSize(fit: ChartFit | undefined, fixedWidth: number, height: number): object {
  if (!fit) return { width: fixedWidth, height };
  return { width: Math.max(160, Math.floor(fit.width)), height, autosize: { type: 'fit-x', contains: 'padding' } };
}

/** Axis values on bin edges: every edge when few, else every k-th so at most `most` ticks show. */
export function binEdgeTicks(edges: readonly number[], most = 8): number[] {
  const unique = [...new Set(edges)].sort((a, b) => a - b);
  if (unique.length <= most) return unique;
  const step = Math.ceil((unique.length - 1) / (most - 1));
  const ticks = unique.filter((_, i) => i % step === 0);
  return ticks.at(-1) === unique.at(-1) ? ticks : [...ticks, unique.at(-1)!];
}

/** The count axis's top: above the tallest bar, so it is never drawn against the plot's edge. */
function countDomainMax(maxCount: number, log: boolean): number {
  return log ? Math.max(1, maxCount) * 2 : Math.max(1, Math.ceil(maxCount * 1.1));
}

// --- (a) activation histogram ---------------------------------------------------------------------

export interface HistogramChartOptions {
  readonly mask: string;
  readonly layer: number;
  /** From activationHistograms(): examples, median |a| and the uncapped massive count. */
  readonly summary?: LayerSummary;
  /** Counts on a log scale (default true); false: linear counts. */
  readonly logCount?: boolean;
  readonly theme?: ChartTheme;
  readonly fit?: ChartFit;
  /** Layers of this mask where massive activations are listed: named when none are at this layer. */
  readonly massiveLayers?: readonly number[];
}

/** The caption when no massive activation is listed at `layer`: why, and where they are instead. */
function noMassiveText(layer: number, elsewhere: readonly number[] | undefined): string {
  const none = `no massive activation listed at layer ${layer} (none has |a| > 100 and > 1000 × median |a|)`;
  if (!elsewhere || elsewhere.length === 0) return none;
  return `${none}; listed at layer${elsewhere.length === 1 ? '' : 's'} ${elsewhere.join(', ')}`;
}

/** Histogram of |a| for one mask and layer (log x, log y), massive activations as red rules labelled `dim N`. */
export function activationHistogramSpec(rows: readonly HistogramRow[], massive: readonly MassiveRow[], options: HistogramChartOptions): TopLevelSpec {
  const { mask, layer, summary } = options;
  const theme = options.theme ?? reportChartTheme;
  const logCount = options.logCount ?? true;
  const bins = rows
    .filter((r) => r.mask === mask && r.layer === layer && r.count > 0)
    .map((r) => ({ bin_low: r.binLow, bin_high: r.binHigh, count: r.count }));
  const marks = massive
    .filter((m) => m.mask === mask && m.layer === layer)
    .map((m) => ({ abs: Math.abs(m.value), value: m.value, dim: m.dim, example: m.example, token: m.token }));
  // One label per dimension, at its largest |a|, stacked down from the top so labels do not overlap.
  const byDim = new Map<number, { abs: number; n: number }>();
  for (const m of marks) {
    const seen = byDim.get(m.dim);
    byDim.set(m.dim, { abs: Math.max(seen?.abs ?? 0, m.abs), n: (seen?.n ?? 0) + 1 });
  }
  const labels = [...byDim].sort((a, b) => a[1].abs - b[1].abs).map(([dim, { abs, n }], i) => ({ abs, dim, label: n > 1 ? `dim ${dim} (×${n})` : `dim ${dim}`, offset: 10 + 12 * i }));
  const xMax = Math.max(1e4, ...marks.map((m) => m.abs * 2));
  const total = bins.reduce((s, b) => s + b.count, 0);
  const massiveText = summary
    ? `${summary.massiveCount} massive activation${summary.massiveCount === 1 ? '' : 's'} (|a| > 100 and > 1000 × median |a| = ${formatPrecision(summary.medianAbs, 3)})`
    : marks.length > 0
      ? `${marks.length} massive activation${marks.length === 1 ? '' : 's'} listed (|a| > 100 and > 1000 × median |a|), marked in red`
      : noMassiveText(layer, options.massiveLayers);
  const examplesText = summary ? `${summary.examples} example${summary.examples === 1 ? '' : 's'}, ` : '';
  // Ticks on decades: the 0.1-decade bins start and end there.
  const decades = Array.from({ length: Math.floor(Math.log10(xMax)) + 5 }, (_, i) => 10 ** (i - 4)).filter((d) => d <= xMax);
  const x = { field: 'bin_low', type: 'quantitative', title: '|activation| (log scale)', scale: { type: 'log', domain: [1e-4, xMax] }, axis: { format: '~e', values: decades } } as const;
  const maxCount = Math.max(0, ...bins.map((b) => b.count));
  const layers: object[] = [
    {
      data: { values: bins },
      mark: { type: 'rect', color: theme.primary },
      encoding: {
        x,
        x2: { field: 'bin_high' },
        y: logCount
          ? { field: 'count', type: 'quantitative', title: 'count (log scale)', scale: { type: 'log', domain: [0.5, countDomainMax(maxCount, true)] } }
          : { field: 'count', type: 'quantitative', title: 'count', scale: { domain: [0, countDomainMax(maxCount, false)] }, axis: { tickMinStep: 1, format: 'd' } },
        y2: { value: 'height' },
        tooltip: [
          { field: 'bin_low', type: 'quantitative', title: '|a| from', format: '.3~e' },
          { field: 'bin_high', type: 'quantitative', title: '|a| to', format: '.3~e' },
          { field: 'count', type: 'quantitative', title: 'count' },
        ],
      },
    },
  ];
  if (marks.length > 0) {
    layers.push(
      {
        data: { values: marks },
        mark: { type: 'rule', color: theme.highlight, strokeWidth: 1.5 },
        encoding: {
          x: { field: 'abs', type: 'quantitative' },
          tooltip: [
            { field: 'dim', type: 'quantitative', title: 'dimension' },
            { field: 'value', type: 'quantitative', title: 'value', format: '.4~g' },
            { field: 'example', type: 'quantitative', title: 'example' },
            { field: 'token', type: 'quantitative', title: 'token' },
          ],
        },
      },
      {
        data: { values: labels },
        mark: { type: 'text', color: theme.highlight, align: 'right', dx: -3, fontSize: 10 },
        encoding: { x: { field: 'abs', type: 'quantitative' }, y: { field: 'offset', type: 'quantitative', scale: null }, text: { field: 'label' } },
      },
    );
  }
  return {
    title: {
      text: `Layer ${layer}: |MLP output| (${mask} mask)`,
      // One clause per line: a subtitle line is not wrapped, and a narrow panel would cut it.
      subtitle: [`${examplesText}${total} values, 0.1-decade bins`, 'below 1e-4 (and zeros) in the first bin, above 1e4 in the last', ...massiveText.split('; ')],
    },
    ...chartSize(options.fit, 420, 220),
    layer: layers,
    config: chartConfigFor(theme),
  } as TopLevelSpec;
}

// --- (a') distribution of a statistic across examples ----------------------------------------------

export interface StatisticValue {
  readonly example: number;
  readonly id: string;
  readonly value: number;
}

export interface StatisticBin {
  readonly bin_low: number;
  readonly bin_high: number;
  readonly count: number;
}

/** Equal-width bins over the finite values (about √n of them, 5 to 40); one bin when all are equal. */
export function statisticBins(values: readonly number[], binCount?: number): StatisticBin[] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [];
  let low = Infinity;
  let high = -Infinity;
  for (const v of finite) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  if (low === high) return [{ bin_low: low - 0.5, bin_high: high + 0.5, count: finite.length }];
  const n = binCount ?? Math.min(40, Math.max(5, Math.ceil(Math.sqrt(finite.length))));
  const width = (high - low) / n;
  const counts = new Array<number>(n).fill(0);
  for (const v of finite) counts[Math.min(n - 1, Math.floor((v - low) / width))]!++;
  return counts.map((count, i) => ({ bin_low: low + i * width, bin_high: i === n - 1 ? high : low + (i + 1) * width, count }));
}

export interface StatisticDistributionOptions {
  readonly mask: string;
  /** The activation site; absent: not named in the title. */
  readonly site?: string;
  readonly layer: number;
  readonly pooling: string;
  readonly statistic: string;
  /** Counts on a log scale (default false). */
  readonly logCount?: boolean;
  readonly theme?: ChartTheme;
  readonly fit?: ChartFit;
}

/** Histogram of one statistic's values across examples, for one mask / layer / pooling. */
export function statisticDistributionSpec(values: readonly StatisticValue[], options: StatisticDistributionOptions): TopLevelSpec {
  const theme = options.theme ?? reportChartTheme;
  const bins = statisticBins(values.map((v) => v.value));
  const finite = values.filter((v) => Number.isFinite(v.value)).length;
  const missing = values.length - finite;
  const maxCount = Math.max(0, ...bins.map((b) => b.count));
  const y = options.logCount
    ? { field: 'count', type: 'quantitative', title: 'examples (log scale)', scale: { type: 'log', domain: [0.5, countDomainMax(maxCount, true)] } }
    : { field: 'count', type: 'quantitative', title: 'examples', scale: { domain: [0, countDomainMax(maxCount, false)] }, axis: { tickMinStep: 1, format: 'd' } };
  // Ticks where the bins start and end, not where a nice scale would put them.
  const edges = binEdgeTicks(bins.flatMap((b) => [b.bin_low, b.bin_high]), options.fit && options.fit.width < narrowChartWidth ? 5 : 8);
  return {
    title: {
      text: `${options.site === undefined ? 'Layer' : `${options.site} layer`} ${options.layer}: ${options.statistic} (${options.pooling} pooling, ${options.mask} mask)`,
      subtitle: [`${finite} example${finite === 1 ? '' : 's'}${missing > 0 ? `, ${missing} without a value (nan)` : ''}`],
    },
    data: { values: bins.filter((b) => !options.logCount || b.count > 0) },
    mark: { type: 'rect', color: theme.primary, stroke: theme.background, strokeWidth: 0.5 },
    encoding: {
      x: {
        field: 'bin_low',
        type: 'quantitative',
        title: `${options.statistic} (${options.pooling} pooling)`,
        scale: { zero: false, nice: false, ...(edges.length > 1 ? { domain: [edges[0], edges.at(-1)] } : {}) },
        axis: { values: edges, format: '.3~g' },
      },
      x2: { field: 'bin_high' },
      y,
      y2: { value: 'height' },
      tooltip: [
        { field: 'bin_low', type: 'quantitative', title: 'from', format: '.4~g' },
        { field: 'bin_high', type: 'quantitative', title: 'to', format: '.4~g' },
        { field: 'count', type: 'quantitative', title: 'examples' },
      ],
    },
    ...chartSize(options.fit, 420, 220),
    config: chartConfigFor(theme),
  } as TopLevelSpec;
}

// --- (b) correlation heatmap ----------------------------------------------------------------------

export interface HeatmapOptions {
  readonly mask: string;
  /** The activation site whose cells are drawn (each site is its own layer × statistic grid). */
  readonly site: string;
  readonly estimator: string;
  readonly metric: string;
  readonly pooling: string;
  /** Cells with q ≥ alpha (or no q) are drawn faded; default 0.05. */
  readonly alpha?: number;
  /** Opacity of those cells; default 0.3. */
  readonly mutedOpacity?: number;
  /** Appended to the printed ρ of cells with q < alpha (default: nothing; the panels use '*'). */
  readonly significanceMark?: string;
  readonly theme?: ChartTheme;
}

export interface HeatmapCell {
  readonly mask: string;
  readonly site: string;
  readonly layer: number;
  readonly statistic: string;
  readonly rho: number | null;
  readonly label: string;
  readonly q: number | null;
  readonly significant: boolean;
  readonly dark: boolean;
  readonly ci: string;
  readonly n: number;
}

/** The heatmap's cells: one per layer × statistic of the chosen mask / site / estimator / metric / pooling. */
export function heatmapCells(rows: readonly CorrelationRow[], options: HeatmapOptions): HeatmapCell[] {
  const alpha = options.alpha ?? 0.05;
  return rows
    .filter((r) => r.mask === options.mask && r.site === options.site && r.estimator === options.estimator && r.metric === options.metric && r.pooling === options.pooling)
    .map((r) => {
      const significant = Number.isFinite(r.qValue) && r.qValue < alpha;
      return {
        mask: r.mask,
        site: r.site,
        layer: r.layer,
        statistic: r.statistic,
        rho: finiteOrNull(r.rho),
        label: formatFixed(r.rho, 2) + (significant ? (options.significanceMark ?? '') : ''),
        q: finiteOrNull(r.qValue),
        significant,
        dark: Number.isFinite(r.rho) && Math.abs(r.rho) > 0.6,
        ci: `${formatFixed(r.ciLow, 2)} to ${formatFixed(r.ciHigh, 2)}`,
        n: r.n,
      };
    });
}

/** Spearman ρ over layer × statistic, diverging colours fixed to [−1, 1], ρ printed, q ≥ alpha faded. */
export function correlationHeatmapSpec(rows: readonly CorrelationRow[], options: HeatmapOptions): TopLevelSpec {
  const cells = heatmapCells(rows, options);
  const theme = options.theme ?? reportChartTheme;
  const alpha = options.alpha ?? 0.05;
  const muted = options.mutedOpacity ?? 0.3;
  const marked = options.significanceMark ? `${options.significanceMark}: q < ${alpha}; ` : '';
  const seen = new Set(cells.map((c) => c.statistic));
  const order = [...statisticOrder.filter((s) => seen.has(s)), ...[...seen].filter((s) => !statisticOrder.includes(s)).sort()];
  const x = { field: 'layer', type: 'ordinal', title: 'layer', sort: 'ascending', axis: { labelAngle: 0 } } as const;
  const y = { field: 'statistic', type: 'nominal', title: 'statistic', sort: order } as const;
  const opacity = { condition: { test: 'datum.significant', value: 1 }, value: muted };
  return {
    title: {
      text: `Spearman ρ by layer × statistic, ${options.mask} mask, ${options.site}`,
      subtitle: [`vs ${options.estimator} ${options.metric}, ${options.pooling} pooling`, `${marked}faded: q ≥ ${alpha} (Benjamini–Hochberg); grey: no ρ`],
    },
    data: { values: cells },
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect', stroke: theme.background, strokeWidth: 1 },
        encoding: {
          color: {
            condition: { test: 'datum.rho === null', value: '#bbbbbb' },
            field: 'rho',
            type: 'quantitative',
            title: 'Spearman ρ',
            scale: { scheme: 'redblue', domain: [-1, 1], reverse: true },
          },
          opacity,
          tooltip: [
            { field: 'layer', type: 'ordinal', title: 'layer' },
            { field: 'statistic', type: 'nominal', title: 'statistic' },
            { field: 'label', type: 'nominal', title: 'Spearman ρ' },
            { field: 'ci', type: 'nominal', title: '95% CI' },
            { field: 'q', type: 'quantitative', title: 'q', format: '.3~g' },
            { field: 'n', type: 'quantitative', title: 'n' },
          ],
        },
      },
      {
        // 11 px, full opacity: legible on every cell (faded cells take the foreground colour on the background).
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'label' },
          // Dark text on the (light) significant cells; faded cells show the background through.
          color: {
            condition: [
              { test: 'datum.dark && datum.significant', value: '#ffffff' },
              { test: 'datum.significant', value: '#000000' },
            ],
            value: theme.foreground,
          },
        },
      },
    ],
    width: { step: 40 },
    height: { step: 24 },
    config: { ...chartConfigFor(theme), mark: { invalid: 'show' } },
  } as TopLevelSpec;
}

/** The heatmaps of several masks stacked in one figure (one colour scale, fixed to [−1, 1]). */
export function correlationHeatmapsSpec(rows: readonly CorrelationRow[], masks: readonly string[], options: Omit<HeatmapOptions, 'mask'>): TopLevelSpec {
  const parts: object[] = masks.map((mask) => {
    const part: Record<string, unknown> = { ...correlationHeatmapSpec(rows, { ...options, mask }) };
    delete part['config'];
    return part;
  });
  return {
    vconcat: parts,
    spacing: 24,
    resolve: { scale: { color: 'shared' } },
    config: { ...chartConfigFor(options.theme ?? reportChartTheme), mark: { invalid: 'show' } },
  } as TopLevelSpec;
}

// --- (c) statistic vs quality scatter ---------------------------------------------------------------

export interface ScatterPoint {
  readonly example: number;
  readonly id: string;
  /** The activation statistic's value. */
  readonly statistic: number;
  /** The example's quality value. */
  readonly quality: number;
  /** The example's input text (shown in the tooltip; the panels add it, the report does not). */
  readonly text?: string;
}

export interface ScatterOptions extends CorrelationCell {
  /** The cell's correlation, for the subtitle. */
  readonly correlation?: Pick<CorrelationRow, 'rho' | 'qValue' | 'ciLow' | 'ciHigh' | 'n'>;
  readonly theme?: ChartTheme;
  readonly fit?: ChartFit;
}

/** One grid cell: each example's statistic value (x) against its quality (y), example id in the tooltip. */
export function qualityScatterSpec(points: readonly ScatterPoint[], options: ScatterOptions): TopLevelSpec {
  const theme = options.theme ?? reportChartTheme;
  const values = points.filter((p) => Number.isFinite(p.statistic) && Number.isFinite(p.quality)).map((p) => ({ ...p }));
  const withText = values.some((p) => p.text !== undefined);
  const c = options.correlation;
  const subtitle = c
    ? `Spearman ρ = ${formatFixed(c.rho, 3)} (95% CI ${formatFixed(c.ciLow, 2)} to ${formatFixed(c.ciHigh, 2)}), q = ${formatPrecision(c.qValue, 2)}, n = ${c.n}`
    : `${values.length} examples`;
  return {
    title: {
      text: `${options.statistic} (${options.pooling}) vs ${options.metric}`,
      subtitle: [`${options.site} layer ${options.layer}, ${options.mask} mask, quality by ${options.estimator}`, subtitle],
    },
    data: { values },
    mark: { type: 'point', filled: true, size: 40, opacity: 0.7, color: theme.primary, ...(withText ? { cursor: 'pointer' } : {}) },
    encoding: {
      x: { field: 'statistic', type: 'quantitative', title: `${options.statistic} (${options.pooling} pooling, ${options.site} layer ${options.layer})`, scale: { zero: false } },
      y: { field: 'quality', type: 'quantitative', title: `${options.metric} (${options.estimator})`, scale: { zero: false } },
      tooltip: [
        { field: 'example', type: 'quantitative', title: 'example' },
        { field: 'id', type: 'nominal', title: 'id' },
        { field: 'statistic', type: 'quantitative', title: options.statistic, format: '.4~g' },
        { field: 'quality', type: 'quantitative', title: options.metric, format: '.4~g' },
        ...(withText ? [{ field: 'text', type: 'nominal', title: 'text' }] : []),
      ],
    },
    ...chartSize(options.fit, 360, 260),
    config: chartConfigFor(theme),
  } as TopLevelSpec;
}

// --- (d) learning curves ------------------------------------------------------------------------------

export interface LearningCurveOptions {
  readonly metric: string;
  /** The band: min–max over seeds (default) or mean ± 1 sd. */
  readonly band?: 'min-max' | 'sd';
  readonly theme?: ChartTheme;
  readonly fit?: ChartFit;
}

/** Mean over seeds vs budget per strategy (log2 x when every budget is positive), band over seeds, random dashed grey. */
export function learningCurvesSpec(rows: readonly CurveRow[], options: LearningCurveOptions): TopLevelSpec {
  const band = options.band ?? 'min-max';
  const theme = options.theme ?? reportChartTheme;
  const points = summarizeCurves(rows, options.metric).map((p) => ({
    ...p,
    low: band === 'sd' ? p.mean - p.sd : p.min,
    high: band === 'sd' ? p.mean + p.sd : p.max,
    random: p.strategy === 'random',
  }));
  const strategies = [...new Set(points.map((p) => p.strategy))];
  const others = strategies.filter((s) => s !== 'random');
  const domain = strategies.includes('random') ? ['random', ...others] : others;
  const range = domain.map((s) => (s === 'random' ? theme.neutral : theme.palette[others.indexOf(s) % theme.palette.length]!));
  const budgets = [...new Set(points.map((p) => p.budget))].sort((a, b) => a - b);
  const logX = budgets.length > 0 && budgets[0]! > 0;
  const maxSeeds = Math.max(0, ...points.map((p) => p.seeds));
  const x = {
    field: 'budget',
    type: 'quantitative',
    title: 'budget (examples)',
    scale: logX ? { type: 'log', base: 2 } : { zero: false },
    axis: { values: budgets, format: 'd' },
  };
  // Swatches at full colour (not the band's opacity), labels never cut, below the plot when narrow.
  const orient = legendOrient(options.fit);
  const legend = { orient, symbolOpacity: 1, symbolType: 'stroke', symbolStrokeWidth: 3, labelLimit: 0, ...(orient === 'bottom' ? { direction: 'horizontal', columns: Math.max(1, Math.floor((options.fit?.width ?? 420) / 130)) } : {}) };
  const color = { field: 'strategy', type: 'nominal', title: 'strategy', scale: { domain, range }, legend };
  return {
    title: {
      text: `Learning curves: ${options.metric}`,
      subtitle: [`mean over ${maxSeeds} seed${maxSeeds === 1 ? '' : 's'}, band: ${band === 'sd' ? 'mean ± 1 sd' : 'min–max'} over seeds`, theme === reportChartTheme ? 'random: dashed grey' : 'random: dashed'],
    },
    data: { values: points },
    encoding: { x, color },
    layer: [
      {
        mark: { type: 'area', opacity: 0.15 },
        encoding: { y: { field: 'low', type: 'quantitative', title: options.metric, scale: { zero: false } }, y2: { field: 'high' } },
      },
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: options.metric },
          strokeDash: { condition: { test: 'datum.random', value: [6, 4] }, value: [1, 0] },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 30 },
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: options.metric },
          tooltip: [
            { field: 'strategy', type: 'nominal', title: 'strategy' },
            { field: 'budget', type: 'quantitative', title: 'budget' },
            { field: 'mean', type: 'quantitative', title: `mean ${options.metric}`, format: '.4~g' },
            { field: 'min', type: 'quantitative', title: 'min', format: '.4~g' },
            { field: 'max', type: 'quantitative', title: 'max', format: '.4~g' },
            { field: 'seeds', type: 'quantitative', title: 'seeds' },
          ],
        },
      },
    ],
    ...chartSize(options.fit, 420, 260),
    config: chartConfigFor(theme),
  } as TopLevelSpec;
}
