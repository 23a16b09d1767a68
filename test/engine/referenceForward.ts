// An independent float64 forward pass for the llama and qwen2 models our generator writes,
// written from the architectures' definitions rather than from llama.cpp's graph code, so that
// agreeing with llama.cpp checks both the generated files and the activations we capture.
import { readGguf, readTensorData, findTensor, metadataNumber, metadataString } from '../../src/engine/gguf/ggufReader.js';
import type { GgufFile } from '../../src/engine/gguf/ggufReader.js';
import { dequantize } from '../../src/engine/gguf/quantize.js';

/**
 * How RoPE pairs up a head's values: llama.cpp's `llama_model_rope_type` gives NORM (adjacent
 * pairs 2i, 2i+1) for llama and NEOX (pairs i, i + headDim/2) for qwen2.
 */
export type RopeStyle = 'adjacent-pairs' | 'half-split';

export interface ReferenceConfig {
  readonly arch: 'llama' | 'qwen2';
  readonly layers: number;
  readonly embd: number;
  readonly ff: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly ropeFreqBase: number;
  readonly rmsEps: number;
  readonly rope: RopeStyle;
}

export interface ReferenceOutput {
  /** Per layer, the MLP's output (down projection, before the residual add), [tokens × embd] row-major. */
  readonly mlpOut: readonly Float64Array[];
  /** Logits after the last token. */
  readonly lastLogits: Float64Array;
}

/** A matrix as ggml stores it: `rows` rows of `cols` contiguous values; y = W x. */
interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
}

interface Layer {
  readonly attnNorm: Float32Array;
  readonly q: Matrix;
  readonly k: Matrix;
  readonly v: Matrix;
  readonly qBias: Float32Array | undefined;
  readonly kBias: Float32Array | undefined;
  readonly vBias: Float32Array | undefined;
  readonly o: Matrix;
  readonly ffnNorm: Float32Array;
  readonly gate: Matrix;
  readonly up: Matrix;
  readonly down: Matrix;
}

export class ReferenceModel {
  private constructor(
    readonly config: ReferenceConfig,
    private readonly tokenEmbedding: Matrix,
    private readonly layerWeights: readonly Layer[],
    private readonly outputNorm: Float32Array,
    private readonly output: Matrix,
  ) {}

  /** Loads every weight, dequantized to exactly the values stored in the file. */
  static async load(path: string): Promise<ReferenceModel> {
    const file = await readGguf(path);
    const arch = metadataString(file, 'general.architecture');
    if (arch !== 'llama' && arch !== 'qwen2') throw new Error(`${path}: reference supports llama and qwen2, not ${arch}`);
    const embd = metadataNumber(file, `${arch}.embedding_length`);
    const heads = metadataNumber(file, `${arch}.attention.head_count`);
    const tokenEmbedding = await readMatrix(file, 'token_embd.weight');
    const config: ReferenceConfig = {
      arch,
      layers: metadataNumber(file, `${arch}.block_count`),
      embd,
      ff: metadataNumber(file, `${arch}.feed_forward_length`),
      heads,
      kvHeads: metadataNumber(file, `${arch}.attention.head_count_kv`),
      headDim: embd / heads,
      vocabSize: tokenEmbedding.rows,
      ropeFreqBase: metadataNumber(file, `${arch}.rope.freq_base`),
      rmsEps: metadataNumber(file, `${arch}.attention.layer_norm_rms_epsilon`),
      rope: arch === 'llama' ? 'adjacent-pairs' : 'half-split',
    };
    const optionalVector = async (name: string): Promise<Float32Array | undefined> =>
      file.tensors.some((t) => t.name === name) ? readVector(file, name) : undefined;
    const layers: Layer[] = [];
    for (let l = 0; l < config.layers; l++) {
      const blk = `blk.${l}`;
      layers.push({
        attnNorm: await readVector(file, `${blk}.attn_norm.weight`),
        q: await readMatrix(file, `${blk}.attn_q.weight`),
        k: await readMatrix(file, `${blk}.attn_k.weight`),
        v: await readMatrix(file, `${blk}.attn_v.weight`),
        qBias: await optionalVector(`${blk}.attn_q.bias`),
        kBias: await optionalVector(`${blk}.attn_k.bias`),
        vBias: await optionalVector(`${blk}.attn_v.bias`),
        o: await readMatrix(file, `${blk}.attn_output.weight`),
        ffnNorm: await readVector(file, `${blk}.ffn_norm.weight`),
        gate: await readMatrix(file, `${blk}.ffn_gate.weight`),
        up: await readMatrix(file, `${blk}.ffn_up.weight`),
        down: await readMatrix(file, `${blk}.ffn_down.weight`),
      });
    }
    return new ReferenceModel(
      config,
      tokenEmbedding,
      layers,
      await readVector(file, 'output_norm.weight'),
      await readMatrix(file, 'output.weight'),
    );
  }

  forward(tokens: readonly number[]): ReferenceOutput {
    const { embd, heads, kvHeads, headDim } = this.config;
    if (tokens.length === 0) throw new Error('forward needs at least one token');
    const residual = tokens.map((token) => {
      if (!Number.isInteger(token) || token < 0 || token >= this.tokenEmbedding.rows) throw new Error(`bad token ${token}`);
      return Float64Array.from(this.tokenEmbedding.values.subarray(token * embd, (token + 1) * embd));
    });
    const headsPerKvHead = heads / kvHeads;
    const scale = 1 / Math.sqrt(headDim);
    const mlpOut: Float64Array[] = [];

    for (const layer of this.layerWeights) {
      // Attention: every position's q, k, v first, then causal attention over them.
      const qs: Float64Array[] = [];
      const ks: Float64Array[] = [];
      const vs: Float64Array[] = [];
      residual.forEach((x, pos) => {
        const h = this.rmsNorm(x, layer.attnNorm);
        const q = addBias(matVec(layer.q, h), layer.qBias);
        const k = addBias(matVec(layer.k, h), layer.kBias);
        for (let head = 0; head < heads; head++) this.rotate(q, head * headDim, pos);
        for (let head = 0; head < kvHeads; head++) this.rotate(k, head * headDim, pos);
        qs.push(q);
        ks.push(k);
        vs.push(addBias(matVec(layer.v, h), layer.vBias));
      });
      residual.forEach((x, pos) => {
        const attended = new Float64Array(embd);
        for (let head = 0; head < heads; head++) {
          const kvOffset = Math.floor(head / headsPerKvHead) * headDim;
          const qOffset = head * headDim;
          const scores = new Float64Array(pos + 1);
          for (let j = 0; j <= pos; j++) {
            let dot = 0;
            for (let d = 0; d < headDim; d++) dot += qs[pos][qOffset + d] * ks[j][kvOffset + d];
            scores[j] = dot * scale;
          }
          const weights = softmax(scores);
          for (let j = 0; j <= pos; j++) {
            for (let d = 0; d < headDim; d++) attended[qOffset + d] += weights[j] * vs[j][kvOffset + d];
          }
        }
        addInPlace(x, matVec(layer.o, attended));
      });

      // SwiGLU MLP; its output is what we compare captured activations against.
      const out = new Float64Array(residual.length * embd);
      residual.forEach((x, pos) => {
        const h = this.rmsNorm(x, layer.ffnNorm);
        const gate = matVec(layer.gate, h);
        const up = matVec(layer.up, h);
        const hidden = gate.map((g, i) => silu(g) * up[i]);
        const down = matVec(layer.down, hidden);
        out.set(down, pos * embd);
        addInPlace(x, down);
      });
      mlpOut.push(out);
    }

    const last = this.rmsNorm(residual[residual.length - 1], this.outputNorm);
    return { mlpOut, lastLogits: matVec(this.output, last) };
  }

  private rmsNorm(x: Float64Array, weight: Float32Array): Float64Array {
    let sumOfSquares = 0;
    for (const value of x) sumOfSquares += value * value;
    const inverseRms = 1 / Math.sqrt(sumOfSquares / x.length + this.config.rmsEps);
    return x.map((value, i) => value * inverseRms * weight[i]);
  }

  /** RoPE on one head's values at `offset`: pair i turns by pos * base^(-2i/headDim). */
  private rotate(x: Float64Array, offset: number, pos: number): void {
    const { headDim, ropeFreqBase, rope } = this.config;
    const half = headDim / 2;
    for (let i = 0; i < half; i++) {
      const angle = pos * ropeFreqBase ** ((-2 * i) / headDim);
      const [a, b] = rope === 'adjacent-pairs' ? [offset + 2 * i, offset + 2 * i + 1] : [offset + i, offset + i + half];
      const x0 = x[a];
      const x1 = x[b];
      x[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
      x[b] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
    }
  }
}

async function readMatrix(file: GgufFile, name: string): Promise<Matrix> {
  const tensor = findTensor(file, name);
  if (tensor.dims.length !== 2) throw new Error(`${file.path}: ${name} should be 2-D, is [${tensor.dims.join(', ')}]`);
  const [cols, rows] = tensor.dims as [number, number];
  return { rows, cols, values: dequantize(tensor.type, await readTensorData(file, name)) };
}

async function readVector(file: GgufFile, name: string): Promise<Float32Array> {
  return dequantize(findTensor(file, name).type, await readTensorData(file, name));
}

function matVec(matrix: Matrix, x: Float64Array): Float64Array {
  if (x.length !== matrix.cols) throw new Error(`matrix has ${matrix.cols} columns, vector ${x.length} values`);
  const y = new Float64Array(matrix.rows);
  const { values, cols } = matrix;
  for (let r = 0; r < matrix.rows; r++) {
    let sum = 0;
    const start = r * cols;
    for (let c = 0; c < cols; c++) sum += values[start + c] * x[c];
    y[r] = sum;
  }
  return y;
}

function addBias(x: Float64Array, bias: Float32Array | undefined): Float64Array {
  if (bias !== undefined) for (let i = 0; i < x.length; i++) x[i] += bias[i];
  return x;
}

function addInPlace(target: Float64Array, addend: Float64Array): void {
  for (let i = 0; i < target.length; i++) target[i] += addend[i];
}

function softmax(scores: Float64Array): Float64Array {
  const max = scores.reduce((m, s) => Math.max(m, s), Number.NEGATIVE_INFINITY);
  const exps = scores.map((s) => Math.exp(s - max));
  const total = exps.reduce((sum, e) => sum + e, 0);
  return exps.map((e) => e / total);
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** Softmax of logits, for comparing next-token probabilities. */
export function probabilities(logits: Float64Array): Float64Array {
  return softmax(logits);
}
