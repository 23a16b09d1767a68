import assert from 'node:assert/strict';
import { benjaminiHochberg } from '../../src/core/stats/benjaminiHochberg.js';
import { bootstrapSpearmanInterval, quantileLinear } from '../../src/core/stats/bootstrap.js';
import { SeededRandom } from '../../src/core/random.js';
import { averageRanks, spearman, spearmanRho } from '../../src/core/stats/spearman.js';

function assertClose(actual: number, expected: number, relative = 1e-9): void {
  const tolerance = relative * Math.max(Math.abs(expected), 1e-300);
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `expected ${expected}, got ${actual} (tolerance ${tolerance})`,
  );
}

describe('averageRanks', () => {
  it('gives tied values the mean of the ranks they span', () => {
    // 5 → 1; 10 → 2; the two 20s share ranks 3,4 → 3.5; the three 30s share 5,6,7 → 6.
    assert.deepEqual([...averageRanks([10, 20, 20, 30, 30, 30, 5])], [2, 3.5, 3.5, 6, 6, 6, 1]);
  });

  it('ranks distinct values 1..n in ascending order', () => {
    assert.deepEqual([...averageRanks([0.3, -2, 7])], [2, 1, 3]);
  });
});

describe('spearman', () => {
  it('is 1 with p = 0 for monotone increasing but non-linear data', () => {
    const x = [1, 2, 3, 4, 5, 6, 7];
    const result = spearman(
      x,
      x.map((v) => Math.exp(v)),
    );
    assert.equal(result.rho, 1);
    assert.equal(result.p, 0);
  });

  it('is -1 for reversed order', () => {
    const result = spearman([1, 2, 3, 4, 5], [50, 40, 3, 2, -10]);
    assert.equal(result.rho, -1);
    assert.equal(result.p, 0);
  });

  it('uses average ranks for ties (hand-computed example)', () => {
    // y ranks: 5→1, 6→2, 7,7→3.5, 8→5; x ranks 1..5. Rank deviations: x −2,−1,0,1,2 and
    // y −2,−1,0.5,2,0.5; Σdxdy = 4+1+0+2+1 = 8, Σdx² = 10, Σdy² = 4+1+0.25+4+0.25 = 9.5.
    const result = spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]);
    assertClose(result.rho, 8 / Math.sqrt(10 * 9.5));
  });

  // Reference values from scipy 1.17 stats.spearmanr.
  const scipyCases = [
    {
      x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      y: [2, 1, 4, 3, 7, 5, 6, 9, 10, 8],
      rho: 0.9030303030303028,
      p: 0.0003436121977632824,
    },
    {
      x: [1, 2, 2, 3, 4, 5, 5, 5, 6, 7],
      y: [3, 1, 2, 2, 5, 4, 7, 6, 6, 9],
      rho: 0.8452376966295818,
      p: 0.002073083622815801,
    },
    { x: [1, 2, 3, 4, 5, 6], y: [3, 1, 4, 1, 5, 9], rho: 0.6667366910003157, p: 0.14808979944035283 },
    { x: [1, 2, 3, 4, 5], y: [5, 6, 7, 8, 7], rho: 0.8207826816681233, p: 0.08858700531354384 },
  ];
  for (const [index, c] of scipyCases.entries()) {
    it(`matches scipy's ρ and two-sided p-value (case ${index + 1})`, () => {
      const result = spearman(c.x, c.y);
      assertClose(result.rho, c.rho, 1e-12);
      assertClose(result.p, c.p, 1e-9);
      assert.equal(result.n, c.x.length);
    });
  }

  it('drops pairs where either value is NaN', () => {
    const withNaN = spearman([1, 2, NaN, 4, 5, 6, 7], [2, 1, 3, NaN, 5, 4, 7]);
    const without = spearman([1, 2, 5, 6, 7], [2, 1, 5, 4, 7]);
    assert.equal(withNaN.n, 5);
    assert.equal(withNaN.rho, without.rho);
    assert.equal(withNaN.p, without.p);
  });

  it('is NaN for a constant input and for fewer than 3 pairs', () => {
    const constant = spearman([1, 2, 3, 4], [7, 7, 7, 7]);
    assert.ok(Number.isNaN(constant.rho));
    assert.ok(Number.isNaN(constant.p));
    assert.ok(Number.isNaN(spearman([1, 2], [2, 1]).rho));
    assert.ok(Number.isNaN(spearman([1, 2, NaN], [2, 1, 3]).rho));
  });

  it('rejects arrays of different lengths', () => {
    assert.throws(() => spearman([1, 2, 3], [1, 2]), RangeError);
  });
});

describe('quantileLinear', () => {
  it("interpolates between closest ranks like numpy.percentile's default", () => {
    // numpy.percentile([1, 2, 4, 8], [2.5, 50, 97.5]) → [1.075, 3.0, 7.7]
    assertClose(quantileLinear([1, 2, 4, 8], 0.025), 1.075);
    assertClose(quantileLinear([1, 2, 4, 8], 0.5), 3);
    assertClose(quantileLinear([1, 2, 4, 8], 0.975), 7.7);
    assert.equal(quantileLinear([1, 2, 4, 8], 1), 8);
  });
});

describe('bootstrapSpearmanInterval', () => {
  const x = Array.from({ length: 40 }, (_, i) => i);
  // Strong but imperfect monotone relation: a deterministic wiggle breaks ties with the order.
  const y = x.map((v) => v + 6 * Math.sin(v * 1.7));

  it('equals the plain algorithm (averageRanks on each resample) exactly, ties included', () => {
    // Few distinct values, so resamples are full of ties; NaN pairs are dropped by both.
    const tx = Array.from({ length: 30 }, (_, i) => (i * 7) % 5);
    const ty = Array.from({ length: 30 }, (_, i) => (i === 4 ? NaN : Math.round(Math.cos(i) * 3)));
    const keep = tx.map((_, i) => !Number.isNaN(ty[i]!));
    const px = tx.filter((_, i) => keep[i]);
    const py = ty.filter((_, i) => keep[i]);
    const random = new SeededRandom(9);
    const rhos: number[] = [];
    for (let b = 0; b < 300; b++) {
      const picks = Array.from({ length: px.length }, () => random.int(px.length));
      const rho = spearmanRho(picks.map((j) => px[j]!), picks.map((j) => py[j]!));
      if (!Number.isNaN(rho)) rhos.push(rho);
    }
    rhos.sort((a, b) => a - b);
    const fast = bootstrapSpearmanInterval(tx, ty, { seed: 9, resamples: 300 });
    assert.equal(fast.resamples, rhos.length);
    const tail = (1 - 0.95) / 2;
    assert.equal(fast.lower, quantileLinear(rhos, tail));
    assert.equal(fast.upper, quantileLinear(rhos, 1 - tail));
  });

  it('gives the same interval for the same seed', () => {
    const a = bootstrapSpearmanInterval(x, y, { seed: 42 });
    const b = bootstrapSpearmanInterval(x, y, { seed: 42 });
    assert.deepEqual(a, b);
    assert.equal(a.resamples, 1000);
  });

  it('gives a different interval for a different seed', () => {
    const a = bootstrapSpearmanInterval(x, y, { seed: 1, resamples: 200 });
    const b = bootstrapSpearmanInterval(x, y, { seed: 2, resamples: 200 });
    assert.notDeepEqual(a, b);
  });

  it('contains the sample ρ for a well-correlated sample', () => {
    const { rho } = spearman(x, y);
    assert.ok(rho > 0.8 && rho < 1, `sample ρ ${rho} should be strong but not perfect`);
    const interval = bootstrapSpearmanInterval(x, y, { seed: 7 });
    assert.ok(interval.lower < rho && rho < interval.upper, JSON.stringify({ rho, interval }));
    assert.ok(interval.upper <= 1);
  });

  it('is NaN with fewer than 3 pairs', () => {
    const interval = bootstrapSpearmanInterval([1, 2], [2, 1], { seed: 0 });
    assert.ok(Number.isNaN(interval.lower) && Number.isNaN(interval.upper));
  });
});

describe('benjaminiHochberg', () => {
  it("matches scipy's false_discovery_control on the Benjamini & Hochberg (1995) p-values", () => {
    // The 15 p-values of Benjamini & Hochberg (1995), §4; expected q from scipy 1.17
    // stats.false_discovery_control(ps, method='bh').
    const ps = [
      0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719,
      0.6528, 0.759, 1.0,
    ];
    const expected = [
      0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714285714286, 0.06385714285714286, 0.0645,
      0.07650000000000001, 0.486, 0.5811818181818181, 0.7148749999999999, 0.7532307692307693,
      0.8132142857142857, 1.0,
    ];
    const q = benjaminiHochberg(ps);
    expected.forEach((value, i) => assertClose(q[i]!, value, 1e-12));
  });

  it('returns q-values in input order with the step-up minimum applied', () => {
    // Sorted: 0.005·4/1 = 0.02, 0.01·4/2 = 0.02, 0.03·4/3 = 0.04, 0.04·4/4 = 0.04 (scipy agrees).
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.005]);
    [0.02, 0.04, 0.04, 0.02].forEach((value, i) => assertClose(q[i]!, value, 1e-12));
  });

  it('caps q-values at 1', () => {
    assert.deepEqual([...benjaminiHochberg([0.9, 0.95, 1])], [1, 1, 1]);
  });

  it('passes NaN through and leaves it out of m', () => {
    const q = benjaminiHochberg([0.01, NaN, 0.04]);
    assert.ok(Number.isNaN(q[1]!));
    // m = 2: 0.01·2/1 = 0.02, 0.04·2/2 = 0.04.
    assertClose(q[0]!, 0.02, 1e-12);
    assertClose(q[2]!, 0.04, 1e-12);
  });

  it('rejects p-values outside [0, 1]', () => {
    assert.throws(() => benjaminiHochberg([0.5, 1.5]), RangeError);
  });
});
