import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import { parseRunConfig, runStrategyNames, saeStrategies } from '../../src/core/experiment/runConfig.js';
import { checkDataset } from '../../src/extension/runs/datasetCheck.js';
import type * as FakeVscode from '../support/fakeVscode.js';
import type * as RunWizardModule from '../../src/extension/runs/runWizard.js';

type RunWizard = typeof RunWizardModule.runWizard;

// The wizard checks before it asks (issue 11 item 15): a malformed row or a non-GGUF model is
// reported before the first question, with Open / Skip bad rows / Select Model…, and bad rows go to
// the Problems panel.

describe('the run wizard checks data and model before its first question', function () {
  this.timeout(60_000);
  let vscode: typeof FakeVscode;
  let root: string;
  let bad: string;
  let good: string;
  let model: string;
  let runWizard: RunWizard;

  const row = (i: number): string => JSON.stringify({ id: `r${i}`, text: `row number ${i} says something ${'x'.repeat(i % 7)}`, label: i % 2 ? 'positive' : 'negative' });
  const answerWizard = (): void => {
    vscode.fake.quickPicks.push((items) => items.filter((i) => i.label === 'text'), 'label', 'classification', 'Built-in template', (items) => items.filter((i) => i.label === 'random'));
    vscode.fake.inputBoxes.push('negative,positive', '2, 4');
  };

  before(async () => {
    vscode = (await import('vscode')) as unknown as typeof FakeVscode;
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-wizard-checks-'));
    bad = path.join(root, 'bad.jsonl');
    const lines = Array.from({ length: 30 }, (_, i) => row(i));
    // Line 3: a JSON object missing a comma, 84 characters in.
    lines[2] = `{"id": "r2", "text": "${'a'.repeat(59)}" "label": "negative"}`;
    lines[9] = '[1, 2]';
    await writeFile(bad, lines.join('\n') + '\n');
    good = path.join(root, 'good.jsonl');
    await writeFile(good, Array.from({ length: 30 }, (_, i) => row(i)).join('\n') + '\n');
    model = path.join(root, 'm.gguf');
    await writeFile(model, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60)]));
    await writeFile(path.join(root, 'notes.bin'), 'PK\u0003\u0004 not a model');
    ({ runWizard } = await import('../../src/extension/runs/runWizard.js'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  beforeEach(() => {
    vscode.fake.reset();
    for (const key of Object.keys(vscode.fake.settings)) delete vscode.fake.settings[key];
    Object.assign(vscode.fake.settings, { modelPath: model });
    (vscode.workspace as { workspaceFolders: unknown }).workspaceFolders = [{ uri: vscode.Uri.file(root) }];
  });

  it('finds every row the format cannot read, with line and column', async () => {
    const check = await checkDataset(bad);
    assert.equal(check.rows, 28);
    assert.deepEqual(check.badRows.map((r) => [r.line, r.column]), [[3, 84], [10, undefined]]);
  });

  it('reports a malformed row before any question, with Open and Skip bad rows, and lists bad rows in Problems', async () => {
    vscode.fake.messageChoices.push('Open');
    const plan = await runWizard(vscode.Uri.file(bad) as never, path.join(root, 'runs'));
    assert.equal(plan, undefined);
    assert.equal(vscode.fake.quickPickCalls.length, 0, 'no question was asked');
    const [shown] = vscode.fake.notifications;
    assert.match(shown!.text, /^ICL Lab: bad\.jsonl:3:84: malformed JSON.* \(and 1 more bad row, listed in Problems\)$/);
    assert.deepEqual(shown!.buttons, ['Open', 'Skip bad rows']);
    const problems = vscode.fake.diagnostics.get('ICL Lab')!.get(bad)!;
    assert.deepEqual(problems.map((d) => [d.range.start.line, d.range.start.character, d.source]), [[2, 83, 'ICL Lab'], [9, 0, 'ICL Lab']]);
    // Open: the file, at the bad row.
    assert.equal(vscode.fake.shown.at(-1)?.uri.fsPath, bad);
  });

  it('goes on with a copy without the bad rows when the user skips them', async () => {
    vscode.fake.messageChoices.push('Skip bad rows');
    answerWizard();
    const plan = await runWizard(vscode.Uri.file(bad) as never, path.join(root, 'runs'));
    assert.ok(plan);
    const config = parseRunConfig(await readFile(plan.configFile, 'utf8'), plan.configFile);
    assert.equal(config.data.file, path.join(root, 'bad.good-rows.jsonl'));
    assert.equal((await readFile(config.data.file, 'utf8')).trim().split('\n').length, 28);
    assert.ok(vscode.fake.messages.some((m) => /bad\.good-rows\.jsonl: 28 rows, 2 bad rows left out \(bad\.jsonl is unchanged\)/.test(m)), vscode.fake.messages.join('\n'));
  });

  it('reports a non-GGUF model before any question, offers Select Model…, and goes on with the model chosen', async () => {
    vscode.fake.settings['modelPath'] = path.join(root, 'notes.bin');
    vscode.commands.registerCommand('iclLab.selectModel', () => void (vscode.fake.settings['modelPath'] = model));
    vscode.fake.messageChoices.push('Select Model…');
    vscode.fake.quickPicks.push(undefined);
    const plan = await runWizard(vscode.Uri.file(good) as never, path.join(root, 'runs'));
    assert.equal(plan, undefined, 'dismissed at the first question');
    const [shown] = vscode.fake.notifications;
    assert.match(shown!.text, /^ICL Lab: the configured model cannot be used: .*notes\.bin is not a GGUF file/);
    assert.deepEqual(shown!.buttons, ['Select Model…']);
    assert.equal(vscode.fake.quickPickCalls.length, 1, 'the questions start once the model is good');
    assert.ok(!existsSync(path.join(root, 'good.run.yaml')));
    assert.equal(vscode.fake.diagnostics.get('ICL Lab')!.get(good)?.length ?? 0, 0);
  });

  it('offers no SAE strategy (the config it writes has no `sae:`), says where they come from, and every pick makes a config that loads', async () => {
    vscode.fake.quickPicks.push((items) => items.filter((i) => i.label === 'text'), 'label', 'classification', 'Built-in template', (items) => items);
    vscode.fake.inputBoxes.push('negative,positive', '2, 4');
    const plan = await runWizard(vscode.Uri.file(good) as never, path.join(root, 'runs'));
    assert.ok(plan);
    const pick = vscode.fake.quickPickCalls.find((c) => /^Selection strategies/.test(c.options.title ?? ''))!;
    const offered = pick.items.map((i) => i.label);
    for (const strategy of saeStrategies) assert.ok(!offered.includes(strategy), `${strategy} offered`);
    assert.deepEqual(offered, runStrategyNames.filter((s) => !saeStrategies.includes(s)), 'every other strategy of a classification task');
    assert.match(pick.options.placeHolder ?? '', /sae-coverage and sae-diverse need a sparse autoencoder: add `sae: \{\}`/);
    // Everything offered, picked: the run config loads (a run refuses SAE strategies without `sae:`).
    const config = parseRunConfig(await readFile(plan.configFile, 'utf8'), plan.configFile);
    assert.deepEqual(config.selection.strategies, offered);
    assert.equal(config.sae, undefined);
  });
});
