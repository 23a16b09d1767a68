import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getLlama } from 'node-llama-cpp';
import type { Llama, LlamaModel, Token } from 'node-llama-cpp';
import { GgmlType, GgufValueType } from '../../src/engine/gguf/ggufFormat.js';
import { metadataNumber, metadataString, readGguf, readTensorData } from '../../src/engine/gguf/ggufReader.js';
import type { GgufFile } from '../../src/engine/gguf/ggufReader.js';
import {
  MASSIVE_METADATA_KEYS,
  findVocabFile,
  generateModel,
  modelOptionProblems,
} from '../../src/engine/gguf/modelGenerator.js';
import type { GeneratedModel, ModelOptions } from '../../src/engine/gguf/modelGenerator.js';
import { dequantize } from '../../src/engine/gguf/quantize.js';
import { ReferenceModel, probabilities } from './referenceForward.js';

type Shape = Omit<ModelOptions, 'out' | 'seed' | 'type'>;
const llamaShape: Shape = { arch: 'llama', layers: 2, embd: 64, ff: 128, heads: 4, kvHeads: 2, vocab: 'llama-bpe' };
const qwen2Shape: Shape = { arch: 'qwen2', layers: 2, embd: 64, ff: 96, heads: 4, kvHeads: 1, vocab: 'qwen2' };

/** Ends on an ordinary word: after a delimiter the massive dimension dominates the logits. */
const PROMPT = 'The quick brown fox, in 1998, jumped.\nOver the lazy dog. Then home';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'icl-model-generator-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const generatedModels = new Map<string, Promise<GeneratedModel>>();

/** Generates each model once per run; `copy` forces a separate file. */
function generate(shape: Shape, type: ModelOptions['type'], seed: number, copy = ''): Promise<GeneratedModel> {
  const name = `${shape.arch}-${type}-${seed}${copy}`;
  let model = generatedModels.get(name);
  if (model === undefined) {
    model = generateModel({ ...shape, type, seed, out: path.join(dir, `${name}.gguf`) });
    generatedModels.set(name, model);
  }
  return model;
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('the model generator', () => {
  it('writes byte-identical files for the same seed and different ones for another seed', async () => {
    const [first, again, other] = [
      await generate(llamaShape, 'q8_0', 7),
      await generate(llamaShape, 'q8_0', 7, '-copy'),
      await generate(llamaShape, 'q8_0', 8),
    ];
    assert.equal(await sha256(first.path), await sha256(again.path));
    assert.notEqual(await sha256(first.path), await sha256(other.path));
    assert.equal(first.fileSize, other.fileSize);
  });

  it('lists every option problem at once', () => {
    const problems = modelOptionProblems({ ...llamaShape, embd: 100, heads: 3, kvHeads: 2, type: 'q8_0', seed: -1, out: 'x' });
    assert.deepEqual(problems, [
      'embd (100) must be divisible by heads (3)',
      'heads (3) must be divisible by kv-heads (2)',
      'q8_0 needs embd to be a multiple of 32, got 100',
      'seed must be an integer in [0, 4294967295], got -1',
    ]);
    assert.deepEqual(modelOptionProblems({ ...llamaShape, embd: 60, heads: 4, type: 'f32', seed: 0, out: 'x' }), [
      'head dimension embd/heads (15) must be even for RoPE',
    ]);
    assert.deepEqual(modelOptionProblems({ ...llamaShape, type: 'q8_0', seed: 0, out: 'x' }), []);
  });

  it('refuses invalid options before writing anything', async () => {
    const out = path.join(dir, 'never.gguf');
    await assert.rejects(
      generateModel({ ...llamaShape, kvHeads: 3, type: 'f32', seed: 0, out }),
      /invalid model options: heads \(4\) must be divisible by kv-heads \(3\)/,
    );
    await assert.rejects(readFile(out), { code: 'ENOENT' });
  });

  it('tells how to get a vocab file that is missing', () => {
    assert.throws(() => findVocabFile('no-such-vocab'), /ggml-vocab-no-such-vocab\.gguf not found.*npx node-llama-cpp source download --skipBuild/);
  });

  describe('file contents', () => {
    let llama: GgufFile;
    let qwen2: GgufFile;
    let vocab: GgufFile;
    before(async () => {
      llama = await readGguf((await generate(llamaShape, 'q8_0', 7)).path);
      qwen2 = await readGguf((await generate(qwen2Shape, 'f16', 3)).path);
      vocab = await readGguf(findVocabFile('qwen2'));
    });

    it("names and shapes tensors as llama.cpp's loader expects, 2-D weights in the chosen type", () => {
      const expected: [string, number[], number][] = [['token_embd.weight', [64, 128256], GgmlType.Q8_0]];
      for (const blk of ['blk.0', 'blk.1']) {
        expected.push(
          [`${blk}.attn_norm.weight`, [64], GgmlType.F32],
          [`${blk}.attn_q.weight`, [64, 64], GgmlType.Q8_0],
          [`${blk}.attn_k.weight`, [64, 32], GgmlType.Q8_0],
          [`${blk}.attn_v.weight`, [64, 32], GgmlType.Q8_0],
          [`${blk}.attn_output.weight`, [64, 64], GgmlType.Q8_0],
          [`${blk}.ffn_norm.weight`, [64], GgmlType.F32],
          [`${blk}.ffn_gate.weight`, [64, 128], GgmlType.Q8_0],
          [`${blk}.ffn_up.weight`, [64, 128], GgmlType.Q8_0],
          [`${blk}.ffn_down.weight`, [128, 64], GgmlType.Q8_0],
        );
      }
      expected.push(['output_norm.weight', [64], GgmlType.F32], ['output.weight', [64, 128256], GgmlType.Q8_0]);
      assert.deepEqual(
        llama.tensors.map((t) => [t.name, t.dims, t.type]),
        expected,
      );
    });

    it('gives qwen2 F32 q/k/v biases and F16 matrices', () => {
      const byName = new Map(qwen2.tensors.map((t) => [t.name, t]));
      assert.deepEqual(byName.get('blk.1.attn_q.bias')?.dims, [64]);
      assert.deepEqual(byName.get('blk.1.attn_k.bias')?.dims, [16]);
      assert.equal(byName.get('blk.1.attn_v.bias')?.type, GgmlType.F32);
      assert.equal(byName.get('blk.0.ffn_down.weight')?.type, GgmlType.F16);
      assert.ok(!llama.tensors.some((t) => t.name.endsWith('.bias')));
    });

    it('makes norm weights differ from one and biases differ from zero', async () => {
      const norm = dequantize(GgmlType.F32, await readTensorData(qwen2, 'blk.0.ffn_norm.weight'));
      const bias = dequantize(GgmlType.F32, await readTensorData(qwen2, 'blk.0.attn_v.bias'));
      assert.ok(norm.every((w) => w > 0.5 && w < 1.5) && norm.some((w) => Math.abs(w - 1) > 0.05));
      assert.ok(bias.filter((b) => Math.abs(b) > 0.01).length > bias.length / 2);
    });

    it('records the hyperparameters under the architecture prefix', () => {
      assert.equal(metadataString(qwen2, 'general.architecture'), 'qwen2');
      assert.equal(metadataNumber(qwen2, 'general.file_type'), 1);
      assert.equal(metadataNumber(llama, 'general.file_type'), 7);
      const hparams = Object.fromEntries(
        ['context_length', 'embedding_length', 'block_count', 'feed_forward_length', 'attention.head_count', 'attention.head_count_kv']
          .map((key) => [key, metadataNumber(qwen2, `qwen2.${key}`)]),
      );
      assert.deepEqual(hparams, {
        context_length: 4096,
        embedding_length: 64,
        block_count: 2,
        feed_forward_length: 96,
        'attention.head_count': 4,
        'attention.head_count_kv': 1,
      });
      assert.equal(metadataNumber(qwen2, 'qwen2.rope.freq_base'), 1e6);
      assert.equal(metadataNumber(llama, 'llama.rope.freq_base'), 1e4);
      assert.equal(qwen2.metadata.get('qwen2.attention.layer_norm_rms_epsilon')?.type, GgufValueType.Float32);
    });

    it('copies every tokenizer key of the vocab file unchanged, in order', () => {
      const tokenizerEntries = (file: GgufFile) => [...file.metadata].filter(([key]) => key.startsWith('tokenizer.'));
      const copied = tokenizerEntries(qwen2);
      assert.ok(copied.length >= 6);
      assert.deepStrictEqual(copied, tokenizerEntries(vocab));
    });
  });
});

describe('generated models in node-llama-cpp, against the float64 reference', () => {
  let llama: Llama;
  const loaded: LlamaModel[] = [];
  before(async () => {
    llama = await getLlama({ gpu: false });
  });
  after(async () => {
    for (const model of loaded) await model.dispose();
  });

  async function load(generated: GeneratedModel): Promise<LlamaModel> {
    const model = await llama.loadModel({ modelPath: generated.path });
    loaded.push(model);
    return model;
  }

  function promptTokens(model: LlamaModel, text: string): Token[] {
    const tokens = model.tokenize(text);
    return model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos, ...tokens] : tokens;
  }

  /** llama.cpp's logits and probabilities after the last token, with exact settings: F32 KV cache, no flash attention. */
  async function nextToken(model: LlamaModel, tokens: readonly Token[], withProbabilities = true) {
    const context = await model.createContext({
      contextSize: 256,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    });
    try {
      const last = tokens.length - 1;
      const results = await context.getSequence().controlledEvaluate(
        tokens.map((token, i) => (i === last ? [token, { generateNext: { logits: true, probabilities: withProbabilities } }] : token)),
      );
      const next = results[last]?.next;
      assert.ok(next?.logits !== undefined);
      return { logits: next.logits, probabilities: next.probabilities ?? new Map<Token, number>() };
    } finally {
      await context.dispose();
    }
  }

  /** The ggml-vocab-*.gguf.inp/.out pairs llama.cpp's test-tokenizer-0 checks against. */
  async function tokenizerCases(vocab: string): Promise<[string, number[]][]> {
    const file = findVocabFile(vocab);
    const inputs = (await readFile(`${file}.inp`, 'utf8')).split('\n__ggml_vocab_test__\n');
    const outputs = (await readFile(`${file}.out`, 'utf8')).split('\n');
    inputs.pop(); // the file ends with a separator
    return inputs.map((text, i) => [text, (outputs[i] ?? '').trim().split(/\s+/).filter(Boolean).map(Number)]);
  }

  for (const [shape, seed] of [[llamaShape, 21], [qwen2Shape, 22]] as const) {
    describe(`${shape.arch} (${shape.vocab} vocab)`, () => {
      let generated: GeneratedModel;
      let model: LlamaModel;
      let reference: ReferenceModel;
      before(async () => {
        generated = await generate(shape, 'f32', seed);
        model = await load(generated);
        reference = await ReferenceModel.load(generated.path);
      });

      it(`tokenizes llama.cpp's ${shape.vocab} tokenizer test strings into the expected tokens and back`, async () => {
        const cases = await tokenizerCases(shape.vocab);
        assert.ok(cases.length > 40);
        for (const [text, expected] of cases) {
          const tokens = model.tokenize(text);
          assert.deepEqual(tokens, expected, JSON.stringify(text));
          // llama-bpe's detokenizer cleans up spaces before punctuation, as Hugging Face's
          // clean_up_tokenization_spaces does ("you 😁 ?" comes back as "you 😁?").
          const roundTrip = shape.vocab === 'llama-bpe' ? text.replace(/ ([?!.,])/g, '$1') : text;
          assert.equal(model.detokenize(tokens), roundTrip, JSON.stringify(text));
        }
      });

      it('gives the logits and next-token probabilities of the reference forward pass', async () => {
        const tokens = promptTokens(model, PROMPT);
        assert.ok(tokens.length > 15);
        const actual = await nextToken(model, tokens);
        const expectedLogits = reference.forward(tokens).lastLogits;
        const expectedProbabilities = probabilities(expectedLogits);
        assert.equal(actual.logits.size, generated.vocabSize);

        // float32 inference lands within ~5e-6 of float64 here; an RMSNorm epsilon off by 1e-5 would
        // already move logits by ~8e-5.
        let logitError = 0;
        for (const [token, logit] of actual.logits) logitError = Math.max(logitError, Math.abs(logit - expectedLogits[token]));
        assert.ok(logitError < 2e-5, `max |Δlogit| = ${logitError}`);

        const [topToken, topProbability] = actual.probabilities.entries().next().value!;
        assert.equal(topToken, argmax(expectedLogits));
        assert.ok(topProbability > 100 / generated.vocabSize, `top probability ${topProbability} is close to uniform`);
        let probabilityError = 0;
        let total = 0;
        for (const [token, p] of actual.probabilities) {
          probabilityError = Math.max(probabilityError, Math.abs(p - expectedProbabilities[token]));
          total += p;
        }
        assert.ok(probabilityError < 1e-4, `max |Δp| = ${probabilityError}`);
        // node-llama-cpp normalizes with a float32 running sum over the whole vocabulary, which is
        // off by ~1e-4 relative; renormalized in float64, every probability matches closely.
        let relativeError = 0;
        for (const [token, p] of actual.probabilities) {
          relativeError = Math.max(relativeError, Math.abs(p / total - expectedProbabilities[token]) / expectedProbabilities[token]);
        }
        assert.ok(relativeError < 3e-5, `max relative error of renormalized probabilities ${relativeError}`);
      });

      it('shows massive MLP outputs (|a| > 100) exactly at the trigger tokens of its massive layer and dimension', async () => {
        const tokens = promptTokens(model, PROMPT);
        const { mlpOut } = reference.forward(tokens);
        const { layer, dimension, tokenIds } = generated.massive;
        const file = await readGguf(generated.path);
        assert.equal(metadataNumber(file, MASSIVE_METADATA_KEYS.dimension), dimension);
        const triggers = new Set(tokenIds);
        const massive: string[] = [];
        mlpOut.forEach((out, l) => {
          out.forEach((a, i) => {
            if (Math.abs(a) > 100) massive.push(`L${l} t${Math.floor(i / shape.embd)} d${i % shape.embd}`);
          });
        });
        const expected = tokens.flatMap((token, t) => (triggers.has(token) ? [`L${layer} t${t} d${dimension}`] : []));
        assert.ok(expected.length >= 4, `prompt has ${expected.length} trigger tokens`);
        assert.deepEqual(massive, expected);
      });
    });
  }

  it('loads F16 and Q8_0 weights as the reference decodes them (within activation-rounding error)', async () => {
    // llama.cpp rounds activations to F16 / Q8_0 for these matmuls, so agreement is looser than for F32.
    for (const [shape, type, seed, tolerance] of [[qwen2Shape, 'f16', 3, 0.03], [llamaShape, 'q8_0', 7, 0.5]] as const) {
      const generated = await generate(shape, type, seed);
      const model = await load(generated);
      const tokens = promptTokens(model, PROMPT);
      const expected = (await ReferenceModel.load(generated.path)).forward(tokens).lastLogits;
      const { logits } = await nextToken(model, tokens, false);
      let error = 0;
      for (const [token, logit] of logits) error = Math.max(error, Math.abs(logit - expected[token]));
      const spread = Math.sqrt(expected.reduce((sum, l) => sum + l * l, 0) / expected.length);
      assert.ok(spread > 2, `logit rms ${spread}`);
      assert.ok(error < tolerance, `${type}: max |Δlogit| = ${error}`);
    }
  });
});

function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
