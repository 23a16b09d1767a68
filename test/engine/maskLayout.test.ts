import assert from 'node:assert/strict';
import { ActivationEngine, type ExtractedExample } from '../../src/engine/activationEngine.js';
import type { ExtractionOptions } from '../../src/engine/protocol.js';
import { maskLayout, maskStrategies, type MaskCandidate } from '../../src/core/masks.js';
import { classificationTemplate } from '../../src/core/template/defaultTemplates.js';
import type { Demonstration } from '../../src/core/template/promptRenderer.js';
import { ReferenceModel } from './referenceForward.js';
import { testModelPath, tinyLlama, tinyQwen2, type TestModelOptions } from './generatedModels.js';

// Texts that tempt BPE to merge across a boundary: a leading space, digits, a newline.
const candidates: MaskCandidate[] = [' spaced out start', '12345 numbers', 'line\nbreak'].map((text, example) => ({
  example,
  demonstration: { inputs: { text }, answer: example % 2 ? 'positive' : 'negative' },
}));
const others: Demonstration[] = [
  { inputs: { text: 'Loved it.' }, answer: 'positive' },
  { inputs: { text: 'Awful.' }, answer: 'negative' },
];
const base: ExtractionOptions = { mask: 'isolated', contextSize: 512, batchSize: 512, maxSequences: 16, threads: 2, exact: true, rawExamples: 'all' };

for (const modelOptions of [tinyLlama, tinyQwen2] satisfies TestModelOptions[]) {
  describe(`mask layouts on a generated ${modelOptions.arch} model`, function () {
    this.timeout(300_000);
    let engine: ActivationEngine;
    let start: readonly number[];

    before(async () => {
      engine = await ActivationEngine.create('cpu');
      const info = await engine.loadModel(await testModelPath(modelOptions));
      start = info.start.tokens;
      // llama-bpe adds a BOS; qwen2, like Qwen2.5, adds none and starts with its end-of-text token.
      assert.equal(info.start.kind, modelOptions.vocab === 'qwen2' ? 'eos' : 'bos');
      assert.equal(info.addBos, modelOptions.vocab !== 'qwen2');
    });
    after(async () => engine?.dispose());

    it('gives the three masks identical span tokens, the span text tokenized on its own', () => {
      const spans = maskStrategies.map((mask) => {
        const layout = maskLayout(classificationTemplate, mask, 'input', candidates, (i) => [others[i % 2]!]);
        return engine.extractionLayout(layout.examples, { ...base, mask, ...(layout.prefix ? { prefix: layout.prefix } : {}) }).requests.map((r) => Array.from(r.span));
      });
      const isolatedLayout = maskLayout(classificationTemplate, 'isolated', 'input', candidates);
      spans[0]!.forEach((span, i) => assert.deepEqual(span, Array.from(engine.tokenize(isolatedLayout.examples[i]!.text)), `example ${i}`));
      assert.deepEqual(spans[1], spans[0], 'shared-prefix vs isolated');
      assert.deepEqual(spans[2], spans[0], 'in-context vs isolated');
    });

    it('puts the start tokens at position 0 under every mask, so no span token sits there', () => {
      for (const mask of maskStrategies) {
        const layout = maskLayout(classificationTemplate, mask, 'input', candidates, (i) => [others[i % 2]!]);
        const { shared, requests } = engine.extractionLayout(layout.examples, { ...base, mask, ...(layout.prefix ? { prefix: layout.prefix } : {}) });
        assert.ok(start.length > 0);
        assert.deepEqual(Array.from(shared.subarray(0, start.length)), start, mask);
        for (const request of requests) assert.ok(shared.length + request.leading.length >= start.length, `${mask}: example ${request.example}'s span starts at position 0`);
      }
    });

    it('reads an isolated span after the start tokens: its activations are those of a forward pass over start + span', async () => {
      const reference = await ReferenceModel.load(await testModelPath(modelOptions));
      const layout = maskLayout(classificationTemplate, 'isolated', 'input', candidates);
      const results: ExtractedExample[] = [];
      await engine.extract(layout.examples, base, (r) => results.push(r), () => undefined);
      const width = modelOptions.embd;
      for (const result of results) {
        const span = Array.from(engine.tokenize(layout.examples[result.example]!.text));
        const expected = reference.forward([...start, ...span]).mlpOut;
        let worst = 0;
        expected.forEach((layer, l) => {
          let scale = 0;
          let error = 0;
          for (let t = 0; t < span.length; t++) {
            for (let d = 0; d < width; d++) {
              const want = layer[(start.length + t) * width + d]!;
              scale = Math.max(scale, Math.abs(want));
              error = Math.max(error, Math.abs(result.raw![(l * span.length + t) * width + d]! - want));
            }
          }
          worst = Math.max(worst, error / scale);
        });
        assert.ok(worst <= 1e-5, `example ${result.example}: relative error ${worst}`);
      }
    });
  });
}
