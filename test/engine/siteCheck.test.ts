import assert from 'node:assert/strict';
import { judgeSiteCheck, siteCheckTolerance, type SiteCheckResult } from '../../src/core/siteCheck.js';
import type { TensorRule } from '../../src/core/sites.js';
import { ActivationEngine } from '../../src/engine/activationEngine.js';
import { EngineError } from '../../src/engine/protocol.js';
import { runCli } from '../support/runCli.js';
import { relabelledModelPath, testModelPath, tinyLlama, tinyQwen2 } from './generatedModels.js';

const rule = (tensorPrefix: string): TensorRule => ({ tensorPrefix, occurrence: 'first' });

describe('the site check on generated models', function () {
  this.timeout(300_000);
  let engine: ActivationEngine;

  before(async () => {
    engine = await ActivationEngine.create('cpu');
  });
  after(async () => engine?.dispose());

  for (const options of [tinyLlama, tinyQwen2]) {
    it(`finds resid_post = resid_mid + mlp_out to float32 rounding in every layer of ${options.arch}`, async () => {
      await engine.loadModel(await testModelPath(options));
      const result = judgeSiteCheck(await engine.checkSites(undefined, 2));
      assert.equal(result.architecture, options.arch);
      assert.deepEqual(result.tensors, { resid_mid: 'ffn_inp-<layer>', mlp_out: 'ffn_out-<layer>', resid_post: 'l_out-<layer>' });
      assert.equal(result.layers.length, options.layers);
      assert.ok(result.tokens > 20, `${result.tokens} tokens checked`);
      assert.ok(result.passed, JSON.stringify(result.layers));
      for (const layer of result.layers) {
        // One float32 addition: at most half an ulp of |resid_post|, 2^-24 of its largest value.
        assert.ok(layer.relative <= 2 ** -24, `layer ${layer.layer}: ${layer.relative}`);
        // The generated models' massive activations (150-500) sit in the residual stream from layer 1.
        assert.ok(layer.scale > (layer.layer >= 1 ? 100 : 1), `layer ${layer.layer}: scale ${layer.scale}`);
      }
    });
  }

  it('fails every layer when a site reads the wrong tensor', async () => {
    await engine.loadModel(await testModelPath(tinyLlama));
    const check = (rules: Parameters<ActivationEngine['checkSites']>[2]): Promise<SiteCheckResult> => engine.checkSites(undefined, 2, rules).then((m) => judgeSiteCheck(m));
    const attentionAsMlp = await check({ resid_mid: rule('ffn_inp'), mlp_out: rule('attn_out'), resid_post: rule('l_out') });
    const attentionAsResidual = await check({ resid_mid: rule('attn_out'), mlp_out: rule('ffn_out'), resid_post: rule('l_out') });
    for (const result of [attentionAsMlp, attentionAsResidual]) {
      assert.equal(result.passed, false);
      for (const layer of result.layers) assert.ok(layer.relative > 100 * siteCheckTolerance, `layer ${layer.layer}: ${layer.relative}`);
    }
  });

  it('refuses an architecture the site table does not list, by name, before decoding', async () => {
    const info = await engine.loadModel(await relabelledModelPath(tinyLlama, 'xverse'));
    assert.equal(info.architecture, 'xverse');
    await assert.rejects(engine.checkSites(undefined, 2), (error: unknown) => error instanceof EngineError && error.code === 'unknown-architecture' && /architecture "xverse" is not in the site table/.test(error.message));
  });
});

describe('icl-lab check-model', function () {
  this.timeout(300_000);

  it('prints every layer and passes a generated qwen2 model', async () => {
    const model = await testModelPath(tinyQwen2);
    const result = await runCli(['check-model', model, '--gpu', 'cpu', '--threads', '2']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /architecture "qwen2", 3 layers, \d+ tokens/);
    const rows = result.stdout.split('\n').filter((line) => /^\d+\s/.test(line));
    assert.deepEqual(rows.map((row) => Number(row.split(/\s+/)[0])), [0, 1, 2]);
    for (const row of rows) assert.ok(Number(row.split(/\s+/)[3]) <= siteCheckTolerance, row);
    assert.match(result.stdout, /site check passed for .*\.gguf \(architecture "qwen2", l_out-<layer> = ffn_inp-<layer> \+ ffn_out-<layer>\)/);

    const json = await runCli(['check-model', model, '--gpu', 'cpu', '--threads', '2', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as SiteCheckResult & { model: string };
    assert.equal(parsed.model, model);
    assert.equal(parsed.passed, true);
    assert.equal(parsed.layers.length, 3);
  });

  it('exits 1 naming the architecture when the site table does not list it', async () => {
    const result = await runCli(['check-model', await relabelledModelPath(tinyLlama, 'xverse'), '--gpu', 'cpu', '--threads', '2']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: architecture "xverse" is not in the site table \(src\/core\/sites\.ts knows llama, qwen2, gemma3\)/);
  });

  it('names a path that is neither a file nor a catalogue model', async () => {
    const result = await runCli(['check-model', 'no-such-model.gguf', '--gpu', 'cpu']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /model file not found: .*no-such-model\.gguf/);
  });
});
