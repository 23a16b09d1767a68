import assert from 'node:assert/strict';
import { ActivationEngine, type ExtractedExample } from '../../src/engine/activationEngine.js';
import type { ExtractionOptions } from '../../src/engine/protocol.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

const examples = ['A first example sentence.', 'Two', 'And a third, somewhat longer, example of text.'].map((text, example) => ({ example, text }));
const base: ExtractionOptions = { mask: 'isolated', contextSize: 512, batchSize: 512, maxSequences: 16, threads: 2, exact: true };

describe('engine: pooled vectors', function () {
  let engine: ActivationEngine;
  before(async function () {
    engine = await ActivationEngine.create('cpu');
    await engine.loadModel(await testModelPath(tinyQwen2));
  });
  after(async () => engine.dispose());

  async function run(options: ExtractionOptions): Promise<ExtractedExample[]> {
    const out: ExtractedExample[] = [];
    await engine.extract(examples, options, (r) => out.push(r), () => undefined);
    return out;
  }

  it('are the token means of the raw MLP outputs of the layers asked for, without keeping raw outputs', async function () {
    const withRaw = await run({ ...base, rawExamples: 'all' });
    const pooledOnly = await run({ ...base, pooledLayers: [2, 0] });
    const width = 64;
    for (const [i, result] of pooledOnly.entries()) {
      assert.equal(result.raw, undefined, 'raw outputs kept only for pooling are not returned');
      const raw = withRaw[i]!.raw!;
      const tokens = result.spanTokens;
      assert.equal(result.pooled!.length, 2 * width);
      [2, 0].forEach((layer, l) => {
        for (let d = 0; d < width; d++) {
          let sum = 0;
          for (let t = 0; t < tokens; t++) sum += raw[(layer * tokens + t) * width + d]!;
          assert.ok(Math.abs(result.pooled![l * width + d]! - sum / tokens) < 1e-6, `example ${i} layer ${layer} dim ${d}`);
        }
      });
      assert.deepEqual(result.stats, withRaw[i]!.stats, 'pooling changes no statistic');
    }
  });

  it('rejects a layer the model does not have', async function () {
    await assert.rejects(run({ ...base, pooledLayers: [3] }), /pooled layer 3 is outside the model's 3 layers/);
  });
});
