import assert from 'node:assert/strict';
import { checkWeights, deadLatents, decode, encode, featureSignals, lossRecovered, reconstructionFigures, type TopKSaeWeights } from '../../src/core/sae/topKSae.js';

/** A planted dictionary: the 4 basis directions and (e1 + e3)/√2; encoder = decoderᵀ, no biases. */
function plantedSae(k: number): TopKSaeWeights {
  const width = 4;
  const columns = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
    [0, Math.SQRT1_2, 0, Math.SQRT1_2],
  ];
  const latents = columns.length;
  const decoder = new Float32Array(width * latents);
  const encoder = new Float32Array(latents * width);
  columns.forEach((column, i) =>
    column.forEach((v, d) => {
      decoder[d * latents + i] = v;
      encoder[i * width + d] = v;
    }),
  );
  return { width, latents, k, encoder, decoder, encoderBias: new Float32Array(latents), decoderBias: new Float32Array(width) };
}

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('TopK SAE arithmetic', () => {
  it('keeps the k largest pre-activations through ReLU and decodes a planted combination exactly', () => {
    const sae = plantedSae(2);
    checkWeights(sae);
    const code = encode(sae, [3, 0, 2, 0]);
    assert.deepEqual([...code.latents], [0, 2]);
    assert.deepEqual([...code.values], [3, 2]);
    assert.deepEqual([...decode(sae, code)], [3, 0, 2, 0]);
    // Nothing positive: no latent is active, and the decoder gives its bias.
    const none = encode(sae, [-1, 0, 0, 0]);
    assert.equal(none.latents.length, 0);
    assert.deepEqual([...decode(sae, none)], [0, 0, 0, 0]);
    // Ties go to the lower index.
    assert.deepEqual([...encode(plantedSae(1), [1, 1, 0, 0]).latents], [0]);
  });

  it('reports variance explained, L0 and MSE as defined, by hand', () => {
    // k = 1: e0 + e1 is reconstructed as e0 (residual 1); 2·e2 exactly. Mean (0.5, 0.5, 1, 0): total 1.5 + 1.5.
    const figures = reconstructionFigures(plantedSae(1), [
      [1, 1, 0, 0],
      [0, 0, 2, 0],
    ]);
    close(figures.varianceExplained, 1 - 1 / 3);
    assert.equal(figures.l0, 1);
    close(figures.mse, 0.5);
    // Every token a combination of at most k directions with no other positive pre-activation: explained whole.
    assert.equal(reconstructionFigures(plantedSae(2), [[3, 0, 2, 0], [2, 0, 0, 0]]).varianceExplained, 1);
    // e1 also excites (e1 + e3)/√2, which TopK keeps as the second latent: x̂ = 1.5·e1 + 0.5·e3.
    close(reconstructionFigures(plantedSae(2), [[0, 1, 0, 0]]).mse, 0.5);
  });

  it('lists the latents that fired on none of the recent tokens', () => {
    assert.deepEqual(deadLatents(plantedSae(2), [[3, 0, 2, 0], [1, 0, 0, 0]]), [1, 3, 4]);
  });

  it('computes the loss recovered between zero ablation and the clean model', () => {
    close(lossRecovered(2, 2.5, 6), 0.875);
    assert.equal(lossRecovered(2, 2, 6), 1);
    assert.equal(lossRecovered(2, 6, 6), 0);
    assert.ok(Number.isNaN(lossRecovered(2, 2, 2)));
  });

  it("gives an example's feature signals over its span: distinct features, activation entropy, reconstruction error, max activations", () => {
    const signals = featureSignals(plantedSae(2), [
      [3, 0, 2, 0],
      [3, 0, 0, 0],
    ]);
    assert.equal(signals.distinctFeatures, 2);
    // Mass 6 on latent 0 and 2 on latent 2: p = (0.75, 0.25).
    close(signals.featureEntropy, -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)));
    assert.equal(signals.reconstructionError, 0);
    assert.deepEqual([...signals.maxActivation], [[0, 3], [2, 2]]);
    // k = 1 cannot rebuild e0 + e1: half its energy is lost.
    close(featureSignals(plantedSae(1), [[1, 1, 0, 0]]).reconstructionError, 0.5);
  });

  it('names what is wrong with malformed weights', () => {
    assert.throws(() => checkWeights({ ...plantedSae(2), k: 9 }), /k must be a whole number in 1\.\.5, got 9/);
    assert.throws(() => checkWeights({ ...plantedSae(2), encoder: new Float32Array(3) }), /encoder holds 3 values, expected 5 × 4/);
  });
});
