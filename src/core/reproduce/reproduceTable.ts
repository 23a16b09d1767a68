// The paper-shaped table of a reproduce grid, read back from each finished cell's run folder:
// per model × dataset × mask, the largest |ρ| of an activation statistic with its max-aware
// interval (run.json's headline), the length baseline, the largest |partial ρ| controlling for
// length (correlations.csv), the noise ceiling, and per budget the random strategy's test metric
// and the best strategy's gain over random with its paired interval (curves.csv,
// strategy_vs_random.csv). Cells not finished yet are left out, so the table is valid at any time.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { lengthStatistic } from '../experiment/correlations.js';
import type { HeadlineRow } from '../experiment/headline.js';
import { readRunRecord } from '../experiment/runExperiment.js';
import { numberCell, readCsvTable } from '../format/csvTable.js';
import { csvCell, formatNumber } from '../format/statsCsv.js';

/** A strategy's gain over random at one budget. */
export interface BudgetResult {
  readonly budget: number;
  /** Random's test metric, mean over seeds. */
  readonly random: number;
  /** The strategy with the largest mean difference from random (ties: the first by name), and that difference with its paired 95% interval. */
  readonly best?: { readonly strategy: string; readonly gain: number; readonly ciLow: number; readonly ciHigh: number };
  /** Strategies whose paired interval lies above zero, by name. */
  readonly aboveRandom: readonly string[];
}

export interface TableRow {
  readonly model: string;
  readonly dataset: string;
  readonly task: string;
  readonly mask: string;
  /** Pool examples correlated. */
  readonly n: number;
  /** The largest |ρ| of a statistic: its signed ρ, its cell and its q. */
  readonly rho: number;
  readonly layer: number;
  readonly statistic: string;
  readonly pooling: string;
  readonly quality: string;
  readonly qValue: number;
  /** Max-aware 95% interval of the largest |ρ| and its family-wise p. */
  readonly maxCiLow: number;
  readonly maxCiHigh: number;
  readonly familywiseP: number;
  /** ρ of token count with the same quality measure under the same mask. */
  readonly lengthRho: number;
  /** The largest |partial ρ| given length over the mask's grid, its cell and its BH q. */
  readonly partialRho: number;
  readonly partialCell: string;
  readonly partialQValue: number;
  /** sqrt of the quality measure's split-half reliability. */
  readonly ceiling: number;
  /** The evaluation metric the strategies are compared on. */
  readonly metric: string;
  readonly budgets: readonly BudgetResult[];
}

/** |ρ| of the statistic exceeds the length baseline's |ρ|. */
export function rowBeatsLength(row: TableRow): boolean {
  return Number.isFinite(row.lengthRho) && Math.abs(row.rho) > Math.abs(row.lengthRho);
}

/** The strongest partial correlation is significant after BH over the grid (q < 0.05). */
export function rowBeyondLength(row: TableRow): boolean {
  return row.partialQValue < 0.05;
}

interface RunConfigJson {
  data?: { task?: string };
  evaluation?: { metric?: string };
}

/**
 * The rows of one cell's run folder, one per mask of its headline; undefined while the run is not
 * complete (no run.json, or running, cancelled, failed). A complete run missing a file it should
 * have is an error naming the file.
 */
export async function readCellRows(dir: string, model: string, dataset: string): Promise<TableRow[] | undefined> {
  const record = await readRunRecord(dir).catch((error: Error) => {
    throw new Error(`${path.join(dir, 'run.json')}: ${error.message}`);
  });
  if (!record || record.status !== 'complete') return undefined;
  const config = record.config as RunConfigJson;
  const metric = config.evaluation?.metric ?? 'accuracy';
  const task = config.data?.task ?? 'classification';
  // A cell carried over from an earlier session as its committed results (run.json and table.csv,
  // without checkpoints or the CSVs they made): its own table.csv holds its rows.
  if (!existsSync(path.join(dir, 'correlations.csv')) && existsSync(path.join(dir, 'table.csv'))) {
    return (await readTableCsv(path.join(dir, 'table.csv'))).filter((r) => r.model === model && r.dataset === dataset);
  }
  const file = (name: string): string => {
    const f = path.join(dir, name);
    if (!existsSync(f)) throw new Error(`${f} is missing, though ${path.join(dir, 'run.json')} says the run is complete`);
    return f;
  };
  const correlations = await readCsvTable(file('correlations.csv'), ['mask', 'statistic', 'rho']);
  const differences = await readCsvTable(file('strategy_vs_random.csv'), ['strategy', 'budget', 'metric', 'diff', 'ci_low', 'ci_high']);
  const curves = await readCsvTable(file('curves.csv'), ['strategy', 'seed', 'budget', 'metric', 'value']);
  const budgets = budgetResults(differences, curves, metric);
  return (record.headline?.byMask ?? []).map((h: HeadlineRow) => {
    const partial = strongestPartial(correlations, h.mask);
    return {
      model,
      dataset,
      task,
      mask: h.mask,
      n: h.n,
      rho: h.rho,
      layer: h.layer,
      statistic: h.statistic,
      pooling: h.pooling,
      quality: `${h.estimator} ${h.metric}`,
      qValue: h.qValue,
      maxCiLow: h.maxCiLow ?? NaN,
      maxCiHigh: h.maxCiHigh ?? NaN,
      familywiseP: h.familywiseP ?? NaN,
      lengthRho: h.lengthRho ?? NaN,
      partialRho: partial?.rho ?? NaN,
      partialCell: partial?.cell ?? '',
      partialQValue: partial?.q ?? NaN,
      ceiling: h.ceiling ?? NaN,
      metric,
      budgets,
    };
  });
}

/** The cell of `mask` with the largest finite |partial ρ| (the length rows have none). */
function strongestPartial(rows: readonly Record<string, string>[], mask: string): { rho: number; q: number; cell: string } | undefined {
  let best: { rho: number; q: number; cell: string } | undefined;
  for (const r of rows) {
    if (r['mask'] !== mask || r['statistic'] === lengthStatistic) continue;
    const rho = numberCell(r['partial_rho']);
    if (!Number.isFinite(rho) || (best && Math.abs(rho) <= Math.abs(best.rho))) continue;
    best = { rho, q: numberCell(r['partial_q_value']), cell: `L${r['layer']} ${r['statistic']} (${r['pooling']}) vs ${r['estimator']} ${r['metric']}` };
  }
  return best;
}

function budgetResults(differences: readonly Record<string, string>[], curves: readonly Record<string, string>[], metric: string): BudgetResult[] {
  const budgets = [...new Set(curves.filter((r) => r['metric'] === metric).map((r) => Number(r['budget'])))].sort((a, b) => a - b);
  return budgets.map((budget) => {
    const random = curves.filter((r) => r['strategy'] === 'random' && r['metric'] === metric && Number(r['budget']) === budget).map((r) => numberCell(r['value']));
    const rows = differences
      .filter((r) => r['metric'] === metric && Number(r['budget']) === budget)
      .map((r) => ({ strategy: r['strategy']!, gain: numberCell(r['diff']), ciLow: numberCell(r['ci_low']), ciHigh: numberCell(r['ci_high']) }))
      .filter((r) => Number.isFinite(r.gain))
      .sort((a, b) => a.strategy.localeCompare(b.strategy));
    let best: (typeof rows)[number] | undefined;
    for (const r of rows) if (!best || r.gain > best.gain) best = r;
    return {
      budget,
      random: random.length > 0 ? random.reduce((a, b) => a + b, 0) / random.length : NaN,
      ...(best ? { best } : {}),
      aboveRandom: rows.filter((r) => r.ciLow > 0).map((r) => r.strategy),
    };
  });
}

/** Budgets of every row, ascending: the table's budget columns. */
function tableBudgets(rows: readonly TableRow[]): number[] {
  return [...new Set(rows.flatMap((r) => r.budgets.map((b) => b.budget)))].sort((a, b) => a - b);
}

const baseColumns = [
  'model', 'dataset', 'task', 'mask', 'n', 'max_abs_rho', 'rho', 'layer', 'statistic', 'pooling', 'quality', 'q_value',
  'max_ci_low', 'max_ci_high', 'familywise_p', 'length_rho', 'beats_length', 'max_abs_partial_rho', 'partial_rho', 'partial_cell',
  'partial_q_value', 'beyond_length', 'ceiling', 'metric',
] as const;

/** table.csv: one row per model × dataset × mask; per budget b: random_b, best_b, gain_b, gain_ci_low_b, gain_ci_high_b, above_random_b. */
export function tableCsv(rows: readonly TableRow[]): string {
  const budgets = tableBudgets(rows);
  const header = [...baseColumns, ...budgets.flatMap((b) => [`random_b${b}`, `best_b${b}`, `gain_b${b}`, `gain_ci_low_b${b}`, `gain_ci_high_b${b}`, `above_random_b${b}`])];
  const lines = rows.map((r) => {
    const cells = [
      csvCell(r.model), csvCell(r.dataset), r.task, r.mask, r.n, formatNumber(Math.abs(r.rho)), formatNumber(r.rho), r.layer, r.statistic, r.pooling, csvCell(r.quality),
      formatNumber(r.qValue), formatNumber(r.maxCiLow), formatNumber(r.maxCiHigh), formatNumber(r.familywiseP), formatNumber(r.lengthRho), rowBeatsLength(r),
      formatNumber(Math.abs(r.partialRho)), formatNumber(r.partialRho), csvCell(r.partialCell), formatNumber(r.partialQValue), rowBeyondLength(r), formatNumber(r.ceiling), r.metric,
    ];
    for (const b of budgets) {
      const result = r.budgets.find((x) => x.budget === b);
      cells.push(
        formatNumber(result?.random ?? NaN), result?.best?.strategy ?? '', formatNumber(result?.best?.gain ?? NaN),
        formatNumber(result?.best?.ciLow ?? NaN), formatNumber(result?.best?.ciHigh ?? NaN), csvCell((result?.aboveRandom ?? []).join(';')),
      );
    }
    return cells.join(',');
  });
  return [header.join(','), ...lines].join('\n') + '\n';
}

/** The rows of a table.csv as tableCsv wrote them (its inverse: tableCsv(readTableCsv(f)) is f's text). */
export async function readTableCsv(file: string): Promise<TableRow[]> {
  const rows = await readCsvTable(file, [...baseColumns]);
  return rows.map((r) => {
    const budgets = Object.keys(r)
      .map((k) => /^random_b(\d+)$/.exec(k)?.[1])
      .filter((b): b is string => b !== undefined)
      .map(Number)
      .sort((a, b) => a - b)
      .filter((b) => r[`random_b${b}`] !== '' || r[`best_b${b}`] !== '');
    return {
      model: r['model']!,
      dataset: r['dataset']!,
      task: r['task']!,
      mask: r['mask']!,
      n: Number(r['n']),
      rho: numberCell(r['rho']),
      layer: Number(r['layer']),
      statistic: r['statistic']!,
      pooling: r['pooling']!,
      quality: r['quality']!,
      qValue: numberCell(r['q_value']),
      maxCiLow: numberCell(r['max_ci_low']),
      maxCiHigh: numberCell(r['max_ci_high']),
      familywiseP: numberCell(r['familywise_p']),
      lengthRho: numberCell(r['length_rho']),
      partialRho: numberCell(r['partial_rho']),
      partialCell: r['partial_cell']!,
      partialQValue: numberCell(r['partial_q_value']),
      ceiling: numberCell(r['ceiling']),
      metric: r['metric']!,
      budgets: budgets.map((b) => {
        const best = r[`best_b${b}`];
        const above = r[`above_random_b${b}`] ?? '';
        return {
          budget: b,
          random: numberCell(r[`random_b${b}`]),
          ...(best ? { best: { strategy: best, gain: numberCell(r[`gain_b${b}`]), ciLow: numberCell(r[`gain_ci_low_b${b}`]), ciHigh: numberCell(r[`gain_ci_high_b${b}`]) } } : {}),
          aboveRandom: above === '' ? [] : above.split(';'),
        };
      }),
    };
  });
}

const f = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'nan');
const signed = (v: number, digits: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}` : 'nan');

/**
 * table.md: the table for README, with a line saying how many of the grid's cells it holds.
 * `|ρ|` columns are absolute values; `>len` marks a |ρ| above the length baseline's, `*` a partial
 * ρ with q < 0.05, and a gain whose interval excludes zero is bold.
 */
export function tableMarkdown(rows: readonly TableRow[], summary: { readonly preset: string; readonly finished: number; readonly cells: number }): string {
  const budgets = tableBudgets(rows);
  const metric = [...new Set(rows.map((r) => r.metric))].join('/');
  const header = [
    'model', 'dataset', 'mask', 'max |ρ| [max-aware CI]', 'where', 'length |ρ|', 'max |partial ρ| (q)', 'ceiling',
    ...budgets.flatMap((b) => [`random ${metric} @${b}`, `best − random @${b} [95% CI]`]),
  ];
  const lines = rows.map((r) => {
    const cells = [
      r.model, r.dataset, r.mask,
      `${f(Math.abs(r.rho), 3)} [${f(r.maxCiLow, 2)}, ${f(r.maxCiHigh, 2)}]${rowBeatsLength(r) ? ' >len' : ''}`,
      `L${r.layer} ${r.statistic} (${r.pooling})`,
      f(Math.abs(r.lengthRho), 3),
      `${f(Math.abs(r.partialRho), 3)} (${Number.isFinite(r.partialQValue) ? r.partialQValue.toPrecision(2) : 'nan'})${rowBeyondLength(r) ? '*' : ''}`,
      f(r.ceiling, 2),
    ];
    for (const b of budgets) {
      const result = r.budgets.find((x) => x.budget === b);
      cells.push(f(result?.random ?? NaN, 3));
      const best = result?.best;
      if (!best) cells.push('–');
      else {
        const text = `${best.strategy} ${signed(best.gain, 3)} [${signed(best.ciLow, 3)}, ${signed(best.ciHigh, 3)}]`;
        cells.push(best.ciLow > 0 || best.ciHigh < 0 ? `**${text}**` : text);
      }
    }
    return `| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`;
  });
  return [
    `Preset \`${summary.preset}\`: ${summary.finished} of ${summary.cells} cells finished.`,
    '',
    `| ${header.map((h) => h.replaceAll('|', '\\|')).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...lines,
    '',
    '`>len`: the largest |ρ| exceeds the length baseline\'s |ρ| (token count vs the same quality measure). `*`: the strongest partial ρ given length has BH q < 0.05. Bold: the paired 95% interval of the best strategy\'s difference from random excludes zero (the best of several strategies: read it with that selection in mind).',
    '',
  ].join('\n');
}
