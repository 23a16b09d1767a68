/// <reference lib="dom" />
// One chart in a panel: a Vega-Lite spec (from src/core/report/charts.ts) embedded with vega-embed
// under the panel's Content-Security-Policy, its clicks, and its export (SVG, PNG, CSV) through
// the extension's save dialog.
//   - `ast: true`: vega evaluates expressions with vega-interpreter instead of compiling them with
//     Function, which the CSP (no 'unsafe-eval') forbids.
//   - `defaultStyle: false`, `actions: false`: vega-embed would inject a <style> (blocked by the
//     CSP) for its actions menu; the panels have their own export buttons.
//   - the text-only tooltip handler of tooltip.ts instead of vega-tooltip's HTML.
import embed, { type Result } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import type { ChartFit } from '../../src/core/report/charts.js';
import type { ExportFormat, WebviewMessage } from '../../src/extension/panels/panelMessages.js';
import { TextTooltip } from './tooltip.js';

export type Datum = Readonly<Record<string, unknown>>;

let sharedTooltip: TextTooltip | undefined;

/** The panel's one tooltip, shared by its charts. */
function panelTooltip(): TextTooltip {
  sharedTooltip ??= new TextTooltip(document, document.body);
  return sharedTooltip;
}

export class ChartSlot {
  private current: Result | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly tooltip = panelTooltip();

  constructor(readonly container: HTMLElement) {}

  /** Renders `spec` in the container (after any render in flight); `onClick` gets the clicked mark's datum. */
  render(spec: TopLevelSpec, onClick?: (datum: Datum) => void): Promise<void> {
    const next = this.queue.then(async () => {
      this.clear();
      const result = await embed(this.container, spec, {
        renderer: 'svg',
        actions: false,
        defaultStyle: false,
        ast: true,
        tooltip: this.tooltip.call,
      });
      this.current = result;
      if (onClick) {
        result.view.addEventListener('click', (_event, item) => {
          const datum = (item as { datum?: unknown } | null | undefined)?.datum;
          if (datum && typeof datum === 'object') onClick(datum as Datum);
        });
      }
    });
    // A failed render does not block the next one; the caller sees the failure.
    this.queue = next.catch(() => undefined);
    return next;
  }

  clear(): void {
    this.tooltip.hide();
    this.current?.finalize();
    this.current = undefined;
    this.container.replaceChildren();
  }

  get hasChart(): boolean {
    return this.current !== undefined;
  }

  /** The chart as SVG text or a PNG data URL. */
  async image(format: 'svg' | 'png'): Promise<string> {
    await this.queue;
    if (!this.current) throw new Error('No chart to export yet.');
    return format === 'svg' ? this.current.view.toSVG() : this.current.view.toImageURL('png', 2);
  }
}

export interface ExportSource {
  readonly slot: ChartSlot;
  /** File name without extension. */
  readonly name: () => string;
  readonly csv: () => string;
}

/** Wires the buttons `#<prefix>export-svg|png|csv` to send the chart or its data to the extension. */
export function wireExports(prefix: string, source: ExportSource, post: (message: WebviewMessage) => void, onError: (error: unknown) => void): void {
  for (const format of ['svg', 'png', 'csv'] as const satisfies readonly ExportFormat[]) {
    const button = document.getElementById(`${prefix}export-${format}`);
    button?.addEventListener('click', () => {
      void (async () => {
        const content = format === 'csv' ? source.csv() : await source.slot.image(format);
        post({ type: 'export', format, content, name: source.name() });
      })().catch(onError);
    });
  }
}

/** A chart's file name from its parts: only [A-Za-z0-9._-], as the extension accepts it. */
export function fileName(...parts: readonly (string | number)[]): string {
  const name = parts.map((p) => String(p).replace(/[^A-Za-z0-9._-]+/g, '_')).join('-').replace(/^\.+/, '').slice(0, 120);
  return name === '' ? 'chart' : name;
}

/** The width a chart in `container` must fit: the container's content width (the panel's, less its padding). */
export function panelFit(container: HTMLElement): ChartFit {
  const style = getComputedStyle(container);
  const padding = (parseFloat(style.paddingLeft) || 0) + (parseFloat(style.paddingRight) || 0);
  const width = (container.clientWidth || document.body.clientWidth) - padding;
  return { width: Math.max(200, Math.floor(width)) };
}

/** Calls `redraw` when the panel's width changes (debounced): charts follow the panel's size. */
export function onPanelResize(redraw: () => void): void {
  let lastWidth = document.body.clientWidth;
  let timer: ReturnType<typeof setTimeout> | undefined;
  new ResizeObserver(() => {
    const width = document.body.clientWidth;
    if (width === lastWidth) return;
    lastWidth = width;
    if (timer) clearTimeout(timer);
    timer = setTimeout(redraw, 150);
  }).observe(document.body);
}
