import assert from 'node:assert/strict';
import { ActivationEngine, type ExtractedExample } from '../../src/engine/activationEngine.js';
import { loadAddon } from '../../src/engine/addon.js';
import { EngineError, type ExtractionExample, type ExtractionOptions } from '../../src/engine/protocol.js';
import { ReferenceModel } from './referenceForward.js';
import { testModelPath, tinyLlama, tinyQwen2, type TestModelOptions } from './generatedModels.js';

const texts = [
  'The quick brown fox jumps over the lazy dog.',
  'A short one',
  'Numbers like 12345, punctuation; and line\nbreaks, too.',
  'In-context examples help the model, sometimes.',
  'Zebra',
];

const exact: ExtractionOptions = { mask: 'isolated', contextSize: 512, batchSize: 512, maxSequences: 16, threads: 2, exact: true, rawExamples: 'all' };

async function extractAll(engine: ActivationEngine, examples: ExtractionExample[], options: ExtractionOptions): Promise<Map<number, ExtractedExample>> {
  const results = new Map<number, ExtractedExample>();
  await engine.extract(examples, options, (r) => results.set(r.example, r), () => undefined);
  return results;
}

/** Largest |captured − reference| over a layer, divided by the layer's largest |reference|. */
function worstRelativeError(raw: Float32Array, reference: readonly Float64Array[], skipRows: number, spanTokens: number, width: number): number {
  let worst = 0;
  reference.forEach((layer, l) => {
    let scale = 0;
    let error = 0;
    for (let t = 0; t < spanTokens; t++) {
      for (let d = 0; d < width; d++) {
        const expected = layer[(skipRows + t) * width + d]!;
        const got = raw[(l * spanTokens + t) * width + d]!;
        scale = Math.max(scale, Math.abs(expected));
        error = Math.max(error, Math.abs(got - expected));
      }
    }
    worst = Math.max(worst, error / scale);
  });
  return worst;
}

/** Largest |a − b| per layer over the layer's largest |b|: the same yardstick as the reference test. */
function relativeDifference(a: Float32Array, b: Float32Array, layers: number): number {
  assert.equal(a.length, b.length);
  const perLayer = a.length / layers;
  let worst = 0;
  for (let l = 0; l < layers; l++) {
    let scale = 0;
    let error = 0;
    for (let i = l * perLayer; i < (l + 1) * perLayer; i++) {
      scale = Math.max(scale, Math.abs(b[i]!));
      error = Math.max(error, Math.abs(a[i]! - b[i]!));
    }
    worst = Math.max(worst, error / scale);
  }
  return worst;
}

for (const modelOptions of [tinyLlama, tinyQwen2] satisfies TestModelOptions[]) {
  describe(`the activation tap on a generated ${modelOptions.arch} model`, function () {
    this.timeout(300_000);
    let engine: ActivationEngine;
    let reference: ReferenceModel;
    let bos: number[];
    let width: number;

    before(async () => {
      const file = await testModelPath(modelOptions);
      engine = await ActivationEngine.create('cpu');
      const info = await engine.loadModel(file);
      assert.equal(info.architecture, modelOptions.arch);
      width = info.embeddingLength;
      reference = await ReferenceModel.load(file);
      // The start every sequence gets: BOS, or its stand-in where the vocabulary adds none (qwen2).
      bos = [...info.start.tokens];
    });
    after(async () => engine?.dispose());

    function referenceSpan(leading: readonly number[], span: readonly number[]): readonly Float64Array[] {
      return reference.forward([...leading, ...span]).mlpOut;
    }

    it('captures every layer and every token within 1e-5 of a float64 reference forward pass (--exact)', async () => {
      const results = await extractAll(engine, texts.map((text, example) => ({ example, text })), exact);
      assert.equal(results.size, texts.length);
      let worst = 0;
      for (const [example, result] of results) {
        const span = Array.from(engine.tokenize(texts[example]!));
        assert.equal(result.spanTokens, span.length);
        const error = worstRelativeError(result.raw!, referenceSpan(bos, span), bos.length, span.length, width);
        assert.ok(error <= 1e-5, `example ${example}: relative error ${error}`);
        worst = Math.max(worst, error);
      }
      console.log(`      worst |captured − reference| / layer max |a|, exact: ${worst.toExponential(2)}`);
    });

    it("matches the reference within 3e-3 with llama.cpp's fast defaults (F16 KV cache, flash attention auto)", async () => {
      const results = await extractAll(engine, texts.map((text, example) => ({ example, text })), { ...exact, exact: false });
      let worst = 0;
      for (const [example, result] of results) {
        const span = Array.from(engine.tokenize(texts[example]!));
        const error = worstRelativeError(result.raw!, referenceSpan(bos, span), bos.length, span.length, width);
        assert.ok(error <= 3e-3, `example ${example}: relative error ${error}`);
        worst = Math.max(worst, error);
      }
      console.log(`      worst |captured − reference| / layer max |a|, defaults: ${worst.toExponential(2)}`);
    });

    it('masks: an isolated example equals the same example decoded alone while other sequences share its batch', async () => {
      const all = texts.map((text, example) => ({ example, text }));
      // Small micro-batches so sequences straddle llama_decode calls and share them.
      const together = await extractAll(engine, all, { ...exact, batchSize: 7 });
      let worst = 0;
      for (const item of all) {
        const alone = await extractAll(engine, [item], { ...exact, maxSequences: 1 });
        const difference = relativeDifference(together.get(item.example)!.raw!, alone.get(item.example)!.raw!, modelOptions.layers);
        assert.ok(difference <= 1e-5, `example ${item.example}: relative difference ${difference}`);
        worst = Math.max(worst, difference);
      }
      console.log(`      worst |batched − alone| / layer max |a|: ${worst.toExponential(2)}`);
    });

    it('shared-prefix: each example sees the prefix and itself, matching a reference over prefix + example', async () => {
      const prefix = 'Classify the sentiment of the review.';
      const results = await extractAll(engine, texts.map((text, example) => ({ example, text })), { ...exact, mask: 'shared-prefix', prefix, batchSize: 16 });
      const leading = Array.from(engine.tokenizeFromStart(prefix));
      for (const [example, result] of results) {
        const span = Array.from(engine.tokenize(texts[example]!));
        const error = worstRelativeError(result.raw!, referenceSpan(leading, span), leading.length, span.length, width);
        assert.ok(error <= 1e-5, `example ${example}: relative error ${error}`);
      }
    });

    it("in-context: reads one example's span after its own leading text, causally", async () => {
      const leadingOf = (example: number): string => (example === 0 ? `${texts[1]}\n\n${texts[3]}\n\n` : `${texts[4]}\n\n`);
      const results = await extractAll(engine, [{ example: 0, text: texts[0]!, leading: leadingOf(0) }, { example: 2, text: texts[2]!, leading: leadingOf(2) }], {
        ...exact,
        mask: 'in-context',
      });
      for (const [example, result] of results) {
        const leading = [...bos, ...engine.tokenize(leadingOf(example))];
        const span = Array.from(engine.tokenize(texts[example]!));
        const error = worstRelativeError(result.raw!, referenceSpan(leading, span), leading.length, span.length, width);
        assert.ok(error <= 1e-5, `example ${example}: relative error ${error}`);
      }
    });

    it('streams statistics that agree with the raw outputs they summarise', async () => {
      const results = await extractAll(engine, [{ example: 0, text: texts[0]! }], exact);
      const result = results.get(0)!;
      const tokens = result.spanTokens;
      const addon = loadAddon();
      for (let layer = 0; layer < modelOptions.layers; layer++) {
        const values = result.raw!.slice(layer * tokens * width, (layer + 1) * tokens * width);
        const expected = addon.reduceActivations(values, tokens, width);
        const got = result.stats.subarray(layer * expected.length, (layer + 1) * expected.length);
        assert.deepEqual(Array.from(got), Array.from(expected));
      }
    });

    it('names the example whose text is longer than the context and decodes nothing', async () => {
      const long = 'word '.repeat(300);
      await assert.rejects(
        extractAll(engine, [{ example: 0, text: texts[0]! }, { example: 7, text: long }], { ...exact, contextSize: 128 }),
        (error: unknown) => error instanceof EngineError && error.code === 'text-too-long' && /example 7 \(\d+ tokens\)/.test(error.message) && error.message.includes('context size of 128'),
      );
    });

    it('stops at a cancel and keeps the examples finished before it', async () => {
      const many = Array.from({ length: 40 }, (_, example) => ({ example, text: texts[example % texts.length]! }));
      let received = 0;
      let cancelled = false;
      const listeners: (() => void)[] = [];
      const signal = {
        get isCancellationRequested() {
          return cancelled;
        },
        onCancellationRequested(listener: () => void) {
          listeners.push(listener);
          return { dispose: () => undefined };
        },
      };
      await assert.rejects(
        engine.extract(many, { ...exact, maxSequences: 2, rawExamples: [] }, () => received++, (progress) => {
          if (progress.done >= 4 && !cancelled) {
            cancelled = true;
            listeners.forEach((l) => l());
          }
        }, signal),
        (error: unknown) => error instanceof EngineError && error.code === 'cancelled',
      );
      assert.ok(received >= 4 && received < many.length, `received ${received}`);
    });
  });
}

describe('logits from the tap model (one model for capture and scoring)', () => {
  it("match the float64 reference's next-token logits in exact mode, while activations are captured", async () => {
    const engine = await ActivationEngine.create('cpu');
    try {
      const file = await testModelPath(tinyLlama);
      await engine.loadModel(file);
      const reference = await ReferenceModel.load(file);
      const model = await loadAddon().TapModel.load(file, { gpuLayers: 0 });
      const context = model.createContext({ contextSize: 64, batchSize: 64, maxSequences: 1, threads: 1, exact: true, tensorPrefix: 'ffn_out' });
      // End on an ordinary word: after a massive-activation trigger token the distribution is degenerate.
      const tokens = model.tokenize('The lamp works well and looks nice', true, false);
      const result = await context.runWindow({
        tokens,
        positions: Int32Array.from(tokens, (_, i) => i),
        seqOffsets: Int32Array.from({ length: tokens.length + 1 }, (_, i) => i),
        seqIds: new Int32Array(tokens.length),
        spanOf: Int32Array.from(tokens, (_, i) => (i === 0 ? -1 : 0)),
        spanLengths: Int32Array.of(tokens.length - 1),
        keepRaw: Uint8Array.of(0),
        logitsTokens: Int32Array.of(tokens.length - 1),
      });
      const expected = reference.forward(Array.from(tokens)).lastLogits;
      assert.equal(result.logits.length, expected.length);
      let scale = 0;
      let error = 0;
      for (let i = 0; i < expected.length; i++) {
        scale = Math.max(scale, Math.abs(expected[i]!));
        error = Math.max(error, Math.abs(result.logits[i]! - expected[i]!));
      }
      assert.ok(error <= 1e-5 * scale, `max |logit error| ${error} at scale ${scale}`);
      assert.ok(result.stats.some((v) => v !== 0), 'statistics were captured in the same decode');
      context.dispose();
      model.dispose();
    } finally {
      await engine.dispose();
    }
  });
});

describe('a model graph without the tapped tensor', () => {
  it('is a clear error naming the architecture', async () => {
    const engine = await ActivationEngine.create('cpu');
    try {
      await engine.loadModel(await testModelPath(tinyQwen2));
      const addon = loadAddon();
      const model = await addon.TapModel.load(await testModelPath(tinyQwen2), { gpuLayers: 0 });
      const context = model.createContext({ contextSize: 64, batchSize: 64, maxSequences: 1, threads: 1, exact: true, tensorPrefix: 'no_such_tensor' });
      const tokens = model.tokenize('hello', false, false);
      await assert.rejects(
        context.runWindow({
          tokens,
          positions: Int32Array.from(tokens, (_, i) => i),
          seqOffsets: Int32Array.from({ length: tokens.length + 1 }, (_, i) => i),
          seqIds: new Int32Array(tokens.length),
          spanOf: new Int32Array(tokens.length),
          spanLengths: Int32Array.of(tokens.length),
          keepRaw: Uint8Array.of(0),
          logitsTokens: new Int32Array(0),
        }),
        /the graph of architecture "qwen2" has no "no_such_tensor-<layer>" tensors/,
      );
      context.dispose();
      model.dispose();
    } finally {
      await engine.dispose();
    }
  });
});
