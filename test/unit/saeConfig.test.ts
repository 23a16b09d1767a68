import assert from 'node:assert/strict';
import path from 'node:path';
import { checkLayersAgainstModel, parseRunConfig, RunConfigError, runConfigToJson, saeDefaults } from '../../src/core/experiment/runConfig.js';
import { capTokens, defaultLearningRate, heldOutPositions, splitHeldOut } from '../../src/core/sae/saeData.js';

const base = ['model: m.gguf', 'data: { file: d.jsonl, inputs: text, target: label }'];
const parse = (...lines: string[]) => parseRunConfig([...base, ...lines].join('\n'), '/x/run.yaml');

function problemsOf(...lines: string[]): string[] {
  try {
    parse(...lines);
  } catch (error) {
    assert.ok(error instanceof RunConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('the config was accepted');
}

describe('SAE settings and data', () => {
  describe('the sae: key', () => {
    it('is absent unless given, and sae: {} gives every default with the run seed', () => {
      assert.equal(parse().sae, undefined);
      assert.equal('sae' in runConfigToJson(parse()), false, 'run.json of a run without an SAE is as before');
      assert.deepEqual(parse('seed: 7', 'sae: {}').sae, { ...saeDefaults, seed: 7 });
      assert.deepEqual(saeDefaults, { site: 'mlp_out', layer: 'middle', expansion: 8, k: 32, auxCoefficient: 1 / 32, batchSize: 1024, epochs: 10, maxTokens: 200000, heldOutShare: 0.1, topFeatures: 16 });
    });

    it('reads every setting, the text path relative to the config, and records the block in run.json', () => {
      const config = parse(
        'sae:',
        '  site: resid_post',
        '  layer: 3',
        '  expansion: 4',
        '  k: 8',
        '  auxK: 64',
        '  auxCoefficient: 0.1',
        '  batchSize: 256',
        '  epochs: 2',
        '  learningRate: 0.001',
        '  deadWindowTokens: 5000',
        '  maxTokens: 1000',
        '  text: more/extra.txt',
        '  heldOutShare: 0.25',
        '  seed: 3',
        '  topFeatures: 4',
      );
      const expected = { site: 'resid_post', layer: 3, expansion: 4, k: 8, auxK: 64, auxCoefficient: 0.1, batchSize: 256, epochs: 2, learningRate: 0.001, deadWindowTokens: 5000, maxTokens: 1000, text: path.resolve('/x/more/extra.txt'), heldOutShare: 0.25, seed: 3, topFeatures: 4 };
      assert.deepEqual(config.sae, expected);
      assert.deepEqual(runConfigToJson(config)['sae'], expected);
    });

    it('names the file and key of each bad setting', () => {
      assert.deepEqual(problemsOf('sae: { k: 0, heldOutShare: 1, site: attn_out, learningRate: 0, kk: 3 }').sort(), [
        '/x/run.yaml: sae.heldOutShare: must be a number > 0 and < 1, got 1',
        '/x/run.yaml: sae.k: must be a whole number ≥ 1, got 0',
        '/x/run.yaml: sae.kk: unknown key (did you mean "k"?)',
        '/x/run.yaml: sae.learningRate: must be a number > 0, got 0',
        '/x/run.yaml: sae.site: "attn_out" is not one of mlp_out, resid_post',
      ]);
      assert.deepEqual(problemsOf('sae: { text: ~/extra.txt }'), ['/x/run.yaml: sae.text: "~" is not expanded: write the path in full, or relative to the config file\'s folder']);
      assert.deepEqual(problemsOf('sae: true'), ['/x/run.yaml: sae: must be a mapping with keys site, layer, expansion, k, auxK, auxCoefficient, batchSize, epochs, learningRate, deadWindowTokens, maxTokens, text, heldOutShare, seed, topFeatures, got true']);
    });

    it('puts the SAE strategies among the defaults only with an SAE', () => {
      assert.equal(parse().selection.strategies.some((s) => s.startsWith('sae-')), false);
      assert.deepEqual(parse('sae: {}').selection.strategies.slice(-2), ['sae-coverage', 'sae-diverse']);
    });

    it('checks the SAE layer against the model', () => {
      assert.deepEqual(checkLayersAgainstModel(parse('sae: { layer: 30 }'), 30), ['sae.layer: layer 30 is out of range: the model has 30 layers (0–29)']);
      assert.deepEqual(checkLayersAgainstModel(parse('sae: { layer: last }'), 30), []);
    });
  });

  describe('held-out split and token cap', () => {
    it('holds out the same examples for the same seed, a share of them, never all or none', () => {
      assert.deepEqual(heldOutPositions(40, 0.1, 5), heldOutPositions(40, 0.1, 5));
      assert.equal(heldOutPositions(40, 0.1, 5).length, 4);
      assert.notDeepEqual(heldOutPositions(40, 0.1, 5), heldOutPositions(40, 0.1, 6));
      assert.equal(heldOutPositions(3, 0.01, 0).length, 1, 'at least one');
      assert.equal(heldOutPositions(3, 0.99, 0).length, 2, 'never every one');
      assert.throws(() => heldOutPositions(1, 0.1, 0), /at least 2 examples/);
      const positions = heldOutPositions(40, 0.25, 1);
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
      const { train, heldOut } = splitHeldOut(Array.from({ length: 40 }, (_, i) => i), 0.25, 1);
      assert.deepEqual(heldOut, positions);
      assert.deepEqual([...train, ...heldOut].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
    });

    it('takes whole files in order up to maxTokens, skipping one that would go over', () => {
      const files = [5, 3, 10, 2, 0].map((tokens, i) => ({ file: `f${i}`, tokens }));
      assert.deepEqual(capTokens(files, 10).map((f) => f.file), ['f0', 'f1', 'f3']);
      assert.deepEqual(capTokens(files, 100).map((f) => f.file), ['f0', 'f1', 'f2', 'f3'], 'an empty span is never trained on');
    });

    it("scales the step size with the latents as Gao et al. do", () => {
      assert.equal(defaultLearningRate(16384), 2e-4);
      assert.ok(Math.abs(defaultLearningRate(4096) - 4e-4) < 1e-18);
    });
  });
});
