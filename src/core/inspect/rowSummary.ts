// What the editor shows for one row of a finished run: the one-line CodeLens title and the hover's
// markdown (quality, the layer × statistic table, the selections holding the row).
import type { LayerValues } from './statsTable.js';
import type { RowInspection, RowSelection, RunIndex } from './runIndex.js';

/** The statistics of the hover's layer table, in column order. */
export const hoverStatistics = ['mean', 'variance', 'skewness', 'kurtosis', 'max_abs'] as const;

/** Four significant digits; very large or small magnitudes in exponent form; nan/inf as the CSVs write them. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** `random s0 b4 r1` */
export function describeSelection(s: Pick<RowSelection, 'strategy' | 'seed' | 'budget' | 'round'>): string {
  return `${s.strategy} s${s.seed} b${s.budget} r${s.round}`;
}

/**
 * The selections holding a row, grouped by strategy: `random (s0 b4 r1, s1 b8 r2), kate …`; at most
 * `limit` strategies named, then how many more.
 */
export function summarizeSelections(selections: readonly RowSelection[], limit = 3): string {
  const byStrategy = new Map<string, RowSelection[]>();
  for (const s of selections) byStrategy.set(s.strategy, [...(byStrategy.get(s.strategy) ?? []), s]);
  const parts = [...byStrategy].map(([strategy, list]) => {
    const shown = list.slice(0, 2).map((s) => `s${s.seed} b${s.budget} r${s.round}`);
    return `${strategy} (${shown.join(', ')}${list.length > 2 ? `, +${list.length - 2}` : ''})`;
  });
  return parts.length > limit ? `${parts.slice(0, limit).join(', ')} +${parts.length - limit} more` : parts.join(', ');
}

/**
 * The CodeLens title above a row: its quality, a statistic at the run's selection layer (the run's
 * own, or `statistic` when the user chose another), and what selected it.
 */
export function rowLensTitle(index: RunIndex, inspection: RowInspection, statistic: string = index.chosen.statistic): string {
  const parts: string[] = [];
  if (inspection.split !== 'pool') parts.push(`${inspection.split} row`);
  const quality = inspection.quality.find((q) => q.metric === index.config.quality.metric) ?? inspection.quality[0];
  if (quality) parts.push(`quality ${formatValue(quality.value)} (${quality.estimator} ${quality.metric})`);
  const value = inspection.layers?.get(index.chosen.layer)?.[statistic];
  if (value !== undefined) parts.push(`${statistic} L${index.chosen.layer} ${formatValue(value)}`);
  if (inspection.selections.length > 0) {
    const first = inspection.selections[0]!;
    const rest = inspection.selections.length - 1;
    parts.push(`selected by ${first.strategy}, round ${first.round}${rest > 0 ? ` (+${rest} more)` : ''}`);
  }
  return parts.join(' · ');
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

/** layer × statistic as a markdown table; the `highlight` layer's row in bold. */
export function layerTableMarkdown(layers: ReadonlyMap<number, LayerValues>, highlight?: number, statistics: readonly string[] = hoverStatistics): string {
  const lines = [`| layer | ${statistics.join(' | ')} |`, `|---:|${statistics.map(() => '---:').join('|')}|`];
  for (const layer of [...layers.keys()].sort((a, b) => a - b)) {
    const values = layers.get(layer)!;
    const cells = statistics.map((s) => (values[s] === undefined ? '' : formatValue(values[s]!)));
    lines.push(layer === highlight ? `| **${layer}** | ${cells.map((c) => (c === '' ? c : `**${c}**`)).join(' | ')} |` : `| ${layer} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The hover over a row: markdown, no HTML. */
export function rowHoverMarkdown(index: RunIndex, inspection: RowInspection, runName: string): string {
  const { row, split } = inspection;
  const out: string[] = [`**ICL Lab · run ${escapeMarkdown(runName)}** — row ${row.index} (id ${escapeMarkdown(row.id)}), ${split} split`];
  if (index.stale) out.push('', `⚠ ${escapeMarkdown(index.stale)}`);
  if (inspection.quality.length > 0) {
    out.push('', '| estimator | metric | quality | stderr | prompts |', '|---|---|---:|---:|---:|');
    for (const q of inspection.quality) out.push(`| ${q.estimator} | ${q.metric} | ${formatValue(q.value)} | ${formatValue(q.stderr)} | ${q.nPrompts} |`);
  }
  const { chosen } = index;
  if (inspection.layers && inspection.layers.size > 0) {
    out.push('', `Statistics per layer — mask ${chosen.mask}, site ${chosen.site}, pooling ${chosen.pooling}; selection ranks by ${chosen.statistic} at layer ${chosen.layer} (bold):`, '');
    out.push(layerTableMarkdown(inspection.layers, chosen.layer));
  } else if (split !== 'pool') {
    out.push('', `A ${split} row: the run extracts and scores pool rows only.`);
  }
  if (inspection.selections.length > 0) {
    out.push('', `Selected ${inspection.selections.length} time${inspection.selections.length === 1 ? '' : 's'}:`, '');
    for (const s of inspection.selections) out.push(`- ${escapeMarkdown(s.strategy)}, seed ${s.seed}, budget ${s.budget}, round ${s.round} — demonstration ${s.order + 1}, score ${formatValue(s.score)}`);
  }
  return out.join('\n');
}
