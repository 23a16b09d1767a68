import assert from 'node:assert/strict';
import path from 'node:path';
import { quantizationLabel } from '../../src/core/experiment/modelLabel.js';
import { modelFactRows, modelProblemRows } from '../../src/extension/model/modelViewRows.js';

describe('the Model view rows', () => {
  it('shows file, architecture, layers, width, quantisation, file size and GPU backend', () => {
    const file = path.resolve('/models/hf_QuantFactory_Llama-3.2-3B.Q8_0.gguf');
    const rows = modelFactRows({ path: file, architecture: 'llama', layers: 28, embeddingLength: 3072, quantization: 'MOSTLY_Q8_0', fileBytes: 3_421_895_488, gpu: 'cuda' });
    assert.deepEqual(
      rows.map((r) => [r.label, r.description]),
      [
        ['File', 'hf_QuantFactory_Llama-3.2-3B.Q8_0.gguf'],
        ['Architecture', 'llama'],
        ['Layers', '28'],
        ['Width', '3072'],
        ['Quantisation', 'Q8_0'],
        ['File size', '3.42 GB'],
        ['GPU backend', 'cuda'],
      ],
    );
    assert.equal(rows[0]!.tooltip, file);
    assert.match(rows[2]!.tooltip, /blocks\.0 … blocks\.27/);
    assert.ok(rows.every((r) => r.kind === 'fact' && r.command === undefined));
  });

  it('names quantisations as people do', () => {
    assert.equal(quantizationLabel('MOSTLY_Q4_K_M'), 'Q4_K_M');
    assert.equal(quantizationLabel('ALL_F32'), 'F32');
    assert.equal(quantizationLabel('unknown'), 'unknown');
  });

  it('turns a missing or broken model into an error row with ways out', () => {
    const rows = modelProblemRows('/models/gone.gguf', 'missing', '/models/gone.gguf does not exist');
    assert.deepEqual(
      rows.map((r) => [r.kind, r.label, r.command]),
      [
        ['problem', 'Model file not found', 'iclLab.selectModel'],
        ['problem', '/models/gone.gguf does not exist', undefined],
        ['action', 'Select Model…', 'iclLab.selectModel'],
        ['action', 'Download Model…', 'iclLab.downloadModel'],
      ],
    );
    assert.equal(rows[0]!.icon, 'error');
    assert.equal(modelProblemRows('/m/page.gguf', 'not-gguf', 'x')[0]!.label, 'Not a GGUF file');
    assert.equal(modelProblemRows('/m/m.gguf', 'engine', 'x')[0]!.label, 'The engine cannot load this model');
  });
});
