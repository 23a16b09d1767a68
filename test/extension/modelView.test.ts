import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import type { ModelInfo } from '../../src/engine/protocol.js';

// The Model view while a model loads (issue 11 item 19): "loading…", never "No model selected"
// (the view's welcome text, shown when it has no rows).

describe('the Model view while a model loads', () => {
  let dir: string;
  let model: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-model-view-'));
    model = path.join(dir, 'm.gguf');
    await writeFile(model, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60)]));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const facts = (file: string): ModelInfo => ({ path: file, architecture: 'qwen2', layers: 2, embeddingLength: 8, quantization: 'ALL_F32', fileBytes: 64, gpu: 'cpu' }) as unknown as ModelInfo;
  const output = { appendLine() {}, show() {}, dispose() {} };

  it('says loading… while the engine loads the selected model, then shows its facts', async () => {
    const { ModelTreeProvider } = await import('../../src/extension/model/modelView.js');
    let resolve!: (info: ModelInfo) => void;
    const provider = new ModelTreeProvider(() => model, () => new Promise<ModelInfo>((r) => (resolve = r)), output as never);
    let changes = 0;
    provider.onDidChangeTreeData(() => (changes += 1));
    const first = await provider.getChildren();
    assert.deepEqual(first.map((r) => [r.label, r.description]), [['loading…', 'm.gguf']]);
    await new Promise((r) => setTimeout(r, 20));
    resolve(facts(model));
    await provider.settled();
    assert.equal(changes, 1, 'the view is told the facts came');
    assert.deepEqual((await provider.getChildren()).map((r) => r.label).slice(0, 2), ['File', 'Architecture']);
  });

  it('says loading… (not No model selected) while a run loads its model and none is selected', async () => {
    const { ModelTreeProvider } = await import('../../src/extension/model/modelView.js');
    let loading: string[] = ['demo-20260101-000000'];
    const provider = new ModelTreeProvider(() => undefined, () => Promise.reject(new Error('unused')), output as never, () => loading);
    const rows = await provider.getChildren();
    assert.deepEqual(rows.map((r) => [r.label, r.description]), [['loading…', 'for demo-20260101-000000']]);
    loading = [];
    assert.deepEqual(await provider.getChildren(), [], 'no rows (the welcome text) once no run is loading');
  });
});
