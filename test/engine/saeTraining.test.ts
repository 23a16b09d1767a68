// The native TopK SAE trainer (src/engine/native/SaeTrainer.cpp through src/engine/saeTraining.ts):
// its gradients against finite differences, byte-identical weights for one seed, and recovery of a
// planted dictionary that a random or untrained autoencoder does not find.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ActivationEngine } from '../../src/engine/activationEngine.js';
import { loadAddon } from '../../src/engine/addon.js';
import { initialSaeWeights, readSaeWeights, saeWeightFiles } from '../../src/engine/saeTraining.js';
import { encodeNpyFloat32 } from '../../src/core/format/npy.js';
import { SeededRandom } from '../../src/core/random.js';
import type { SaeTokenFile, SaeTrainingOptions } from '../../src/engine/protocol.js';

function gaussian(random: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}

/** x = D s + noise: `atoms` unit-norm atoms in `width` dimensions, `active` of them per token with magnitudes in [1, 3). */
function plantedData(seed: number, width: number, atoms: number, active: number, tokens: number, noise: number): { dictionary: Float64Array[]; data: Float32Array } {
  const random = new SeededRandom(seed);
  const dictionary = Array.from({ length: atoms }, () => {
    const atom = Float64Array.from({ length: width }, () => gaussian(random));
    const norm = Math.hypot(...atom);
    return atom.map((v) => v / norm);
  });
  const data = new Float32Array(tokens * width);
  for (let t = 0; t < tokens; t++) {
    for (const a of random.sample(atoms, active)) {
      const magnitude = 1 + 2 * random.next();
      for (let d = 0; d < width; d++) data[t * width + d]! += magnitude * dictionary[a]![d]!;
    }
    for (let d = 0; d < width; d++) data[t * width + d]! += noise * gaussian(random);
  }
  return { dictionary, data };
}

async function writeTokenFiles(dir: string, data: Float32Array, width: number, perFile: number): Promise<SaeTokenFile[]> {
  const files: SaeTokenFile[] = [];
  const tokens = data.length / width;
  for (let start = 0, i = 0; start < tokens; start += perFile, i++) {
    const count = Math.min(perFile, tokens - start);
    const file = path.join(dir, `${i}.npy`);
    await writeFile(file, encodeNpyFloat32(data.subarray(start * width, (start + count) * width), [count, width]));
    files.push({ file, example: i });
  }
  return files;
}

/** Share of atoms with a decoder column (unit norm) at cosine ≥ threshold. */
function atomsRecovered(dictionary: readonly Float64Array[], decoder: Float32Array, width: number, latents: number, threshold: number): number {
  let found = 0;
  for (const atom of dictionary) {
    let best = -1;
    for (let i = 0; i < latents; i++) {
      let dot = 0;
      let norm = 0;
      for (let d = 0; d < width; d++) {
        const v = decoder[d * latents + i]!;
        dot += v * atom[d]!;
        norm += v * v;
      }
      best = Math.max(best, dot / Math.sqrt(norm));
    }
    if (best >= threshold) found++;
  }
  return found / dictionary.length;
}

describe('sparse autoencoder training in the engine (ggml)', function () {
  this.timeout(600_000);
  let engine: ActivationEngine;
  let dir: string;

  before(async () => {
    engine = await ActivationEngine.create('cpu');
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-sae-'));
  });
  after(async () => {
    await engine?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives the gradient of its loss that finite differences give, with and without the auxiliary loss', () => {
    const width = 6;
    const latents = 12;
    const batchSize = 5;
    const k = 3;
    const random = new SeededRandom(11);
    const x = Float32Array.from({ length: batchSize * width }, () => gaussian(random));
    const start = initialSaeWeights(width, latents, 3, Array.from({ length: width }, () => 0.1 * gaussian(random)));
    const encoderBias = Float32Array.from({ length: latents }, () => 0.05 * gaussian(random));
    const make = (weights: typeof start & { encoderBias: Float32Array }) =>
      new (loadAddon().SaeTrainer)({ width, latents, k, auxK: 4, auxCoefficient: 0.25, batchSize, deadWindowTokens: 0, learningRate: 1e-3, threads: 1, gpu: false, forGradients: true, ...weights });
    // With dead latents, the auxiliary target e = x − x̂ is a constant of the loss (detached, as
    // Gao et al. do), so the finite differences hold it at the value the analytic call used.
    for (const dead of [undefined, Uint8Array.from({ length: latents }, (_, i) => (i % 3 === 0 ? 1 : 0))]) {
      const base = { ...start, encoderBias };
      const trainer = make(base);
      const analytic = trainer.gradients(x, dead);
      trainer.dispose();
      if (dead) assert.ok(analytic.aux > 0, 'the auxiliary loss takes part');
      const eps = 1e-3;
      let checked = 0;
      for (const name of ['encoder', 'encoderBias', 'decoder', 'decoderBias'] as const) {
        const values = base[name];
        for (let i = 0; i < values.length; i += Math.max(1, Math.floor(values.length / 7))) {
          const lossAt = (delta: number): number => {
            const perturbed = Float32Array.from(values);
            perturbed[i]! += delta;
            const t = make({ ...base, [name]: perturbed });
            const loss = t.gradients(x, dead, analytic.auxTarget).loss;
            t.dispose();
            return loss;
          };
          const numeric = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
          const got = analytic[name][i]!;
          assert.ok(Math.abs(numeric - got) <= 2e-3 + 2e-2 * Math.abs(numeric), `d loss / d ${name}[${i}]: ggml ${got}, finite differences ${numeric}`);
          checked++;
        }
      }
      assert.ok(checked >= 28);
    }
  });

  it('finds at least 90% of a planted dictionary (512 atoms in 64 dimensions, 4 active), which its initial weights do not', async () => {
    const width = 64;
    const atoms = 512;
    const { dictionary, data } = plantedData(5, width, atoms, 4, 40_000, 0.01);
    const files = await writeTokenFiles(path.join(dir), data, width, 100);
    const options: SaeTrainingOptions = { width, latents: 1024, k: 4, auxK: 32, auxCoefficient: 1 / 32, batchSize: 256, epochs: 8, learningRate: 3e-3, deadWindowTokens: 10_000, seed: 1, threads: 1 };
    const initial = initialSaeWeights(width, options.latents, options.seed, new Array(width).fill(0));
    const before = atomsRecovered(dictionary, initial.decoder, width, options.latents, 0.9);
    const summary = await engine.trainSae({ train: files.slice(40), heldOut: files.slice(0, 40), outDir: path.join(dir, 'sae'), options });
    const trained = await readSaeWeights(path.join(dir, 'sae'));
    const after = atomsRecovered(dictionary, trained.decoder, width, options.latents, 0.9);
    console.log(`      planted: ${(after * 100).toFixed(1)}% of atoms at cosine ≥ 0.9 (initial ${(before * 100).toFixed(1)}%); FVE ${summary.varianceExplained.toFixed(3)}, L0 ${summary.l0.toFixed(2)}, dead ${summary.deadLatents}, ${summary.tokensPerSecond.toFixed(0)} tok/s`);
    assert.ok(before < 0.05, `initial weights already match ${before}`);
    assert.ok(after >= 0.9, `recovered ${after}`);
    assert.ok(summary.varianceExplained > 0.8, `variance explained ${summary.varianceExplained}`);
  });

  it('writes byte-identical weights for the same seed and data on the CPU, and other weights for another seed', async () => {
    const width = 16;
    const { data } = plantedData(9, width, 48, 3, 3000, 0.05);
    const files = await writeTokenFiles(await mkdtemp(path.join(dir, 'same-')), data, width, 37);
    const options: SaeTrainingOptions = { width, latents: 64, k: 3, auxK: 8, auxCoefficient: 1 / 32, batchSize: 128, epochs: 2, learningRate: 3e-3, deadWindowTokens: 500, seed: 4, threads: 2 };
    const bytes = async (seed: number, name: string): Promise<Buffer[]> => {
      const outDir = path.join(dir, name);
      await engine.trainSae({ train: files.slice(5), heldOut: files.slice(0, 5), outDir, options: { ...options, seed } });
      return Promise.all(Object.values(saeWeightFiles).map((f) => readFile(path.join(outDir, f))));
    };
    const first = await bytes(4, 'a');
    const second = await bytes(4, 'b');
    const other = await bytes(5, 'c');
    first.forEach((b, i) => assert.ok(b.equals(second[i]!), `${Object.values(saeWeightFiles)[i]} differs between two runs with seed 4`));
    assert.ok(!first[0]!.equals(other[0]!), 'seed 5 gave the same encoder as seed 4');
  });
});
