/// <reference lib="dom" />
// Small DOM helpers for the panels. Text from data goes in with textContent only.

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
