import assert from 'node:assert/strict';
import { parseRunConfig, RunConfigError } from '../../src/core/experiment/runConfig.js';
import { kCenterGreedy } from '../../src/core/selection/kCenterGreedy.js';
import { saeCoverage } from '../../src/core/selection/saeCoverage.js';
import { saeDiverse, sparseSquaredDistance, unitSparse } from '../../src/core/selection/saeDiverse.js';
import { SelectionError, type Candidate, type SelectionContext } from '../../src/core/selection/selectionStrategy.js';
import { strategyByName } from '../../src/core/selection/strategyRegistry.js';

const withFeatures = (codes: Record<number, number>[]): Candidate[] => codes.map((code, p) => ({ index: 10 + p, id: `e${p}`, features: new Map(Object.entries(code).map(([l, v]) => [Number(l), v])) }));
const context = (pool: readonly Candidate[], budget: number, labelled: number[] = [], seed = 0): SelectionContext => ({ pool, budget, seed, labelled });
const positions = (s: readonly { position: number }[]): number[] => s.map((x) => x.position);

describe('SAE selection strategies', () => {
  describe('sae-coverage', () => {
    // Position 0 has many latents of little weight; 1 one heavy latent; 2 shares 1's latent and a light one; 3 a distinct medium one.
    const pool = withFeatures([{ 0: 0.5, 1: 0.5, 2: 0.5 }, { 5: 4 }, { 5: 3, 6: 0.25 }, { 7: 2 }]);

    it('picks the example adding the most not-yet-covered activation, not the most latents', () => {
      const picks = saeCoverage.select(context(pool, 3));
      // 1 (4) first; then 2 adds only 0.25 (latent 5 is covered), 3 adds 2, 0 adds 1.5.
      assert.deepEqual(positions(picks), [1, 3, 0]);
      assert.deepEqual(picks.map((p) => p.score), [4, 2, 1.5]);
    });

    it('counts what labelled examples cover, breaks ties by position and restarts when nothing is left to cover', () => {
      assert.deepEqual(positions(saeCoverage.select(context(pool, 1, [1]))), [3], "latent 5 is the labelled example's");
      const tied = withFeatures([{ 1: 1 }, { 2: 1 }, { 1: 1 }]);
      assert.deepEqual(positions(saeCoverage.select(context(tied, 3))), [0, 1, 2]);
      // After 0 and 1 everything is covered: coverage starts over and 2 still adds its weight.
      assert.deepEqual(saeCoverage.select(context(tied, 3)).map((p) => p.score), [1, 1, 1]);
    });
  });

  describe('sae-diverse', () => {
    it('measures distances between L2-normalised sparse codes', () => {
      const a = unitSparse(new Map([[0, 3], [4, 4]]));
      const b = unitSparse(new Map([[4, 1]]));
      // a = (0.6 at 0, 0.8 at 4), b = (1 at 4): ‖a − b‖² = 0.36 + 0.04.
      assert.ok(Math.abs(sparseSquaredDistance(a, b) - 0.4) < 1e-12);
      assert.equal(sparseSquaredDistance(unitSparse(new Map()), b), 1);
    });

    it('goes to the farthest code from what is chosen, by direction rather than size', () => {
      // 0 and 1 point the same way (1 is 10× larger), 2 half-way, 3 orthogonal to 0.
      const pool = withFeatures([{ 0: 1 }, { 0: 10 }, { 0: 1, 1: 1 }, { 1: 1 }]);
      const picks = saeDiverse.select(context(pool, 2, [0]));
      assert.deepEqual(positions(picks), [3, 2]);
      assert.ok(Math.abs(picks[0]!.score - Math.SQRT2) < 1e-12);
      // k-center greedy on the raw sums would take position 1 first (it is 9 away from 0).
      assert.deepEqual(positions(kCenterGreedy.select(context(pool.map((c) => ({ ...c, vector: Float64Array.of(c.features!.get(0) ?? 0, c.features!.get(1) ?? 0) })), 1, [0]))), [1]);
    });

    it('starts from a seeded candidate when nothing is labelled, the same for the same seed', () => {
      const pool = withFeatures(Array.from({ length: 12 }, (_, p) => ({ [p % 4]: 1 + p, [4 + (p % 3)]: 1 })));
      assert.deepEqual(saeDiverse.select(context(pool, 5, [], 3)), saeDiverse.select(context(pool, 5, [], 3)));
    });
  });

  it('refuse candidates without features, pointing at the sae: key', () => {
    for (const name of ['sae-coverage', 'sae-diverse']) {
      assert.throws(
        () => strategyByName(name).select(context([{ index: 0, id: 'a' }], 1)),
        (e: unknown) => e instanceof SelectionError && e.message.startsWith(`${name}: needs the sparse-autoencoder \`features\``) && e.message.includes('`sae:`'),
      );
    }
  });

  it('a run config naming them without sae: is refused, naming the missing key', () => {
    const yaml = ['model: m.gguf', 'data: { file: d.jsonl, inputs: text, target: label }', 'selection: { strategies: [random, sae-coverage] }'].join('\n');
    assert.throws(
      () => parseRunConfig(yaml, '/x/run.yaml'),
      (e: unknown) => e instanceof RunConfigError && e.problems.join('\n') === "/x/run.yaml: selection.strategies[1]: sae-coverage ranks by a sparse autoencoder's features, and the config has no `sae:` key: add `sae: {}` (every default) or leave sae-coverage out",
    );
    assert.deepEqual(parseRunConfig(`${yaml}\nsae: {}`, '/x/run.yaml').selection.strategies, ['random', 'sae-coverage']);
  });
});
