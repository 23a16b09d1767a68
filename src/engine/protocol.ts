// Every JSON-RPC request and notification between an engine client (CLI, extension) and the
// engine process (server.ts), typed, with its params. Both sides import this file only.
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { MaskStrategy } from '../core/masks.js';
import type { SiteCheckMeasurement } from '../core/siteCheck.js';
import type { SiteName } from '../core/sites.js';
import type { TextGenerationGroup, TextScoringGroup } from '../core/quality/promptScorer.js';
import type { NativeModelInfo } from './addon.js';
import type { StartTokens } from './startTokens.js';

export type GpuChoice = 'auto' | 'cuda' | 'vulkan' | 'metal' | 'cpu';
export const gpuChoices: readonly GpuChoice[] = ['auto', 'cuda', 'vulkan', 'metal', 'cpu'];

/** Machine-readable reason of an engine failure; the message is for people. */
export type EngineErrorCode =
  | 'model-not-found'
  | 'model-invalid'
  | 'model-truncated'
  | 'no-model'
  | 'unknown-architecture'
  | 'gpu-unavailable'
  | 'text-too-long'
  | 'bad-request'
  | 'decode-failed'
  | 'cancelled'
  | 'engine-exited';

export interface EngineErrorData {
  readonly file?: string;
  readonly examples?: readonly number[];
}

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly data: EngineErrorData = {},
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** JSON-RPC error codes we use: application errors carry the EngineErrorCode in data.code. */
export const engineErrorRpcCode = -32000;

export interface EngineInfo {
  readonly version: string;
  readonly llamaCppRelease: string;
  readonly gpu: string;
  readonly pid: number;
}

/** What the engine reports about a loaded model: the native view plus file facts. */
export interface ModelInfo
  extends Pick<NativeModelInfo, 'architecture' | 'description' | 'layers' | 'embeddingLength' | 'vocabularySize' | 'parameters' | 'addBos' | 'llamaLibrary'> {
  readonly path: string;
  /** GGUF general.name (else the file name). */
  readonly name: string;
  /** Written by this project's model generator: random weights, so its figures say nothing about a real model. */
  readonly generated: boolean;
  /** GGUF general.file_type, e.g. MOSTLY_Q8_0. */
  readonly quantization: string;
  readonly fileBytes: number;
  /** Backend in use: cpu, cuda, vulkan or metal. */
  readonly gpu: string;
  /** What every sequence starts with, before any text (startTokens.ts). */
  readonly start: StartTokens;
}

export interface StartEngineParams {
  readonly gpu: GpuChoice;
}

export interface LoadModelParams {
  readonly path: string;
}

export interface TokenizeParams {
  readonly text: string;
  readonly addSpecial: boolean;
}

/** One example laid out by src/core/masks.ts (maskLayout). Each text is tokenized on its own. */
export interface ExtractionExample {
  readonly example: number;
  /** The span: the text whose tokens the statistics are taken over. */
  readonly text: string;
  /** in-context mask: what only this example's sequence sees before its span (the k-shot prompt's prefix). */
  readonly leading?: string;
}

export interface ExtractionOptions {
  readonly mask: MaskStrategy;
  /** Which activations: each block's MLP output (default) or the residual stream after the block (src/core/sites.ts). */
  readonly site?: SiteName;
  /** shared-prefix mask: what every sequence of a window sees after the start tokens, once in the KV cache. */
  readonly prefix?: string;
  readonly contextSize: number;
  readonly batchSize: number;
  readonly maxSequences: number;
  readonly threads: number;
  /** F32 KV cache and no flash attention: numerically exact activations. */
  readonly exact: boolean;
  /** Examples whose raw MLP outputs are kept (returned in-process, and written to rawDir if given). */
  readonly rawExamples?: readonly number[] | 'all';
  /** Write `<example>_L<layer>.npy` files (float32 [span tokens, n_embd]) here. */
  readonly rawDir?: string;
  /** Only these layers' raw outputs are kept and written (default: every layer); the SAE's data is one layer. */
  readonly rawLayers?: readonly number[];
  /** Layers whose token-mean MLP output each example's result carries as `pooled` (the vectors diversity strategies and KATE compare). */
  readonly pooledLayers?: readonly number[];
}

/** Engine settings for scoring and generation. */
export type ScoringOptions = Pick<ExtractionOptions, 'contextSize' | 'batchSize' | 'maxSequences' | 'threads' | 'exact'>;

export interface GenerationOptions extends ScoringOptions {
  /** Most tokens generated per query. */
  readonly maxTokens: number;
  /** Generation ends at the first of these strings, which is cut from the text. */
  readonly stop: readonly string[];
}

/** Texts embedded by a GGUF embedding model through node-llama-cpp's embedding API (not the loaded model). */
export interface EmbedTextsParams {
  readonly model: string;
  readonly texts: readonly string[];
  /** CPU threads; 0 or absent: node-llama-cpp decides. */
  readonly threads?: number;
}

/** The site self-check (src/core/siteCheck.ts) on the loaded model. */
export interface CheckSitesParams {
  /** Defaults to siteCheckText. */
  readonly text?: string;
  /** CPU threads; 0 or absent: llama.cpp decides. */
  readonly threads?: number;
}

export interface ExtractParams extends ExtractionOptions {
  readonly examples: readonly ExtractionExample[];
}

export interface ExtractionProgress {
  readonly done: number;
  readonly total: number;
  readonly tokens: number;
  readonly elapsedMs: number;
}

export interface ExtractionSummary {
  readonly examples: number;
  readonly tokens: number;
  readonly windows: number;
  readonly decodeMs: number;
  readonly reduceMs: number;
  readonly elapsedMs: number;
  readonly settings: {
    readonly contextSize: number;
    readonly batchSize: number;
    readonly maxSequences: number;
    readonly exact: boolean;
    readonly kvCacheType: 'f32' | 'f16';
    readonly flashAttention: 'disabled' | 'auto';
    readonly tensor: string;
  };
}

/** One example's statistics, streamed as soon as its window is done. */
export interface ExampleResultParams {
  readonly example: number;
  readonly spanTokens: number;
  /** Float64Array [layer][pooling][statistic], little-endian, base64 (JSON has no NaN or Infinity). */
  readonly stats: string;
  /** With pooledLayers: Float64Array [pooled layer][n_embd], base64. */
  readonly pooled?: string;
}

export interface LogParams {
  readonly level: string;
  readonly message: string;
}

export const engineInfoRequest = new RequestType<StartEngineParams, EngineInfo, void>('engine/start');
export const loadModelRequest = new RequestType<LoadModelParams, ModelInfo, void>('model/load');
export const unloadModelRequest = new RequestType0<void, void>('model/unload');
export const tokenizeRequest = new RequestType<TokenizeParams, number[], void>('model/tokenize');
export const checkSitesRequest = new RequestType<CheckSitesParams, SiteCheckMeasurement, void>('model/checkSites');
export const embedTextsRequest = new RequestType<EmbedTextsParams, number[][], void>('embed/texts');
export const extractRequest = new RequestType<ExtractParams, ExtractionSummary, void>('extract/run');
export interface ScoreTextsParams {
  readonly groups: readonly TextScoringGroup[];
  readonly options: ScoringOptions;
}

export interface ScoreTextsResult {
  /** [query key, each continuation's log-probability, each continuation's token count]. */
  readonly scores: readonly [number, number[], number[]][];
  readonly evaluatedTokens: number;
  readonly minimumTokens: number;
}

export interface GenerateTextsParams {
  readonly groups: readonly TextGenerationGroup[];
  readonly options: GenerationOptions;
}

// ---- Sparse autoencoders (issue 13). Training and encoding run in the engine process, on the
// same ggml the model runs on (src/engine/native/SaeTrainer.cpp); core decides what to train on
// and turns codes into signals (src/core/sae/).

/** Hyper-parameters of a TopK SAE (Gao et al., 2024) and of its training. */
export interface SaeTrainingOptions {
  /** Input width (the site's n_embd). */
  readonly width: number;
  /** Latents (width × expansion). */
  readonly latents: number;
  /** Active latents per token. */
  readonly k: number;
  /** Dead latents the auxiliary loss uses per token (Gao et al.: k_aux; default width / 2). */
  readonly auxK: number;
  /** Weight of the auxiliary loss (Gao et al.: 1/32). */
  readonly auxCoefficient: number;
  /** Tokens per optimiser step. */
  readonly batchSize: number;
  /** Passes over the training tokens. */
  readonly epochs: number;
  readonly learningRate: number;
  /** A latent is dead when it fired on none of the last this-many training tokens. */
  readonly deadWindowTokens: number;
  readonly seed: number;
  /** CPU threads; 0: the engine decides. */
  readonly threads: number;
}

/** A float32 [tokens, width] .npy file of one example's span activations (or one extra text's). */
export interface SaeTokenFile {
  readonly file: string;
  /** The example (pool index) it belongs to; absent for extra unlabelled text. */
  readonly example?: number;
}

export interface TrainSaeParams {
  readonly train: readonly SaeTokenFile[];
  /** Held-out tokens for variance explained; never trained on. */
  readonly heldOut: readonly SaeTokenFile[];
  /** W_enc.npy, b_enc.npy, W_dec.npy, b_dec.npy are written here (SAELens shapes: W_enc [width, latents], W_dec [latents, width]). */
  readonly outDir: string;
  readonly options: SaeTrainingOptions;
}

export interface SaeTrainingProgress {
  readonly step: number;
  readonly steps: number;
  readonly tokens: number;
  /** The step's loss: normalised MSE + auxCoefficient × auxiliary loss. */
  readonly loss: number;
  readonly mse: number;
  readonly dead: number;
  readonly elapsedMs: number;
}

export interface SaeTrainingSummary {
  /** Inputs are multiplied by this before encoding so that their mean squared norm is `width` (Gao et al.'s normalisation); decoding divides by it. */
  readonly inputScale: number;
  readonly trainTokens: number;
  readonly heldOutTokens: number;
  readonly steps: number;
  readonly trainingMs: number;
  readonly tokensPerSecond: number;
  /** On held-out tokens, in the input's own units: 1 − Σ‖x − x̂‖² / Σ‖x − mean x‖². */
  readonly varianceExplained: number;
  readonly l0: number;
  /** Latents that fired on none of the last deadWindowTokens training tokens. */
  readonly deadLatents: number;
  /** Loss after each epoch (mean over its steps). */
  readonly epochLoss: readonly number[];
  /** ggml's backend that trained: cpu, cuda, vulkan or metal. */
  readonly backend: string;
  readonly files: { readonly encoder: string; readonly encoderBias: string; readonly decoder: string; readonly decoderBias: string };
}

export interface EncodeSaeParams {
  /** The folder TrainSaeParams.outDir named. */
  readonly saeDir: string;
  readonly inputScale: number;
  readonly k: number;
  readonly files: readonly SaeTokenFile[];
  readonly threads: number;
}

/** One file's sparse codes, token-major: token t's active latents are latents[t*k .. t*k+k) (−1 where fewer than k are positive). */
export interface EncodedSaeFile {
  readonly file: string;
  readonly example?: number;
  readonly tokens: number;
  /** Int32Array [tokens × k], base64. */
  readonly latents: string;
  /** Float32Array [tokens × k], base64 (activations in the normalised units the SAE was trained in). */
  readonly values: string;
  /** Float64Array [tokens]: ‖x − x̂‖² / ‖x‖² per token, base64. */
  readonly relativeError: string;
}

export interface SaeLossRecoveredParams {
  readonly saeDir: string;
  readonly inputScale: number;
  readonly k: number;
  readonly site: SiteName;
  readonly layer: number;
  /** Texts whose next-token loss is measured (each after the model's start tokens). */
  readonly texts: readonly string[];
  readonly options: ScoringOptions;
}

/** Mean next-token cross-entropy (nats per token) over the texts' tokens. */
export interface SaeLossRecovered {
  readonly clean: number;
  readonly reconstructed: number;
  readonly zeroAblated: number;
  readonly tokens: number;
}

export const trainSaeRequest = new RequestType<TrainSaeParams, SaeTrainingSummary, void>('sae/train');
export const encodeSaeRequest = new RequestType<EncodeSaeParams, EncodedSaeFile[], void>('sae/encode');
export const saeLossRecoveredRequest = new RequestType<SaeLossRecoveredParams, SaeLossRecovered, void>('sae/lossRecovered');
export const saeProgressNotification = new NotificationType<SaeTrainingProgress>('sae/progress');
/** Each token's text as the model's tokenizer cuts `text` (no start tokens): what the Features panel highlights. */
export const tokenPiecesRequest = new RequestType<TokenizeParams, string[], void>('model/tokenPieces');

export const scoreTextsRequest = new RequestType<ScoreTextsParams, ScoreTextsResult, void>('score/continuations');
export const generateTextsRequest = new RequestType<GenerateTextsParams, [number, string][], void>('generate/greedy');
export const exampleResultNotification = new NotificationType<ExampleResultParams>('extract/example');
export const progressNotification = new NotificationType<ExtractionProgress>('$/progress');
export const logNotification = new NotificationType<LogParams>('engine/log');
/** Test hook, honoured only when ICL_LAB_ENGINE_TEST_HOOKS=1: the engine process aborts as a native crash would. */
export const crashForTestRequest = new RequestType0<void, void>('engine/crashForTest');

export function encodeFloat64(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function decodeFloat64(encoded: string): Float64Array {
  const bytes = Buffer.from(encoded, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}
