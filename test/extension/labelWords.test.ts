import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import { parseRunConfig } from '../../src/core/experiment/runConfig.js';
import { readLabellingSession } from '../../src/core/labelling/labellingSession.js';
import { labelSidecarPath, readLabelSidecar } from '../../src/core/labelling/labelSidecar.js';
import { defaultLabelWords, labelsBeside, labelWordsText, parseLabelWords } from '../../src/extension/runs/labelWords.js';
import type * as FakeVscode from '../support/fakeVscode.js';

// Label words (issue 11 item 17): the wizard asks which word the model answers for each label,
// pre-filled from labels.json beside the data; the run config carries them; labelling shows the
// same words, the row's whole text, and confirms each save.

describe('label words in the wizard and in labelling', function () {
  this.timeout(60_000);
  let vscode: typeof FakeVscode;
  let root: string;
  let data: string;
  const longText = (i: number): string => `review ${i}: ` + 'a long sentence that goes on and on; '.repeat(12) + 'the end';

  before(async () => {
    vscode = (await import('vscode')) as unknown as typeof FakeVscode;
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-label-words-'));
    await mkdir(path.join(root, 'sst2'));
    data = path.join(root, 'sst2', 'train.jsonl');
    await writeFile(data, Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `r${i}`, sentence: longText(i), label: i % 2 })).join('\n') + '\n');
    await writeFile(path.join(root, 'sst2', 'labels.json'), '{"0": "negative", "1": "positive"}\n');
    const model = path.join(root, 'm.gguf');
    await writeFile(model, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60)]));
    vscode.fake.reset();
    for (const key of Object.keys(vscode.fake.settings)) delete vscode.fake.settings[key];
    Object.assign(vscode.fake.settings, { modelPath: model, runsFolder: path.join(root, 'runs') });
    (vscode.workspace as { workspaceFolders: unknown }).workspaceFolders = [{ uri: vscode.Uri.file(root) }];
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('reads labels.json beside the data and writes label=word lines, checking every label has one distinct word', async () => {
    const beside = await labelsBeside(data);
    assert.deepEqual(beside?.labels, [{ value: '0', verbalizer: 'negative' }, { value: '1', verbalizer: 'positive' }]);
    assert.equal(labelWordsText(defaultLabelWords(['0', '1', '2'], beside?.labels)), '0=negative,1=positive,2');
    assert.deepEqual(parseLabelWords('0=bad, 1=good', ['0', '1']), { labels: [{ value: '0', verbalizer: 'bad' }, { value: '1', verbalizer: 'good' }] });
    assert.deepEqual(parseLabelWords('0=bad', ['0', '1']), { problem: 'give a word for "1" too (the data holds it)' });
    assert.match((parseLabelWords('0=bad,1=bad', ['0', '1']) as { problem: string }).problem, /"bad" is the word of two labels/);
    assert.match((parseLabelWords('0=bad,1=good,7=meh', ['0', '1']) as { problem: string }).problem, /no label "7"/);
  });

  it('asks the word for each label, pre-filled from labels.json, and writes them into the run config', async () => {
    const { runWizard } = await import('../../src/extension/runs/runWizard.js');
    vscode.fake.inputBoxOptions.length = 0;
    vscode.fake.quickPicks.push((items) => items.filter((i) => i.label === 'sentence'), 'label', 'classification', 'Built-in template', (items) => items.filter((i) => i.label === 'random'));
    // The pre-filled words, changed for one label; then the budgets.
    vscode.fake.inputBoxes.push('0=terrible,1=positive', '2, 4');
    const plan = await runWizard(vscode.Uri.file(data) as never, path.join(root, 'runs'));
    assert.ok(plan);
    const words = vscode.fake.inputBoxOptions.find((o) => /^Label words/.test(o.title ?? ''));
    assert.ok(words, vscode.fake.inputBoxOptions.map((o) => o.title).join(', '));
    assert.equal(words.value, '0=negative,1=positive');
    assert.match(words.prompt ?? '', /pre-filled from labels\.json/);
    assert.match(String(words.validateInput!('0=negative')), /give a word for "1"/);
    const config = parseRunConfig(await readFile(plan.configFile, 'utf8'), plan.configFile);
    assert.deepEqual(config.data.labels, [{ value: '0', verbalizer: 'terrible' }, { value: '1', verbalizer: 'positive' }]);
  });

  it('labels with the same words, the row’s whole text as the item detail, and confirms each save', async () => {
    // A pool with no labels yet, labels.json beside it.
    await mkdir(path.join(root, 'pool'));
    const pool = path.join(root, 'pool', 'pool.jsonl');
    await writeFile(pool, Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `p${i}`, sentence: longText(i) })).join('\n') + '\n');
    await writeFile(path.join(root, 'pool', 'labels.json'), '{"0": "negative", "1": "positive"}\n');
    vscode.fake.reset();
    vscode.commands.registerCommand('setContext', () => undefined);
    const { registerLabelling } = await import('../../src/extension/labelling/labelling.js');
    registerLabelling({ subscriptions: [], asAbsolutePath: (p: string) => p } as never);
    const document = vscode.fakeDocument(vscode.Uri.file(pool));
    vscode.window.activeTextEditor = vscode.fakeEditor(document);
    vscode.window.visibleTextEditors = [vscode.window.activeTextEditor];
    // Session set-up: fields, id, label set (pre-filled from labels.json: accepted), strategy, round size; then two labels.
    vscode.fake.quickPicks.push((items) => items.filter((i) => i.label === 'sentence'), 'id', 'random');
    let setUpValue: string | undefined;
    // The label-set box echoes its pre-filled value back, the round size is 2.
    const original = vscode.window.showInputBox;
    vscode.window.showInputBox = async (options = {}) => {
      vscode.fake.inputBoxOptions.push(options);
      if (/label set/.test(options.title ?? '')) return (setUpValue = options.value);
      return '2';
    };
    try {
      vscode.fake.quickPicks.push('positive', 'negative');
      vscode.fake.messageChoices.push('Later');
      await vscode.commands.executeCommand('iclLab.labelSelected');
    } finally {
      vscode.window.showInputBox = original;
    }
    assert.equal(setUpValue, '0=negative,1=positive', 'the label set is pre-filled with the words of labels.json');
    const session = await readLabellingSession(pool);
    assert.deepEqual(session?.labels, [{ value: '0', verbalizer: 'negative' }, { value: '1', verbalizer: 'positive' }]);
    const labelPicks = vscode.fake.quickPickCalls.filter((c) => /^Round 1/.test(c.options.title ?? ''));
    assert.equal(labelPicks.length, 2, JSON.stringify([vscode.fake.quickPickCalls.map((c) => c.options.title), vscode.fake.messages, vscode.fake.inputBoxOptions.map((o) => o.title)]));
    const [first] = labelPicks;
    assert.deepEqual(first!.items.slice(0, 2).map((i) => [i.label, i.description]), [['negative', 'label 0'], ['positive', 'label 1']]);
    assert.ok((first!.items[0]!.detail ?? '').endsWith('the end'), 'the whole row text, not cut at 300 characters');
    assert.ok((first!.items[0]!.detail ?? '').length > 400);
    const saved = vscode.fake.messages.filter((m) => /saved "/.test(m));
    assert.equal(saved.length, 2, vscode.fake.messages.join('\n'));
    assert.match(saved[0]!, /saved "positive" \(label 1\) for row \d+ \(line \d+\) in pool(\.jsonl)?\.labels\.jsonl$/);
    const sidecar = await readLabelSidecar(labelSidecarPath(pool));
    assert.deepEqual(sidecar.entries.map((e) => e.label), ['1', '0']);
  });
});
