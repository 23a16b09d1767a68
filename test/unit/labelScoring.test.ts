import assert from 'node:assert/strict';
import type { DatasetRow } from '../../src/core/dataset/datasetSpec.js';
import { contentFreeInput, evaluatePrompts, type ClassificationTask, type LabelScoring } from '../../src/core/quality/promptEvaluation.js';
import type { PromptScorer, TextScoringGroup } from '../../src/core/quality/promptScorer.js';
import { classificationTemplate } from '../../src/core/template/defaultTemplates.js';

/**
 * A model whose every token of " yes" (1 token) has probability `short` and every token of
 * " not at all" (3 tokens) probability `long`, for any query; the content-free query gets 0.5 per
 * token for both, the prompt's bias towards the shorter label.
 */
function fixedScorer(short: number, long: number, seen: TextScoringGroup[][]): PromptScorer {
  return {
    async scoreTexts(groups) {
      seen.push([...groups]);
      const scores = new Map<number, { logprob: number; tokens: number }[]>();
      for (const group of groups) {
        for (const query of group.queries) {
          const contentFree = query.query.includes(contentFreeInput);
          scores.set(
            query.key,
            query.continuations.map((c) => (c === ' yes' ? { logprob: Math.log(contentFree ? 0.5 : short), tokens: 1 } : { logprob: 3 * Math.log(contentFree ? 0.5 : long), tokens: 3 })),
          );
        }
      }
      return { scores, evaluatedTokens: 0, minimumTokens: 0 };
    },
    async generateTexts() {
      return new Map();
    },
  };
}

const row = (index: number, label: string): DatasetRow => ({ index, line: index + 1, id: `r${index}`, inputs: { text: `sentence ${index}` }, label });
const task = (scoring: LabelScoring): ClassificationTask => ({ type: 'classification', labels: [{ value: 'yes', verbalizer: 'yes' }, { value: 'no', verbalizer: 'not at all' }], scoring });

describe('label scoring', () => {
  // Gold "no" (3 tokens at 0.6 each) against "yes" (1 token at 0.5): per token, "no" is likelier.
  const probes = [row(0, 'no'), row(1, 'no')];

  it('sum lets the one-token label win on length alone', async () => {
    const result = await evaluatePrompts(fixedScorer(0.5, 0.6, []), classificationTemplate, task('sum'), [[]], probes);
    assert.deepEqual([...result.metrics.get('accuracy')![0]!], [0, 0]);
    assert.ok(Math.abs(result.metrics.get('gold_logprob')![0]![0]! - 3 * Math.log(0.6)) < 1e-12);
  });

  it('mean compares labels per token: two labels of 1 and 3 tokens are not decided by length', async () => {
    const result = await evaluatePrompts(fixedScorer(0.5, 0.6, []), classificationTemplate, task('mean'), [[]], probes);
    assert.deepEqual([...result.metrics.get('accuracy')![0]!], [1, 1]);
    assert.deepEqual(result.predictions[0], ['no', 'no']);
    assert.ok(Math.abs(result.metrics.get('gold_logprob')![0]![0]! - Math.log(0.6)) < 1e-12);
  });

  it('calibrated divides by the content-free query’s label probabilities (Zhao et al., 2021) and renormalises', async () => {
    const seen: TextScoringGroup[][] = [];
    const result = await evaluatePrompts(fixedScorer(0.5, 0.6, seen), classificationTemplate, task('calibrated'), [[]], probes);
    assert.deepEqual([...result.metrics.get('accuracy')![0]!], [1, 1]);
    // One content-free query per prompt, every input "N/A", after the real ones.
    const queries = seen[0]![0]!.queries;
    assert.equal(queries.length, 3);
    assert.equal(queries[2]!.query, 'Input: N/A\nLabel:');
    // By hand: p = softmax(log 0.5, 3 log 0.6), p_cf = softmax(log 0.5, 3 log 0.5); q ∝ p / p_cf.
    const q = [0.5 / 0.5, 0.6 ** 3 / 0.5 ** 3];
    assert.ok(Math.abs(result.metrics.get('gold_logprob')![0]![0]! - Math.log(q[1]! / (q[0]! + q[1]!))) < 1e-12);
  });
});
