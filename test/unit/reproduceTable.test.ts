import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { readCellRows, readTableCsv, rowBeatsLength, rowBeyondLength, tableCsv, tableMarkdown } from '../../src/core/reproduce/reproduceTable.js';
import { writeSyntheticCell } from '../support/syntheticReproduceCell.js';

describe('the reproduce table', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-table-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it("reads a finished cell into one row per mask: the headline, the strongest partial ρ and the best strategy's gain per budget", async () => {
    const dir = path.join(root, 'smol', 'sst2');
    await writeSyntheticCell(dir);
    const rows = (await readCellRows(dir, 'smol', 'sst2'))!;
    assert.deepEqual(rows.map((r) => r.mask), ['isolated', 'in-context']);
    const iso = rows[0]!;
    assert.equal(iso.rho, -0.6);
    assert.deepEqual([iso.layer, iso.statistic, iso.pooling, iso.quality], [3, 'kurtosis', 'all', 'one-shot gold_logprob']);
    assert.deepEqual([iso.maxCiLow, iso.maxCiHigh, iso.familywiseP, iso.lengthRho, iso.ceiling], [0.35, 0.8, 0.01, 0.4, 0.9]);
    // The strongest partial is not the headline cell's (−0.3) but layer 1 max_abs's −0.45.
    assert.equal(iso.partialRho, -0.45);
    assert.equal(iso.partialQValue, 0.02);
    assert.equal(iso.partialCell, 'L1 max_abs (last) vs one-shot gold_logprob');
    assert.equal(rowBeatsLength(iso), true);
    assert.equal(rowBeyondLength(iso), true);
    // in-context: |0.3| < |−0.5|, partial q 0.3.
    assert.equal(rowBeatsLength(rows[1]!), false);
    assert.equal(rowBeyondLength(rows[1]!), false);
    // Budget 4: random's accuracy (0.5 + 0.7) / 2; kate's +0.1 beats bm25's +0.05 (the gold_logprob row is another metric); only kate's interval is above zero.
    assert.equal(iso.metric, 'accuracy');
    const [b4, b8] = iso.budgets;
    assert.equal(b4!.budget, 4);
    assert.ok(Math.abs(b4!.random - 0.6) < 1e-12);
    assert.deepEqual(b4!.best, { strategy: 'kate', gain: 0.1, ciLow: 0.02, ciHigh: 0.18 });
    assert.deepEqual(b4!.aboveRandom, ['kate']);
    assert.ok(Math.abs(b8!.random - 0.65) < 1e-12);
    assert.deepEqual(b8!.best, { strategy: 'kate', gain: -0.02, ciLow: -0.1, ciHigh: 0.06 });
    assert.deepEqual(b8!.aboveRandom, []);
  });

  it('leaves out a cell whose run is not complete', async () => {
    for (const status of ['running', 'cancelled', 'failed'] as const) {
      const dir = path.join(root, status);
      await writeSyntheticCell(dir, { status });
      assert.equal(await readCellRows(dir, 'm', 'd'), undefined, status);
    }
    assert.equal(await readCellRows(path.join(root, 'nothing-here'), 'm', 'd'), undefined);
  });

  it('writes table.csv with a column group per budget, values as the cells hold them', async () => {
    const dir = path.join(root, 'csv');
    await writeSyntheticCell(dir);
    const csv = tableCsv((await readCellRows(dir, 'smol', 'sst2'))!);
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 2);
    const iso = rows[0]!;
    assert.deepEqual(
      [iso['model'], iso['dataset'], iso['mask'], iso['max_abs_rho'], iso['rho'], iso['max_ci_low'], iso['max_ci_high'], iso['length_rho'], iso['beats_length'], iso['max_abs_partial_rho'], iso['beyond_length'], iso['ceiling']],
      ['smol', 'sst2', 'isolated', '0.6', '-0.6', '0.35', '0.8', '0.4', 'true', '0.45', 'true', '0.9'],
    );
    assert.deepEqual([iso['random_b4'], iso['best_b4'], iso['gain_b4'], iso['gain_ci_low_b4'], iso['gain_ci_high_b4'], iso['above_random_b4']], ['0.6', 'kate', '0.1', '0.02', '0.18', 'kate']);
    assert.deepEqual([iso['best_b8'], iso['gain_b8'], iso['above_random_b8']], ['kate', '-0.02', '']);
  });

  it('reads a cell carried over as its committed results (run.json and table.csv only) from its table.csv, the same rows', async () => {
    const dir = path.join(root, 'carried', 'smol', 'sst2');
    await writeSyntheticCell(dir);
    const rows = (await readCellRows(dir, 'smol', 'sst2'))!;
    const carried = path.join(root, 'carried-over');
    await mkdir(carried, { recursive: true });
    await copyFile(path.join(dir, 'run.json'), path.join(carried, 'run.json'));
    await writeFile(path.join(carried, 'table.csv'), tableCsv(rows));
    assert.deepEqual(await readCellRows(carried, 'smol', 'sst2'), JSON.parse(JSON.stringify(rows)));
    assert.equal(tableCsv((await readTableCsv(path.join(carried, 'table.csv')))), tableCsv(rows));
  });

  it('writes table.md with the finished count, the marks and a bold gain only where the interval excludes zero', async () => {
    const dir = path.join(root, 'md');
    await writeSyntheticCell(dir);
    const md = tableMarkdown((await readCellRows(dir, 'smol', 'sst2'))!, { preset: 'cpu-small', finished: 1, cells: 14 });
    assert.match(md, /^Preset `cpu-small`: 1 of 14 cells finished\./);
    const lines = md.split('\n').filter((l) => l.startsWith('| smol'));
    assert.equal(lines.length, 2);
    assert.equal(
      lines[0],
      '| smol | sst2 | isolated | 0.600 [0.35, 0.80] >len | L3 kurtosis (all) | 0.400 | 0.450 (0.020)* | 0.90 | 0.600 | **kate +0.100 [+0.020, +0.180]** | 0.650 | kate −0.020 [−0.100, +0.060] |',
    );
    assert.doesNotMatch(lines[1]!, />len|\)\*/);
  });
});
