// summary.md of a reproduce grid: the table's rows read back as one sentence per dataset (each
// model's largest |ρ| with its max-aware interval and family-wise p, the length baseline, the
// partial ρ given length, the noise ceiling, strategies above random), then counts over all rows.
// Written from the same rows as table.md, so README's prose can be regenerated, not retyped.
import { rowBeatsLength, rowBeyondLength, type TableRow } from './reproduceTable.js';

/** The family-wise permutation p below which a row's largest |ρ| counts as more than noise. */
export const familywiseAlpha = 0.05;

/** A ceiling below this marks a quality measure whose split halves barely agree. */
export const unreliableCeiling = 0.5;

const f = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'nan');

/** Distinct values as printed, in first-seen order: "0.46, 0.57". */
const distinct = (values: readonly number[], digits: number): string => [...new Set(values.map((v) => f(v, digits)))].join(', ');

const masksOr = (rows: readonly TableRow[], none: string): string => (rows.length === 0 ? none : rows.map((r) => r.mask).join(', '));

/** One model's clause of a dataset sentence, from that model's rows (one per mask). */
function modelClause(model: string, rows: readonly TableRow[]): string {
  const top = rows.reduce((a, b) => (Math.abs(b.rho) > Math.abs(a.rho) ? b : a));
  const beating = rows.filter(rowBeatsLength);
  const length = `(|ρ| of token count ${distinct(rows.map((r) => Math.abs(r.lengthRho)), 2)})`;
  const beats = beating.length === rows.length ? `every mask beats length ${length}` : `masks beating length: ${masksOr(beating, 'none')} ${length}`;
  const significant = rows.filter((r) => r.familywiseP < familywiseAlpha);
  const beyond = rows.filter(rowBeyondLength);
  const above = [...new Set(rows.flatMap((r) => r.budgets.flatMap((b) => b.aboveRandom)))];
  return [
    `${model}: largest |ρ| ${f(Math.abs(top.rho), 3)} (${top.mask}, max-aware CI ${f(top.maxCiLow, 2)}–${f(top.maxCiHigh, 2)}, family-wise p ${f(top.familywiseP, 3)})`,
    beats,
    `family-wise p < ${familywiseAlpha} under ${masksOr(significant, 'no mask')}`,
    `partial ρ given length with q < 0.05 under ${masksOr(beyond, 'no mask')}`,
    `ceiling ${distinct(rows.map((r) => r.ceiling), 2)}`,
    `strategies above random (interval excludes zero): ${above.length === 0 ? 'none' : above.join(', ')}`,
  ].join('; ');
}

/** Rows grouped by a key, in first-seen order. */
function groupBy(rows: readonly TableRow[], key: (r: TableRow) => string): Map<string, TableRow[]> {
  const groups = new Map<string, TableRow[]>();
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return groups;
}

/** One bullet per dataset: "- **sst2** — model A: …; … — model B: …". */
export function datasetSentences(rows: readonly TableRow[]): string[] {
  return [...groupBy(rows, (r) => r.dataset)].map(([dataset, datasetRows]) => {
    const clauses = [...groupBy(datasetRows, (r) => r.model)].map(([model, modelRows]) => modelClause(model, modelRows));
    return `- **${dataset}** — ${clauses.join(' — ')}.`;
  });
}

/** Counts over every row (model × dataset × mask), each saying what it counts. */
export function gridCounts(rows: readonly TableRow[]): string[] {
  const n = rows.length;
  const significant = rows.filter((r) => r.familywiseP < familywiseAlpha);
  const label = (r: TableRow): string => `${r.model} × ${r.dataset} × ${r.mask}`;
  const unreliable = significant.filter((r) => r.ceiling < unreliableCeiling);
  const belowObserved = rows.filter((r) => r.maxCiHigh < Math.abs(r.rho));
  const gains = rows.filter((r, i) => rows.findIndex((o) => o.model === r.model && o.dataset === r.dataset) === i);
  const gainsAbove = gains.filter((r) => r.budgets.some((b) => b.aboveRandom.length > 0));
  return [
    `- rows: ${n} (model × dataset × mask)`,
    `- largest |ρ| with family-wise p < ${familywiseAlpha}: ${significant.length} of ${n}${significant.length > 0 ? ` (${significant.map(label).join('; ')})` : ''}`,
    `- of those, on a quality measure with ceiling < ${unreliableCeiling}: ${unreliable.length}${unreliable.length > 0 ? ` (${unreliable.map(label).join('; ')})` : ''}`,
    `- largest |ρ| above the length baseline's |ρ|: ${rows.filter(rowBeatsLength).length} of ${n}`,
    `- strongest partial ρ given length with BH q < 0.05: ${rows.filter(rowBeyondLength).length} of ${n}`,
    `- max-aware interval's upper end below the observed largest |ρ|: ${belowObserved.length} of ${n}`,
    `- noise ceiling < ${unreliableCeiling}: ${rows.filter((r) => r.ceiling < unreliableCeiling).length} of ${n}`,
    `- model × dataset cells where some strategy's paired interval lies above random at some budget: ${gainsAbove.length} of ${gains.length}${gainsAbove.length > 0 ? ` (${gainsAbove.map((r) => `${r.model} × ${r.dataset}: ${[...new Set(r.budgets.flatMap((b) => b.aboveRandom))].join(', ')}`).join('; ')})` : ''}`,
  ];
}

/** summary.md: the dataset sentences and the counts, with a line naming the preset and how many cells it holds. */
export function tableSummaryMarkdown(rows: readonly TableRow[], summary: { readonly preset: string; readonly finished: number; readonly cells: number }): string {
  return [
    `Preset \`${summary.preset}\`: ${summary.finished} of ${summary.cells} cells finished.`,
    '',
    ...datasetSentences(rows),
    '',
    'Counts over every row:',
    '',
    ...gridCounts(rows),
    '',
  ].join('\n');
}
