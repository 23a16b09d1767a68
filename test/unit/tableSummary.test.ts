import assert from 'node:assert/strict';
import type { TableRow } from '../../src/core/reproduce/reproduceTable.js';
import { datasetSentences, gridCounts, tableSummaryMarkdown } from '../../src/core/reproduce/tableSummary.js';

/** A table row with the fields the summary reads; the rest fixed. */
function row(over: Partial<TableRow> & Pick<TableRow, 'model' | 'dataset' | 'mask' | 'rho'>): TableRow {
  return {
    task: 'classification', n: 40, layer: 3, statistic: 'kurtosis', pooling: 'all', quality: 'one-shot accuracy', qValue: 0.01,
    maxCiLow: 0.3, maxCiHigh: 0.6, familywiseP: 0.2, lengthRho: 0.1, partialRho: 0.4, partialCell: 'L3 kurtosis (all) vs one-shot accuracy',
    partialQValue: 0.5, ceiling: 0.9, metric: 'accuracy', budgets: [{ budget: 4, random: 0.5, aboveRandom: [] }],
    ...over,
  };
}

describe('the reproduce summary (summary.md)', () => {
  const rows: TableRow[] = [
    row({ model: 'a', dataset: 'sst2', mask: 'isolated', rho: 0.5, familywiseP: 0.01, lengthRho: 0.2, ceiling: 0.4 }),
    // The largest |ρ| is a negative one; length beats it under this mask.
    row({ model: 'a', dataset: 'sst2', mask: 'in-context', rho: -0.7, maxCiLow: 0.55, maxCiHigh: 0.68, familywiseP: 0.004, lengthRho: -0.75, ceiling: 0.4, partialQValue: 0.01 }),
    row({ model: 'b', dataset: 'sst2', mask: 'isolated', rho: 0.3, budgets: [{ budget: 4, random: 0.5, aboveRandom: ['kate'] }, { budget: 8, random: 0.6, aboveRandom: ['kate', 'bm25'] }] }),
    row({ model: 'a', dataset: 'trec', mask: 'isolated', rho: 0.45 }),
  ];

  it('writes one sentence per dataset, each model its largest |ρ| by absolute value, and lists only the masks that pass each test', () => {
    const sentences = datasetSentences(rows);
    assert.equal(sentences.length, 2);
    assert.equal(
      sentences[0],
      '- **sst2** — a: largest |ρ| 0.700 (in-context, max-aware CI 0.55–0.68, family-wise p 0.004); masks beating length: isolated (|ρ| of token count 0.20, 0.75); ' +
        'family-wise p < 0.05 under isolated, in-context; partial ρ given length with q < 0.05 under in-context; ceiling 0.40; strategies above random (interval excludes zero): none' +
        ' — b: largest |ρ| 0.300 (isolated, max-aware CI 0.30–0.60, family-wise p 0.200); every mask beats length (|ρ| of token count 0.10); family-wise p < 0.05 under no mask; ' +
        'partial ρ given length with q < 0.05 under no mask; ceiling 0.90; strategies above random (interval excludes zero): kate, bm25.',
    );
    assert.match(sentences[1]!, /^- \*\*trec\*\* — a: largest \|ρ\| 0\.450 /);
  });

  it('counts rows passing the family-wise test, those on an unreliable measure, and cells with a strategy above random', () => {
    const counts = gridCounts(rows);
    assert.equal(counts[0], '- rows: 4 (model × dataset × mask)');
    assert.equal(counts[1], '- largest |ρ| with family-wise p < 0.05: 2 of 4 (a × sst2 × isolated; a × sst2 × in-context)');
    assert.equal(counts[2], '- of those, on a quality measure with ceiling < 0.5: 2 (a × sst2 × isolated; a × sst2 × in-context)');
    assert.equal(counts[3], "- largest |ρ| above the length baseline's |ρ|: 3 of 4");
    assert.equal(counts[4], '- strongest partial ρ given length with BH q < 0.05: 1 of 4');
    // 0.68 < 0.7 only in the in-context row; 0.6 > 0.5, 0.3, 0.45 elsewhere.
    assert.equal(counts[5], "- max-aware interval's upper end below the observed largest |ρ|: 1 of 4");
    assert.equal(counts[6], '- noise ceiling < 0.5: 2 of 4');
    assert.equal(counts[7], "- model × dataset cells where some strategy's paired interval lies above random at some budget: 1 of 3 (b × sst2: kate, bm25)");
  });

  it('heads the file with the preset and how many cells it holds', () => {
    const text = tableSummaryMarkdown(rows, { preset: 'cpu-small', finished: 3, cells: 14 });
    assert.ok(text.startsWith('Preset `cpu-small`: 3 of 14 cells finished.\n\n- **sst2**'));
    assert.ok(text.endsWith('bm25)\n'));
  });
});
