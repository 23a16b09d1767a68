import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '../../src/core/experiment/runConfig.js';
import { prepareRun } from '../../src/core/experiment/runExperiment.js';
import { classificationTemplate, defaultTemplateFor, generativeTemplate } from '../../src/core/template/defaultTemplates.js';
import { renderDemonstration, renderPrompt } from '../../src/core/template/promptRenderer.js';

describe('the built-in template for the data’s inputs', () => {
  it('keeps the built-in files for {{text}} (classification) and {{question}} (generative)', () => {
    assert.equal(defaultTemplateFor('classification', ['text']), classificationTemplate);
    assert.equal(defaultTemplateFor('generative', ['question']), generativeTemplate);
  });

  it('renders every input on its own line, named by its field, before the label', () => {
    const template = defaultTemplateFor('classification', ['premise', 'hypothesis']);
    assert.equal(template.instruction, classificationTemplate.instruction);
    assert.equal(renderDemonstration(template, { inputs: { premise: 'It rained.', hypothesis: 'The road is wet.' }, answer: 'entailment' }), 'Premise: It rained.\nHypothesis: The road is wet.\nLabel: entailment');
    const prompt = renderPrompt(template, [{ inputs: { premise: 'A', hypothesis: 'B' }, answer: 'neutral' }], { inputs: { premise: 'C', hypothesis: 'D' } });
    assert.equal(prompt.text, `${classificationTemplate.instruction}\n\nPremise: A\nHypothesis: B\nLabel: neutral\n\nPremise: C\nHypothesis: D\nLabel:`);
    const generative = defaultTemplateFor('generative', ['question_text']);
    assert.equal(renderDemonstration(generative, { inputs: { question_text: 'Who?' }, answer: 'Ada' }), 'Question text: Who?\nAnswer: Ada');
  });

  it('lets a two-input dataset run from a config that names only model and data', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-template-'));
    try {
      const labels = ['entailment', 'contradiction', 'neutral'];
      await writeFile(path.join(dir, 'nli.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ premise: `premise ${i}`, hypothesis: `hypothesis ${i}`, label: labels[i % 3] })).join('\n') + '\n');
      const config = parseRunConfig(JSON.stringify({ model: 'm.gguf', data: { file: 'nli.jsonl', inputs: ['premise', 'hypothesis'], target: 'label' }, split: { test: 5, probe: 5, pool: 10 }, selection: { budgets: [2] } }), path.join(dir, 'nli.run.json'));
      const { template } = await prepareRun(config, () => undefined);
      assert.equal(renderDemonstration(template, { inputs: { premise: 'p', hypothesis: 'h' }, answer: 'neutral' }), 'Premise: p\nHypothesis: h\nLabel: neutral');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
