// The engine itself, in-process: node-llama-cpp picks the llama.cpp build for this machine and
// reads GGUF metadata; our native tap loads the model once and captures MLP outputs. The engine
// server (server.ts) exposes this over JSON-RPC; only engine processes and tests construct it.
import { mkdir, open, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../core/format/atomicFile.js';
import path from 'node:path';
import { GgufFileType, getLlama, LlamaLogLevel, readGgufFileInfo, type Llama } from 'node-llama-cpp';
import { siteCheckText, type SiteCheckLayer, type SiteCheckMeasurement } from '../core/siteCheck.js';
import { tensorRuleFor, UnknownArchitectureError, type CheckSiteName, type TensorRule } from '../core/sites.js';

/** Scoring and generation windows hold no span, so the tap captures nothing: any prefix will do. */
const noCapture = 'ffn_out';
/** The site check reads every token of its text three times over; a few dozen are enough. */
const siteCheckMaxTokens = 512;
import { activationStatistics, poolings } from '../core/stats/activationStatistics.js';
import { encodeNpyFloat32 } from '../core/format/npy.js';
import { encodeSaeFiles, readSaeWeights, trainSae, type SaeRunControl } from './saeTraining.js';
import { loadAddon, type NativeTapContext, type NativeTapModel, type WindowResult } from './addon.js';
import type { TextGenerationGroup, TextScores, TextScoringGroup } from '../core/quality/promptScorer.js';
import { minimumTokens, planScoringWindows, QueryTooLongError, type ScoringGroup } from './scoringPlanner.js';
import { chooseStartTokens, type StartTokens } from './startTokens.js';
import { WindowPlanBuilder } from './windowPlanBuilder.js';
import { layoutWindow, planWindows, SpanTooLongError, type SpanRequest } from './windowPlanner.js';
import {
  EngineError,
  type ExtractionExample,
  type ExtractionOptions,
  type ExtractionProgress,
  type ExtractionSummary,
  type GenerationOptions,
  type GpuChoice,
  type ScoringOptions,
  type ModelInfo,
  type EncodedSaeFile,
  type EncodeSaeParams,
  type SaeLossRecovered,
  type SaeLossRecoveredParams,
  type SaeTrainingSummary,
  type TrainSaeParams,
} from './protocol.js';

export interface ExtractedExample {
  readonly example: number;
  readonly spanTokens: number;
  /** [layer][pooling][statistic] */
  readonly stats: Float64Array;
  /** [layer][span token][n_embd] when raw activations were kept. */
  readonly raw?: Float32Array;
  /** [pooled layer][n_embd]: the token-mean MLP output of each of options.pooledLayers. */
  readonly pooled?: Float64Array;
}

export interface ContinuationScore {
  readonly key: number;
  readonly continuation: number;
  /** Sum of the continuation tokens' log-probabilities (natural log). */
  readonly logprob: number;
  readonly tokens: number;
}

export interface ScoringSummary {
  /** Indexed like the input: scores[k] are query k's continuations, in order. */
  readonly scores: ReadonlyMap<number, readonly ContinuationScore[]>;
  /** Tokens llama.cpp evaluated, and the least any scorer must (each prefix once + query suffixes). */
  readonly evaluatedTokens: number;
  readonly minimumTokens: number;
  readonly windows: number;
  readonly elapsedMs: number;
}

export interface GenerationGroup {
  readonly prefix: Int32Array;
  readonly queries: readonly { readonly key: number; readonly query: Int32Array }[];
  /** As ScoringGroup.ownWindow. */
  readonly ownWindow?: boolean;
}

export interface GeneratedText {
  readonly key: number;
  readonly text: string;
  readonly tokens: number;
  readonly stoppedBy: 'stop-string' | 'end-of-generation' | 'token-limit';
}

export interface CancellationSignal {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

export class ActivationEngine {
  private model: NativeTapModel | undefined;
  private modelInfo: ModelInfo | undefined;
  private readonly recentLog: string[] = [];

  private constructor(private readonly llama: Llama) {}

  static async create(gpu: GpuChoice = 'auto', log?: (level: string, message: string) => void): Promise<ActivationEngine> {
    // The logger exists before the engine does; it forwards once the engine is built.
    const sink: { engine?: ActivationEngine } = {};
    let llama: Llama;
    try {
      llama = await getLlama({
        gpu: gpu === 'cpu' ? false : gpu,
        // Use the prebuilt binaries only: compiling llama.cpp needs a toolchain and the network.
        build: 'never',
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => {
          sink.engine?.remember(level, message);
          log?.(level, message);
        },
      });
    } catch (error) {
      const reason =
        (error as Error).name === 'NoBinaryFoundError' || (error as Error).message === 'NoBinaryFoundError'
          ? `no prebuilt llama.cpp binary for "${gpu}" works on this machine (is its driver installed?); use --gpu auto or cpu`
          : (error as Error).message;
      throw new EngineError('gpu-unavailable', `cannot start llama.cpp with gpu "${gpu}": ${reason}`);
    }
    // node-llama-cpp may fall back to another backend; a user who named one must get it or hear why.
    const loaded = llama.gpu === false ? 'cpu' : llama.gpu;
    if (gpu !== 'auto' && loaded !== gpu) {
      await llama.dispose();
      throw new EngineError('gpu-unavailable', `cannot start llama.cpp with gpu "${gpu}": this machine gave "${loaded}" instead; use --gpu auto or ${loaded}`);
    }
    const engine = new ActivationEngine(llama);
    sink.engine = engine;
    loadAddon().bindLlama();
    return engine;
  }

  get gpu(): string {
    return this.llama.gpu === false ? 'cpu' : this.llama.gpu;
  }

  get loadedModel(): ModelInfo | undefined {
    return this.modelInfo;
  }

  private remember(level: string, message: string): void {
    if (level !== 'error' && level !== 'warn' && level !== 'fatal') return;
    this.recentLog.push(message.trim());
    if (this.recentLog.length > 20) this.recentLog.shift();
  }

  /**
   * One vector per text from a GGUF embedding model, through node-llama-cpp's embedding context
   * (the model's own pooling; llama.cpp's default where the file names none). The model is loaded
   * for this call and released after it; the tap's loaded model is untouched.
   */
  async embedTexts(modelPath: string, texts: readonly string[], threads = 0): Promise<Float64Array[]> {
    const file = path.resolve(modelPath);
    if (!(await stat(file).catch(() => undefined))?.isFile()) throw new EngineError('model-not-found', `embedding model file not found: ${file}`, { file });
    let model;
    try {
      model = await this.llama.loadModel({ modelPath: file, gpuLayers: this.llama.gpu === false ? 0 : 'auto' });
    } catch (error) {
      throw new EngineError('model-invalid', `${file}: cannot load it as an embedding model (${(error as Error).message})`, { file });
    }
    try {
      const context = await model.createEmbeddingContext(threads > 0 ? { threads } : {});
      try {
        const vectors: Float64Array[] = [];
        for (const text of texts) vectors.push(Float64Array.from((await context.getEmbeddingFor(text)).vector));
        return vectors;
      } finally {
        await context.dispose();
      }
    } finally {
      await model.dispose();
    }
  }

  async loadModel(modelPath: string): Promise<ModelInfo> {
    const file = path.resolve(modelPath);
    const fileStat = await stat(file).catch(() => undefined);
    if (!fileStat?.isFile()) throw new EngineError('model-not-found', `model file not found: ${file}`, { file });
    await assertGgufMagic(file);
    let ggufInfo;
    try {
      ggufInfo = await readGgufFileInfo(file, { logWarnings: false, ignoreKeys: ['tokenizer.ggml.tokens', 'tokenizer.ggml.merges', 'tokenizer.ggml.token_type', 'tokenizer.ggml.scores'] });
    } catch (error) {
      throw new EngineError('model-invalid', `${file}: not a readable GGUF model (${(error as Error).message})`, { file });
    }
    const lastTensorStart = (ggufInfo.tensorInfo ?? []).reduce((max, t) => Math.max(max, Number(t.fileOffset)), 0);
    if (lastTensorStart >= fileStat.size) {
      throw new EngineError('model-truncated', `${file}: the file is truncated (${fileStat.size} bytes, tensor data expected past byte ${lastTensorStart})`, { file });
    }

    this.unloadModel();
    this.recentLog.length = 0;
    let model: NativeTapModel;
    try {
      model = await loadAddon().TapModel.load(file, { gpuLayers: this.llama.gpu === false ? 0 : -1 });
    } catch (error) {
      // llama.cpp's log lines reach JavaScript through node-llama-cpp's thread-safe callback,
      // after the failure itself: give them a moment to arrive, since they say what went wrong.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const detail = this.recentLog.length > 0 ? `: ${this.recentLog.join(' | ')}` : '';
      if (/not within the file bounds/.test(detail)) {
        throw new EngineError('model-truncated', `${file}: the file is truncated or corrupted (llama.cpp${detail})`, { file });
      }
      throw new EngineError('model-invalid', `${(error as Error).message}${detail}`, { file });
    }
    const native = model.info();
    const fileType = (ggufInfo.metadata.general as { file_type?: number } | undefined)?.file_type;
    const eosToken = (ggufInfo.metadata as { tokenizer?: { ggml?: { eos_token_id?: number } } }).tokenizer?.ggml?.eos_token_id;
    const start = chooseStartTokens({ addBos: native.addBos, bosToken: native.bosToken, eosToken }, (text) => model.tokenize(text, false, false));
    const general = ggufInfo.metadata.general as { name?: string } | undefined;
    this.model = model;
    this.modelInfo = {
      path: file,
      name: general?.name ?? path.basename(file, '.gguf'),
      // The model generator stamps its files (icl_lab.generator_version): random weights, labelled as such wherever a figure is shown.
      generated: (ggufInfo.metadata as Record<string, unknown>)['icl_lab'] !== undefined,
      architecture: native.architecture,
      description: native.description,
      layers: native.layers,
      embeddingLength: native.embeddingLength,
      vocabularySize: native.vocabularySize,
      parameters: native.parameters,
      quantization: fileType === undefined ? 'unknown' : (GgufFileType[fileType] ?? `file_type ${fileType}`),
      fileBytes: fileStat.size,
      addBos: native.addBos,
      gpu: this.gpu,
      llamaLibrary: native.llamaLibrary,
      start,
    };
    return this.modelInfo;
  }

  unloadModel(): void {
    this.model?.dispose();
    this.model = undefined;
    this.modelInfo = undefined;
  }

  tokenize(text: string, addSpecial = false): Int32Array {
    return this.requireModel().tokenize(text, addSpecial, false);
  }

  /** The loaded model's start tokens, then `text` tokenized on its own: how every sequence begins. */
  tokenizeFromStart(text: string): Int32Array {
    const start = this.startTokens();
    const rest = text === '' ? new Int32Array(0) : this.tokenize(text);
    const out = new Int32Array(start.tokens.length + rest.length);
    out.set(start.tokens);
    out.set(rest, start.tokens.length);
    return out;
  }

  private startTokens(): StartTokens {
    this.requireModel();
    return this.modelInfo!.start;
  }

  private requireModel(): NativeTapModel {
    if (!this.model) throw new EngineError('no-model', 'no model is loaded: call model/load first');
    return this.model;
  }

  /**
   * Captures the MLP output of every layer for each example's own tokens and reduces it.
   * Results arrive through onExample in input order as each window finishes, so a cancelled or
   * failed run keeps everything before it.
   */
  async extract(
    examples: readonly ExtractionExample[],
    options: ExtractionOptions,
    onExample: (result: ExtractedExample) => void,
    onProgress: (progress: ExtractionProgress) => void,
    cancel?: CancellationSignal,
  ): Promise<ExtractionSummary> {
    const model = this.requireModel();
    const info = this.modelInfo!;
    const started = performance.now();
    const { shared, requests } = this.extractionLayout(examples, options);
    // Check every example fits before decoding anything: the error names them all.
    const tooLong = requests.filter((r) => shared.length + r.leading.length + r.span.length > options.contextSize);
    if (tooLong.length > 0) {
      const names = tooLong.slice(0, 5).map((r) => `example ${r.example} (${shared.length + r.leading.length + r.span.length} tokens)`);
      throw new EngineError(
        'text-too-long',
        `${names.join(', ')}${tooLong.length > 5 ? ` and ${tooLong.length - 5} more` : ''} exceed${tooLong.length === 1 ? 's' : ''} the context size of ${options.contextSize} tokens`,
        { examples: tooLong.map((r) => r.example) },
      );
    }

    const rule = tensorRuleFor(options.site ?? 'mlp_out', info.architecture);
    let done = 0;
    let tokens = 0;
    let windows = 0;
    let decodeMs = 0;
    let reduceMs = 0;
    const statsPerSpan = info.layers * poolings.length * activationStatistics.length;
    const rawSet = options.rawExamples === 'all' ? undefined : new Set(options.rawExamples ?? []);
    const wantsRaw = (example: number): boolean => rawSet === undefined || rawSet.has(example);
    for (const layer of options.pooledLayers ?? []) {
      if (!Number.isInteger(layer) || layer < 0 || layer >= info.layers) throw new EngineError('bad-request', `pooled layer ${layer} is outside the model's ${info.layers} layers`);
    }
    const maxSequences = await this.withContext(model, options, cancel, rule.tensorPrefix, async (context, maxSequences) => {
      if (options.rawDir) await mkdir(options.rawDir, { recursive: true });
      for (const window of planWindows(shared, requests, { contextSize: options.contextSize, maxSequences })) {
        if (cancel?.isCancellationRequested) throw new EngineError('cancelled', `cancelled after ${done} of ${requests.length} examples`);
        const result = await this.runWindow(context, window.plan, `${done} of ${requests.length} examples`);
        windows++;
        decodeMs += result.decodeMs;
        reduceMs += result.reduceMs;
        tokens += window.plan.tokens.length;
        for (const [i, request] of window.requests.entries()) {
          const kept = result.raw[i] ?? undefined;
          // Raw outputs kept only for pooling are dropped once pooled.
          const raw = kept && wantsRaw(request.example) ? kept : undefined;
          if (raw && options.rawDir) await writeRawActivations(options.rawDir, request.example, raw, info.layers, request.span.length, info.embeddingLength, options.rawLayers);
          const pooled = kept && options.pooledLayers?.length ? tokenMeans(kept, options.pooledLayers, request.span.length, info.embeddingLength) : undefined;
          onExample({
            example: request.example,
            spanTokens: request.span.length,
            stats: result.stats.slice(i * statsPerSpan, (i + 1) * statsPerSpan),
            ...(raw ? { raw } : {}),
            ...(pooled ? { pooled } : {}),
          });
          done++;
        }
        onProgress({ done, total: requests.length, tokens, elapsedMs: performance.now() - started });
      }
      return maxSequences;
    });
    return {
      examples: done,
      tokens,
      windows,
      decodeMs,
      reduceMs,
      elapsedMs: performance.now() - started,
      settings: {
        contextSize: options.contextSize,
        batchSize: options.batchSize,
        maxSequences,
        exact: options.exact,
        kvCacheType: options.exact ? 'f32' : 'f16',
        flashAttention: options.exact ? 'disabled' : 'auto',
        tensor: `${rule.tensorPrefix}-<layer>`,
      },
    };
  }

  /**
   * The site self-check (src/core/siteCheck.ts): resid_mid, mlp_out and resid_post of every layer
   * for every token of `text` (start tokens included), each read by one exact decode (F32 KV cache,
   * no flash attention) of the same window, since the tap captures one tensor name per context.
   * Per layer: max |resid_post − resid_mid − mlp_out| and max |resid_post|, in float64.
   * `rules` stands in for the site table (tests give a wrong one to see the check fail).
   */
  async checkSites(text: string = siteCheckText, threads = 0, rules?: Readonly<Record<CheckSiteName, TensorRule>>): Promise<SiteCheckMeasurement> {
    const model = this.requireModel();
    const info = this.modelInfo!;
    const sites = rules ?? siteRules(info.architecture);
    if (text.length === 0) throw new EngineError('bad-request', 'the site check needs a non-empty text');
    const tokens = this.tokenizeFromStart(text);
    if (tokens.length > siteCheckMaxTokens) throw new EngineError('bad-request', `the site check text has ${tokens.length} tokens; at most ${siteCheckMaxTokens}`);
    const { plan } = layoutWindow(new Int32Array(0), [{ example: 0, leading: new Int32Array(0), span: tokens, keepRaw: true }]);
    const options: ScoringOptions = { contextSize: tokens.length, batchSize: tokens.length, maxSequences: 1, threads, exact: true };
    // [layer][token][n_embd]
    const read = (site: CheckSiteName): Promise<Float32Array> =>
      this.withContext(model, options, undefined, sites[site].tensorPrefix, async (context) => (await this.runWindow(context, plan, `the site check (${site})`)).raw[0]!);
    const mid = await read('resid_mid');
    const mlp = await read('mlp_out');
    const post = await read('resid_post');
    const perLayer = tokens.length * info.embeddingLength;
    const layers: SiteCheckLayer[] = [];
    for (let layer = 0; layer < info.layers; layer++) {
      let maxResidual = 0;
      let scale = 0;
      for (let i = layer * perLayer; i < (layer + 1) * perLayer; i++) {
        // NaN propagates through Math.max, so a broken tensor cannot pass.
        maxResidual = Math.max(maxResidual, Math.abs(post[i]! - mid[i]! - mlp[i]!));
        scale = Math.max(scale, Math.abs(post[i]!));
      }
      layers.push({ layer, maxResidual, scale });
    }
    const tensor = (site: CheckSiteName): string => `${sites[site].tensorPrefix}-<layer>`;
    return {
      architecture: info.architecture,
      tokens: tokens.length,
      tensors: { resid_mid: tensor('resid_mid'), mlp_out: tensor('mlp_out'), resid_post: tensor('resid_post') },
      layers,
    };
  }

  /**
   * log P(continuation | prefix + query) for every continuation of every query, on the loaded
   * model. Each group's prefix is evaluated once per window and shared through the KV cache.
   */
  async scoreContinuations(
    groups: readonly ScoringGroup[],
    options: ScoringOptions,
    onProgress?: (progress: ExtractionProgress) => void,
    cancel?: CancellationSignal,
  ): Promise<ScoringSummary> {
    const model = this.requireModel();
    const started = performance.now();
    // Per query key, the running log-probability sum of each continuation.
    const sums = new Map<number, Float64Array>();
    for (const group of groups) for (const query of group.queries) sums.set(query.key, new Float64Array(query.continuations.length));
    const total = sums.size;
    let done = 0;
    let evaluated = 0;
    let windows = 0;
    await this.withContext(model, options, cancel, noCapture, async (context, maxSequences) => {
      for (const window of planScoringWindows(groups, { contextSize: options.contextSize, maxSequences })) {
        if (cancel?.isCancellationRequested) throw new EngineError('cancelled', `cancelled after ${done} of ${total} queries`);
        const result = await this.runWindow(context, window.plan, `${done} of ${total} queries`);
        window.targets.forEach((target, r) => {
          sums.get(target.key)![target.continuation]! += result.logprobs[r]!;
        });
        evaluated += window.plan.tokens.length;
        windows++;
        done += window.queryKeys.length;
        onProgress?.({ done, total, tokens: evaluated, elapsedMs: performance.now() - started });
      }
    });
    const scores = new Map<number, ContinuationScore[]>();
    for (const group of groups) {
      for (const query of group.queries) {
        const logprobs = sums.get(query.key)!;
        scores.set(query.key, query.continuations.map((c, continuation) => ({ key: query.key, continuation, logprob: logprobs[continuation]!, tokens: c.length })));
      }
    }
    return { scores, evaluatedTokens: evaluated, minimumTokens: minimumTokens(groups), windows, elapsedMs: performance.now() - started };
  }

  /**
   * Greedy generation for every query, many sequences decoded together; a group's prefix is
   * evaluated once per window. Ends at a stop string, an end-of-generation token or maxTokens.
   */
  async generateGreedy(
    groups: readonly GenerationGroup[],
    options: GenerationOptions,
    onProgress?: (progress: ExtractionProgress) => void,
    cancel?: CancellationSignal,
  ): Promise<{ readonly outputs: ReadonlyMap<number, GeneratedText>; readonly evaluatedTokens: number; readonly elapsedMs: number }> {
    const model = this.requireModel();
    const started = performance.now();
    const decoder = new TextDecoder('utf-8');
    const outputs = new Map<number, GeneratedText>();
    const scoringGroups: ScoringGroup[] = groups.map((g) => ({ prefix: g.prefix, queries: g.queries.map((q) => ({ ...q, continuations: [] })), ...(g.ownWindow ? { ownWindow: true } : {}) }));
    const total = groups.reduce((n, g) => n + g.queries.length, 0);
    let evaluated = 0;
    await this.withContext(model, options, cancel, noCapture, async (context, maxSequences) => {
      for (const window of planScoringWindows(scoringGroups, { contextSize: options.contextSize, maxSequences }, options.maxTokens)) {
        if (cancel?.isCancellationRequested) throw new EngineError('cancelled', `cancelled after ${outputs.size} of ${total} queries`);
        const prefill = await this.runWindow(context, { ...window.plan, argmaxTokens: Int32Array.from(window.queryEnds, (e) => e.lastToken) }, `${outputs.size} of ${total} queries`);
        evaluated += window.plan.tokens.length;
        const states = window.queryEnds.map((end, i) => ({ end, position: end.nextPosition, next: prefill.argmax[i]!, tokens: [] as number[] }));
        let active = states;
        while (active.length > 0) {
          const stepping: typeof states = [];
          for (const state of active) {
            const token = state.next;
            const finish = (text: string, stoppedBy: GeneratedText['stoppedBy']): void => {
              outputs.set(state.end.key, { key: state.end.key, text, tokens: state.tokens.length, stoppedBy });
            };
            if (model.isEndOfGeneration(token)) {
              finish(decoder.decode(model.detokenize(Int32Array.from(state.tokens))), 'end-of-generation');
              continue;
            }
            state.tokens.push(token);
            const text = decoder.decode(model.detokenize(Int32Array.from(state.tokens)));
            const stopAt = firstStop(text, options.stop);
            if (stopAt >= 0) finish(text.slice(0, stopAt), 'stop-string');
            else if (state.tokens.length >= options.maxTokens) finish(text, 'token-limit');
            else stepping.push(state);
          }
          active = stepping;
          if (active.length === 0) break;
          // One token per still-running sequence, appended to what the KV cache holds.
          const builder = new WindowPlanBuilder();
          for (const state of active) builder.put(state.next, state.position++, [state.end.sequence]);
          const step = await this.runWindow(
            context,
            {
              ...builder.build(),
              spanLengths: new Int32Array(0),
              keepRaw: new Uint8Array(0),
              logitsTokens: new Int32Array(0),
              argmaxTokens: Int32Array.from(active, (_, i) => i),
              continueSequences: true,
            },
            `${outputs.size} of ${total} queries`,
          );
          evaluated += active.length;
          active.forEach((state, i) => (state.next = step.argmax[i]!));
        }
        onProgress?.({ done: outputs.size, total, tokens: evaluated, elapsedMs: performance.now() - started });
      }
    });
    return { outputs, evaluatedTokens: evaluated, elapsedMs: performance.now() - started };
  }

  /** scoreContinuations on texts: the prefix follows the start tokens (BOS or its stand-in), pieces are tokenized apart. */
  async scoreTexts(groups: readonly TextScoringGroup[], options: ScoringOptions): Promise<TextScores> {
    const summary = await this.scoreContinuations(
      groups.map((g) => ({
        prefix: this.tokenizeFromStart(g.prefix),
        queries: g.queries.map((q) => ({ key: q.key, query: this.tokenize(q.query), continuations: q.continuations.map((c) => this.tokenize(c)) })),
        ...(g.ownWindow ? { ownWindow: true } : {}),
      })),
      options,
    );
    return { scores: summary.scores, evaluatedTokens: summary.evaluatedTokens, minimumTokens: summary.minimumTokens };
  }

  async generateTexts(groups: readonly TextGenerationGroup[], options: GenerationOptions): Promise<ReadonlyMap<number, string>> {
    const { outputs } = await this.generateGreedy(
      groups.map((g) => ({ prefix: this.tokenizeFromStart(g.prefix), queries: g.queries.map((q) => ({ key: q.key, query: this.tokenize(q.query) })), ...(g.ownWindow ? { ownWindow: true } : {}) })),
      options,
    );
    return new Map([...outputs].map(([key, output]) => [key, output.text]));
  }

  /**
   * Runs `work` on a fresh tap context with these settings: a cancel interrupts the running decode,
   * a query or text that cannot fit becomes a text-too-long error naming it, and the context is
   * always freed.
   */
  private async withContext<T>(
    model: NativeTapModel,
    options: ScoringOptions,
    cancel: CancellationSignal | undefined,
    tensorPrefix: string,
    work: (context: NativeTapContext, maxSequences: number) => Promise<T>,
  ): Promise<T> {
    // llama.cpp's limit on sequences in one context.
    const maxSequences = Math.min(options.maxSequences, 256);
    const context = model.createContext({
      contextSize: options.contextSize,
      batchSize: options.batchSize,
      maxSequences,
      // 0 means "decide": node-llama-cpp knows how many cores do math well on this machine.
      threads: options.threads > 0 ? options.threads : this.llama.cpuMathCores,
      exact: options.exact,
      tensorPrefix,
    });
    const cancelListener = cancel?.onCancellationRequested(() => context.cancel());
    try {
      return await work(context, maxSequences);
    } catch (error) {
      if (error instanceof QueryTooLongError) throw new EngineError('text-too-long', error.message, { examples: [error.key] });
      if (error instanceof SpanTooLongError) throw new EngineError('text-too-long', error.message, { examples: [error.example] });
      throw error;
    } finally {
      cancelListener?.dispose();
      context.dispose();
    }
  }

  /** One window; `progress` says how far the run got, for the message of a cancel. */
  private async runWindow(context: NativeTapContext, plan: Parameters<NativeTapContext['runWindow']>[0], progress: string): Promise<WindowResult> {
    try {
      return await context.runWindow(plan);
    } catch (error) {
      const message = (error as Error).message;
      if (message === 'cancelled') throw new EngineError('cancelled', `cancelled after ${progress}`);
      throw new EngineError('decode-failed', message);
    }
  }

  /**
   * The tokens an extraction decodes: `shared` at positions 0.. of every window (start tokens and
   * any shared prefix), then per example its leading tokens and its span. A span's first token sits
   * at position shared.length + leading.length.
   */
  extractionLayout(examples: readonly ExtractionExample[], options: ExtractionOptions): { readonly shared: Int32Array; readonly requests: readonly SpanRequest[] } {
    const model = this.requireModel();
    return { shared: this.sharedTokens(options), requests: this.buildRequests(model, examples, options) };
  }

  /**
   * Tokens every sequence of a window shares: the start tokens, and the shared-prefix mask's prefix
   * tokenized on its own. Same tokens, same positions for every sequence, so each sees exactly what
   * it would alone. The layout each mask asks for is src/core/masks.ts's.
   */
  private sharedTokens(options: ExtractionOptions): Int32Array {
    if (options.mask === 'shared-prefix' && !options.prefix) throw new EngineError('bad-request', 'the shared-prefix mask needs a prefix text');
    if (options.mask !== 'shared-prefix' && options.prefix) throw new EngineError('bad-request', `the ${options.mask} mask takes no shared prefix`);
    return this.tokenizeFromStart(options.prefix ?? '');
  }

  private buildRequests(model: NativeTapModel, examples: readonly ExtractionExample[], options: ExtractionOptions): SpanRequest[] {
    const rawSet = options.rawExamples === 'all' ? undefined : new Set(options.rawExamples ?? []);
    const pooling = (options.pooledLayers?.length ?? 0) > 0;
    return examples.map((e) => {
      if (e.text.length === 0) throw new EngineError('bad-request', `example ${e.example}: empty text`, { examples: [e.example] });
      if (e.leading !== undefined && options.mask !== 'in-context') throw new EngineError('bad-request', `example ${e.example}: the ${options.mask} mask takes no leading text`, { examples: [e.example] });
      return {
        example: e.example,
        // Tokenized apart from the span, so the span's tokens are the same under every mask.
        leading: e.leading ? model.tokenize(e.leading, false, false) : new Int32Array(0),
        span: model.tokenize(e.text, false, false),
        keepRaw: pooling || rawSet === undefined || rawSet.has(e.example),
      };
    });
  }

  /** Trains a TopK SAE on token files (src/engine/saeTraining.ts), on this engine's backend. */
  trainSae(params: TrainSaeParams, control: Omit<SaeRunControl, 'gpu'> = {}): Promise<SaeTrainingSummary> {
    return trainSae(loadAddon(), { ...params, options: { ...params.options, threads: this.threadsFor(params.options.threads) } }, { ...control, gpu: this.gpu !== 'cpu' });
  }

  encodeSae(params: EncodeSaeParams): Promise<EncodedSaeFile[]> {
    return encodeSaeFiles(loadAddon(), { ...params, threads: this.threadsFor(params.threads) }, this.gpu !== 'cpu');
  }

  // 0 means "decide": ggml's own default (4) oversubscribes small machines, and its threads
  // spin at each barrier, so take the cores node-llama-cpp measured as good for math.
  private threadsFor(threads: number): number {
    return threads > 0 ? threads : this.llama.cpuMathCores;
  }

  /** Each token's text as the tokenizer cuts `text` (no start tokens); multi-byte characters go to the token that completes them. */
  tokenPieces(text: string): string[] {
    const model = this.requireModel();
    const tokens = this.tokenize(text);
    const decoder = new TextDecoder('utf-8');
    const pieces: string[] = [];
    let before = '';
    for (let i = 0; i < tokens.length; i++) {
      const bytes = model.detokenize(tokens.subarray(0, i + 1));
      // A token that ends inside a character decodes with a replacement mark; its text waits for the next.
      const upTo = decoder.decode(bytes);
      const complete = upTo.endsWith('\uFFFD') && i + 1 < tokens.length ? before : upTo;
      pieces.push(complete.startsWith(before) ? complete.slice(before.length) : complete);
      before = complete;
    }
    return pieces;
  }

  /**
   * SAELens' downstream check: the mean next-token cross-entropy over the texts' tokens with the
   * site's output at `layer` left clean, replaced by the SAE's reconstruction, and zero-ablated
   * (on the texts' own tokens; the start tokens are never touched).
   */
  async saeLossRecovered(params: SaeLossRecoveredParams, cancel?: CancellationSignal): Promise<SaeLossRecovered> {
    const model = this.requireModel();
    const info = this.modelInfo!;
    if (params.layer < 0 || params.layer >= info.layers) throw new EngineError('bad-request', `sae: layer ${params.layer} is outside the model's ${info.layers} layers`);
    const weights = await readSaeWeights(params.saeDir);
    if (weights.width !== info.embeddingLength) throw new EngineError('bad-request', `sae: ${params.saeDir} was trained on width ${weights.width}, the model's is ${info.embeddingLength}`);
    const start = this.startTokens().tokens;
    const texts = params.texts.map((text) => this.tokenize(text)).filter((t) => t.length > 0);
    const tokens = texts.reduce((n, t) => n + t.length, 0);
    if (tokens === 0) throw new EngineError('bad-request', 'sae: no text tokens to measure the loss on');
    const rule = tensorRuleFor(params.site, info.architecture);
    const measure = async (patch: Parameters<NativeTapContext['setPatch']>[0]): Promise<number> =>
      this.withContext(model, params.options, cancel, rule.tensorPrefix, async (context) => {
        context.setPatch(patch);
        let nll = 0;
        for (const text of texts) {
          if (start.length + text.length > params.options.contextSize) throw new EngineError('text-too-long', `sae: a text of ${text.length} tokens does not fit the context (${params.options.contextSize})`);
          const builder = new WindowPlanBuilder();
          start.forEach((token, i) => builder.put(token, i, [0]));
          const logprobTokens: number[] = [];
          const logprobTargets: number[] = [];
          text.forEach((token, j) => {
            const index = builder.put(token, start.length + j, [0], 0);
            // Token j is predicted from everything before it.
            logprobTokens.push(index - 1);
            logprobTargets.push(token);
          });
          const plan = {
            ...builder.build(),
            spanLengths: Int32Array.of(text.length),
            keepRaw: new Uint8Array(1),
            logitsTokens: new Int32Array(0),
            logprobTokens: Int32Array.from(logprobTokens),
            logprobTargets: Int32Array.from(logprobTargets),
          };
          const result = await this.runWindow(context, plan, 'the loss-recovered check');
          for (const lp of result.logprobs) nll -= lp;
        }
        return nll / tokens;
      });
    const clean = await measure(null);
    const reconstructed = await measure({ ...weights, layer: params.layer, scale: params.inputScale, k: params.k });
    const zeroAblated = await measure({ layer: params.layer, zero: true });
    return { clean, reconstructed, zeroAblated, tokens };
  }

  async dispose(): Promise<void> {
    this.unloadModel();
    await this.llama.dispose();
  }
}

/** The site table's tensors for an architecture; one it does not list is refused by name. */
function siteRules(architecture: string): Record<CheckSiteName, TensorRule> {
  try {
    return { resid_mid: tensorRuleFor('resid_mid', architecture), mlp_out: tensorRuleFor('mlp_out', architecture), resid_post: tensorRuleFor('resid_post', architecture) };
  } catch (error) {
    if (error instanceof UnknownArchitectureError) throw new EngineError('unknown-architecture', error.message);
    throw error;
  }
}

async function assertGgufMagic(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead < 4 || buffer.toString('latin1') !== 'GGUF') {
      throw new EngineError('model-invalid', `${file}: not a GGUF file (it does not start with the "GGUF" magic)`, { file });
    }
  } finally {
    await handle.close();
  }
}

async function writeRawActivations(dir: string, example: number, raw: Float32Array, layers: number, tokens: number, width: number, only?: readonly number[]): Promise<void> {
  const perLayer = tokens * width;
  for (let layer = 0; layer < layers; layer++) {
    if (only && !only.includes(layer)) continue;
    const values = raw.subarray(layer * perLayer, (layer + 1) * perLayer);
    await writeFileAtomic(path.join(dir, `${example}_L${layer}.npy`), encodeNpyFloat32(values, [tokens, width]));
  }
}

/** Mean over span tokens of each requested layer's MLP output: [layers.length][width]. */
function tokenMeans(raw: Float32Array, layers: readonly number[], tokens: number, width: number): Float64Array {
  const out = new Float64Array(layers.length * width);
  layers.forEach((layer, l) => {
    const base = layer * tokens * width;
    for (let t = 0; t < tokens; t++) {
      for (let d = 0; d < width; d++) out[l * width + d]! += raw[base + t * width + d]!;
    }
    for (let d = 0; d < width; d++) out[l * width + d]! /= tokens;
  });
  return out;
}

/** Index of the earliest stop string in text, or -1. */
function firstStop(text: string, stops: readonly string[]): number {
  let first = -1;
  for (const stop of stops) {
    const at = stop.length > 0 ? text.indexOf(stop) : -1;
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}
