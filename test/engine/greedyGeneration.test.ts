import assert from 'node:assert/strict';
import { getLlama, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { ActivationEngine, type GenerationGroup } from '../../src/engine/activationEngine.js';
import type { GenerationOptions } from '../../src/engine/protocol.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

const options: GenerationOptions = { contextSize: 512, batchSize: 512, maxSequences: 16, threads: 2, exact: true, maxTokens: 12, stop: [] };

describe('greedy generation', function () {
  this.timeout(300_000);
  let engine: ActivationEngine;
  let llama: Llama;
  let reference: LlamaModel;
  let group: GenerationGroup;

  before(async () => {
    const file = await testModelPath(tinyQwen2);
    engine = await ActivationEngine.create('cpu');
    await engine.loadModel(file);
    llama = await getLlama({ gpu: false });
    reference = await llama.loadModel({ modelPath: file });
    group = {
      prefix: engine.tokenize('Question: what colour is the sky\nAnswer: blue\n\n', true),
      queries: ['Question: what is two plus two\nAnswer:', 'Question: name a fruit\nAnswer:', 'Question: who wrote it\nAnswer:'].map((text, key) => ({
        key,
        query: engine.tokenize(text),
      })),
    };
  });
  after(async () => {
    await engine?.dispose();
    await reference?.dispose();
  });

  /** node-llama-cpp's own greedy continuation of the same tokens. */
  async function referenceTokens(tokens: readonly number[], count: number): Promise<number[]> {
    const context = await reference.createContext({ contextSize: 512, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
    try {
      const out: number[] = [];
      for await (const token of context.getSequence().evaluate(tokens as Token[], { temperature: 0 })) {
        out.push(token);
        if (out.length >= count) break;
      }
      return out;
    } finally {
      await context.dispose();
    }
  }

  it("produces node-llama-cpp's greedy tokens for every query, decoded side by side with the prefix shared", async () => {
    const { outputs } = await engine.generateGreedy([group], options);
    for (const query of group.queries) {
      const output = outputs.get(query.key)!;
      const expected = await referenceTokens([...group.prefix, ...query.query], output.tokens);
      const expectedText = new TextDecoder().decode(await engine['requireModel']().detokenize(Int32Array.from(expected)));
      assert.equal(output.text, expectedText, `query ${query.key}`);
      if (output.stoppedBy === 'token-limit') assert.equal(output.tokens, options.maxTokens);
    }
  });

  it('cuts the text at the first stop string', async () => {
    const free = await engine.generateGreedy([group], options);
    const text = free.outputs.get(0)!.text;
    assert.ok(text.length >= 3, `generated "${text}"`);
    const stop = text.slice(1, 3);
    const stopped = await engine.generateGreedy([group], { ...options, stop: [stop] });
    const output = stopped.outputs.get(0)!;
    assert.equal(output.stoppedBy, 'stop-string');
    assert.equal(output.text, text.slice(0, text.indexOf(stop)));
  });

  it('gives the same text whether queries share windows or run alone', async () => {
    const together = await engine.generateGreedy([group], options);
    const alone = await engine.generateGreedy([group], { ...options, maxSequences: 1 });
    for (const query of group.queries) assert.equal(together.outputs.get(query.key)!.text, alone.outputs.get(query.key)!.text);
  });
});
