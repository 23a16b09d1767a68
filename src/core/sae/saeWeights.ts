// The weight files of a trained SAE, as the engine writes them beside sae.json, in SAELens' shapes
// so a Python user loads them with numpy.load and encodes as sae.json says:
//   W_enc.npy float32 [width, latents]   b_enc.npy float32 [latents]
//   W_dec.npy float32 [latents, width]   b_dec.npy float32 [width]
//   z = TopK_k(ReLU((x · inputScale − b_dec) @ W_enc + b_enc)),  x̂ = (z @ W_dec + b_dec) / inputScale
// topKSae.ts holds the same maths with its own (transposed) layout; these convert.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomicFile.js';
import { decodeNpyFloat32, encodeNpyFloat32 } from '../format/npy.js';
import { checkWeights, type TopKSaeWeights } from './topKSae.js';

export const saeWeightFiles = { encoder: 'W_enc.npy', encoderBias: 'b_enc.npy', decoder: 'W_dec.npy', decoderBias: 'b_dec.npy' } as const;

/** How sae.json tells a reader to use the files (and what the phase checks them against). */
export const saeEncoderFormula = 'z = TopK_k(ReLU((x * inputScale - b_dec) @ W_enc + b_enc)); x_hat = (z @ W_dec + b_dec) / inputScale; TopK keeps the k largest pre-activations (ties to the lower latent), the rest are 0';

/** Reads the four files in `dir` and checks their shapes against each other. */
export async function readSaeWeights(dir: string, k: number): Promise<TopKSaeWeights> {
  const read = async (name: string): Promise<{ values: Float32Array; shape: number[] }> => decodeNpyFloat32(await readFile(path.join(dir, name)), path.join(dir, name));
  const enc = await read(saeWeightFiles.encoder);
  const encBias = await read(saeWeightFiles.encoderBias);
  const dec = await read(saeWeightFiles.decoder);
  const decBias = await read(saeWeightFiles.decoderBias);
  const [width, latents] = enc.shape as [number, number];
  const expect = (file: string, shape: number[], wanted: number[]): void => {
    if (shape.join(',') !== wanted.join(',')) throw new Error(`${path.join(dir, file)}: shape (${shape.join(', ')}), expected (${wanted.join(', ')})`);
  };
  expect(saeWeightFiles.encoder, enc.shape, [width, latents]);
  expect(saeWeightFiles.encoderBias, encBias.shape, [latents]);
  expect(saeWeightFiles.decoder, dec.shape, [latents, width]);
  expect(saeWeightFiles.decoderBias, decBias.shape, [width]);
  const weights: TopKSaeWeights = {
    width,
    latents,
    k,
    encoder: transpose(enc.values, width, latents),
    decoder: transpose(dec.values, latents, width),
    encoderBias: encBias.values,
    decoderBias: decBias.values,
  };
  checkWeights(weights);
  return weights;
}

/** Writes `weights` as the four files (the engine's layout); for stand-ins and tests. */
export async function writeSaeWeights(dir: string, weights: TopKSaeWeights): Promise<void> {
  const { width, latents } = weights;
  await writeFileAtomic(path.join(dir, saeWeightFiles.encoder), encodeNpyFloat32(transpose(weights.encoder, latents, width), [width, latents]));
  await writeFileAtomic(path.join(dir, saeWeightFiles.encoderBias), encodeNpyFloat32(Float32Array.from(weights.encoderBias), [latents]));
  await writeFileAtomic(path.join(dir, saeWeightFiles.decoder), encodeNpyFloat32(transpose(weights.decoder, width, latents), [latents, width]));
  await writeFileAtomic(path.join(dir, saeWeightFiles.decoderBias), encodeNpyFloat32(Float32Array.from(weights.decoderBias), [width]));
}

/** A row-major [rows × columns] matrix transposed to [columns × rows]. */
function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c]!;
  return out;
}
