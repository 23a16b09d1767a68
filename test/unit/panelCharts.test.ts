import assert from 'node:assert/strict';
import type { TopLevelSpec } from 'vega-lite';
import type { CorrelationRow } from '../../src/core/experiment/correlations.js';
import {
  activationHistogramSpec,
  chartConfig,
  chartConfigFor,
  binEdgeTicks,
  correlationHeatmapSpec,
  correlationHeatmapsSpec,
  heatmapCells,
  learningCurvesSpec,
  qualityScatterSpec,
  reportChartTheme,
  statisticBins,
  statisticDistributionSpec,
  type ChartTheme,
} from '../../src/core/report/charts.js';
import { renderSvg } from '../../src/core/report/renderReport.js';
import { toCsv } from '../../webviews/shared/csv.js';
import { chartThemeFromCss } from '../../webviews/shared/theme.js';
import { TextTooltip, tooltipEntries } from '../../webviews/shared/tooltip.js';
import { hostileText } from '../support/panelRunFolder.js';

/** Just enough DOM for TextTooltip; innerHTML and friends throw, so any use of them fails the test. */
class FakeElement {
  children: FakeElement[] = [];
  className = '';
  hidden = false;
  readonly style: Record<string, string> = {};
  readonly attributes = new Map<string, string>();
  offsetWidth = 120;
  offsetHeight = 40;
  private text = '';
  constructor(readonly tagName: string) {}
  set innerHTML(_value: string) {
    throw new Error('innerHTML used');
  }
  set outerHTML(_value: string) {
    throw new Error('outerHTML used');
  }
  insertAdjacentHTML(): void {
    throw new Error('insertAdjacentHTML used');
  }
  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join('');
  }
  set textContent(value: string) {
    this.text = value;
    this.children = [];
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  append(...nodes: FakeElement[]): void {
    this.children.push(...nodes);
  }
  replaceChildren(...nodes: FakeElement[]): void {
    this.text = '';
    this.children = nodes;
  }
}

function fakeDocument() {
  const created: string[] = [];
  const doc = {
    createElement: (tag: string) => {
      created.push(tag);
      return new FakeElement(tag);
    },
    defaultView: { innerWidth: 800, innerHeight: 600 },
  };
  return { doc: doc as unknown as Document, created };
}

const darkTheme: ChartTheme = {
  background: '#1e1e1e',
  foreground: '#cccccc',
  subtleForeground: '#9d9d9d',
  lines: '#444444',
  font: 'Segoe WPC, sans-serif',
  primary: '#3794ff',
  highlight: '#f14c4c',
  neutral: '#cccccc',
  palette: ['#3794ff', '#d18616'],
};

describe('chart panel rendering pieces', () => {
  describe('tooltip', () => {
    it('shows hostile dataset text as text, never as HTML', () => {
      const { doc, created } = fakeDocument();
      const parent = new FakeElement('body');
      const tooltip = new TextTooltip(doc, parent as unknown as HTMLElement);
      tooltip.call(undefined, { clientX: 10, clientY: 20 } as MouseEvent, undefined, { example: '2', id: hostileText, text: hostileText });
      const el = parent.children[0]!;
      assert.equal(el.hidden, false);
      assert.deepEqual([...new Set(created)].sort(), ['div', 'span']);
      const values = el.children.map((row) => row.children.map((c) => [c.className, c.textContent]));
      assert.deepEqual(values, [
        [['key', 'example'], ['value', '2']],
        [['key', 'id'], ['value', hostileText]],
        [['key', 'text'], ['value', hostileText]],
      ]);
      assert.deepEqual(el.style, { left: '22px', top: '32px' });
      tooltip.call(undefined, { clientX: 0, clientY: 0 } as MouseEvent, undefined, null);
      assert.equal(el.hidden, true);
    });

    it('turns a tooltip value into rows, long text cut', () => {
      assert.deepEqual(tooltipEntries(undefined), []);
      assert.deepEqual(tooltipEntries(''), []);
      assert.deepEqual(tooltipEntries(3), [['', '3']]);
      assert.deepEqual(tooltipEntries({ a: 1, b: undefined, c: { d: 2 } }), [['a', '1'], ['c', '{"d":2}']]);
      assert.equal(tooltipEntries({ t: 'x'.repeat(5000) })[0]![1].length, 1501);
    });
  });

  describe('scatter plot', () => {
    const points = [
      { example: 0, id: 'a', statistic: 1, quality: 0.5, text: 'fine' },
      { example: 2, id: hostileText, statistic: 2, quality: 0.1, text: hostileText },
    ];
    const options = { mask: 'isolated', site: 'mlp_out', layer: 1, statistic: 'kurtosis', pooling: 'all', estimator: 'one-shot', metric: 'gold_logprob' };

    it('puts the example text in the tooltip when the points have it', () => {
      const spec = qualityScatterSpec(points, options) as { encoding: { tooltip: { field: string }[] } };
      assert.deepEqual(spec.encoding.tooltip.map((t) => t.field), ['example', 'id', 'statistic', 'quality', 'text']);
      const report = qualityScatterSpec(points.map(({ text, ...p }) => (void text, p)), options) as { encoding: { tooltip: { field: string }[] } };
      assert.deepEqual(report.encoding.tooltip.map((t) => t.field), ['example', 'id', 'statistic', 'quality']);
    });

    it('exports SVG with hostile text escaped', async () => {
      const svg = await renderSvg(qualityScatterSpec(points, { ...options, theme: darkTheme }));
      assert.doesNotMatch(svg, /<img/);
      // The text is in the SVG (the points' aria descriptions), escaped, and nowhere else.
      const escaped = '&lt;img src=x onerror=alert(1)&gt;';
      assert.ok(svg.includes(escaped));
      assert.doesNotMatch(svg.split(escaped).join(''), /onerror/i);
      assert.match(svg, /#1e1e1e/);
    });
  });

  describe('themes', () => {
    it('keeps the report’s config for the report theme and themes every text colour otherwise', () => {
      assert.equal(chartConfigFor(), chartConfig);
      assert.equal(chartConfigFor(reportChartTheme), chartConfig);
      const config = chartConfigFor(darkTheme) as { background: string; font: string; axis: { labelColor: string }; title: { color: string; subtitleColor: string } };
      assert.equal(config.background, '#1e1e1e');
      assert.equal(config.font, 'Segoe WPC, sans-serif');
      assert.equal(config.axis.labelColor, '#cccccc');
      assert.deepEqual([config.title.color, config.title.subtitleColor], ['#cccccc', '#9d9d9d']);
    });

    it('reads VS Code’s CSS variables, with the report’s colours where one is unset', () => {
      const vars: Record<string, string> = {
        '--vscode-editor-background': ' #1e1e1e',
        '--vscode-editor-foreground': '#d4d4d4',
        '--vscode-font-family': '-apple-system, "Segoe WPC"',
        '--vscode-charts-blue': '#3794ff',
        '--vscode-charts-red': '#f14c4c',
        '--vscode-charts-green': '#89d185',
      };
      const theme = chartThemeFromCss((name) => vars[name] ?? '');
      assert.equal(theme.background, '#1e1e1e');
      assert.equal(theme.foreground, '#d4d4d4');
      assert.equal(theme.subtleForeground, '#d4d4d4');
      assert.equal(theme.lines, reportChartTheme.lines);
      assert.equal(theme.font, '-apple-system, "Segoe WPC"');
      assert.equal(theme.primary, '#3794ff');
      assert.equal(theme.highlight, '#f14c4c');
      assert.deepEqual(theme.palette.slice(0, 4), ['#3794ff', '#89d185', '#f14c4c', reportChartTheme.palette[3]]);
      assert.equal(theme.palette.length, reportChartTheme.palette.length);
      assert.deepEqual(chartThemeFromCss(() => ''), { ...reportChartTheme, subtleForeground: reportChartTheme.foreground, neutral: reportChartTheme.foreground });
    });

    it('draws the histogram in the theme’s colours, counts on a linear scale on request', async () => {
      const bins = [{ mask: 'm', layer: 0, binLow: 1, binHigh: 2, count: 5 }];
      const spec = activationHistogramSpec(bins, [{ mask: 'm', layer: 0, example: 0, token: 0, dim: 9, value: 500 }], { mask: 'm', layer: 0, logCount: false, theme: darkTheme });
      const layers = (spec as { layer: { mark: { color: string }; encoding: { y?: { scale?: unknown } } }[] }).layer;
      assert.equal(layers[0]!.mark.color, '#3794ff');
      // Linear counts from 0, with room above the tallest bar.
      assert.deepEqual(layers[0]!.encoding.y!.scale, { domain: [0, 6] });
      assert.equal(layers[1]!.mark.color, '#f14c4c');
      assert.match(await renderSvg(spec), /dim 9/);
    });
  });

  describe('correlation heatmaps', () => {
    const row = (mask: string, layer: number, rho: number, q: number, site = 'mlp_out'): CorrelationRow => ({
      mask, site, layer, statistic: 'kurtosis', pooling: 'all', estimator: 'e', metric: 'm', rho, pValue: q, qValue: q, ciLow: rho - 0.1, ciHigh: rho + 0.1, n: 9, partialRho: NaN, partialPValue: NaN, partialQValue: NaN,
    });
    const rows = [row('isolated', 0, 0.5, 0.01), row('isolated', 1, -0.2, 0.3), row('in-context', 0, 0.7, 0.02), row('isolated', 0, 0.9, 0.01, 'resid_post')];

    it('stars significant cells when asked and names each cell’s mask', () => {
      const cells = heatmapCells(rows, { mask: 'isolated', site: 'mlp_out', estimator: 'e', metric: 'm', pooling: 'all', significanceMark: '*' });
      assert.deepEqual(cells.map((c) => [c.mask, c.label]), [['isolated', '0.50*'], ['isolated', '−0.20']]);
      assert.deepEqual(heatmapCells(rows, { mask: 'isolated', site: 'mlp_out', estimator: 'e', metric: 'm', pooling: 'all' }).map((c) => c.label), ['0.50', '−0.20']);
    });

    it('draws one site’s grid at a time', () => {
      const cells = heatmapCells(rows, { mask: 'isolated', site: 'resid_post', estimator: 'e', metric: 'm', pooling: 'all' });
      assert.deepEqual(cells.map((c) => [c.site, c.layer, c.label]), [['resid_post', 0, '0.90']]);
    });

    it('stacks the masks’ heatmaps in one figure', async () => {
      const spec = correlationHeatmapsSpec(rows, ['isolated', 'in-context'], { site: 'mlp_out', estimator: 'e', metric: 'm', pooling: 'all', significanceMark: '*' }) as TopLevelSpec & { vconcat: { title: { text: string } }[] };
      assert.deepEqual(spec.vconcat.map((p) => p.title.text), ['Spearman ρ by layer × statistic, isolated mask, mlp_out', 'Spearman ρ by layer × statistic, in-context mask, mlp_out']);
      const svg = await renderSvg(spec);
      assert.match(svg, /0\.70\*/);
      assert.match(svg, /−0\.20</);
    });
  });

  describe('statistic distribution', () => {
    it('bins the finite values into equal widths', () => {
      assert.deepEqual(statisticBins([]), []);
      assert.deepEqual(statisticBins([2, 2, NaN]), [{ bin_low: 1.5, bin_high: 2.5, count: 2 }]);
      const bins = statisticBins([0, 1, 2, 3, 4, 10], 5);
      assert.deepEqual(bins.map((b) => b.count), [2, 2, 1, 0, 1]);
      assert.equal(bins[0]!.bin_low, 0);
      assert.equal(bins.at(-1)!.bin_high, 10);
    });

    it('draws a statistic across examples and says how many have no value', async () => {
      const values = [1, 2, 2, 3, NaN].map((value, example) => ({ example, id: String(example), value }));
      const svg = await renderSvg(statisticDistributionSpec(values, { mask: 'isolated', layer: 4, pooling: 'last', statistic: 'kurtosis' }));
      assert.match(svg, /Layer 4: kurtosis \(last pooling, isolated mask\)/);
      assert.match(svg, /4 examples, 1 without a value \(nan\)/);
    });
  });

  describe('CSV export', () => {
    it('quotes text with commas, quotes and newlines, writes nan as the run folder does, leaves missing cells empty', () => {
      assert.equal(
        toCsv(['id', 'text', 'value'], [
          { id: 'a', text: 'x, "y"\nz', value: 1.5 },
          { id: hostileText, text: undefined, value: NaN },
          { id: 'c', value: null },
        ]),
        `id,text,value\na,"x, ""y""\nz",1.5\n${hostileText},,nan\nc,,\n`,
      );
    });
  });

  describe('charts that fit their panel (issue 11 item 13)', () => {
    const svgWidth = (svg: string): number => Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)![1]);
    const curves = ['random', 'k-center-greedy', 'label-balanced-random', 'top-quality'].flatMap((strategy, s) =>
      [2, 4, 8].flatMap((budget) => [0, 1].map((seed) => ({ strategy, seed, budget, metric: 'accuracy', value: 0.5 + 0.02 * s + 0.01 * seed + budget / 100 }))),
    );

    it('fits the learning curves into a 526 px panel with every legend label whole, below the plot', async () => {
      const spec = learningCurvesSpec(curves, { metric: 'accuracy', fit: { width: 526 } });
      const svg = await renderSvg(spec);
      assert.ok(svgWidth(svg) <= 526, `the chart is ${svgWidth(svg)} px wide`);
      for (const name of ['random', 'k-center-greedy', 'label-balanced-random', 'top-quality']) assert.match(svg, new RegExp(`>${name}</text>`), name);
      const legend = (spec as { encoding: { color: { legend: { orient: string; symbolOpacity: number } } } }).encoding.color.legend;
      assert.equal(legend.orient, 'bottom');
      assert.equal(legend.symbolOpacity, 1, 'swatches at full colour, not the band’s 0.15');
      assert.equal((learningCurvesSpec(curves, { metric: 'accuracy', fit: { width: 900 } }) as typeof spec & { encoding: { color: { legend: { orient: string } } } }).encoding.color.legend.orient, 'right');
    });

    it('fills a wide panel instead of keeping the report’s fixed width', async () => {
      const svg = await renderSvg(learningCurvesSpec(curves, { metric: 'accuracy', fit: { width: 1000 } }));
      assert.ok(svgWidth(svg) > 900 && svgWidth(svg) <= 1000, `the chart is ${svgWidth(svg)} px wide`);
      // The report keeps its size.
      assert.equal((learningCurvesSpec(curves, { metric: 'accuracy' }) as { width: number }).width, 420);
    });

    it('draws the histogram’s tallest bar below the top, with ticks on bin edges', async () => {
      const values = [0, 1, 1, 2, 2, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((value, example) => ({ example, id: String(example), value }));
      const spec = statisticDistributionSpec(values, { mask: 'isolated', layer: 1, pooling: 'mean', statistic: 'kurtosis', fit: { width: 526 } }) as unknown as { encoding: { x: { axis: { values: number[] } }; y: { scale: { domain: number[] } } } };
      const bins = statisticBins(values.map((v) => v.value));
      const edges = new Set(bins.flatMap((b) => [b.bin_low, b.bin_high]));
      assert.ok(spec.encoding.x.axis.values.length >= 2);
      assert.ok(spec.encoding.x.axis.values.every((t) => edges.has(t)), `ticks ${spec.encoding.x.axis.values.join(', ')} are bin edges`);
      const tallest = Math.max(...bins.map((b) => b.count));
      assert.ok(spec.encoding.y.scale.domain[1]! > tallest, 'the count axis goes above the tallest bar');
      const svg = await renderSvg(spec as never);
      assert.ok(svgWidth(svg) <= 526);
      assert.deepEqual(binEdgeTicks([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 5), [0, 3, 6, 9, 12]);
    });

    it('says why no massive activation is marked at a layer, and where they are', () => {
      const spec = activationHistogramSpec([{ mask: 'isolated', layer: 0, binLow: 0.1, binHigh: 0.125, count: 10 }] as never, [], { mask: 'isolated', layer: 0, massiveLayers: [1] }) as { title: { subtitle: string[] } };
      // One clause per line, so a narrow panel does not cut the second.
      assert.deepEqual(spec.title.subtitle.slice(2), ['no massive activation listed at layer 0 (none has |a| > 100 and > 1000 × median |a|)', 'listed at layer 1']);
      assert.doesNotMatch(spec.title.subtitle.join(' '), /0 massive activations listed/);
    });

    it('prints heatmap cell text at 11 px and full opacity', () => {
      const row = (layer: number, rho: number, q: number): CorrelationRow => ({
        mask: 'isolated', site: 'mlp_out', layer, statistic: 'kurtosis', pooling: 'all', estimator: 'e', metric: 'm', rho, pValue: q, qValue: q, ciLow: rho - 0.1, ciHigh: rho + 0.1, n: 9, partialRho: NaN, partialPValue: NaN, partialQValue: NaN,
      });
      const spec = correlationHeatmapSpec([row(0, 0.5, 0.01), row(1, -0.2, 0.3)], { mask: 'isolated', site: 'mlp_out', estimator: 'e', metric: 'm', pooling: 'all' }) as unknown as { layer: { mark: { type: string; fontSize?: number }; encoding: { opacity?: unknown } }[] };
      const text = spec.layer.find((l) => l.mark.type === 'text')!;
      assert.ok((text.mark.fontSize ?? 0) >= 11);
      assert.equal(text.encoding.opacity, undefined, 'no faded text');
    });
  });
});
