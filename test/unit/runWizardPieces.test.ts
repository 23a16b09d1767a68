import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { surveyFields } from '../../src/core/dataset/fieldSurvey.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { parseRunConfig } from '../../src/core/experiment/runConfig.js';
import { fittingSplit, runConfigDraft } from '../../src/extension/runs/runConfigDraft.js';
import { describeProgress, LineSplitter, parseRunEvent } from '../../src/extension/runs/runEvents.js';

describe('the run wizard’s pure parts', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-wizard-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it('surveys a file’s fields and guesses the input and the label', async () => {
    const file = path.join(dir, 'reviews.jsonl');
    await writeFile(file, demoRows(60, 3).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const survey = await surveyFields(file);
    assert.equal(survey.rowsRead, 60);
    assert.equal(survey.rows, 60);
    // Statistics from a sample, rows counted to the end.
    const sampled = await surveyFields(file, { rows: 10 });
    assert.equal(sampled.rowsRead, 10);
    assert.equal(sampled.rows, 60);
    assert.deepEqual(survey.fields.map((f) => f.name), ['id', 'text', 'label']);
    assert.equal(survey.guessedInput, 'text');
    assert.equal(survey.guessedLabel, 'label');
    assert.deepEqual(survey.guessedLabels, ['negative', 'positive']);
  });

  it('reads CSV headers too', async () => {
    const file = path.join(dir, 'q.csv');
    await writeFile(file, 'question,answer\n"What is 2 + 2?",4\n"Name a colour, please",red\nWhy?,because\n');
    const survey = await surveyFields(file);
    assert.deepEqual(survey.fields.map((f) => f.name), ['question', 'answer']);
    assert.equal(survey.rowsRead, 3);
  });

  it('fits the split to the file: paper-sized when it can, proportional otherwise, refused when too small', () => {
    assert.deepEqual(fittingSplit(872), { test: 100, probe: 50, pool: 200 });
    assert.deepEqual(fittingSplit(96), { test: 28, probe: 14, pool: 54 });
    assert.throws(() => fittingSplit(8), /8 rows; a run needs at least 12/);
  });

  it('writes a config that icl-lab run accepts, paths relative to it, budgets cut to the pool', () => {
    const configDir = path.join(dir, 'data');
    const { text, budgets } = runConfigDraft(
      {
        dataFile: path.join(configDir, 'reviews.jsonl'),
        rows: 60,
        model: path.join(dir, 'models', 'm.gguf'),
        inputs: ['text'],
        target: 'label',
        task: 'classification',
        labels: ['negative', 'positive'],
        masks: ['isolated'],
        statistics: ['kurtosis', 'mean'],
        strategies: ['random', 'top-quality'],
        budgets: [4, 8, 64],
        engine: { gpu: 'cpu', contextSize: 2048, batchSize: 256, maxSequences: 32, threads: 2 },
      },
      configDir,
    );
    assert.deepEqual(budgets, [4, 8]);
    const config = parseRunConfig(text, path.join(configDir, 'reviews.run.yaml'));
    assert.equal(config.model, path.join(dir, 'models', 'm.gguf'));
    assert.equal(config.data.file, path.join(configDir, 'reviews.jsonl'));
    assert.deepEqual(config.data.labels, [{ value: 'negative', verbalizer: 'negative' }, { value: 'positive', verbalizer: 'positive' }]);
    assert.deepEqual(config.selection.budgets, [4, 8]);
    assert.equal(config.selection.rounds, 2);
    assert.equal(config.engine.gpu, 'cpu');
    assert.match(text, /^# Written by ICL Lab/);
  });

  it('reads JSON progress lines, splits a growing log into whole lines, and keeps other lines as text', () => {
    const splitter = new LineSplitter();
    const first = splitter.push('{"event":"progress","phase":"evaluate","done":40,"total":64,"unit":"prompts","rate":3.6,"etaSeconds":6.7}\n{"event":"lo');
    assert.equal(first.length, 1);
    const second = splitter.push('g","message":"extract: 11 units computed"}\nerror: boom\n');
    assert.equal(second.length, 2);
    const progress = parseRunEvent(first[0]!);
    assert.equal(progress?.event, 'progress');
    assert.equal(describeProgress(progress as Extract<typeof progress, { event: 'progress' }>), 'evaluate 40/64 prompts · 3.6 prompts/s · ETA 7s');
    assert.deepEqual(parseRunEvent(second[0]!), { event: 'log', message: 'extract: 11 units computed' });
    assert.deepEqual(parseRunEvent(second[1]!), { event: 'text', message: 'error: boom' });
    assert.deepEqual(parseRunEvent('{not json'), { event: 'text', message: '{not json' });
    assert.equal(parseRunEvent('   '), undefined);
  });
});
