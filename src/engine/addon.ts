// The one TypeScript description of the native activation tap (src/engine/native/). Only the
// engine process loads it: a crash in native code must never take down its caller.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { activationStatistics, poolings } from '../core/stats/activationStatistics.js';
import { packageRoot } from './packageRoot.js';

export interface NativeModelInfo {
  readonly architecture: string;
  readonly description: string;
  readonly layers: number;
  readonly embeddingLength: number;
  readonly vocabularySize: number;
  readonly parameters: number;
  readonly tensorBytes: number;
  readonly addBos: boolean;
  readonly bosToken: number;
  /** The libllama variant node-llama-cpp selected (CPU, CUDA, Vulkan, Metal). */
  readonly llamaLibrary: string;
}

export interface NativeContextOptions {
  readonly contextSize: number;
  /** Tokens per llama_decode; also the micro-batch size. */
  readonly batchSize: number;
  readonly maxSequences: number;
  /** 0 lets llama.cpp choose. */
  readonly threads: number;
  /** F32 KV cache and no flash attention: numerically exact activations. */
  readonly exact: boolean;
  /** llama.cpp tensor name prefix of the site, from src/core/sites.ts. */
  readonly tensorPrefix: string;
}

/**
 * One window of work: sequences that fit the context together, as flat arrays. Token i belongs
 * to sequences seqIds[seqOffsets[i] .. seqOffsets[i+1]); a token shared by several sequences (a
 * common prefix) appears once.
 */
export interface WindowPlan {
  readonly tokens: Int32Array;
  readonly positions: Int32Array;
  readonly seqOffsets: Int32Array;
  readonly seqIds: Int32Array;
  /** Span index of each token, -1 for tokens outside every span (BOS, prefixes, demonstrations). */
  readonly spanOf: Int32Array;
  readonly spanLengths: Int32Array;
  /** Per span, 1 to also return its raw MLP outputs. */
  readonly keepRaw: Uint8Array;
  /** Window token indices whose next-token logits are returned, in this order. */
  readonly logitsTokens: Int32Array;
  /** Scoring: log P(logprobTargets[r] | tokens up to logprobTokens[r]), log-softmax in float64. */
  readonly logprobTokens?: Int32Array;
  readonly logprobTargets?: Int32Array;
  /** Greedy decoding: the most likely next token after each of these token indices. */
  readonly argmaxTokens?: Int32Array;
  /** Continue the sequences already in the KV cache (generation steps) instead of clearing it. */
  readonly continueSequences?: boolean;
}

export interface WindowResult {
  /** [span][layer][pooling][statistic], see src/core/stats/activationStatistics.ts. */
  readonly stats: Float64Array;
  /** Per span: [layer][span token][n_embd] float32 when keepRaw, else null. */
  readonly raw: (Float32Array | null)[];
  /** [logitsTokens.length][n_vocab]. */
  readonly logits: Float32Array;
  /** One per logprob request. */
  readonly logprobs: Float64Array;
  /** One per argmax request. */
  readonly argmax: Int32Array;
  readonly chunks: number;
  readonly decodeMs: number;
  readonly reduceMs: number;
}

export interface NativeContextInfo {
  readonly contextSize: number;
  readonly batchSize: number;
  readonly maxSequences: number;
  readonly exact: boolean;
  readonly tensorPrefix: string;
}

export interface NativeTapContext {
  runWindow(plan: WindowPlan): Promise<WindowResult>;
  /** Interrupts the running window (between micro-batches; inside one on CPU). */
  cancel(): void;
  /**
   * What later windows write over the site's output at `layer` on span tokens, before the rest of
   * the graph reads it: zeros, or a TopK SAE's reconstruction of it; null: nothing.
   */
  setPatch(patch: null | { layer: number; zero: true } | ({ layer: number; zero?: false; scale: number; k: number; latents: number } & NativeSaeWeights)): void;
  info(): NativeContextInfo;
  dispose(): void;
}

export interface NativeTapModel {
  info(): NativeModelInfo;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  /** UTF-8 bytes of the tokens' pieces, special tokens left out. */
  detokenize(tokens: Int32Array): Uint8Array;
  isEndOfGeneration(token: number): boolean;
  createContext(options: NativeContextOptions): NativeTapContext;
  dispose(): void;
}

/** Constructor options of the native TopK SAE trainer (src/engine/native/SaeTrainer.cpp). */
export interface NativeSaeTrainerOptions {
  readonly width: number;
  readonly latents: number;
  readonly k: number;
  readonly auxK: number;
  readonly auxCoefficient: number;
  readonly batchSize: number;
  readonly deadWindowTokens: number;
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** CPU threads; 0: ggml's default. */
  readonly threads: number;
  /** Train on the GPU ggml registered, if any. */
  readonly gpu: boolean;
  /** Read gradients instead of stepping (the gradient check). */
  readonly forGradients?: boolean;
  /** Initial weights, shapes as src/core/sae/topKSae.ts. */
  readonly encoder: Float32Array;
  readonly encoderBias: Float32Array;
  readonly decoder: Float32Array;
  readonly decoderBias: Float32Array;
}

export interface NativeSaeWeights {
  readonly encoder: Float32Array;
  readonly encoderBias: Float32Array;
  readonly decoder: Float32Array;
  readonly decoderBias: Float32Array;
}

export interface NativeSaeStep {
  /** ‖x − x̂‖² / (batch · width). */
  readonly mse: number;
  /** auxCoefficient · ‖e − ê‖² / (batch · width), over the dead latents' code. */
  readonly aux: number;
  readonly loss: number;
  /** Dead latents when the step began. */
  readonly dead: number;
}

export interface NativeSaeTrainer {
  /** One AdamW step on a [batchSize × width] batch, then unit-norm decoder columns. */
  step(x: Float32Array): NativeSaeStep;
  /** Token-major codes: [n × k] latents (−1 where the kept value is not positive) and values. */
  encode(x: Float32Array, n: number): { latents: Int32Array; values: Float32Array; relativeError: Float64Array };
  /** forGradients only: the loss and its gradients at the current weights, masks held fixed. */
  gradients(x: Float32Array, dead?: Uint8Array, auxTarget?: Float32Array): NativeSaeStep & NativeSaeWeights & { auxTarget: Float32Array };
  weights(): NativeSaeWeights;
  setLearningRate(rate: number): void;
  info(): { backend: string; tokensSeen: number; dead: number };
  dispose(): void;
}

export interface NativeAddon {
  readonly SaeTrainer: new (options: NativeSaeTrainerOptions) => NativeSaeTrainer;
  readonly TapModel: {
    load(modelPath: string, options: { gpuLayers: number; useMmap?: boolean }): Promise<NativeTapModel>;
  };
  statisticNames(): string[];
  poolingNames(): string[];
  /** The engine's reduction on given [tokens, dims] values: [pooling][statistic]. */
  reduceActivations(values: Float32Array, tokens: number, dims: number): Float64Array;
  /** Binds to the llama.cpp node-llama-cpp loaded; throws if getLlama() has not run. */
  bindLlama(): { llamaLibrary: string; ggmlBaseLibrary: string };
}

let cached: NativeAddon | undefined;

export function addonPath(): string {
  return path.join(packageRoot(), 'build', 'Release', 'icl_activation_tap.node');
}

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const file = addonPath();
  if (!existsSync(file)) {
    throw new Error(`the activation tap is not built (${file} is missing): run \`npm install\` or \`npx node-gyp rebuild\``);
  }
  const addon = createRequire(import.meta.url)(file) as NativeAddon;
  assertSameList('statistic', addon.statisticNames(), activationStatistics);
  assertSameList('pooling', addon.poolingNames(), poolings);
  cached = addon;
  return addon;
}

function assertSameList(what: string, native: readonly string[], typescript: readonly string[]): void {
  if (native.join(',') !== typescript.join(',')) {
    throw new Error(`the native ${what} order [${native.join(', ')}] differs from TypeScript's [${typescript.join(', ')}]: rebuild the addon`);
  }
}
