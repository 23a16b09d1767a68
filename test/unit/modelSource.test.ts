import assert from 'node:assert/strict';
import path from 'node:path';
import { catalogModel, paperModels } from '../../src/core/models/modelCatalog.js';
import { defaultModelsFolder, resolveModelsFolder } from '../../src/core/models/modelsFolder.js';
import { huggingFaceEndpoint, ModelUriError, parseModelSource } from '../../src/core/models/modelSource.js';

const hf = 'https://huggingface.co/';

describe('model sources for Download Model', () => {
  it("offers the paper's two base models as Q8_0 files of one Hugging Face repository each", () => {
    assert.deepEqual(
      paperModels.map((m) => [m.id, m.baseModel, m.quantization, m.architecture]),
      [
        ['llama-3.2-3b', 'meta-llama/Llama-3.2-3B', 'Q8_0', 'llama'],
        ['qwen2.5-3b', 'Qwen/Qwen2.5-3B', 'Q8_0', 'qwen2'],
      ],
    );
    for (const model of paperModels) {
      assert.ok(model.approxBytes > 3e9 && model.approxBytes < 4e9, model.id);
      assert.equal(parseModelSource(model.uri, hf).kind, 'hf-file');
    }
    assert.equal(catalogModel(' Qwen2.5-3B ')?.uri, 'hf:QuantFactory/Qwen2.5-3B-GGUF/Qwen2.5-3B.Q8_0.gguf');
  });

  it('turns a catalogue name into its URI and the URL of its file', () => {
    assert.deepEqual(parseModelSource('llama-3.2-3b', hf), {
      kind: 'hf-file',
      uri: 'hf:QuantFactory/Llama-3.2-3B-GGUF/Llama-3.2-3B.Q8_0.gguf',
      url: 'https://huggingface.co/QuantFactory/Llama-3.2-3B-GGUF/resolve/main/Llama-3.2-3B.Q8_0.gguf?download=true',
    });
  });

  it('reads hf: URIs naming a file (with a branch) or a quantisation tag', () => {
    assert.deepEqual(parseModelSource('hf://user/repo/sub dir/m.Q4_K_M.gguf#dev', 'http://127.0.0.1:9/'), {
      kind: 'hf-file',
      uri: 'hf:user/repo/sub dir/m.Q4_K_M.gguf#dev',
      url: 'http://127.0.0.1:9/user/repo/resolve/dev/sub%20dir/m.Q4_K_M.gguf?download=true',
    });
    assert.deepEqual(parseModelSource('hf:user/repo:Q8_0', hf), { kind: 'hf-quant', uri: 'hf:user/repo:Q8_0' });
    assert.deepEqual(parseModelSource('hf:user/repo', hf), { kind: 'hf-quant', uri: 'hf:user/repo' });
  });

  it('keeps http(s) URLs, and points Hugging Face file pages and repository pages at what they show', () => {
    assert.deepEqual(parseModelSource('  "https://example.org/models/m.gguf"  ', hf), { kind: 'url', uri: 'https://example.org/models/m.gguf', url: 'https://example.org/models/m.gguf' });
    const blob = parseModelSource('https://huggingface.co/u/r/blob/main/m.gguf', hf);
    assert.equal(blob.kind === 'url' && blob.url, 'https://huggingface.co/u/r/resolve/main/m.gguf?download=true');
    assert.deepEqual(parseModelSource('huggingface.co/u/r', hf), { kind: 'hf-quant', uri: 'hf:u/r' });
  });

  it('refuses paths, other schemes and URIs that name no GGUF file, saying why', () => {
    const refused = (input: string, message: RegExp): void =>
      assert.throws(() => parseModelSource(input, hf), (error: unknown) => error instanceof ModelUriError && message.test(error.message), input);
    refused('', /enter a model URI/);
    refused('/models/m.gguf', /is a path, not a URI: use Select Model/);
    refused('C:\\models\\m.gguf', /is a path/);
    refused('~/models/m.gguf', /is a path/);
    refused('models/m.gguf', /is a path/);
    refused('ftp://example.org/m.gguf', /unsupported URI scheme "ftp:"/);
    refused('hf:user', /names no repository/);
    refused('hf:user/repo/README.md', /does not name a \.gguf file in user\/repo/);
  });

  it('finds the Hugging Face endpoint the way node-llama-cpp does', () => {
    assert.equal(huggingFaceEndpoint({}), hf);
    assert.equal(huggingFaceEndpoint({ HF_ENDPOINT: 'http://mirror.local' }), 'http://mirror.local/');
    assert.equal(huggingFaceEndpoint({ HF_ENDPOINT: 'http://mirror.local/', MODEL_ENDPOINT: 'https://models.local/' }), 'https://models.local/');
    assert.equal(huggingFaceEndpoint({ HF_ENDPOINT: 'not a url' }), hf);
  });
});

describe('the models folder', () => {
  const home = path.resolve('/home/ada');
  const base = path.resolve('/work/project');

  it('defaults to ~/.icl-lab/models and expands ~', () => {
    assert.equal(defaultModelsFolder(home), path.join(home, '.icl-lab', 'models'));
    assert.equal(resolveModelsFolder('', base, home), path.join(home, '.icl-lab', 'models'));
    assert.equal(resolveModelsFolder('  ', base, home), path.join(home, '.icl-lab', 'models'));
    assert.equal(resolveModelsFolder('~', base, home), home);
    assert.equal(resolveModelsFolder('~/gguf', base, home), path.join(home, 'gguf'));
  });

  it('reads a relative folder from the workspace folder', () => {
    assert.equal(resolveModelsFolder('models', base, home), path.join(base, 'models'));
    assert.equal(resolveModelsFolder(path.resolve('/data/models'), base, home), path.resolve('/data/models'));
  });
});
