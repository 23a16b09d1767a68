import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { correlate, correlationsCsv, correlationsCsvColumns, lengthStatistic, readQualityCsv, readStatsCsv, readTokenCounts, strongestCorrelation } from '../../src/core/experiment/correlations.js';
import { beatsLength, buildHeadline, describeCorrelation, qualityReliability } from '../../src/core/experiment/headline.js';
import { statsCsvHeader, statsCsvRows } from '../../src/core/format/statsCsv.js';
import { activationStatistics, poolings } from '../../src/core/stats/activationStatistics.js';

describe('correlations between activation statistics and example quality', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-correlations-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** One layer; `mean` rises with the example index, `variance` falls, everything else is constant. */
  async function files(): Promise<{ stats: string; quality: string }> {
    let csv = statsCsvHeader();
    for (let example = 0; example < 6; example++) {
      const values = new Float64Array(poolings.length * activationStatistics.length).fill(1);
      for (let p = 0; p < poolings.length; p++) {
        values[p * activationStatistics.length + activationStatistics.indexOf('mean')] = example * example;
        values[p * activationStatistics.length + activationStatistics.indexOf('variance')] = 10 - example;
      }
      // Token counts rise with quality except between examples 2 and 3.
      csv += statsCsvRows(example, 'mlp_out', 'isolated', [5, 6, 9, 8, 10, 12][example]!, values);
    }
    const stats = path.join(dir, 'stats.csv');
    await writeFile(stats, csv);
    const quality = path.join(dir, 'quality.csv');
    await writeFile(quality, ['example,id,estimator,metric,value,stderr,n_prompts', ...[0, 1, 2, 3, 4, 5].map((e) => `${e},"row, ${e}",one-shot,gold_logprob,${e / 10},0,5`)].join('\n') + '\n');
    return { stats, quality };
  }

  it('gives ρ = 1 for a statistic that rises with quality and ρ = −1 for one that falls, constant ones nan', async () => {
    const { stats, quality } = await files();
    const rows = correlate(await readStatsCsv([stats]), await readQualityCsv(quality), { bootstrapResamples: 100, seed: 1 });
    assert.equal(rows.length, poolings.length * (activationStatistics.length - 1), 'top_dim is left out');
    const find = (statistic: string) => rows.find((r) => r.statistic === statistic && r.pooling === 'all')!;
    assert.equal(find('mean').rho, 1);
    assert.equal(find('mean').pValue, 0);
    assert.equal(find('variance').rho, -1);
    assert.equal(find('mean').n, 6);
    assert.ok(Number.isNaN(find('kurtosis').rho));
    assert.equal(strongestCorrelation(rows)!.rho, 1);
  });

  it('writes correlations.csv with the documented columns and BH q-values over the grid', async () => {
    const { stats, quality } = await files();
    const rows = correlate(await readStatsCsv([stats]), await readQualityCsv(quality), { bootstrapResamples: 0, seed: 1 });
    const text = correlationsCsv(rows);
    const [header, first] = text.split('\n');
    assert.equal(header, correlationsCsvColumns.join(','));
    assert.equal(header, 'mask,site,layer,statistic,pooling,estimator,metric,rho,p_value,q_value,ci_low,ci_high,n,partial_rho,partial_p_value,partial_q_value');
    // Without token counts there is no length row and no partial correlation.
    assert.match(first!, /^isolated,mlp_out,0,mean,all,one-shot,gold_logprob,1,0,0,nan,nan,6,nan,nan,nan$/);
    for (const row of rows) if (Number.isFinite(row.pValue)) assert.ok(row.qValue >= row.pValue);
  });

  it('adds the length baseline as a row of the grid and the partial ρ controlling for token count to every cell', async () => {
    const { stats, quality } = await files();
    const tokenCounts = await readTokenCounts([stats]);
    assert.deepEqual([...tokenCounts.get('isolated')!], [[0, 5], [1, 6], [2, 9], [3, 8], [4, 10], [5, 12]]);
    const rows = correlate(await readStatsCsv([stats]), await readQualityCsv(quality), { bootstrapResamples: 0, seed: 1, tokenCounts });
    const length = rows.filter((r) => r.statistic === lengthStatistic);
    assert.equal(length.length, 1, 'one per mask × quality measure');
    // scipy.stats.spearmanr([5, 6, 9, 8, 10, 12], [0, .1, .2, .3, .4, .5]).statistic = 0.942857142857143
    assert.ok(Math.abs(length[0]!.rho - 0.942857142857143) < 1e-12);
    assert.ok(Number.isNaN(length[0]!.layer) && length[0]!.pooling === '' && length[0]!.site === '' && Number.isNaN(length[0]!.partialRho));
    const mean = rows.find((r) => r.statistic === 'mean' && r.pooling === 'all')!;
    // mean ranks = quality ranks (ρ = 1), so controlling for length leaves ρ = 1 (p = 0).
    assert.equal(mean.partialRho, 1);
    assert.equal(mean.partialPValue, 0);
    assert.ok(Number.isFinite(mean.partialQValue));
    assert.match(correlationsCsv(rows), /^isolated,,,token_count,,one-shot,gold_logprob,0\.94285714285714\d*,/m);
    // The length row is in the grid's BH family, but not a headline candidate.
    assert.equal(strongestCorrelation(rows)!.statistic, 'mean');
  });

  it('says in the headline when a statistic does not beat length, with the partial ρ, the noise ceiling and the max-aware interval', async () => {
    const { stats, quality } = await files();
    const statsByCell = await readStatsCsv([stats]);
    const qualityCells = await readQualityCsv(quality);
    const tokenCounts = await readTokenCounts([stats]);
    const rows = correlate(statsByCell, qualityCells, { bootstrapResamples: 0, seed: 1, tokenCounts });
    const halves = [0, 1, 2, 3, 4, 5].map((e) => ({ estimator: 'one-shot', metric: 'gold_logprob', halfA: e, halfB: [1, 0, 2, 3, 5, 4][e]! }));
    const headline = buildHeadline(rows, statsByCell, qualityCells, qualityReliability(halves), ['isolated'], { maxResamples: 50, permutations: 50, seed: 3 });
    const top = headline.overall!;
    assert.equal(top.statistic, 'mean');
    assert.equal(beatsLength(top), true);
    // Halves' Spearman ρ (scipy.stats.spearmanr) 0.8857142857142858 → Spearman–Brown 0.9393939393939394.
    assert.ok(Math.abs(top.reliability! - 0.9393939393939394) < 1e-12);
    assert.ok(Math.abs(top.ceiling! - Math.sqrt(0.9393939393939394)) < 1e-12);
    assert.ok(top.maxCiLow! <= 1 && top.maxCiHigh === 1 && top.familywiseP! > 0 && top.familywiseP! <= 1);
    const text = describeCorrelation(top);
    assert.match(text, /^largest \|ρ\| = 1\.000 .*max-aware 95% CI of the largest \|ρ\| \(basic bootstrap, corrected for selection\) \d\.\d\d\.\.1\.00 over \d+ cells, family-wise p = [\d.e-]+; length ρ = 0\.943 \(beats length\); partial ρ given length = 1\.000 .*noise ceiling \|ρ\| ≤ 0\.97 \(split-half reliability 0\.94\)$/);
    const weaker = { ...top, rho: 0.9, lengthRho: -0.943 };
    assert.equal(beatsLength(weaker), false);
    assert.match(describeCorrelation(weaker), /length ρ = -0\.943 \(does not beat length\)/);
    // Read back from run.json, NaN and Infinity are null (JSON has neither): still a line, with nan.
    const readBack = JSON.parse(JSON.stringify({ ...top, reliability: NaN, ceiling: NaN, maxCiLow: NaN, lengthRho: NaN, partialRho: Infinity }));
    assert.match(describeCorrelation(readBack), /max-aware .* nan\.\.1\.00 .*noise ceiling \|ρ\| ≤ nan \(split-half reliability nan\)$/);
  });

  /** Two sites: at mlp_out `mean` follows quality up to one swap (ρ < 1); at resid_post it follows it exactly (ρ = 1). */
  async function twoSiteStats(): Promise<string> {
    let csv = statsCsvHeader();
    const at = { mlp_out: [0, 1, 3, 2, 4, 5], resid_post: [0, 1, 2, 3, 4, 5] } as const;
    for (const site of ['mlp_out', 'resid_post'] as const) {
      for (let example = 0; example < 6; example++) {
        const values = new Float64Array(poolings.length * activationStatistics.length).fill(1);
        for (let p = 0; p < poolings.length; p++) values[p * activationStatistics.length + activationStatistics.indexOf('mean')] = at[site][example]!;
        csv += statsCsvRows(example, site, 'isolated', [5, 6, 9, 8, 10, 12][example]!, values);
      }
    }
    const file = path.join(dir, 'stats-two-sites.csv');
    await writeFile(file, csv);
    return file;
  }

  it('gives each site its own cells, one length row per mask, and a headline naming the site of the largest |ρ|', async () => {
    const { quality } = await files();
    const stats = await twoSiteStats();
    const statsByCell = await readStatsCsv([stats]);
    const qualityCells = await readQualityCsv(quality);
    const tokenCounts = await readTokenCounts([stats]);
    const rows = correlate(statsByCell, qualityCells, { bootstrapResamples: 0, seed: 1, tokenCounts });
    const mean = (site: string) => rows.find((r) => r.statistic === 'mean' && r.pooling === 'all' && r.site === site)!;
    // scipy.stats.spearmanr([0, 1, 3, 2, 4, 5], range(6)).statistic = 0.942857142857143
    assert.ok(Math.abs(mean('mlp_out').rho - 0.942857142857143) < 1e-12);
    assert.equal(mean('resid_post').rho, 1);
    assert.equal(rows.filter((r) => r.statistic === lengthStatistic).length, 1, 'length reads no activation: one row per mask, not per site');
    assert.equal(rows.filter((r) => r.site === 'resid_post').length, rows.filter((r) => r.site === 'mlp_out').length);
    assert.match(correlationsCsv(rows), /^isolated,resid_post,0,mean,all,one-shot,gold_logprob,1,/m);
    const headline = buildHeadline(rows, statsByCell, qualityCells, new Map(), ['isolated'], { maxResamples: 20, permutations: 20, seed: 3 });
    assert.equal(headline.overall!.site, 'resid_post');
    assert.equal(headline.byMask[0]!.site, 'resid_post');
    // The max-aware interval re-selects the maximum over both sites' cells.
    assert.equal(headline.overall!.cells, statsByCell.size);
    assert.ok([...statsByCell.keys()].some((key) => key.includes('|resid_post|')) && [...statsByCell.keys()].some((key) => key.includes('|mlp_out|')));
    assert.match(describeCorrelation(headline.overall!), /at mask isolated, site resid_post, layer 0, mean \(all\)/);
  });

  it('reads a stats.csv written before the site column as the MLP output', async () => {
    const { stats } = await files();
    const old = path.join(dir, 'stats-old.csv');
    const lines = (await import('node:fs/promises')).readFile(stats, 'utf8');
    // Drop the site column: the layout of files from before sites.
    await writeFile(old, (await lines).split('\n').map((line) => line.split(',').filter((_, i) => i !== 1).join(',')).join('\n'));
    const cells = await readStatsCsv([old]);
    assert.ok(cells.size > 0);
    assert.deepEqual([...cells.keys()].filter((key) => !key.startsWith('isolated|mlp_out|')), []);
    assert.deepEqual(await readStatsCsv([old]), await readStatsCsv([stats]));
  });
});
