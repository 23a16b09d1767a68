import assert from 'node:assert/strict';
import { cellSeconds, cellTokens, type CellShape } from '../../src/core/reproduce/gridEstimate.js';

const shape: CellShape = {
  task: 'classification', pool: 10, probe: 4, test: 5, masks: ['isolated'], inContextShots: 2,
  strategies: ['random'], budgets: [4], seeds: 2, rounds: 1, retrievalShots: 2, labels: 2, inputTokens: 20, answerTokens: 1, maxTokens: 16,
};

describe('the reproduce grid estimate', () => {
  it('counts a classification cell by hand: extraction, one-shot quality and the k-shot evaluation', () => {
    // demo 20 + 1 + 6 = 27; a query 26 tokens read and 2 labels scored = 28.
    // quality 4·28 + 10·(27 + 4·28) = 1502; random at budget 4: 2 seeds × (4·27 + 5·28) = 496.
    assert.deepEqual(cellTokens(shape), { extract: 10 * 21, scoring: 1502 + 496 });
  });

  it('reads a generative prompt twice (the reference scored, then the answer generated) and gives vote-k no confidence pass', () => {
    const generative: CellShape = { ...shape, task: 'generative', labels: 1, answerTokens: 3, strategies: ['random', 'vote-k'] };
    // demo 29; per query 2·26 read + 3 reference + min(16, 5) generated = 60; a demo 2·29 = 58.
    // quality 4·60 + 10·(58 + 4·60) = 3220; two strategies × 2 seeds × (4·58 + 5·60) = 2128.
    const tokens = cellTokens(generative);
    assert.equal(tokens.scoring, 3220 + 2128);
    // vote-k's vectors: one resid_post pass over the pool beside the isolated mask.
    assert.equal(tokens.extract, 2 * 10 * 21);
    // As classification (one 3-token label), vote-k adds its confidence pass: 2 seeds × (4·29 + 10·29) = 812
    // beside quality 4·29 + 10·(29 + 4·29) = 1566 and evaluation 2 × 2 × (4·29 + 5·29) = 1044.
    assert.equal(cellTokens({ ...generative, task: 'classification' }).scoring, 1566 + 1044 + 812);
  });

  it('prices tokens at the measured cost per phase', () => {
    assert.equal(cellSeconds({ extract: 100, scoring: 300 }, { extractSecondsPerToken: 0.01, scoringSecondsPerToken: 0.002 }), 1.6);
  });
});
