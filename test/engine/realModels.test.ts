// The site check on the two real catalogue models, fetched into the sha256-keyed model cache
// outside the repository when missing (CI fetches them; cachedCatalogModel checks sha256).
import assert from 'node:assert/strict';
import { judgeSiteCheck, siteCheckTolerance } from '../../src/core/siteCheck.js';
import { ActivationEngine } from '../../src/engine/activationEngine.js';
import { cachedCatalogModel } from '../../src/engine/modelCache.js';

const expected = [
  { id: 'smollm2-135m', architecture: 'llama', layers: 30, tensors: { resid_mid: 'ffn_inp-<layer>', mlp_out: 'ffn_out-<layer>', resid_post: 'l_out-<layer>' } },
  { id: 'gemma3-270m', architecture: 'gemma3', layers: 18, tensors: { resid_mid: 'sa_out-<layer>', mlp_out: 'ffn_post_norm-<layer>', resid_post: 'l_out-<layer>' } },
] as const;

describe('the site check on real models', function () {
  this.timeout(900_000);
  let engine: ActivationEngine;

  before(async () => {
    engine = await ActivationEngine.create('cpu');
  });
  after(async () => engine?.dispose());

  for (const model of expected) {
    it(`passes in every layer of ${model.id} (${model.architecture})`, async () => {
      const info = await engine.loadModel(await cachedCatalogModel(model.id));
      assert.equal(info.architecture, model.architecture);
      const result = judgeSiteCheck(await engine.checkSites());
      assert.deepEqual(result.tensors, model.tensors);
      assert.equal(result.layers.length, model.layers);
      assert.ok(result.passed, JSON.stringify(result.layers));
      // Float32 rounding of one addition, far inside the tolerance.
      for (const layer of result.layers) assert.ok(layer.relative <= 2 ** -24, `layer ${layer.layer}: ${layer.relative}`);
    });
  }

  it("fails gemma3 when its MLP output is read before the post-FFN norm (the old ffn_out fallback)", async () => {
    await engine.loadModel(await cachedCatalogModel('gemma3-270m'));
    const rule = (tensorPrefix: string) => ({ tensorPrefix, occurrence: 'first' as const });
    const result = judgeSiteCheck(await engine.checkSites(undefined, 0, { resid_mid: rule('sa_out'), mlp_out: rule('ffn_out'), resid_post: rule('l_out') }));
    assert.equal(result.passed, false);
    for (const layer of result.layers) assert.ok(layer.relative > 100 * siteCheckTolerance, `layer ${layer.layer}: ${layer.relative}`);
  });
});
