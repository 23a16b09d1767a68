// A model and an SAE runner in plain TypeScript, for testing the sae phase without the engine.
// The "model" turns each word of a span into a 4-wide activation (a planted direction chosen by
// the word, scaled by its length); the "trainer" writes fixed planted weights (encoder =
// decoderᵀ over the four axes and two diagonals) after measuring the input scale as the engine
// does; encoding is src/core/sae/topKSae.ts's.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExperimentModel, ModelExtraction } from '../../src/core/experiment/experimentModel.js';
import { decodeNpyFloat32, encodeNpyFloat32 } from '../../src/core/format/npy.js';
import type { SaeFileCodes, SaeRunner, SaeTrainRequest, SaeTrainResult } from '../../src/core/sae/saeRunner.js';
import { readSaeWeights, writeSaeWeights } from '../../src/core/sae/saeWeights.js';
import { decode, encode, type TopKSaeWeights } from '../../src/core/sae/topKSae.js';

export const fakeWidth = 4;
export const fakeLayers = 4;

/** A word's activation: axis (sum of char codes mod 4) × its length, plus 0.5 on the next axis for words longer than 4. */
export function wordActivation(word: string): number[] {
  const axis = [...word].reduce((s, c) => s + c.charCodeAt(0), 0) % fakeWidth;
  const x = new Array<number>(fakeWidth).fill(0);
  x[axis] = word.length;
  if (word.length > 4) x[(axis + 1) % fakeWidth] = 0.5;
  return x;
}

export const spanWords = (text: string): string[] => text.split(/\s+/).filter((w) => w !== '');

/** Planted weights over `latents` ≥ 6 latents: the four axes, two diagonals, the rest zero. */
export function plantedWeights(latents: number, k: number): TopKSaeWeights {
  const columns = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
    [Math.SQRT1_2, Math.SQRT1_2, 0, 0],
    [0, 0, Math.SQRT1_2, Math.SQRT1_2],
  ];
  const width = fakeWidth;
  const encoder = new Float32Array(latents * width);
  const decoder = new Float32Array(width * latents);
  columns.slice(0, latents).forEach((column, i) =>
    column.forEach((v, d) => {
      encoder[i * width + d] = v;
      decoder[d * latents + i] = v;
    }),
  );
  return { width, latents, k, encoder, decoder, encoderBias: new Float32Array(latents), decoderBias: new Float32Array(width) };
}

export interface FakeSaeModel extends ExperimentModel {
  readonly sae: SaeRunner;
  readonly calls: { extract: number; train: SaeTrainRequest[]; encode: number; loss: string[][] };
}

export function fakeSaeModel(): FakeSaeModel {
  const calls: FakeSaeModel['calls'] = { extract: 0, train: [], encode: 0, loss: [] };
  const readRows = async (file: string): Promise<number[][]> => {
    const { values, shape } = decodeNpyFloat32(await readFile(file), file);
    return Array.from({ length: shape[0]! }, (_, t) => Array.from(values.subarray(t * shape[1]!, (t + 1) * shape[1]!)));
  };
  const sae: SaeRunner = {
    async train(request: SaeTrainRequest): Promise<SaeTrainResult> {
      calls.train.push(request);
      const rows = (await Promise.all(request.train.map((f) => readRows(f.file)))).flat();
      const meanSquaredNorm = rows.reduce((s, x) => s + x.reduce((a, v) => a + v * v, 0), 0) / rows.length;
      const inputScale = Math.sqrt(request.options.width / meanSquaredNorm);
      await mkdir(request.outDir, { recursive: true });
      await writeSaeWeights(request.outDir, plantedWeights(request.options.latents, request.options.k));
      const heldOut = (await Promise.all(request.heldOut.map((f) => readRows(f.file)))).flat();
      return {
        inputScale,
        trainTokens: rows.length,
        heldOutTokens: heldOut.length,
        steps: Math.ceil((rows.length * request.options.epochs) / request.options.batchSize),
        trainingMs: 12,
        tokensPerSecond: 1000,
        varianceExplained: 0.9,
        l0: 1.5,
        deadLatents: request.options.latents - 6,
        epochLoss: [0.5],
        backend: 'cpu',
        files: { encoder: 'W_enc.npy', encoderBias: 'b_enc.npy', decoder: 'W_dec.npy', decoderBias: 'b_dec.npy' },
      };
    },
    async encode(request): Promise<SaeFileCodes[]> {
      calls.encode++;
      const weights = await readSaeWeights(request.saeDir, request.k);
      return Promise.all(
        request.files.map(async (f) => {
          const rows = await readRows(f.file);
          const latents = new Int32Array(rows.length * request.k).fill(-1);
          const values = new Float32Array(rows.length * request.k);
          const relativeError = new Float64Array(rows.length);
          rows.forEach((x, t) => {
            const scaled = x.map((v) => v * request.inputScale);
            const code = encode(weights, scaled);
            latents.set(code.latents, t * request.k);
            values.set(code.values, t * request.k);
            const xHat = decode(weights, code);
            const num = scaled.reduce((s, v, d) => s + (v - xHat[d]!) ** 2, 0);
            const den = scaled.reduce((s, v) => s + v * v, 0);
            relativeError[t] = den === 0 ? 0 : num / den;
          });
          return { file: f.file, ...(f.example === undefined ? {} : { example: f.example }), tokens: rows.length, latents, values, relativeError };
        }),
      );
    },
    async lossRecovered(request) {
      calls.loss.push([...request.texts]);
      return { clean: 2, reconstructed: 2.5, zeroAblated: 4, tokens: request.texts.reduce((n, t) => n + spanWords(t).length, 0) };
    },
    async tokenPieces(text) {
      return spanWords(text);
    },
  };
  return {
    facts: { path: '/models/fake.gguf', architecture: 'llama', layers: fakeLayers, embeddingLength: fakeWidth, quantization: 'f32', fileBytes: 0, sha256: 'fake' },
    calls,
    sae,
    async extract(request: ModelExtraction, onResult) {
      calls.extract++;
      for (const e of request.examples) {
        const words = spanWords(e.text);
        if (request.rawDir && request.rawExamples) {
          await mkdir(request.rawDir, { recursive: true });
          const values = Float32Array.from(words.flatMap(wordActivation));
          for (const layer of request.rawLayers ?? [0, 1, 2, 3]) {
            await writeFile(path.join(request.rawDir, `${e.example}_L${layer}.npy`), encodeNpyFloat32(values, [words.length, fakeWidth]));
          }
        }
        onResult({ example: e.example, spanTokens: words.length, stats: new Float64Array(0) });
      }
    },
    scoreTexts: () => Promise.reject(new Error('the fake SAE model does not score')),
    generateTexts: () => Promise.reject(new Error('the fake SAE model does not generate')),
    cancel: () => undefined,
  };
}
