import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '../../src/core/experiment/runConfig.js';
import { prepareRun } from '../../src/core/experiment/runExperiment.js';

describe('prepareRun', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-prepare-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it('with a human labels file, takes only the rows someone labelled, with their labels', async () => {
    // An unlabelled pool: the file has no label field at all.
    await writeFile(path.join(dir, 'pool.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `r${i}`, text: `row number ${i}` })).join('\n') + '\n');
    const labelled = Array.from({ length: 20 }, (_, i) => i);
    await writeFile(
      path.join(dir, 'pool.jsonl.labels.jsonl'),
      labelled.map((i) => JSON.stringify({ id: `r${i}`, label: i % 2 ? 'yes' : 'no', round: 1, labelledAt: '2026-11-25T00:00:00.000Z' })).join('\n') + '\n',
    );
    const config = parseRunConfig(
      JSON.stringify({
        model: 'm.gguf',
        data: { file: 'pool.jsonl', inputs: ['text'], id: 'id', target: 'label', labels: { no: 'no', yes: 'yes' }, humanLabels: 'pool.jsonl.labels.jsonl' },
        split: { test: 5, probe: 5, pool: 10 },
        selection: { budgets: [2, 4], strategies: ['random'] },
      }),
      path.join(dir, 'run.json'),
    );
    assert.equal(config.data.humanLabels, path.join(dir, 'pool.jsonl.labels.jsonl'));
    const lines: string[] = [];
    const { splits } = await prepareRun(config, (line) => lines.push(line));
    const rows = [...splits.pool, ...splits.probe, ...splits.test];
    assert.equal(rows.length, 20);
    for (const row of rows) assert.equal(row.label, Number(row.id.slice(1)) % 2 ? 'yes' : 'no');
    assert.match(lines[0]!, /10 of 30 rows have no label .*: left out/);
  });

  it('names the files when the data cannot fill the split, when the human labels file is missing, and a label for an id no row has', async () => {
    await writeFile(path.join(dir, 'few.jsonl'), Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `f${i}`, text: `row ${i}`, label: i % 2 ? 'yes' : 'no' })).join('\n') + '\n');
    const configOf = (data: object) =>
      parseRunConfig(JSON.stringify({ model: 'm.gguf', data: { file: 'few.jsonl', inputs: ['text'], id: 'id', target: 'label', ...data }, split: { test: 5, probe: 5, pool: 10 }, selection: { budgets: [2], strategies: ['random'] } }), path.join(dir, 'few.run.json'));
    await assert.rejects(prepareRun(configOf({})), new RegExp(`few\\.run\\.json: split: the split needs 5 test \\+ 5 probe \\+ 10 pool rows, but there are only 6 in .*few\\.jsonl; make split\\.test`));
    await assert.rejects(prepareRun(configOf({ humanLabels: 'few.labels.jsonl' })), /few\.run\.json: data\.humanLabels: .*few\.labels\.jsonl not found/);
    await writeFile(path.join(dir, 'few.labels.jsonl'), JSON.stringify({ id: 'f1', label: 'yes' }) + '\n' + JSON.stringify({ id: 'gone', label: 'no' }) + '\n');
    await assert.rejects(prepareRun(configOf({ humanLabels: 'few.labels.jsonl' })), /1 human label is for ids no row of .*few\.jsonl has: .*few\.labels\.jsonl:2: id "gone"; fix or remove that line/);
  });

  it('runs a generative config that names no strategies, and refuses a classification-only strategy it names', async () => {
    await writeFile(path.join(dir, 'qa.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `q${i}`, question: `what is ${i} + 1?`, answer: String(i + 1) })).join('\n') + '\n');
    const config = (selection: object): ReturnType<typeof parseRunConfig> =>
      parseRunConfig(JSON.stringify({ model: 'm.gguf', data: { file: 'qa.jsonl', inputs: ['question'], target: 'answer', task: 'generative' }, split: { test: 5, probe: 5, pool: 10 }, selection }), path.join(dir, 'qa.run.json'));
    const byDefault = config({ budgets: [2] });
    assert.ok(!byDefault.selection.strategies.includes('uncertainty'));
    const { task } = await prepareRun(byDefault, () => undefined);
    assert.equal(task.type, 'generative');
    await assert.rejects(prepareRun(config({ budgets: [2], strategies: ['random', 'uncertainty'] }), () => undefined), /selection\.strategies: uncertainty needs a classification task/);
  });

  it('takes a verbalizer map as data.verbalizers, refuses the old data.labelsFile by name, and names the line of a map given as human labels', async () => {
    await writeFile(path.join(dir, 'sst.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `s${i}`, text: `review ${i}`, label: i % 2 })).join('\n') + '\n');
    await writeFile(path.join(dir, 'labels.json'), JSON.stringify({ '0': 'negative', '1': 'positive' }, null, 2) + '\n');
    const config = (data: object): ReturnType<typeof parseRunConfig> =>
      parseRunConfig(JSON.stringify({ model: 'm.gguf', data: { file: 'sst.jsonl', inputs: ['text'], id: 'id', target: 'label', ...data }, split: { test: 5, probe: 5, pool: 10 }, selection: { budgets: [2] } }), path.join(dir, 'sst.run.json'));
    const { task } = await prepareRun(config({ verbalizers: 'labels.json' }), () => undefined);
    assert.deepEqual(task.type === 'classification' && task.labels, [{ value: '0', verbalizer: 'negative' }, { value: '1', verbalizer: 'positive' }]);
    assert.throws(() => config({ labelsFile: 'labels.json' }), /data\.labelsFile: renamed: the human-labels sidecar .* is data\.humanLabels; a label → verbalizer map .* is data\.verbalizers/);
    assert.throws(() => config({ verbalizers: 'labels.json', labels: { '0': 'no', '1': 'yes' } }), /give data\.labels or data\.verbalizers, not both/);
    // The map where human labels belong: its first line is no label record, and the error says what the file is.
    await assert.rejects(prepareRun(config({ humanLabels: 'labels.json' }), () => undefined), (error: Error) => {
      assert.match(error.message, /labels\.json:1: not a label record: each line must be one JSON object .* give it as data\.verbalizers/);
      return true;
    });
  });
});
