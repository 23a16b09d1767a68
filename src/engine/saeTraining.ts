// Trains and applies a TopK sparse autoencoder in the engine process, on the native trainer
// (src/engine/native/SaeTrainer.cpp, ggml's optimiser). Tokens stream from .npy files (one per
// example) through a bounded, seeded shuffle buffer, so memory does not grow with the data.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/format/atomicFile.js';
import { decodeNpyFloat32, encodeNpyFloat32 } from '../core/format/npy.js';
import { SeededRandom } from '../core/random.js';
import type { NativeAddon, NativeSaeTrainer, NativeSaeWeights } from './addon.js';
import type { EncodedSaeFile, EncodeSaeParams, SaeTokenFile, SaeTrainingProgress, SaeTrainingSummary, TrainSaeParams } from './protocol.js';

/** The weight files of a trained SAE, in SAELens' shapes. */
export const saeWeightFiles = { encoder: 'W_enc.npy', encoderBias: 'b_enc.npy', decoder: 'W_dec.npy', decoderBias: 'b_dec.npy' } as const;

/** Batches gathered before shuffling: tokens of different examples mix within this window. */
const shuffleBatches = 16;

export interface SaeRunControl {
  readonly onProgress?: (progress: SaeTrainingProgress) => void;
  /** Checked between steps; training stops with an error when it returns true. */
  readonly cancelled?: () => boolean;
  /** Train on the GPU ggml registered, if any. */
  readonly gpu?: boolean;
}

export class SaeCancelledError extends Error {
  constructor() {
    super('sparse autoencoder training cancelled');
    this.name = 'SaeCancelledError';
  }
}

async function readTokens(file: SaeTokenFile, width: number): Promise<Float32Array> {
  const { values, shape } = decodeNpyFloat32(await readFile(file.file), file.file);
  if (shape.length !== 2 || shape[1] !== width) throw new Error(`${file.file}: shape (${shape.join(', ')}), expected (tokens, ${width})`);
  return values;
}

async function tokenCount(file: SaeTokenFile, width: number): Promise<number> {
  return (await readTokens(file, width)).length / width;
}

/** Mean input and the scale that makes the mean squared norm equal `width` (Gao et al.'s normalisation). */
async function inputMoments(files: readonly SaeTokenFile[], width: number): Promise<{ scale: number; mean: Float64Array; tokens: number }> {
  const mean = new Float64Array(width);
  let squaredNorm = 0;
  let tokens = 0;
  for (const file of files) {
    const values = await readTokens(file, width);
    for (let t = 0; t < values.length / width; t++) {
      for (let d = 0; d < width; d++) {
        const v = values[t * width + d]!;
        mean[d]! += v;
        squaredNorm += v * v;
      }
      tokens++;
    }
  }
  if (tokens === 0) throw new Error('sae: no training tokens (every file is empty)');
  for (let d = 0; d < width; d++) mean[d]! /= tokens;
  const meanSquaredNorm = squaredNorm / tokens;
  if (!(meanSquaredNorm > 0)) throw new Error('sae: every training token is zero');
  return { scale: Math.sqrt(width / meanSquaredNorm), mean, tokens };
}

function gaussian(random: SeededRandom): number {
  // Box–Muller on two uniforms in (0, 1].
  const u = 1 - random.next();
  const v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Seeded initial weights: random unit-norm decoder columns, the encoder their transpose, b_enc 0,
 * b_dec the (normalised) mean input.
 */
export function initialSaeWeights(width: number, latents: number, seed: number, decoderBias: ArrayLike<number>): NativeSaeWeights {
  const random = new SeededRandom(seed);
  const encoder = new Float32Array(latents * width);
  const decoder = new Float32Array(width * latents);
  const column = new Float64Array(width);
  for (let i = 0; i < latents; i++) {
    let norm = 0;
    for (let d = 0; d < width; d++) {
      column[d] = gaussian(random);
      norm += column[d]! ** 2;
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < width; d++) {
      const v = column[d]! / norm;
      encoder[i * width + d] = v;
      decoder[d * latents + i] = v;
    }
  }
  return { encoder, encoderBias: new Float32Array(latents), decoder, decoderBias: Float32Array.from(decoderBias) };
}

function shuffleRows(rows: Float32Array[], random: SeededRandom): void {
  for (let i = rows.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
}

/** Linear warm-up over the first 5% of steps, linear decay to zero over the last 20% (as Gao et al.). */
export function learningRateAt(step: number, steps: number, rate: number): number {
  const warmup = Math.max(1, Math.round(steps * 0.05));
  const decayFrom = Math.floor(steps * 0.8);
  let factor = Math.min(1, (step + 1) / warmup);
  if (step >= decayFrom && steps > decayFrom) factor *= (steps - step) / (steps - decayFrom);
  return Math.max(rate * factor, rate * 1e-3);
}

function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c]!;
  return out;
}

export async function writeSaeWeights(dir: string, weights: NativeSaeWeights, width: number, latents: number): Promise<SaeTrainingSummary['files']> {
  await mkdir(dir, { recursive: true });
  const files = {
    encoder: path.join(dir, saeWeightFiles.encoder),
    encoderBias: path.join(dir, saeWeightFiles.encoderBias),
    decoder: path.join(dir, saeWeightFiles.decoder),
    decoderBias: path.join(dir, saeWeightFiles.decoderBias),
  };
  // SAELens' shapes: W_enc [width, latents], W_dec [latents, width].
  await writeFileAtomic(files.encoder, encodeNpyFloat32(transpose(weights.encoder, latents, width), [width, latents]));
  await writeFileAtomic(files.encoderBias, encodeNpyFloat32(weights.encoderBias, [latents]));
  await writeFileAtomic(files.decoder, encodeNpyFloat32(transpose(weights.decoder, width, latents), [latents, width]));
  await writeFileAtomic(files.decoderBias, encodeNpyFloat32(weights.decoderBias, [width]));
  return files;
}

/** A trained SAE's weights from its folder, in the trainer's layout (src/core/sae/topKSae.ts). */
export async function readSaeWeights(dir: string): Promise<NativeSaeWeights & { width: number; latents: number }> {
  const read = async (name: string) => decodeNpyFloat32(await readFile(path.join(dir, name)), path.join(dir, name));
  const encoder = await read(saeWeightFiles.encoder);
  const [width, latents] = encoder.shape as [number, number];
  const decoder = await read(saeWeightFiles.decoder);
  if (decoder.shape[0] !== latents || decoder.shape[1] !== width) throw new Error(`${path.join(dir, saeWeightFiles.decoder)}: shape (${decoder.shape.join(', ')}), expected (${latents}, ${width})`);
  return {
    width,
    latents,
    encoder: transpose(encoder.values, width, latents),
    encoderBias: (await read(saeWeightFiles.encoderBias)).values,
    decoder: transpose(decoder.values, latents, width),
    decoderBias: (await read(saeWeightFiles.decoderBias)).values,
  };
}

/** Held-out figures from the trainer's current weights, in normalised units (both are scale-free). */
async function heldOutFigures(trainer: NativeSaeTrainer, files: readonly SaeTokenFile[], width: number, k: number, scale: number): Promise<{ varianceExplained: number; l0: number; tokens: number }> {
  const mean = new Float64Array(width);
  let tokens = 0;
  for (const file of files) {
    const values = await readTokens(file, width);
    for (let i = 0; i < values.length; i++) mean[i % width]! += values[i]! * scale;
    tokens += values.length / width;
  }
  if (tokens === 0) return { varianceExplained: NaN, l0: NaN, tokens: 0 };
  for (let d = 0; d < width; d++) mean[d]! /= tokens;
  let residual = 0;
  let total = 0;
  let active = 0;
  for (const file of files) {
    const values = (await readTokens(file, width)).map((v) => v * scale);
    const n = values.length / width;
    const code = trainer.encode(values, n);
    for (let t = 0; t < n; t++) {
      let squaredNorm = 0;
      for (let d = 0; d < width; d++) {
        const v = values[t * width + d]!;
        squaredNorm += v * v;
        total += (v - mean[d]!) ** 2;
      }
      residual += code.relativeError[t]! * squaredNorm;
      for (let j = 0; j < k; j++) if (code.latents[t * k + j]! >= 0) active++;
    }
  }
  return { varianceExplained: total > 0 ? 1 - residual / total : NaN, l0: active / tokens, tokens };
}

export async function trainSae(addon: NativeAddon, params: TrainSaeParams, control: SaeRunControl = {}): Promise<SaeTrainingSummary> {
  const { options } = params;
  const { width } = options;
  if (params.train.length === 0) throw new Error('sae: no training files');
  const moments = await inputMoments(params.train, width);
  const batchSize = Math.min(options.batchSize, moments.tokens);
  const stepsPerEpoch = Math.floor(moments.tokens / batchSize);
  const steps = stepsPerEpoch * options.epochs;
  const scaledMean = Array.from(moments.mean, (v) => v * moments.scale);
  const trainer = new addon.SaeTrainer({
    width,
    latents: options.latents,
    k: options.k,
    auxK: options.auxK,
    auxCoefficient: options.auxCoefficient,
    batchSize,
    deadWindowTokens: options.deadWindowTokens,
    learningRate: options.learningRate,
    threads: options.threads,
    gpu: control.gpu ?? false,
    ...initialSaeWeights(width, options.latents, options.seed, scaledMean),
  });
  try {
    const random = new SeededRandom(options.seed ^ 0x5ae5ae);
    const started = performance.now();
    const epochLoss: number[] = [];
    let step = 0;
    const batch = new Float32Array(batchSize * width);
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const order = random.sample(params.train.length, params.train.length);
      let rows: Float32Array[] = [];
      let lossSum = 0;
      let epochSteps = 0;
      const drain = async (final: boolean): Promise<void> => {
        if (rows.length < batchSize * shuffleBatches && !final) return;
        shuffleRows(rows, random);
        const full = Math.floor(rows.length / batchSize);
        const take = final ? full : Math.max(0, full - 1);
        for (let b = 0; b < take && epochSteps < stepsPerEpoch; b++) {
          if (control.cancelled?.()) throw new SaeCancelledError();
          for (let t = 0; t < batchSize; t++) batch.set(rows[b * batchSize + t]!, t * width);
          trainer.setLearningRate(learningRateAt(step, steps, options.learningRate));
          const result = trainer.step(batch);
          if (!Number.isFinite(result.loss)) throw new Error(`sae: the loss became ${result.loss} at step ${step + 1}; lower sae.learningRate`);
          lossSum += result.loss;
          epochSteps++;
          step++;
          control.onProgress?.({ step, steps, tokens: step * batchSize, loss: result.loss, mse: result.mse, dead: result.dead, elapsedMs: performance.now() - started });
          // Steps run on this thread: let a cancel request and the progress notification through.
          await new Promise((resolve) => setImmediate(resolve));
        }
        rows = rows.slice(take * batchSize);
      };
      for (const index of order) {
        const values = await readTokens(params.train[index]!, width);
        for (let t = 0; t < values.length / width; t++) rows.push(values.subarray(t * width, (t + 1) * width).map((v) => v * moments.scale));
        await drain(false);
      }
      await drain(true);
      epochLoss.push(epochSteps > 0 ? lossSum / epochSteps : NaN);
    }
    const trainingMs = performance.now() - started;
    const files = await writeSaeWeights(params.outDir, trainer.weights(), width, options.latents);
    const heldOut = await heldOutFigures(trainer, params.heldOut, width, options.k, moments.scale);
    const info = trainer.info();
    return {
      inputScale: moments.scale,
      trainTokens: moments.tokens,
      heldOutTokens: heldOut.tokens,
      steps,
      trainingMs,
      tokensPerSecond: trainingMs > 0 ? (steps * batchSize) / (trainingMs / 1000) : NaN,
      varianceExplained: heldOut.varianceExplained,
      l0: heldOut.l0,
      deadLatents: info.dead,
      epochLoss,
      backend: info.backend.toLowerCase().startsWith('cpu') ? 'cpu' : info.backend,
      files,
    };
  } finally {
    trainer.dispose();
  }
}

function base64(values: Int32Array | Float32Array | Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** Sparse codes of each file's tokens under a trained SAE (src/engine/protocol.ts EncodedSaeFile). */
export async function encodeSaeFiles(addon: NativeAddon, params: EncodeSaeParams, gpu = false): Promise<EncodedSaeFile[]> {
  const weights = await readSaeWeights(params.saeDir);
  const trainer = new addon.SaeTrainer({
    width: weights.width,
    latents: weights.latents,
    k: params.k,
    auxK: 0,
    auxCoefficient: 0,
    batchSize: 256,
    deadWindowTokens: 0,
    learningRate: 1e-3,
    threads: params.threads,
    gpu,
    encoder: weights.encoder,
    encoderBias: weights.encoderBias,
    decoder: weights.decoder,
    decoderBias: weights.decoderBias,
  });
  try {
    const out: EncodedSaeFile[] = [];
    for (const file of params.files) {
      const values = (await readTokens(file, weights.width)).map((v) => v * params.inputScale);
      const tokens = values.length / weights.width;
      const code = trainer.encode(values, tokens);
      out.push({
        file: file.file,
        ...(file.example !== undefined ? { example: file.example } : {}),
        tokens,
        latents: base64(code.latents),
        values: base64(code.values),
        relativeError: base64(code.relativeError),
      });
    }
    return out;
  } finally {
    trainer.dispose();
  }
}

export { tokenCount as saeFileTokens };
