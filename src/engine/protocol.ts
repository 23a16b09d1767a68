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
