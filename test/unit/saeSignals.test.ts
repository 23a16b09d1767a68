import assert from 'node:assert/strict';
import { activeTokenCounts, featuresFile, mostActiveLatents, saeStatisticColumns, saeStatsRows, summedActivations, tokenCodes, type ExampleCodes } from '../../src/core/sae/saeSignals.js';

/** Codes as the engine returns them: k = 2 slots per token, −1 where fewer are active. */
const file = (tokens: [number, number][][]) => ({
  file: 'x.npy',
  tokens: tokens.length,
  latents: Int32Array.from(tokens.flatMap((t) => [t[0]?.[0] ?? -1, t[1]?.[0] ?? -1])),
  values: Float32Array.from(tokens.flatMap((t) => [t[0]?.[1] ?? 0, t[1]?.[1] ?? 0])),
  relativeError: Float64Array.from(tokens.map((_, i) => 0.1 * (i + 1))),
});

describe('SAE signals from codes', () => {
  // Example 7: token 0 fires latents 3 (2) and 5 (1); token 1 fires 3 (1); token 2 nothing.
  const seven: ExampleCodes = { example: 7, ...codesOf([[[3, 2], [5, 1]], [[3, 1]], []]) };
  // Example 9: latent 5 (4) on its one token.
  const nine: ExampleCodes = { example: 9, ...codesOf([[[5, 4]]]) };

  it('drops empty slots and gives each example the signals by hand', () => {
    assert.deepEqual(tokenCodes(file([[[3, 2], [5, 1]], [[3, 1]], []])).map((c) => [...c.latents]), [[3, 5], [3], []]);
    const [row] = saeStatsRows([seven], [3, 5, 8], 12);
    // Mass: latent 3 → 3, latent 5 → 1; p = (3/4, 1/4); entropy = −(¾ ln ¾ + ¼ ln ¼). Errors 0.1, 0.2, 0.3 → 0.2.
    const entropy = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    assert.deepEqual({ ...row, values: undefined }, { example: 7, layer: 12, mask: 'isolated', pooling: 'all', tokenCount: 3, values: undefined });
    assert.equal(row!.values[0], 2);
    assert.ok(Math.abs(row!.values[1]! - entropy) < 1e-12);
    assert.ok(Math.abs(row!.values[2]! - 0.2) < 1e-12);
    assert.deepEqual(row!.values.slice(3), [2, 1, 0], 'max activation per top latent, 0 where inactive');
    assert.deepEqual(saeStatisticColumns([3, 5, 8]), ['distinct_features', 'feature_entropy', 'reconstruction_error', 'max_f3', 'max_f5', 'max_f8']);
    assert.deepEqual([...summedActivations(seven.tokens)], [[3, 3], [5, 1]]);
  });

  it('ranks latents by the tokens they are active on, ties to the lower latent', () => {
    const counts = activeTokenCounts([seven, nine]);
    assert.deepEqual([...counts].sort((a, b) => a[0] - b[0]), [[3, 2], [5, 2]]);
    assert.deepEqual(mostActiveLatents(counts, 1), [3]);
    assert.deepEqual(mostActiveLatents(new Map([[4, 1], [2, 3], [9, 3], [1, 0]]), 5), [2, 9, 4]);
  });

  it('lists in features.json the densest features, their strongest examples with token activations, and ρ with quality', async () => {
    const ten: ExampleCodes = { example: 10, ...codesOf([[[3, 0.5]], [[6, 1]]]) };
    const out = await featuresFile(
      {
        model: 'm.gguf',
        site: 'mlp_out',
        layer: 12,
        latents: 16,
        k: 2,
        examples: [seven, nine, ten].map((e) => ({ ...e, id: `id${e.example}` })),
        quality: new Map([[7, 0.9], [9, 0.1], [10, 0.5]]),
        pieces: async (example) => (example === 7 ? ['a', 'b', 'c'] : example === 9 ? ['d'] : ['e', 'f']),
      },
      { features: 2, examples: 2 },
    );
    // Tokens: 6 in all; latent 3 on 3 of them, 5 on 2, 6 on 1.
    assert.deepEqual(out.features.map((f) => [f.latent, f.density]), [[3, 0.5], [5, 2 / 6]]);
    const three = out.features[0]!;
    assert.deepEqual(three.examples.map((e) => [e.example, e.id, e.maxActivation]), [[7, 'id7', 2], [10, 'id10', 0.5]]);
    assert.deepEqual(three.examples[0]!.tokens, [{ text: 'a', activation: 2 }, { text: 'b', activation: 1 }, { text: 'c', activation: 0 }]);
    // Max activation of latent 3: 2, 0, 0.5 against quality 0.9, 0.1, 0.5: the same order, ρ = 1.
    assert.equal(three.qualityRho, 1);
    assert.equal(three.qualityP, 0);
    const five = out.features[1]!;
    // 1, 4, 0 against 0.9, 0.1, 0.5: ranks (2, 3, 1) vs (3, 1, 2): ρ = −0.5.
    assert.ok(Math.abs(five.qualityRho! + 0.5) < 1e-12);
    assert.deepEqual(five.examples.map((e) => e.example), [9, 7]);
  });

  it('leaves ρ null where it is undefined', async () => {
    const out = await featuresFile({ model: 'm', site: 'mlp_out', layer: 0, latents: 8, k: 2, examples: [seven, nine].map((e) => ({ ...e, id: String(e.example) })), quality: new Map(), pieces: async () => [] });
    assert.ok(out.features.every((f) => f.qualityRho === null && f.qualityP === null));
  });
});

function codesOf(tokens: [number, number][][]): Omit<ExampleCodes, 'example'> {
  const f = file(tokens);
  return { tokens: tokenCodes(f), relativeError: f.relativeError };
}
