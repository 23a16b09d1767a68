import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { correlate, correlationsCsv, correlationsCsvColumns, readQualityCsv, readStatsCsv, strongestCorrelation } from '../../src/core/experiment/correlations.js';
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
      csv += statsCsvRows(example, 'isolated', values);
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
    assert.equal(header, 'mask,layer,statistic,pooling,estimator,metric,rho,p_value,q_value,ci_low,ci_high,n');
    assert.match(first!, /^isolated,0,mean,all,one-shot,gold_logprob,1,0,0,nan,nan,6$/);
    for (const row of rows) if (Number.isFinite(row.pValue)) assert.ok(row.qValue >= row.pValue);
  });
});
