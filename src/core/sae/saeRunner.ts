// What the sae phase needs from whatever trains and runs the autoencoder: in the CLI and the
// extension, the engine process (src/cli/run.ts's EngineExperimentModel over EngineClient's
// trainSae / encodeSae / saeLossRecovered / tokenPieces); in tests, a TypeScript stand-in. Core's
// own mirror of the engine's SAE requests (src/engine/protocol.ts), so core imports no engine code.
import type { SiteName } from '../sites.js';

/** A float32 [tokens, width] .npy file of one example's span activations, or one extra text's (no example). */
export interface SaeTokenFile {
  readonly file: string;
  readonly example?: number;
}

/** The hyper-parameters of one training, every one resolved (sae.json records them). */
export interface SaeHyperparameters {
  readonly width: number;
  readonly latents: number;
  readonly k: number;
  readonly auxK: number;
  readonly auxCoefficient: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly deadWindowTokens: number;
  readonly seed: number;
}

export interface SaeTrainRequest {
  readonly train: readonly SaeTokenFile[];
  /** Never trained on: variance explained is measured on them. */
  readonly heldOut: readonly SaeTokenFile[];
  /** Where W_enc.npy, b_enc.npy, W_dec.npy and b_dec.npy are written. */
  readonly outDir: string;
  readonly options: SaeHyperparameters;
}

export interface SaeTrainProgress {
  readonly step: number;
  readonly steps: number;
  readonly tokens: number;
  readonly loss: number;
  readonly mse: number;
  readonly dead: number;
  readonly elapsedMs: number;
}

/** What a training reports (the engine's SaeTrainingSummary). */
export interface SaeTrainResult {
  /** Inputs are multiplied by it before encoding (their mean squared norm becomes `width`); decoding divides by it. */
  readonly inputScale: number;
  readonly trainTokens: number;
  readonly heldOutTokens: number;
  readonly steps: number;
  readonly trainingMs: number;
  readonly tokensPerSecond: number;
  /** On held-out tokens, in the input's own units: 1 − Σ‖x − x̂‖² / Σ‖x − mean x‖². */
  readonly varianceExplained: number;
  readonly l0: number;
  readonly deadLatents: number;
  readonly epochLoss: readonly number[];
  readonly backend: string;
  readonly files: { readonly encoder: string; readonly encoderBias: string; readonly decoder: string; readonly decoderBias: string };
}

export interface SaeEncodeRequest {
  readonly saeDir: string;
  readonly inputScale: number;
  readonly k: number;
  readonly files: readonly SaeTokenFile[];
}

/**
 * One file's sparse codes, token-major: token t's active latents are latents[t·k … t·k + k) with
 * their values (−1 and 0 where fewer than k are positive); values in the SAE's normalised units.
 */
export interface SaeFileCodes {
  readonly file: string;
  readonly example?: number;
  readonly tokens: number;
  readonly latents: Int32Array;
  readonly values: Float32Array;
  /** ‖x − x̂‖² / ‖x‖² per token. */
  readonly relativeError: Float64Array;
}

export interface SaeLossRequest {
  readonly saeDir: string;
  readonly inputScale: number;
  readonly k: number;
  readonly site: SiteName;
  readonly layer: number;
  /** Texts whose next-token loss is measured, each after the model's start tokens. */
  readonly texts: readonly string[];
}

/** Mean next-token cross-entropy (nats per token) with the site clean, reconstructed by the SAE, and zeroed. */
export interface SaeLoss {
  readonly clean: number;
  readonly reconstructed: number;
  readonly zeroAblated: number;
  readonly tokens: number;
}

export interface SaeRunner {
  /** Trains and writes the weights; rejects when the run is cancelled (ExperimentModel.cancel). */
  train(request: SaeTrainRequest, onProgress?: (progress: SaeTrainProgress) => void): Promise<SaeTrainResult>;
  encode(request: SaeEncodeRequest): Promise<SaeFileCodes[]>;
  lossRecovered(request: SaeLossRequest): Promise<SaeLoss>;
  /** Each token's text as the model's tokenizer cuts `text` (no start tokens): the Features panel's highlighting. */
  tokenPieces(text: string): Promise<string[]>;
}
