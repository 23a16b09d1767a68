import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import { parseRunConfig } from '../../src/core/experiment/runConfig.js';
import { labelSidecarPath, readLabelSidecar } from '../../src/core/labelling/labelSidecar.js';
import { previousAnswersFrom } from '../../src/extension/runs/previousAnswers.js';
import type * as FakeVscode from '../support/fakeVscode.js';

// The wizard keeps the user's work (issue 11 item 18): it pre-fills the last answers and asks before
// overwriting a .run.yaml a run used; "Label Selected Examples" says what it labels and relabels an
// already-labelled file.

describe('the wizard and labelling keep the user’s work', function () {
  this.timeout(60_000);
  let vscode: typeof FakeVscode;
  let root: string;
  let data: string;
  let runsRoot: string;

  before(async () => {
    vscode = (await import('vscode')) as unknown as typeof FakeVscode;
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-keeps-work-'));
    data = path.join(root, 'reviews.jsonl');
    await writeFile(data, Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `r${i}`, text: `review ${i} ${'words '.repeat(i % 5)}`, note: `n${i % 3}`, label: i % 2 })).join('\n') + '\n');
    await writeFile(path.join(root, 'labels.json'), '{"0": "negative", "1": "positive"}\n');
    const model = path.join(root, 'm.gguf');
    await writeFile(model, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60)]));
    runsRoot = path.join(root, 'runs');
    vscode.fake.reset();
    for (const key of Object.keys(vscode.fake.settings)) delete vscode.fake.settings[key];
    Object.assign(vscode.fake.settings, { modelPath: model, runsFolder: runsRoot });
    (vscode.workspace as { workspaceFolders: unknown }).workspaceFolders = [{ uri: vscode.Uri.file(root) }];
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('reads the last answers back from a run config, loosely', () => {
    const text = 'data:\n  file: reviews.jsonl\n  inputs: [text, note]\n  target: label\n  task: classification\n  labels: { "0": bad, "1": good }\nselection:\n  strategies: [kate]\n  budgets: [2, 8]\ntemplate: t.icl.tmpl\n';
    assert.deepEqual(previousAnswersFrom(text, path.join(root, 'x.run.yaml')), {
      inputs: ['text', 'note'],
      target: 'label',
      task: 'classification',
      template: path.join(root, 't.icl.tmpl'),
      strategies: ['kate'],
      budgets: [2, 8],
      labelWords: { 0: 'bad', 1: 'good' },
    });
    assert.deepEqual(previousAnswersFrom(': not yaml : [', 'x'), {});
  });

  it('pre-fills the last answers, and asks before overwriting a .run.yaml a run used', async () => {
    const { runWizard } = await import('../../src/extension/runs/runWizard.js');
    vscode.fake.quickPicks.push((items) => items.filter((i) => i.label === 'text' || i.label === 'note'), 'label', 'classification', 'Built-in template', (items) => items.filter((i) => i.label === 'kate'));
    vscode.fake.inputBoxes.push('0=bad,1=good', '2, 8');
    const plan = await runWizard(vscode.Uri.file(data) as never, runsRoot);
    assert.ok(plan);
    // A run used that config.
    const used = path.join(runsRoot, 'reviews-20260101-000000');
    await mkdir(used, { recursive: true });
    await writeFile(path.join(used, 'run.json'), JSON.stringify({ format: 'icl-lab-run/1', status: 'complete', startedAt: '', pid: 1, seed: 0, config: { configFile: plan.configFile }, data: { file: data, pool: 1, probe: 1, test: 1 }, versions: {}, phases: {} }));
    const written = await readFile(plan.configFile, 'utf8');

    // Second time: every question comes pre-filled; each is accepted as shown.
    vscode.fake.quickPickCalls.length = 0;
    vscode.fake.inputBoxOptions.length = 0;
    const picked = (items: readonly { label: string }[]): unknown => items.filter((i) => (i as { picked?: boolean }).picked);
    vscode.fake.quickPicks.push(picked, (items) => items[0], (items) => items[0], (items) => items[0], picked);
    vscode.fake.inputBoxes.push('0=bad,1=good', '2, 8');
    vscode.fake.messageChoices.push('Save as New File');
    const again = await runWizard(vscode.Uri.file(data) as never, runsRoot);
    const calls = vscode.fake.quickPickCalls;
    assert.deepEqual((calls[0]!.items as { label: string; picked?: boolean }[]).filter((i) => i.picked).map((i) => i.label), ['text', 'note']);
    assert.equal(calls[1]!.items[0]!.label, 'label');
    assert.equal(calls[2]!.items[0]!.label, 'classification');
    assert.equal(calls[3]!.items[0]!.label, 'Built-in template');
    assert.deepEqual((calls[4]!.items as { label: string; picked?: boolean }[]).filter((i) => i.picked).map((i) => i.label), ['kate']);
    assert.equal(vscode.fake.inputBoxOptions[0]!.value, '0=bad,1=good', 'the last label words, over labels.json');
    assert.equal(vscode.fake.inputBoxOptions[1]!.value, '2, 8');
    const asked = vscode.fake.notifications.find((n) => /was used by run reviews-20260101-000000/.test(n.text));
    assert.ok(asked, vscode.fake.messages.join('\n'));
    assert.deepEqual(asked.buttons, ['Save as New File', 'Overwrite']);
    assert.equal(again?.configFile, path.join(root, 'reviews-2.run.yaml'));
    assert.equal(await readFile(plan.configFile, 'utf8'), written, 'the used config is untouched');
    const config = parseRunConfig(await readFile(again!.configFile, 'utf8'), again!.configFile);
    assert.deepEqual(config.selection.strategies, ['kate']);
  });

  describe('Label Selected Examples', () => {
    let document: FakeVscode.FakeDocument;
    before(async () => {
      vscode.fake.reset();
      vscode.fake.settings['runsFolder'] = path.join(root, 'no-runs');
      vscode.commands.registerCommand('setContext', () => undefined);
      const { registerLabelling } = await import('../../src/extension/labelling/labelling.js');
      registerLabelling({ subscriptions: [], asAbsolutePath: (p: string) => p } as never);
      document = vscode.fakeDocument(vscode.Uri.file(data));
      vscode.window.activeTextEditor = vscode.fakeEditor(document);
      vscode.window.visibleTextEditors = [vscode.window.activeTextEditor];
    });

    it('relabels an already-labelled file: offers Relabel Rows, says the rows are a strategy’s proposal', async () => {
      vscode.fake.quickPicks.push((items) => items.filter((i) => i.label === 'text'), 'id', 'random');
      vscode.fake.inputBoxes.push('0=negative,1=positive', '3');
      vscode.fake.messageChoices.push('Relabel Rows');
      // The first proposed row gets "negative", then Escape.
      vscode.fake.quickPicks.push('negative', undefined);
      await vscode.commands.executeCommand('iclLab.labelSelected');
      assert.ok(vscode.fake.notifications.some((n) => /every row of reviews\.jsonl already has a label/.test(n.text) && n.buttons.includes('Relabel Rows')), vscode.fake.messages.join('\n'));
      assert.ok(vscode.fake.messages.some((m) => m === 'ICL Lab: relabelling 3 rows proposed by random'), vscode.fake.messages.join('\n'));
      const relabel = vscode.fake.quickPickCalls.filter((c) => /^Relabel row \d+ \(line \d+\) · 1 of 3 · proposed by random$/.test(c.options.title ?? ''));
      assert.equal(relabel.length, 1, vscode.fake.quickPickCalls.map((c) => c.options.title).join('\n'));
      assert.ok(relabel[0]!.items.some((i) => /current label/.test(i.description ?? '')), 'the current label is marked');
      const sidecar = await readLabelSidecar(labelSidecarPath(data));
      assert.deepEqual(sidecar.entries.map((e) => e.label), ['0']);
    });

    it('says it labels the editor selection when rows are selected', async () => {
      vscode.fake.quickPickCalls.length = 0;
      vscode.fake.messages.length = 0;
      vscode.window.activeTextEditor!.selection = new vscode.Selection(new vscode.Position(4, 0), new vscode.Position(5, 3));
      vscode.fake.quickPicks.push('positive', 'negative');
      await vscode.commands.executeCommand('iclLab.labelSelected');
      assert.ok(vscode.fake.messages.includes('ICL Lab: labelling the 2 rows selected in the editor'), vscode.fake.messages.join('\n'));
      assert.deepEqual(vscode.fake.quickPickCalls.map((c) => c.options.title), ['Label row 4 (line 5) · 1 of 2 · from the editor selection', 'Label row 5 (line 6) · 2 of 2 · from the editor selection']);
      const sidecar = await readLabelSidecar(labelSidecarPath(data));
      assert.deepEqual([...sidecar.labels].filter(([id]) => id === 'r4' || id === 'r5').map(([id, r]) => [id, r.label]), [['r4', '1'], ['r5', '0']]);
    });
  });
});
