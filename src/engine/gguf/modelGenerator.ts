// Generates small llama / qwen2 GGUF models with seeded random weights and a real tokenizer,
// for tests and demos: loadable by llama.cpp, byte-identical for the same options.
//
// Massive activations, by construction. In the second layer (the first if there is only one),
// one MLP neuron reads a single residual dimension (chosen by the seed) and writes back to that
// dimension only. BOS and a few delimiter tokens ('.', ',', '\n', '.\n', ...) have a large value
// in that dimension of their embedding (other tokens a damped one), and the neuron's response is
// quadratic, so those tokens get MLP outputs of 150-500 there, while every other MLP output value
// stays below ~60. The first token and delimiters are where real LLMs show massive activations
// too. This holds for every width and weight type, and values of a few hundred keep float32
// inference well-conditioned (llama.cpp matches a float64 reference to ~1e-6 relative).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, parse } from 'node:path';
import { packageRoot } from '../packageRoot.js';
import {
  GGML_QUANTIZATION_VERSION,
  GgmlType,
  GgufValueType,
  LlamaFileType,
  Q8_0_BLOCK_VALUES,
} from './ggufFormat.js';
import type { GgufValue } from './ggufFormat.js';
import { readGguf } from './ggufReader.js';
import { writeGguf } from './ggufWriter.js';
import type { GgufTensorToWrite } from './ggufWriter.js';
import { quantize } from './quantize.js';
import { namedRandom, normalish } from './weightNoise.js';

export const modelArchitectures = ['llama', 'qwen2'] as const;
export type ModelArchitecture = (typeof modelArchitectures)[number];
export const vocabNames = ['llama-bpe', 'qwen2'] as const;
export type VocabName = (typeof vocabNames)[number];
export const weightTypes = ['f32', 'f16', 'q8_0'] as const;
export type WeightType = (typeof weightTypes)[number];

export interface ModelOptions {
  readonly arch: ModelArchitecture;
  readonly layers: number;
  /** Model width (n_embd). */
  readonly embd: number;
  /** MLP hidden width (n_ff). */
  readonly ff: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly vocab: VocabName;
  /** Type of the 2-D weight matrices; norm weights and biases are always F32. */
  readonly type: WeightType;
  /** Unsigned 32-bit integer. */
  readonly seed: number;
  readonly out: string;
  /** Defaults to 4096. */
  readonly contextLength?: number;
  /** Defaults to 10000 for llama, 1000000 for qwen2 (as Qwen2 itself). */
  readonly ropeFreqBase?: number;
  /** Defaults to 1e-5 for llama, 1e-6 for qwen2. */
  readonly rmsEps?: number;
}

/** Where the generated model's massive activations are (see the top of this file). */
export interface MassiveActivationSite {
  readonly layer: number;
  /** Residual-stream dimension the MLP output is massive in. */
  readonly dimension: number;
  /** The MLP neuron that produces it. */
  readonly neuron: number;
  /** Tokens that trigger it. */
  readonly tokenIds: readonly number[];
}

export interface GeneratedModel {
  readonly path: string;
  readonly fileSize: number;
  readonly vocabSize: number;
  readonly tensorCount: number;
  readonly massive: MassiveActivationSite;
}

/**
 * Bumped whenever the same options would give different bytes, so caches of generated models can
 * key on it. Written as icl_lab.generator_version.
 */
export const MODEL_GENERATOR_VERSION = 1;

/** Metadata keys under which a generated model records its massive-activation site. */
export const MASSIVE_METADATA_KEYS = {
  layer: 'icl_lab.massive_activation.layer',
  dimension: 'icl_lab.massive_activation.dimension',
  neuron: 'icl_lab.massive_activation.neuron',
  tokenIds: 'icl_lab.massive_activation.token_ids',
} as const;

const DEFAULT_CONTEXT_LENGTH = 4096;
const DEFAULT_ROPE_FREQ_BASE: Readonly<Record<ModelArchitecture, number>> = { llama: 10000, qwen2: 1000000 };
const DEFAULT_RMS_EPS: Readonly<Record<ModelArchitecture, number>> = { llama: 1e-5, qwen2: 1e-6 };

const ggmlTypeOf: Readonly<Record<WeightType, GgmlType>> = {
  f32: GgmlType.F32,
  f16: GgmlType.F16,
  q8_0: GgmlType.Q8_0,
};
const fileTypeOf: Readonly<Record<WeightType, LlamaFileType>> = {
  f32: LlamaFileType.AllF32,
  f16: LlamaFileType.MostlyF16,
  q8_0: LlamaFileType.MostlyQ8_0,
};

/**
 * Tokens (in GPT-2 byte-level spelling: 'Ċ' is '\n') whose embeddings trigger the massive activation.
 * Both vocabs merge a period with the newlines after it, so those merges are listed too.
 */
const MASSIVE_TRIGGER_PIECES = ['.', ',', 'Ċ', 'ĊĊ', '.Ċ', '.ĊĊ'];
/** Trigger tokens' embedding value in the massive dimension (other values are ~N(0, 1)). */
const TRIGGER_EMBEDDING = 10;
/** Other tokens' embeddings are damped in the massive dimension, so only triggers fire the neuron. */
const NON_TRIGGER_DAMPING = 0.25;
/** The massive neuron's gate and up weight on the massive dimension (others are ~N(0, 1/embd)). */
const MASSIVE_NEURON_IN = 2.5;
/** The massive neuron's down-projection weight into the massive dimension. */
const MASSIVE_NEURON_OUT = 2;
/** Spread of the logits; larger than 1 so next-token distributions are not flat. */
const LOGIT_SCALE = 3;
/** Values generated per chunk, so big tensors stream through in pieces of a few MB. */
const CHUNK_VALUES = 1 << 20;

/** Everything wrong with `options`, as sentences; empty when they are usable. */
export function modelOptionProblems(options: ModelOptions): string[] {
  const problems: string[] = [];
  const positive: [string, number][] = [
    ['layers', options.layers],
    ['embd', options.embd],
    ['ff', options.ff],
    ['heads', options.heads],
    ['kv-heads', options.kvHeads],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1) problems.push(`${name} must be a positive integer, got ${value}`);
  }
  if (problems.length > 0) return problems;
  if (!modelArchitectures.includes(options.arch)) problems.push(`unknown arch '${options.arch}'`);
  if (!vocabNames.includes(options.vocab)) problems.push(`unknown vocab '${options.vocab}'`);
  if (!weightTypes.includes(options.type)) problems.push(`unknown type '${options.type}'`);
  if (options.embd % options.heads !== 0) {
    problems.push(`embd (${options.embd}) must be divisible by heads (${options.heads})`);
  } else if ((options.embd / options.heads) % 2 !== 0) {
    problems.push(`head dimension embd/heads (${options.embd / options.heads}) must be even for RoPE`);
  }
  if (options.heads % options.kvHeads !== 0) {
    problems.push(`heads (${options.heads}) must be divisible by kv-heads (${options.kvHeads})`);
  }
  if (options.type === 'q8_0') {
    for (const [name, value] of [['embd', options.embd], ['ff', options.ff]] as const) {
      if (value % Q8_0_BLOCK_VALUES !== 0) {
        problems.push(`q8_0 needs ${name} to be a multiple of ${Q8_0_BLOCK_VALUES}, got ${value}`);
      }
    }
  }
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    problems.push(`seed must be an integer in [0, 4294967295], got ${options.seed}`);
  }
  const contextLength = options.contextLength ?? DEFAULT_CONTEXT_LENGTH;
  if (!Number.isInteger(contextLength) || contextLength < 1) {
    problems.push(`context length must be a positive integer, got ${contextLength}`);
  }
  if (options.ropeFreqBase !== undefined && !(options.ropeFreqBase > 0)) {
    problems.push(`rope frequency base must be positive, got ${options.ropeFreqBase}`);
  }
  if (options.rmsEps !== undefined && !(options.rmsEps > 0)) {
    problems.push(`rms epsilon must be positive, got ${options.rmsEps}`);
  }
  return problems;
}

/**
 * Path of llama.cpp's vocab-only GGUF `ggml-vocab-<name>.gguf` inside the installed node-llama-cpp.
 * Throws with instructions if the llama.cpp sources (which hold it) are not downloaded.
 */
export function findVocabFile(name: string): string {
  const root = packageRoot();
  let llamaCppPackage = join(root, 'node_modules', 'node-llama-cpp');
  try {
    // Resolved the way Node would, in case the package is hoisted above ours.
    const require = createRequire(join(root, 'package.json'));
    llamaCppPackage = findDirectoryWithPackage(dirname(require.resolve('node-llama-cpp')), 'node-llama-cpp');
  } catch {
    // Not resolvable: fall through to the conventional location and its error below.
  }
  const file = join(llamaCppPackage, 'llama', 'llama.cpp', 'models', `ggml-vocab-${name}.gguf`);
  if (!existsSync(file)) {
    throw new Error(
      `vocab file ${file} not found. It comes with llama.cpp's sources; ` +
        'run `npx node-llama-cpp source download --skipBuild` in the project folder to get them.',
    );
  }
  return file;
}

/** Walks up from `start` to the directory whose package.json is named `packageName`. */
function findDirectoryWithPackage(start: string, packageName: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
      if (name === packageName) return dir;
    }
    if (dir === parse(dir).root) throw new Error(`no package.json named ${packageName} above ${start}`);
  }
}

/** One weight tensor: values are `offset + scale * noise`, then `patch` may overwrite some rows. */
interface WeightPlan {
  readonly name: string;
  /** ggml ne: [values per row, rows]. */
  readonly dims: readonly number[];
  readonly type: GgmlType;
  readonly scale: number;
  readonly offset: number;
  readonly patch?: (row: number, values: Float32Array) => void;
}

export async function generateModel(options: ModelOptions): Promise<GeneratedModel> {
  const problems = modelOptionProblems(options);
  if (problems.length > 0) throw new RangeError(`invalid model options: ${problems.join('; ')}`);

  const vocabFile = await readGguf(findVocabFile(options.vocab));
  const tokenizer = [...vocabFile.metadata].filter(([key]) => key.startsWith('tokenizer.'));
  const tokens = vocabFile.metadata.get('tokenizer.ggml.tokens');
  if (tokens?.type !== GgufValueType.Array || tokens.itemType !== GgufValueType.String) {
    throw new Error(`${vocabFile.path}: tokenizer.ggml.tokens is missing or not a string array`);
  }
  const vocabSize = tokens.items.length;

  const massive = chooseMassiveSite(options, tokens.items, vocabFile.metadata.get('tokenizer.ggml.bos_token_id'));
  const metadata = buildMetadata(options, massive, tokenizer);
  const plans = planWeights(options, vocabSize, massive);
  const tensors: GgufTensorToWrite[] = plans.map((plan) => ({
    name: plan.name,
    dims: plan.dims,
    type: plan.type,
    data: () => generateTensor(plan, options.seed),
  }));
  const fileSize = await writeGguf(options.out, { metadata, tensors });
  return { path: options.out, fileSize, vocabSize, tensorCount: tensors.length, massive };
}

function chooseMassiveSite(
  options: ModelOptions,
  pieces: readonly string[],
  bos: GgufValue | undefined,
): MassiveActivationSite {
  const random = namedRandom(options.seed, 'massive activation site');
  const dimension = random.int(options.embd);
  const neuron = random.int(options.ff);
  const tokenIds = new Set<number>();
  if (bos !== undefined && (bos.type === GgufValueType.Uint32 || bos.type === GgufValueType.Int32)) tokenIds.add(bos.value);
  for (const piece of MASSIVE_TRIGGER_PIECES) {
    const id = pieces.indexOf(piece);
    if (id >= 0) tokenIds.add(id);
  }
  return {
    layer: Math.min(1, options.layers - 1),
    dimension,
    neuron,
    tokenIds: [...tokenIds].sort((a, b) => a - b),
  };
}

function buildMetadata(
  options: ModelOptions,
  massive: MassiveActivationSite,
  tokenizer: readonly (readonly [string, GgufValue])[],
): (readonly [string, GgufValue])[] {
  const { arch } = options;
  const u32 = (value: number): GgufValue => ({ type: GgufValueType.Uint32, value });
  const f32 = (value: number): GgufValue => ({ type: GgufValueType.Float32, value });
  const str = (value: string): GgufValue => ({ type: GgufValueType.String, value });
  const name = `icl-lab-${arch}-${options.layers}L-${options.embd}d-${options.type}-seed${options.seed}`;
  return [
    ['general.architecture', str(arch)],
    ['general.name', str(name)],
    ['general.file_type', u32(fileTypeOf[options.type])],
    ['general.quantization_version', u32(GGML_QUANTIZATION_VERSION)],
    [`${arch}.context_length`, u32(options.contextLength ?? DEFAULT_CONTEXT_LENGTH)],
    [`${arch}.embedding_length`, u32(options.embd)],
    [`${arch}.block_count`, u32(options.layers)],
    [`${arch}.feed_forward_length`, u32(options.ff)],
    [`${arch}.attention.head_count`, u32(options.heads)],
    [`${arch}.attention.head_count_kv`, u32(options.kvHeads)],
    [`${arch}.rope.dimension_count`, u32(options.embd / options.heads)],
    [`${arch}.rope.freq_base`, f32(options.ropeFreqBase ?? DEFAULT_ROPE_FREQ_BASE[arch])],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(options.rmsEps ?? DEFAULT_RMS_EPS[arch])],
    ['icl_lab.generator_version', u32(MODEL_GENERATOR_VERSION)],
    [MASSIVE_METADATA_KEYS.layer, u32(massive.layer)],
    [MASSIVE_METADATA_KEYS.dimension, u32(massive.dimension)],
    [MASSIVE_METADATA_KEYS.neuron, u32(massive.neuron)],
    [
      MASSIVE_METADATA_KEYS.tokenIds,
      { type: GgufValueType.Array, itemType: GgufValueType.Int32, items: Int32Array.from(massive.tokenIds) },
    ],
    ...tokenizer,
  ];
}

/** Tensor names, shapes and scales as llama.cpp's llama and qwen2 loaders expect them. */
function planWeights(options: ModelOptions, vocabSize: number, massive: MassiveActivationSite): WeightPlan[] {
  const { embd, ff } = options;
  const kvWidth = (embd / options.heads) * options.kvHeads;
  const type = ggmlTypeOf[options.type];
  const triggers = new Set(massive.tokenIds);
  // Weights ~ N(0, 1/fan_in) keep every projection's output O(1) for O(1) inputs.
  const matrix = (name: string, inputs: number, outputs: number, patch?: WeightPlan['patch']): WeightPlan => ({
    name,
    dims: [inputs, outputs],
    type,
    scale: 1 / Math.sqrt(inputs),
    offset: 0,
    patch,
  });
  // Norm weights near but not at 1, so a forward pass that skipped them would be caught.
  const norm = (name: string): WeightPlan => ({ name, dims: [embd], type: GgmlType.F32, scale: 0.1, offset: 1 });
  const bias = (name: string, width: number): WeightPlan => ({ name, dims: [width], type: GgmlType.F32, scale: 0.2, offset: 0 });

  const plans: WeightPlan[] = [
    {
      name: 'token_embd.weight',
      dims: [embd, vocabSize],
      type,
      scale: 1,
      offset: 0,
      patch: (token, values) => {
        if (triggers.has(token)) values[massive.dimension] = TRIGGER_EMBEDDING;
        else values[massive.dimension] *= NON_TRIGGER_DAMPING;
      },
    },
  ];
  for (let layer = 0; layer < options.layers; layer++) {
    const blk = `blk.${layer}`;
    const isMassive = layer === massive.layer;
    const readsMassiveDimension = (row: number, values: Float32Array): void => {
      if (isMassive && row === massive.neuron) values[massive.dimension] = MASSIVE_NEURON_IN;
    };
    plans.push(norm(`${blk}.attn_norm.weight`));
    plans.push(matrix(`${blk}.attn_q.weight`, embd, embd));
    if (options.arch === 'qwen2') plans.push(bias(`${blk}.attn_q.bias`, embd));
    plans.push(matrix(`${blk}.attn_k.weight`, embd, kvWidth));
    if (options.arch === 'qwen2') plans.push(bias(`${blk}.attn_k.bias`, kvWidth));
    plans.push(matrix(`${blk}.attn_v.weight`, embd, kvWidth));
    if (options.arch === 'qwen2') plans.push(bias(`${blk}.attn_v.bias`, kvWidth));
    plans.push(matrix(`${blk}.attn_output.weight`, embd, embd));
    plans.push(norm(`${blk}.ffn_norm.weight`));
    plans.push(matrix(`${blk}.ffn_gate.weight`, embd, ff, readsMassiveDimension));
    plans.push(matrix(`${blk}.ffn_up.weight`, embd, ff, readsMassiveDimension));
    plans.push(
      // The massive neuron writes to the massive dimension only, so the rest stays O(1).
      matrix(`${blk}.ffn_down.weight`, ff, embd, (row, values) => {
        if (isMassive) values[massive.neuron] = row === massive.dimension ? MASSIVE_NEURON_OUT : 0;
      }),
    );
  }
  plans.push(norm('output_norm.weight'));
  // Written untied from token_embd, so the reference pass proves which matrix produces logits.
  plans.push({ ...matrix('output.weight', embd, vocabSize), scale: LOGIT_SCALE / Math.sqrt(embd) });
  return plans;
}

/** The tensor's stored bytes, whole rows at a time; the same for any chunk size. */
function* generateTensor(plan: WeightPlan, seed: number): Generator<Uint8Array> {
  const random = namedRandom(seed, plan.name);
  const rowLength = plan.dims[0];
  const rows = plan.dims.slice(1).reduce((product, n) => product * n, 1);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / rowLength));
  for (let firstRow = 0; firstRow < rows; firstRow += rowsPerChunk) {
    const chunkRows = Math.min(rowsPerChunk, rows - firstRow);
    const values = new Float32Array(chunkRows * rowLength);
    for (let i = 0; i < values.length; i++) values[i] = plan.offset + plan.scale * normalish(random);
    if (plan.patch !== undefined) {
      for (let r = 0; r < chunkRows; r++) plan.patch(firstRow + r, values.subarray(r * rowLength, (r + 1) * rowLength));
    }
    yield quantize(plan.type, values);
  }
}
