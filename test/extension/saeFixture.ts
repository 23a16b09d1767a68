// A run's sparse autoencoder as the SAE phase writes it (RUN/sae/features.json and sae.json), for
// the synthetic run of test/support/panelRunFolder.ts (examples 0–4): the Features panel's tests
// (test/extension, test/webviews) write it themselves, with a token that is markup.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const hostileToken = '<script>window.__xss=1</script> & co';

/** sae/features.json and sae/sae.json as the SAE phase writes them, for a run of the synthetic dataset (examples 0–4). */
export const saeFixture = {
  features: {
    model: 'tiny (llama, generated)',
    site: 'mlp_out',
    layer: 1,
    latents: 64,
    k: 4,
    features: [
      {
        latent: 7,
        density: 0.0125,
        qualityRho: 0.42,
        qualityP: 0.003,
        examples: [
          { example: 2, id: 'c', maxActivation: 3.5, tokens: [{ text: hostileToken, activation: 3.5 }, { text: ' fine', activation: 0 }] },
          { example: 0, id: 'a', maxActivation: 1.75, tokens: [{ text: 'a', activation: 0 }, { text: ' fine', activation: 1.75 }, { text: ' film', activation: 0.5 }] },
        ],
      },
      { latent: 3, density: 0.25, qualityRho: -0.61, qualityP: 0.0004, examples: [{ example: 4, id: 'e', maxActivation: 2, tokens: [{ text: 'the', activation: 2 }, { text: ' end', activation: 1 }] }] },
      { latent: 12, density: 0.5, qualityRho: null, qualityP: null, examples: [] },
    ],
  },
  sae: {
    format: 'icl-lab-sae/1',
    varianceExplained: 0.8125,
    l0: 4,
    deadLatents: 6,
    lossRecovered: 0.9,
    trainingMs: 61_000,
    tokensPerSecond: 5400.4,
    backend: 'cpu',
    epochLoss: [1, 0.5],
    trainTokens: 'many',
    evaluation: { trainTokens: 20_000 },
  },
};

export async function writeSaeFixture(runDir: string): Promise<void> {
  await mkdir(path.join(runDir, 'sae'), { recursive: true });
  await writeFile(path.join(runDir, 'sae', 'features.json'), JSON.stringify(saeFixture.features));
  await writeFile(path.join(runDir, 'sae', 'sae.json'), JSON.stringify(saeFixture.sae));
}
