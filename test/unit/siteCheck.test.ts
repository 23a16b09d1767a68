import assert from 'node:assert/strict';
import { describeSiteCheck, judgeSiteCheck, passedSiteCheck, siteCheckTolerance, type SiteCheckMeasurement } from '../../src/core/siteCheck.js';
import { knownArchitectures, tensorRuleFor, UnknownArchitectureError } from '../../src/core/sites.js';

const measurement = (layers: SiteCheckMeasurement['layers']): SiteCheckMeasurement => ({
  architecture: 'llama',
  tokens: 10,
  tensors: { resid_mid: 'ffn_inp-<layer>', mlp_out: 'ffn_out-<layer>', resid_post: 'l_out-<layer>' },
  layers,
});

describe('the site check verdict', () => {
  it('passes rounding-sized residuals and fails the layer whose residual is a tensor away', () => {
    const result = judgeSiteCheck(
      measurement([
        { layer: 0, maxResidual: 3e-7, scale: 10 },
        { layer: 1, maxResidual: 2, scale: 500 },
        { layer: 2, maxResidual: 1e-5, scale: 500 },
      ]),
    );
    assert.equal(result.passed, false);
    assert.deepEqual(result.layers.map((l) => l.passed), [true, false, true]);
    assert.equal(result.worstLayer, 1);
    assert.equal(result.layers[1]!.relative, 2 / 500);
    assert.equal(result.tolerance, siteCheckTolerance);
    const line = describeSiteCheck(result, 'model.gguf');
    assert.match(line, /site check failed for model\.gguf: architecture "llama" does not satisfy l_out-<layer> = ffn_inp-<layer> \+ ffn_out-<layer> in 1 of 3 layers/);
    assert.match(line, /worst layer 1: max \|resid_post − resid_mid − mlp_out\| = 2, 0\.004 of max \|resid_post\| = 500/);
  });

  it('fails a NaN residual, a residual on an all-zero layer, and a measurement without layers', () => {
    assert.equal(judgeSiteCheck(measurement([{ layer: 0, maxResidual: NaN, scale: 1 }])).passed, false);
    assert.equal(judgeSiteCheck(measurement([{ layer: 0, maxResidual: 1e-9, scale: 0 }])).passed, false);
    assert.equal(judgeSiteCheck(measurement([{ layer: 0, maxResidual: 0, scale: 0 }])).passed, true);
    assert.equal(judgeSiteCheck(measurement([])).passed, false);
  });

  it('reuses a recorded check only when it passed', () => {
    const passed = judgeSiteCheck(measurement([{ layer: 0, maxResidual: 0, scale: 1 }]));
    const failed = judgeSiteCheck(measurement([{ layer: 0, maxResidual: 1, scale: 1 }]));
    assert.deepEqual(passedSiteCheck(JSON.parse(JSON.stringify(passed))), passed);
    assert.equal(passedSiteCheck(JSON.parse(JSON.stringify(failed))), undefined);
    assert.equal(passedSiteCheck(undefined), undefined);
    assert.equal(passedSiteCheck({ passed: true }), undefined);
  });
});

describe('the site table', () => {
  it('refuses gemma2 and unknown architectures by name instead of falling back to ffn_out', () => {
    assert.deepEqual([...knownArchitectures].sort(), ['gemma3', 'llama', 'qwen2']);
    for (const architecture of ['gemma2', 'xverse', 'mistral3']) {
      for (const site of ['resid_mid', 'mlp_out', 'resid_post'] as const) {
        assert.throws(() => tensorRuleFor(site, architecture), (error: unknown) => error instanceof UnknownArchitectureError && error.message.includes(`"${architecture}"`));
      }
    }
    assert.equal(tensorRuleFor('mlp_out', 'gemma3').tensorPrefix, 'ffn_post_norm');
  });
});
