import assert from 'node:assert/strict';
import { loadAddon } from '../../src/engine/addon.js';
import { activationStatistics, poolings } from '../../src/core/stats/activationStatistics.js';

// Expected values computed by hand and checked with numpy/scipy defaults
// (np.var, scipy.stats.skew(bias=True), scipy.stats.kurtosis(fisher=True, bias=True), np.median).
function pick(out: Float64Array, pooling: (typeof poolings)[number]): Record<string, number> {
  const p = poolings.indexOf(pooling);
  return Object.fromEntries(activationStatistics.map((name, s) => [name, out[p * activationStatistics.length + s]!]));
}

function assertClose(actual: Record<string, number>, expected: Record<string, number>): void {
  for (const [name, value] of Object.entries(expected)) {
    const got = actual[name]!;
    assert.ok(Math.abs(got - value) <= 1e-9 * Math.max(1, Math.abs(value)), `${name}: got ${got}, expected ${value}`);
  }
}

describe('the engine reduction (native)', () => {
  const addon = loadAddon();
  // Two tokens of three dimensions: [[1, 2, 3], [4, 5, -100]].
  const values = new Float32Array([1, 2, 3, 4, 5, -100]);
  const out = addon.reduceActivations(values, 2, 3);

  it('pools all token × dimension values like numpy and scipy do', () => {
    assertClose(pick(out, 'all'), {
      mean: -85 / 6,
      variance: 1475.1388888888887,
      skewness: -1.7843085883830794,
      kurtosis: 1.1918716064917367,
      max_abs: 100,
      median_abs: 3.5,
      max_over_median: 100 / 3.5,
      top_dim: 2,
      massive: 0,
      abs_over_100: 0,
      abs_over_1000x_median: 0,
    });
  });

  it("takes the last token's vector for last pooling", () => {
    assertClose(pick(out, 'last'), {
      mean: -91 / 3,
      variance: 2426.888888888889,
      skewness: -0.7068882648329998,
      kurtosis: -1.5,
      max_abs: 100,
      median_abs: 5,
      max_over_median: 20,
      top_dim: 2,
    });
  });

  it('averages per-token statistics for token-mean pooling, with the most frequent top dimension', () => {
    assertClose(pick(out, 'token-mean'), {
      mean: -85 / 6,
      variance: (2 / 3 + 2426.888888888889) / 2,
      skewness: -0.7068882648329998 / 2,
      kurtosis: -1.5,
      max_abs: 51.5,
      median_abs: 3.5,
      max_over_median: 10.75,
      top_dim: 2,
    });
  });

  it('counts each condition of Sun et al. alone under its own name', () => {
    const absolute = pick(addon.reduceActivations(new Float32Array([150, 1, -1, 1]), 1, 4), 'all');
    assert.equal(absolute['abs_over_100'], 1);
    assert.equal(absolute['abs_over_1000x_median'], 0);
    assert.equal(absolute['top_dim'], 0);
    const relative = pick(addon.reduceActivations(new Float32Array([0.001, -0.002, 0.001, 5]), 1, 4), 'all');
    assert.equal(relative['abs_over_100'], 0);
    assert.equal(relative['abs_over_1000x_median'], 1);
    assert.equal(relative['top_dim'], 3);
  });

  it('counts as massive only a value that passes both conditions at once', () => {
    // 150 passes |a| > 100 only (its token's median |a| is 1); 5 passes |a| > 1000 × median only.
    for (const token of [[150, 1, -1, 1], [0.001, -0.002, 0.001, 5]]) {
      const out = addon.reduceActivations(new Float32Array(token), 1, 4);
      for (const pooling of poolings) assert.equal(pick(out, pooling)['massive'], 0, `${pooling} of [${token.join(', ')}]`);
    }
    // -200 passes both: |a| > 100 and > 1000 × 0.1, its token's median |a|.
    const both = addon.reduceActivations(new Float32Array([-200, 0.1, -0.1, 0.1]), 1, 4);
    for (const pooling of poolings) assert.equal(pick(both, pooling)['massive'], 1, pooling);
  });

  it("takes the median of each value's own token for massive, not of the pooled span", () => {
    // Token 0 [200, 0.1, 0.1, 0.1] holds a massive value (its median |a| is 0.1); the span's median
    // |a| over both tokens is 50, so against the pooled median 200 would not count.
    const out = addon.reduceActivations(new Float32Array([200, 0.1, 0.1, 0.1, 50, 50, 50, 50]), 2, 4);
    assert.equal(pick(out, 'all')['massive'], 1);
    assert.equal(pick(out, 'all')['abs_over_1000x_median'], 0);
    assert.equal(pick(out, 'all')['abs_over_100'], 1);
    assert.equal(pick(out, 'token-mean')['massive'], 0.5);
    assert.equal(pick(out, 'last')['massive'], 0);
  });

  it('gives nan skewness and kurtosis for a constant vector, as scipy does', () => {
    const constant = pick(addon.reduceActivations(new Float32Array([2, 2, 2, 2]), 1, 4), 'all');
    assert.equal(constant['variance'], 0);
    assert.ok(Number.isNaN(constant['skewness']));
    assert.ok(Number.isNaN(constant['kurtosis']));
  });

  it('rejects a buffer that does not hold tokens × dims values', () => {
    assert.throws(() => addon.reduceActivations(new Float32Array(5), 2, 3), /tokens \* dims/);
  });
});
