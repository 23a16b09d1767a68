// EngineClient: starts the engine process, speaks JSON-RPC to it, and survives its death. The CLI
// and the extension share it; neither ever loads a model in its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PromptScorer } from '../core/quality/promptScorer.js';
import {
  CancellationTokenSource,
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node.js';
import type { SiteCheckMeasurement } from '../core/siteCheck.js';
import {
  checkSitesRequest,
  embedTextsRequest,
  crashForTestRequest,
  decodeFloat64,
  EngineError,
  engineInfoRequest,
  exampleResultNotification,
  extractRequest,
  generateTextsRequest,
  scoreTextsRequest,
  loadModelRequest,
  logNotification,
  progressNotification,
  tokenizeRequest,
  unloadModelRequest,
  type CheckSitesParams,
  type EmbedTextsParams,
  type EngineErrorCode,
  type EngineInfo,
  type ExtractionProgress,
  type ExtractionSummary,
  type ExtractParams,
  type GenerationOptions,
  type GpuChoice,
  type LogParams,
  type ModelInfo,
  encodeSaeRequest,
  saeLossRecoveredRequest,
  saeProgressNotification,
  tokenPiecesRequest,
  trainSaeRequest,
  type EncodedSaeFile,
  type EncodeSaeParams,
  type SaeLossRecovered,
  type SaeLossRecoveredParams,
  type SaeTrainingProgress,
  type SaeTrainingSummary,
  type TrainSaeParams,
} from './protocol.js';

export interface EngineClientOptions {
  /** The engine entry script (dist/engineServer.mjs, or src/engine/server.ts with tsx). */
  readonly serverModule: string;
  /** Runtime for the engine: Node, or VS Code's Electron with ELECTRON_RUN_AS_NODE=1. */
  readonly execPath?: string;
  readonly execArgv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly gpu?: GpuChoice;
  readonly onLog?: (log: LogParams) => void;
  /** Called when the engine process ends without being asked to. */
  readonly onExit?: (reason: string) => void;
}

export interface ExtractedStatistics {
  readonly example: number;
  readonly spanTokens: number;
  /** [layer][pooling][statistic] */
  readonly stats: Float64Array;
  /** [pooled layer][n_embd] when the request named pooledLayers. */
  readonly pooled?: Float64Array;
}

export interface Cancellable {
  cancel(): void;
}

/** Finds the bundled engine entry beside the CLI or extension bundle. */
export function defaultServerModule(bundleDir: string): string {
  const bundled = path.join(bundleDir, 'engineServer.mjs');
  if (existsSync(bundled)) return bundled;
  throw new Error(`engine entry not found at ${bundled}: run \`npm run build\``);
}

export class EngineClient {
  private child: ChildProcess | undefined;
  private connection: MessageConnection | undefined;
  private info: EngineInfo | undefined;
  private stderrTail = '';
  private lastExit = '';
  private stopping = false;
  private exitWaiters: ((reason: string) => void)[] = [];
  private exampleListener: ((result: ExtractedStatistics) => void) | undefined;
  private progressListener: ((progress: ExtractionProgress) => void) | undefined;
  private saeProgressListener: ((progress: SaeTrainingProgress) => void) | undefined;

  constructor(private readonly options: EngineClientOptions) {}

  get running(): boolean {
    return this.connection !== undefined;
  }

  get engineInfo(): EngineInfo | undefined {
    return this.info;
  }

  /** Starts the engine process (if needed) and llama.cpp in it. */
  async start(): Promise<EngineInfo> {
    if (this.connection && this.info) return this.info;
    this.stopping = false;
    const child = spawn(this.options.execPath ?? process.execPath, [...(this.options.execArgv ?? []), this.options.serverModule], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...this.options.env },
    });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-4000);
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    this.connection = connection;
    connection.onNotification(logNotification, (log) => this.options.onLog?.(log));
    connection.onNotification(exampleResultNotification, (result) =>
      this.exampleListener?.({
        example: result.example,
        spanTokens: result.spanTokens,
        stats: decodeFloat64(result.stats),
        ...(result.pooled ? { pooled: decodeFloat64(result.pooled) } : {}),
      }),
    );
    connection.onNotification(progressNotification, (progress) => this.progressListener?.(progress));
    connection.onNotification(saeProgressNotification, (progress) => this.saeProgressListener?.(progress));
    connection.onError(() => undefined);
    child.on('exit', (code, signal) => {
      const reason = signal ? `the engine process was killed by ${signal}` : `the engine process exited with code ${code}`;
      const detail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
      const message = detail ? `${reason}: ${detail}` : reason;
      this.lastExit = message;
      if (this.child === child) {
        this.child = undefined;
        this.connection = undefined;
        this.info = undefined;
      }
      for (const waiter of this.exitWaiters.splice(0)) waiter(message);
      connection.dispose();
      if (!this.stopping) this.options.onExit?.(message);
    });
    connection.listen();
    this.info = await this.request((c) => c.sendRequest(engineInfoRequest, { gpu: this.options.gpu ?? 'auto' }));
    return this.info;
  }

  /** Stops the engine process; a later call starts a fresh one. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.connection?.end();
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<EngineInfo> {
    await this.stop();
    return this.start();
  }

  loadModel(modelPath: string): Promise<ModelInfo> {
    return this.request((c) => c.sendRequest(loadModelRequest, { path: modelPath }));
  }

  unloadModel(): Promise<void> {
    return this.request((c) => c.sendRequest(unloadModelRequest));
  }

  /** The site self-check on the loaded model (judge it with src/core/siteCheck.ts). */
  checkSites(params: CheckSitesParams = {}): Promise<SiteCheckMeasurement> {
    return this.request((c) => c.sendRequest(checkSitesRequest, params));
  }

  /** One vector per text from a GGUF embedding model (node-llama-cpp's embedding context), in order. */
  embedTexts(params: EmbedTextsParams): Promise<number[][]> {
    return this.request((c) => c.sendRequest(embedTextsRequest, params));
  }

  tokenize(text: string, addSpecial = false): Promise<number[]> {
    return this.request((c) => c.sendRequest(tokenizeRequest, { text, addSpecial }));
  }

  /**
   * Runs an extraction. Each example's statistics reach onExample as soon as they are computed, so
   * a caller that writes them out keeps everything done before a failure or a cancel.
   */
  extract(
    params: ExtractParams,
    onExample: (result: ExtractedStatistics) => void,
    onProgress?: (progress: ExtractionProgress) => void,
  ): Cancellable & { readonly done: Promise<ExtractionSummary> } {
    const source = new CancellationTokenSource();
    this.exampleListener = onExample;
    this.progressListener = onProgress;
    const done = this.request((c) => c.sendRequest(extractRequest, params, source.token)).finally(() => {
      this.exampleListener = undefined;
      this.progressListener = undefined;
      source.dispose();
    });
    return { done, cancel: () => source.cancel() };
  }

  /**
   * Trains a TopK sparse autoencoder in the engine process (ggml, the engine's backend) and writes
   * its weights to params.outDir. Cancel stops it between steps; nothing is written then.
   */
  trainSae(params: TrainSaeParams, onProgress?: (progress: SaeTrainingProgress) => void, cancel?: { onCancel(listener: () => void): void }): Promise<SaeTrainingSummary> {
    const source = new CancellationTokenSource();
    cancel?.onCancel(() => source.cancel());
    this.saeProgressListener = onProgress;
    return this.request((c) => c.sendRequest(trainSaeRequest, params, source.token)).finally(() => {
      this.saeProgressListener = undefined;
      source.dispose();
    });
  }

  /** Sparse codes of token files under a trained SAE. */
  encodeSae(params: EncodeSaeParams): Promise<EncodedSaeFile[]> {
    return this.request((c) => c.sendRequest(encodeSaeRequest, params));
  }

  /** Next-token loss clean, with the SAE's reconstruction spliced in, and zero-ablated. */
  saeLossRecovered(params: SaeLossRecoveredParams): Promise<SaeLossRecovered> {
    return this.request((c) => c.sendRequest(saeLossRecoveredRequest, params));
  }

  /** Each token's text of `text` as the loaded model's tokenizer cuts it. */
  tokenPieces(text: string): Promise<string[]> {
    return this.request((c) => c.sendRequest(tokenPiecesRequest, { text, addSpecial: false }));
  }

  /** A PromptScorer over the engine process, with these engine settings. */
  promptScorer(options: GenerationOptions): PromptScorer {
    return {
      scoreTexts: async (groups) => {
        const result = await this.request((c) => c.sendRequest(scoreTextsRequest, { groups, options }));
        return {
          scores: new Map(result.scores.map(([key, logprobs, tokens]) => [key, logprobs.map((logprob, i) => ({ logprob, tokens: tokens[i]! }))])),
          evaluatedTokens: result.evaluatedTokens,
          minimumTokens: result.minimumTokens,
        };
      },
      generateTexts: async (groups, maxTokens, stop) =>
        new Map(await this.request((c) => c.sendRequest(generateTextsRequest, { groups, options: { ...options, maxTokens, stop } }))),
    };
  }

  /** Test hook: makes the engine process abort as a native crash would. */
  async crashForTest(): Promise<void> {
    await this.request((c) => c.sendRequest(crashForTestRequest));
  }

  private async request<R>(send: (connection: MessageConnection) => Promise<R>): Promise<R> {
    const connection = this.connection;
    if (!connection) throw new EngineError('engine-exited', 'the engine is not running: start it first');
    // A request in flight when the process dies would otherwise never settle.
    let onExit: ((reason: string) => void) | undefined;
    const exited = new Promise<never>((_, reject) => {
      onExit = (reason) => reject(new EngineError('engine-exited', reason));
      this.exitWaiters.push(onExit);
    });
    try {
      return await Promise.race([send(connection), exited]);
    } catch (error) {
      // The connection's own "disposed" error can win the race with the exit event.
      if (this.connection !== connection) throw new EngineError('engine-exited', this.lastExit || 'the engine process exited');
      throw toEngineError(error);
    } finally {
      this.exitWaiters = this.exitWaiters.filter((w) => w !== onExit);
    }
  }
}

function toEngineError(error: unknown): Error {
  if (error instanceof EngineError) return error;
  if (error instanceof ResponseError) {
    const data = (error.data ?? {}) as { code?: EngineErrorCode; file?: string; examples?: number[] };
    return new EngineError(data.code ?? 'decode-failed', error.message, {
      ...(data.file ? { file: data.file } : {}),
      ...(data.examples ? { examples: data.examples } : {}),
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}
