// The loss-recovered check (ActivationEngine.saeLossRecovered): the tap writes an SAE's
// reconstruction, or zeros, over one layer's output before the rest of the graph reads it. An SAE
// that reconstructs exactly must give the clean loss; one whose reconstruction is zero, the
// zero-ablated loss; and the engine process answers the same through EngineClient.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ActivationEngine } from '../../src/engine/activationEngine.js';
import { EngineClient } from '../../src/engine/client.js';
import type { ScoringOptions } from '../../src/engine/protocol.js';
import { writeSaeWeights } from '../../src/engine/saeTraining.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

const texts = ['The quick brown fox jumps over the lazy dog.', 'Numbers like 12345, and café au lait.'];
const options: ScoringOptions = { contextSize: 256, batchSize: 256, maxSequences: 4, threads: 2, exact: true };

/** latents = 2·width, k = latents: relu(±x) decoded by ±e_d gives x back exactly. */
function identitySae(width: number) {
  const latents = 2 * width;
  const encoder = new Float32Array(latents * width);
  const decoder = new Float32Array(width * latents);
  for (let d = 0; d < width; d++) {
    encoder[d * width + d] = 1;
    encoder[(width + d) * width + d] = -1;
    decoder[d * latents + d] = 1;
    decoder[d * latents + width + d] = -1;
  }
  return { width, latents, encoder, encoderBias: new Float32Array(latents), decoder, decoderBias: new Float32Array(width) };
}

describe('the SAE loss-recovered check in the engine', function () {
  this.timeout(300_000);
  let engine: ActivationEngine;
  let dir: string;
  let modelFile: string;
  let width: number;

  before(async () => {
    modelFile = await testModelPath(tinyQwen2);
    engine = await ActivationEngine.create('cpu');
    width = (await engine.loadModel(modelFile)).embeddingLength;
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-sae-loss-'));
  });
  after(async () => {
    await engine?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives the clean loss for an exact reconstruction and the zero-ablated loss for a zero one', async () => {
    const exact = identitySae(width);
    await writeSaeWeights(path.join(dir, 'exact'), exact, width, exact.latents);
    const zero = { ...exact, decoder: new Float32Array(width * exact.latents) };
    await writeSaeWeights(path.join(dir, 'zero'), zero, width, zero.latents);
    const layer = 1;
    const a = await engine.saeLossRecovered({ saeDir: path.join(dir, 'exact'), inputScale: 2, k: exact.latents, site: 'mlp_out', layer, texts, options });
    const b = await engine.saeLossRecovered({ saeDir: path.join(dir, 'zero'), inputScale: 2, k: exact.latents, site: 'mlp_out', layer, texts, options });
    assert.ok(a.tokens > 10);
    assert.ok(Number.isFinite(a.clean) && a.clean > 0);
    assert.notEqual(a.zeroAblated, a.clean, 'zeroing a layer changes the loss');
    assert.equal(a.reconstructed, a.clean);
    assert.equal(b.reconstructed, b.zeroAblated);
    assert.equal(b.clean, a.clean);
  });

  it('cuts text into token pieces that join back into it', () => {
    const text = 'Numbers like 12345, and café au lait.';
    const pieces = engine.tokenPieces(text);
    assert.equal(pieces.join(''), text);
    assert.equal(pieces.length, engine.tokenize(text).length);
  });

  it('answers the same through the engine process', async () => {
    const client = new EngineClient({ serverModule: path.resolve('src/engine/server.ts'), execArgv: ['--import', 'tsx'], gpu: 'cpu' });
    await client.start();
    try {
      await client.loadModel(modelFile);
      const result = await client.saeLossRecovered({ saeDir: path.join(dir, 'exact'), inputScale: 2, k: 2 * width, site: 'mlp_out', layer: 1, texts, options });
      assert.equal(result.reconstructed, result.clean);
      assert.deepEqual(await client.tokenPieces('café'), engine.tokenPieces('café'));
    } finally {
      await client.stop();
    }
  });
});
