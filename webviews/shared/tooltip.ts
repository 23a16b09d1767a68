/// <reference lib="dom" />
// The charts' tooltip, text only: vega hands the handler a tooltip value ({title: value} for
// Vega-Lite tooltips) that can hold dataset text; each key and value is written with textContent,
// so `<img src=x onerror=…>` in a dataset shows as those characters and is never parsed as HTML.
// (vega-embed's default handler, vega-tooltip, builds HTML strings and injects a <style>, which
// the panels' Content-Security-Policy would block.)

export type TooltipEntry = readonly [key: string, value: string];

/** Longest value shown (a dataset text can be a whole document). */
export const maxTooltipValueChars = 1500;

function textOf(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value) ?? String(value);
  return text.length > maxTooltipValueChars ? `${text.slice(0, maxTooltipValueChars)}…` : text;
}

/** The rows a tooltip value shows: an object's entries, or one unnamed row; none for nothing. */
export function tooltipEntries(value: unknown): TooltipEntry[] {
  if (value === null || value === undefined || value === '') return [];
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, textOf(v)] as const);
  }
  return [['', textOf(value)]];
}

/** A vega tooltip handler drawing into one element of `parent`; pass `call` as the handler. */
export class TextTooltip {
  private readonly el: HTMLElement;

  constructor(
    private readonly doc: Document,
    parent: HTMLElement,
  ) {
    this.el = doc.createElement('div');
    this.el.className = 'chart-tooltip';
    this.el.setAttribute('role', 'tooltip');
    this.el.hidden = true;
    parent.append(this.el);
  }

  readonly call = (_handler: unknown, event: MouseEvent, _item: unknown, value: unknown): void => {
    const entries = tooltipEntries(value);
    if (entries.length === 0) {
      this.hide();
      return;
    }
    const rows = entries.map(([key, text]) => {
      const row = this.doc.createElement('div');
      row.className = 'row';
      if (key !== '') {
        const keyEl = this.doc.createElement('span');
        keyEl.className = 'key';
        keyEl.textContent = key;
        row.append(keyEl);
      }
      const valueEl = this.doc.createElement('span');
      valueEl.className = 'value';
      valueEl.textContent = text;
      row.append(valueEl);
      return row;
    });
    this.el.replaceChildren(...rows);
    this.el.hidden = false;
    // Beside the pointer, kept inside the window.
    const width = this.doc.defaultView?.innerWidth ?? Infinity;
    const height = this.doc.defaultView?.innerHeight ?? Infinity;
    let x = event.clientX + 12;
    let y = event.clientY + 12;
    if (x + this.el.offsetWidth > width) x = Math.max(0, event.clientX - 12 - this.el.offsetWidth);
    if (y + this.el.offsetHeight > height) y = Math.max(0, event.clientY - 12 - this.el.offsetHeight);
    this.el.style.left = `${x}px`;
    this.el.style.top = `${y}px`;
  };

  hide(): void {
    this.el.hidden = true;
  }
}
