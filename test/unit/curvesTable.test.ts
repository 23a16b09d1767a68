import assert from 'node:assert/strict';
import { curvesMetric, learningCurvesTable } from '../../src/core/report/curvesTable.js';
import type { CurveRow } from '../../src/core/experiment/learningCurves.js';

const row = (strategy: string, seed: number, budget: number, value: number, metric = 'accuracy'): CurveRow => ({ strategy, seed, budget, metric, value });

describe('learning curves table', () => {
  const curves: CurveRow[] = [
    row('random', 0, 4, 0.5), row('random', 1, 4, 0.6), row('random', 2, 4, 0.7),
    row('random', 0, 8, 0.6), row('random', 1, 8, 0.6), row('random', 2, 8, 0.6),
    row('kate', 0, 4, 0.8), row('kate', 1, 4, 0.9), row('kate', 2, 4, 1),
    row('kate', 0, 8, 0.7), row('kate', 1, 8, 0.7), row('kate', 2, 8, 0.7),
    row('kate', 0, 4, 0.1, 'gold_logprob'),
  ];

  it('prints mean ± sample sd over seeds per strategy and budget, random first, and marks differences that exclude zero', () => {
    const lines = learningCurvesTable(curves, [
      { strategy: 'kate', budget: 4, metric: 'accuracy', diff: 0.3, ciLow: 0.1, ciHigh: 0.5 },
      { strategy: 'kate', budget: 8, metric: 'accuracy', diff: 0.1, ciLow: -0.05, ciHigh: 0.2 },
    ], 'accuracy');
    assert.match(lines[0]!, /test accuracy, mean ± sd over 3 seeds/);
    assert.match(lines[1]!, /^strategy\s+budget 4\s+budget 8$/);
    // numpy: np.std([0.5, 0.6, 0.7], ddof=1) = 0.1
    assert.match(lines[2]!, /^random\s+0\.600 ± 0\.100\s+0\.600 ± 0\.000$/);
    assert.match(lines[3]!, /^kate\s+0\.900 ± 0\.100  \+0\.300 \[\+0\.100, \+0\.500\]\*\s+0\.700 ± 0\.000  \+0\.100 \[−0\.050, \+0\.200\]$/);
    assert.equal(lines.at(-1), '(* : the interval excludes zero)');
  });

  it('chooses the configured metric, else accuracy, else exact match', () => {
    assert.equal(curvesMetric(curves), 'accuracy');
    assert.equal(curvesMetric(curves, 'gold_logprob'), 'gold_logprob');
    assert.equal(curvesMetric([row('random', 0, 4, 0.2, 'f1'), row('random', 0, 4, 0.1, 'em')]), 'em');
    assert.deepEqual(learningCurvesTable(curves, [], 'f1'), []);
  });
});
