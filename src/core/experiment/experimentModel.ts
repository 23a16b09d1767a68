// What a run needs from a loaded model, whatever runs it: the engine process through EngineClient
// (CLI, extension) or anything else that can extract and score. Keeps the orchestration in core.
import type { MaskLayout } from '../masks.js';
import type { PromptScorer } from '../quality/promptScorer.js';
import type { SaeRunner } from '../sae/saeRunner.js';
import type { SiteName } from '../sites.js';

/** Facts about the model file recorded in run.json. */
export interface ModelFacts {
  readonly path: string;
  readonly architecture: string;
  readonly layers: number;
  readonly embeddingLength: number;
  readonly quantization: string;
  readonly fileBytes: number;
  readonly sha256: string;
  readonly [more: string]: unknown;
}

/** An extraction laid out by maskLayout (src/core/masks.ts), and what to keep of it. */
export interface ModelExtraction extends MaskLayout {
  /** Which activations (src/core/sites.ts); default the MLP output. */
  readonly site?: SiteName;
  /** Examples whose raw activations (at `site`) are written to rawDir as `<example>_L<layer>.npy`: a list, or every one. */
  readonly rawExamples?: readonly number[] | 'all';
  readonly rawDir?: string;
  /** Only these layers' raw activations are written (default every layer): the SAE's data is one layer. */
  readonly rawLayers?: readonly number[];
  /** Layers whose token-mean activation (at `site`) each result carries. */
  readonly pooledLayers?: readonly number[];
}

export interface ModelExtractionResult {
  readonly example: number;
  /** Tokens of the measured span (stats.csv's token_count). */
  readonly spanTokens: number;
  /** [layer][pooling][statistic], as stats.csv rows are written. */
  readonly stats: Float64Array;
  /** [pooled layer][width]. */
  readonly pooled?: Float64Array;
}

export interface ExperimentModel extends PromptScorer {
  readonly facts: ModelFacts;
  /** Results may arrive in any order; the promise settles when every example is done. */
  extract(request: ModelExtraction, onResult: (result: ModelExtractionResult) => void, onProgress?: (done: number, total: number, tokens: number) => void): Promise<void>;
  /**
   * One vector per text from another GGUF file, an embedding model (selection.embedding); absent
   * where the runner cannot load a second model.
   */
  embed?(embeddingModel: string, texts: readonly string[]): Promise<Float64Array[]>;
  /** Trains and runs sparse autoencoders (the sae phase); absent where the runner cannot. */
  readonly sae?: SaeRunner;
  /** Stops the work in flight; its promise rejects. */
  cancel(): void;
}
