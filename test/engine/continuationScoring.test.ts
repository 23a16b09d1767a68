import assert from 'node:assert/strict';
import { getLlama, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { ActivationEngine } from '../../src/engine/activationEngine.js';
import { EngineError, type ScoringOptions } from '../../src/engine/protocol.js';
import type { ScoringGroup } from '../../src/engine/scoringPlanner.js';
import { testModelPath, tinyLlama } from './generatedModels.js';

const exact: ScoringOptions = { contextSize: 512, batchSize: 512, maxSequences: 32, threads: 2, exact: true };
const prefixText = 'Review: the lamp is lovely\nSentiment: positive\n\nReview: it broke at once\nSentiment: negative\n\n';
const queries = ['Review: a fine kettle\nSentiment:', 'Review: awful noise\nSentiment:', 'Review: works as promised\nSentiment:'];
const labels = [' positive', ' negative', ' very mixed feelings'];

describe('continuation scoring', function () {
  this.timeout(300_000);
  let engine: ActivationEngine;
  let llama: Llama;
  let reference: LlamaModel;
  let group: ScoringGroup;

  before(async () => {
    const file = await testModelPath(tinyLlama);
    engine = await ActivationEngine.create('cpu');
    await engine.loadModel(file);
    llama = await getLlama({ gpu: false });
    reference = await llama.loadModel({ modelPath: file });
    group = {
      prefix: engine.tokenize(prefixText, true),
      queries: queries.map((text, key) => ({ key, query: engine.tokenize(text), continuations: labels.map((l) => engine.tokenize(l)) })),
    };
    assert.ok(group.queries[0]!.continuations[2]!.length > 1, 'one label spans several tokens');
  });
  after(async () => {
    await engine?.dispose();
    await reference?.dispose();
  });

  /** node-llama-cpp's own next-token logits and probabilities at every position of `tokens`. */
  async function referenceLogprobs(tokens: readonly Token[], from: number): Promise<{ viaLogits: number; viaProbabilities: number }> {
    const context = await reference.createContext({ contextSize: 512, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
    try {
      const results = await context.getSequence().controlledEvaluate(
        tokens.map((token, i) => (i >= from - 1 && i < tokens.length - 1 ? [token, { generateNext: { logits: true, probabilities: true } }] : token)),
      );
      let viaLogits = 0;
      let viaProbabilities = 0;
      for (let i = from; i < tokens.length; i++) {
        const next = results[i - 1]!.next!;
        let max = -Infinity;
        for (const l of next.logits!.values()) max = Math.max(max, l);
        let sumExp = 0;
        for (const l of next.logits!.values()) sumExp += Math.exp(l - max);
        const logSumExp = max + Math.log(sumExp);
        viaLogits += next.logits!.get(tokens[i]!)! - logSumExp;
        viaProbabilities += Math.log(next.probabilities!.get(tokens[i]!)!);
      }
      return { viaLogits, viaProbabilities };
    } finally {
      await context.dispose();
    }
  }

  it("gives every label's log-probability as node-llama-cpp's own token probabilities do, multi-token labels summed", async () => {
    const summary = await engine.scoreContinuations([group], exact);
    let worstLogits = 0;
    let worstProbabilities = 0;
    for (const query of group.queries) {
      for (const [c, continuation] of query.continuations.entries()) {
        const tokens = [...group.prefix, ...query.query, ...continuation] as Token[];
        const expected = await referenceLogprobs(tokens, group.prefix.length + query.query.length);
        const got = summary.scores.get(query.key)![c]!;
        assert.equal(got.tokens, continuation.length);
        worstLogits = Math.max(worstLogits, Math.abs(got.logprob - expected.viaLogits));
        // node-llama-cpp normalises probabilities with a float32 sum over the vocabulary (~3e-4
        // relative per token), so its log-probabilities drift by up to that much per token.
        const probabilityError = Math.abs(got.logprob - expected.viaProbabilities);
        assert.ok(probabilityError < 5e-4 * continuation.length, `query ${query.key} label ${c}: vs node-llama-cpp's probabilities ${probabilityError}`);
        worstProbabilities = Math.max(worstProbabilities, probabilityError);
      }
    }
    console.log(`      worst |Δ log p| vs node-llama-cpp: ${worstLogits.toExponential(2)} (its logits), ${worstProbabilities.toExponential(2)} (its probabilities)`);
    assert.ok(worstLogits < 1e-4, `vs log-softmax of node-llama-cpp's logits: ${worstLogits}`);
  });

  it('gives the same numbers with the prefix shared as with every prompt scored from scratch', async () => {
    const shared = await engine.scoreContinuations([group], exact);
    const scratch = await engine.scoreContinuations(group.queries.map((query) => ({ prefix: group.prefix, queries: [query] })), { ...exact, maxSequences: 1 });
    assert.ok(shared.windows === 1 && scratch.windows >= group.queries.length);
    for (const query of group.queries) {
      const a = shared.scores.get(query.key)!;
      const b = scratch.scores.get(query.key)!;
      a.forEach((score, c) => assert.ok(Math.abs(score.logprob - b[c]!.logprob) < 1e-5, `query ${query.key} label ${c}: ${score.logprob} vs ${b[c]!.logprob}`));
    }
  });

  it('evaluates each prefix once and no more tokens than the minimum when the window holds them', async () => {
    const summary = await engine.scoreContinuations([group], exact);
    const suffixes = group.queries.reduce((n, q) => n + q.query.length + q.continuations.reduce((m, c) => m + c.length - 1, 0), 0);
    assert.equal(summary.minimumTokens, group.prefix.length + suffixes);
    assert.equal(summary.evaluatedTokens, summary.minimumTokens);
    // A context too small for all queries at once repeats the prefix in a second window.
    const small = await engine.scoreContinuations([group], { ...exact, contextSize: group.prefix.length + 30 });
    assert.ok(small.windows > 1 && small.evaluatedTokens > small.minimumTokens);
    for (const query of group.queries) {
      small.scores.get(query.key)!.forEach((score, c) => assert.ok(Math.abs(score.logprob - summary.scores.get(query.key)![c]!.logprob) < 1e-5));
    }
  });

  it('names the query that cannot fit the context with its prefix', async () => {
    await assert.rejects(
      engine.scoreContinuations([group], { ...exact, contextSize: group.prefix.length + 2 }),
      (error: unknown) => error instanceof EngineError && error.code === 'text-too-long' && /^query 0: \d+ tokens/.test(error.message),
    );
  });
});
