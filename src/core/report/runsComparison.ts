// Runs side by side (like DVC's experiments table): per run its model (with the generated-model
// banner where run.json says the generator wrote it), its dataset, per mask the largest |ρ| with its
// max-aware interval, the length baseline and the noise ceiling, and per budget random's test metric
// and the best strategy's gain over random with its paired interval. The figures are the ones the
// reproduce table reads (core/reproduce/reproduceTable.ts readCellRows), so both agree.
// `runsComparisonTable` and `runsComparisonHtml` are pure; `readRunComparison` reads one run folder.
import path from 'node:path';
import { generatedModelBanner, isGeneratedModel } from '../experiment/modelLabel.js';
import { readRunRecord } from '../experiment/runExperiment.js';
import { readCellRows, type TableRow } from '../reproduce/reproduceTable.js';

/** One run as the comparison shows it. */
export interface RunComparisonEntry {
  readonly name: string;
  readonly dir: string;
  /** The model's file name (run.json's model name when it has one); empty when the run has no model. */
  readonly model: string;
  readonly generated: boolean;
  readonly dataset: string;
  readonly status: string;
  /** One row per mask of the headline; empty when the run is not complete. */
  readonly rows: readonly TableRow[];
  /** Why the run has no figures (not complete, a file missing). */
  readonly problem?: string;
}

/** A line of the comparison: its label and one cell per run, in the runs' order. */
export interface ComparisonLine {
  readonly label: string;
  readonly cells: readonly string[];
}

export interface ComparisonSection {
  readonly title: string;
  readonly lines: readonly ComparisonLine[];
}

export interface RunsComparison {
  readonly runs: readonly { readonly name: string; readonly dir: string; readonly banner?: string }[];
  readonly sections: readonly ComparisonSection[];
}

/** Reads the comparison entry of the run folder `dir`; a run that cannot be read says why in `problem`. */
export async function readRunComparison(dir: string): Promise<RunComparisonEntry> {
  const name = path.basename(dir);
  const record = await readRunRecord(dir).catch((error: Error) => {
    throw new Error(`${path.join(dir, 'run.json')}: ${error.message}`);
  });
  if (!record) return { name, dir, model: '', generated: false, dataset: '', status: 'missing', rows: [], problem: `${path.join(dir, 'run.json')} is missing` };
  const facts = record.model as (Record<string, unknown> & { path?: string }) | undefined;
  const model = facts ? (typeof facts['name'] === 'string' && facts['name'] ? facts['name'] : path.basename(String(facts.path ?? ''))) : '';
  const dataset = path.basename(record.data.file);
  const base = { name, dir, model, generated: isGeneratedModel(facts), dataset, status: record.status };
  if (record.status !== 'complete') return { ...base, rows: [], problem: `the run is ${record.status}${record.error ? `: ${record.error}` : ''}` };
  try {
    return { ...base, rows: (await readCellRows(dir, model, dataset)) ?? [] };
  } catch (error) {
    return { ...base, rows: [], problem: (error as Error).message };
  }
}

const fixed = (value: number, digits = 3): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const signed = (value: number): string => (Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(3)}` : '—');

/** The largest |ρ| of a mask with its max-aware interval and its cell. */
function headlineCell(row: TableRow | undefined): string {
  if (!row) return '';
  const interval = Number.isFinite(row.maxCiLow) && Number.isFinite(row.maxCiHigh) ? ` [${fixed(row.maxCiLow)}, ${fixed(row.maxCiHigh)}]` : '';
  return `${fixed(Math.abs(row.rho))}${interval} · L${row.layer} ${row.statistic} (${row.pooling}) vs ${row.quality}`;
}

/** The comparison's sections: masks and budgets are the union over the runs, in first-seen mask order and ascending budget. */
export function runsComparisonTable(entries: readonly RunComparisonEntry[]): RunsComparison {
  const masks = [...new Set(entries.flatMap((e) => e.rows.map((r) => r.mask)))];
  const budgets = [...new Set(entries.flatMap((e) => e.rows.flatMap((r) => r.budgets.map((b) => b.budget))))].sort((a, b) => a - b);
  const each = (cell: (entry: RunComparisonEntry) => string): string[] => entries.map(cell);
  const row = (entry: RunComparisonEntry, mask: string): TableRow | undefined => entry.rows.find((r) => r.mask === mask);
  const sections: ComparisonSection[] = [
    {
      title: 'Run',
      lines: [
        { label: 'model', cells: each((e) => e.model || 'no model (the run failed before its model loaded)') },
        { label: 'dataset', cells: each((e) => e.dataset) },
        { label: 'status', cells: each((e) => (e.problem ? `${e.status} · ${e.problem}` : e.status)) },
        { label: 'pool examples', cells: each((e) => (e.rows[0] ? String(e.rows[0].n) : '')) },
      ],
    },
  ];
  if (masks.length > 0) {
    sections.push({
      title: 'Largest |ρ| of a statistic with quality [max-aware 95% interval]',
      lines: masks.flatMap((mask) => [
        { label: `|ρ| ${mask}`, cells: each((e) => headlineCell(row(e, mask))) },
        { label: `length ρ ${mask}`, cells: each((e) => (row(e, mask) ? fixed(row(e, mask)!.lengthRho) : '')) },
        { label: `ceiling ${mask}`, cells: each((e) => (row(e, mask) ? fixed(row(e, mask)!.ceiling) : '')) },
      ]),
    });
  }
  if (budgets.length > 0) {
    sections.push({
      title: 'Learning curves: random’s test metric and the best strategy’s gain over random [paired 95% interval]',
      lines: budgets.flatMap((budget) => {
        const result = (e: RunComparisonEntry) => e.rows[0]?.budgets.find((b) => b.budget === budget);
        return [
          { label: `random @ ${budget}`, cells: each((e) => (result(e) ? `${fixed(result(e)!.random)} ${e.rows[0]!.metric}` : '')) },
          {
            label: `best gain @ ${budget}`,
            cells: each((e) => {
              const best = result(e)?.best;
              return best ? `${signed(best.gain)} ${best.strategy} [${signed(best.ciLow)}, ${signed(best.ciHigh)}]` : result(e) ? 'no strategy compared' : '';
            }),
          },
        ];
      }),
    });
  }
  return { runs: entries.map((e) => ({ name: e.name, dir: e.dir, ...(e.generated ? { banner: generatedModelBanner } : {}) })), sections };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The comparison as a static HTML document (no script) under `csp`. */
export function runsComparisonHtml(comparison: RunsComparison, csp: string): string {
  const head = `<tr><th></th>${comparison.runs.map((r) => `<th title="${escapeHtml(r.dir)}">${escapeHtml(r.name)}${r.banner ? `<div class="banner">${escapeHtml(r.banner)}</div>` : ''}</th>`).join('')}</tr>`;
  const body = comparison.sections
    .map(
      (s) =>
        `<tr class="section"><th colspan="${comparison.runs.length + 1}">${escapeHtml(s.title)}</th></tr>` +
        s.lines.map((l) => `<tr><th scope="row">${escapeHtml(l.label)}</th>${l.cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join(''),
    )
    .join('');
  const css = [
    'body{font-family:var(--vscode-font-family,sans-serif);font-size:var(--vscode-font-size,13px);color:var(--vscode-foreground);padding:8px 16px}',
    'table{border-collapse:collapse;width:100%}',
    'th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--vscode-panel-border,#8884)}',
    'td{font-variant-numeric:tabular-nums}',
    'tr.section th{padding-top:14px;font-size:1.05em}',
    '.banner{margin-top:4px;padding:2px 6px;font-weight:normal;color:var(--vscode-editorWarning-foreground,#b58900);border:1px solid currentColor}',
  ].join('');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp.replace(/[&"]/g, (c) => (c === '&' ? '&amp;' : '&quot;'))}"><title>Compare Runs</title><style>${css}</style></head><body data-panel="compareRuns"><h1>Compare runs</h1><table>${head}${body}</table></body></html>`;
}
