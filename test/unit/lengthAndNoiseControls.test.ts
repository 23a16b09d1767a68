import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/core/random.js';
import { quantileLinear } from '../../src/core/stats/bootstrap.js';
import { maxAbsSpearman, overallGroup, type MaxCell } from '../../src/core/stats/maxStatisticBootstrap.js';
import { partialSpearman } from '../../src/core/stats/partialSpearman.js';
import { spearmanBrown, splitHalfReliability } from '../../src/core/stats/reliability.js';
import { spearman, spearmanRho } from '../../src/core/stats/spearman.js';

const close = (actual: number, expected: number, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} vs ${expected}`);

describe('the Spearman partial correlation (length control)', () => {
  it('matches pingouin.partial_corr(method="spearman"): partial ρ of the ranks, t with n − 3 degrees of freedom', () => {
    // Reference: scipy.stats.rankdata of x, y, z; numpy.corrcoef of the ranks; r = (rxy − rxz·ryz) /
    // sqrt((1 − rxz²)(1 − ryz²)); p = 2·scipy.stats.t.sf(|r|·sqrt(7 / (1 − r²)), 7) (pingouin's
    // formula; its inverse-covariance route gives the same r, −0.01643609158268747).
    const x = [3.1, 1.2, 5.5, 2.2, 8.9, 4.4, 7.0, 6.1, 0.5, 9.3];
    const y = [2.0, 1.0, 4.0, 3.5, 7.5, 3.0, 8.0, 5.0, 1.5, 6.0];
    const z = [12, 9, 15, 11, 20, 14, 18, 16, 8, 19];
    // x and y agree strongly (scipy.stats.spearmanr: 0.9030303030303028) only because both follow z.
    close(spearman(x, y).rho, 0.9030303030303028);
    const result = partialSpearman(x, y, z);
    close(result.rho, -0.016436091582684737);
    close(result.p, 0.9665242060596636, 1e-10);
    assert.equal(result.n, 10);
  });

  it('averages tied ranks as scipy.stats.rankdata does', () => {
    // Same recipe as above with ties in every variable (n = 8, 5 degrees of freedom).
    const result = partialSpearman([1, 2, 2, 3, 4, 4, 4, 5], [2, 1, 3, 3, 5, 4, 6, 5], [1, 1, 2, 2, 3, 3, 4, 4]);
    close(result.rho, -0.4606893279596733);
    close(result.p, 0.29818946090256504, 1e-10);
  });

  it('drops triples with a NaN and is NaN when the control is constant or too few remain', () => {
    assert.equal(partialSpearman([1, 2, NaN, 4, 5], [1, 3, 2, 5, 4], [1, 2, 3, 4, 5]).n, 4);
    assert.ok(Number.isNaN(partialSpearman([1, 2, 3, 4], [1, 3, 2, 4], [1, 1, 1, 1]).rho));
    assert.ok(Number.isNaN(partialSpearman([1, 2, 3], [1, 3, 2], [1, 2, 3]).rho));
  });
});

describe('split-half reliability and the noise ceiling', () => {
  it('steps the halves’ Spearman ρ up with Spearman–Brown and takes its square root as the ceiling', () => {
    // scipy.stats.spearmanr(a, b).statistic = 0.8928571428571429; 2r/(1+r) = 0.9433962264150945;
    // sqrt of that = 0.9712858623572642.
    const a = [0.1, 0.5, -0.2, 0.9, 0.3, 0.0, 0.7];
    const b = [0.2, 0.4, -0.1, 0.6, 0.5, -0.3, 0.8];
    const r = splitHalfReliability(a, b);
    close(r.halfCorrelation, 0.8928571428571429);
    close(r.reliability, 0.9433962264150945);
    close(r.ceiling, 0.9712858623572642);
    assert.equal(r.n, 7);
  });

  it('gives a ceiling of 0 for halves that disagree, and leaves out candidates with an undefined half', () => {
    assert.equal(spearmanBrown(-0.5), -2);
    const r = splitHalfReliability([1, 2, 3, 4, NaN], [4, 3, 2, 1, 5]);
    assert.equal(r.n, 4);
    assert.equal(r.halfCorrelation, -1);
    assert.equal(r.ceiling, 0);
  });
});

describe("the winner's curse: the maximum |ρ| over the grid", () => {
  /** Independent noise: every cell's true ρ is 0. */
  function noiseGrid(cells: number, n: number, seed: number): MaxCell[] {
    const random = new SeededRandom(seed);
    const quality = Float64Array.from({ length: n }, () => random.next());
    return Array.from({ length: cells }, (_, c) => ({ group: c % 2 === 0 ? 'a' : 'b', x: Float64Array.from({ length: n }, () => random.next()), y: quality }));
  }

  it('re-selects the maximum cell in each resample: the interval matches a brute-force bootstrap with the same draws', () => {
    const cells = noiseGrid(6, 15, 3);
    // One cell with missing values takes the slow path.
    const withGap = Float64Array.from(cells[5]!.x);
    withGap[4] = NaN;
    const grid = [...cells.slice(0, 5), { group: 'b', x: withGap, y: cells[0]!.y }];
    const result = maxAbsSpearman(grid, { resamples: 40, permutations: 0, seed: 9 });
    const random = new SeededRandom(9);
    const maxima: number[] = [];
    for (let b = 0; b < 40; b++) {
      const drawn = Array.from({ length: 15 }, () => random.int(15));
      let best = NaN;
      for (const cell of grid) {
        const pairs = drawn.filter((i) => Number.isFinite(cell.x[i]!));
        const rho = spearmanRho(pairs.map((i) => cell.x[i]!), pairs.map((i) => cell.y[i]!));
        if (!Number.isNaN(rho) && !(Math.abs(rho) <= best)) best = Math.abs(rho);
      }
      maxima.push(best);
    }
    maxima.sort((p, q) => p - q);
    const overall = result.get(overallGroup)!;
    close(overall.observed, Math.max(...grid.map((c) => Math.abs(spearman(c.x, c.y).rho))), 1e-12);
    // The basic interval: the resampled maxima's quantiles reflected about the observed maximum.
    close(overall.lower, Math.max(0, 2 * overall.observed - quantileLinear(maxima, 0.975)), 1e-9);
    close(overall.upper, Math.min(1, 2 * overall.observed - quantileLinear(maxima, 0.025)), 1e-9);
    close(overall.bias, maxima.reduce((a, b) => a + b, 0) / maxima.length - overall.observed, 1e-9);
    assert.ok(result.get('a')!.observed <= overall.observed && result.get('b')!.observed <= overall.observed);
  });

  it('covers the true largest |ρ| when the observed one is inflated by selection (a percentile interval lies above it)', () => {
    // One cell with a real effect (bivariate normal, Pearson r = 0.3: Spearman ρ = (6/π)·asin(r/2) =
    // 0.2876) among 60 null cells, 40 candidates: the observed maximum is mostly the luckiest null
    // cell, above 0.2876 in all 30 grids. This interval covers the truth in 24 of them (below the
    // nominal 95%: the bootstrap of a maximum is not exact); the percentile interval of the resampled
    // maxima it replaced covered it in none, and lay wholly above the observed maximum in 15.
    const r = 0.3;
    const truth = (6 / Math.PI) * Math.asin(r / 2);
    let covered = 0;
    let belowObserved = 0;
    const grids = 30;
    for (let g = 0; g < grids; g++) {
      const random = new SeededRandom(100 + g);
      const normal = (): number => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
      const n = 40;
      const quality = Float64Array.from({ length: n }, normal);
      const effect = Float64Array.from(quality, (q) => r * q + Math.sqrt(1 - r * r) * normal());
      const grid: MaxCell[] = [{ group: 'a', x: effect, y: quality }];
      for (let c = 0; c < 60; c++) grid.push({ group: 'a', x: Float64Array.from({ length: n }, normal), y: quality });
      const m = maxAbsSpearman(grid, { resamples: 200, permutations: 0, seed: g }).get(overallGroup)!;
      if (m.lower <= truth && truth <= m.upper) covered++;
      if (m.lower <= m.observed) belowObserved++;
      assert.ok(m.bias > 0, `grid ${g}: the resampled maxima sit above the observed one (bias ${m.bias})`);
    }
    assert.ok(covered >= 20, `the interval covered the true largest |ρ| in ${covered} of ${grids} grids`);
    assert.equal(belowObserved, grids);
  });

  it('gives a family-wise p that sees through the largest of many null correlations, where the cell’s own p does not', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const grid = noiseGrid(200, 30, seed);
      const result = maxAbsSpearman(grid, { resamples: 0, permutations: 200, seed: 2 }).get(overallGroup)!;
      const best = Math.min(...grid.map((c) => spearman(c.x, c.y).p));
      assert.ok(best < 0.05, `grid ${seed}: the largest of 200 null cells looks significant alone (p = ${best})`);
      assert.ok(result.familywiseP > 0.05, `grid ${seed}: family-wise p ${result.familywiseP}`);
      assert.ok(Number.isNaN(result.lower), 'no resamples, no interval');
    }
  });

  it('counts permutations of quality whose maximum reaches the observed one, as a brute-force count does', () => {
    const grid = noiseGrid(8, 12, 21);
    const observed = Math.max(...grid.map((c) => Math.abs(spearman(c.x, c.y).rho)));
    const random = new SeededRandom(6);
    let exceed = 0;
    for (let b = 0; b < 60; b++) {
      const perm = Array.from({ length: 12 }, (_, i) => i);
      for (let i = 11; i > 0; i--) {
        const j = random.int(i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const m = Math.max(...grid.map((c) => Math.abs(spearman(c.x, perm.map((p) => c.y[p]!)).rho)));
      if (m >= observed - 1e-12) exceed++;
    }
    const result = maxAbsSpearman(grid, { resamples: 0, permutations: 60, seed: 6 }).get(overallGroup)!;
    assert.equal(result.familywiseP, (1 + exceed) / 61);
  });

  it('is deterministic for a seed', () => {
    const grid = noiseGrid(10, 20, 5);
    const options = { resamples: 50, permutations: 50, seed: 4 };
    assert.deepEqual(maxAbsSpearman(grid, options), maxAbsSpearman(grid, options));
  });
});
