/// <reference lib="dom" />
// Small DOM helpers for the panels. Text from data goes in with textContent only.
import type { RunInfo } from '../../src/extension/panels/panelMessages.js';

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the panel's HTML`);
  return el as T;
}

export interface Choice {
  readonly value: string;
  readonly label: string;
}

/** Replaces a select's options; keeps `wanted` if offered, else the first. Returns the chosen value. */
export function fillSelect(select: HTMLSelectElement, choices: readonly Choice[], wanted?: string): string {
  select.replaceChildren(
    ...choices.map((c) => {
      const option = document.createElement('option');
      option.value = c.value;
      option.textContent = c.label;
      return option;
    }),
  );
  const value = choices.some((c) => c.value === wanted) ? wanted! : (choices[0]?.value ?? '');
  select.value = value;
  select.disabled = choices.length <= 1;
  return value;
}

export const choices = (values: readonly string[]): Choice[] => values.map((v) => ({ value: v, label: v }));

/** The #error element: the message, or hidden when there is none. */
export function showError(message: string | undefined): void {
  const el = byId('error');
  el.textContent = message ?? '';
  el.hidden = message === undefined;
}

/** The run's name (its model as the tooltip) and, for a generated model, the banner above everything. */
export function showRun(run: RunInfo): void {
  const name = byId('run-name');
  name.textContent = run.name;
  name.title = run.model ? `model: ${run.model}` : run.dir;
  const banner = byId('model-banner');
  banner.textContent = run.generatedModelBanner ?? '';
  banner.hidden = run.generatedModelBanner === undefined;
}

/** Notes (what is missing, not errors) as one paragraph each, or hidden when there are none. */
export function showNotes(el: HTMLElement, notes: readonly string[]): void {
  el.replaceChildren(
    ...notes.map((note) => {
      const p = document.createElement('p');
      p.textContent = note;
      return p;
    }),
  );
  el.hidden = notes.length === 0;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
