import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { testModelPath, tinyQwen2 } from '../engine/generatedModels.js';
import type * as FakeVscode from '../support/fakeVscode.js';

// The run glue against a stand-in `vscode` (test/support/fakeVscode.ts) and the real CLI and
// engine (dist/, built by `npm test` before mocha): the wizard's answers become a run config and a
// detached `icl-lab run` process, followed through its log to the end; cancel and resume go
// through the commands a user clicks.

describe('runs from the editor', function () {
  this.timeout(300_000);
  let vscode: typeof FakeVscode;
  let root: string;
  let data: string;
  let runsRoot: string;
  let views: { getChildren(node?: unknown): Promise<unknown[]>; getTreeItem(node: unknown): FakeVscode.TreeItem };

  const answerWizard = (strategies: string[]): void => {
    vscode.fake.quickPicks.push(
      (items) => items.filter((i) => i.label === 'text'),
      'label',
      'classification',
      'Built-in template',
      (items) => items.filter((i) => strategies.includes(i.label)),
    );
    // The label words (pre-filled: each label is its own word), then the budgets.
    vscode.fake.inputBoxes.push('negative,positive', '2, 4');
  };
  const runDirs = async (): Promise<string[]> => (existsSync(runsRoot) ? (await readdir(runsRoot)).sort().map((name) => path.join(runsRoot, name)) : []);
  const until = async (what: string, check: () => Promise<boolean>, seconds = 120): Promise<void> => {
    const deadline = Date.now() + seconds * 1000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  before(async function () {
    if (!existsSync(path.join(packageRoot(), 'dist', 'cli.mjs'))) throw new Error('dist/cli.mjs is missing: run `npm run build` first (npm test does)');
    vscode = (await import('vscode')) as unknown as typeof FakeVscode;
    vscode.fake.reset();
    // Settings other tests left behind (a runs folder elsewhere) would send the runs astray.
    for (const key of Object.keys(vscode.fake.settings)) delete vscode.fake.settings[key];
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-run-views-'));
    runsRoot = path.join(root, '.icl-lab', 'runs');
    data = path.join(root, 'reviews.jsonl');
    await writeFile(data, demoRows(60, 5).map((row) => JSON.stringify(row)).join('\n') + '\n');
    (vscode.workspace as { workspaceFolders: unknown }).workspaceFolders = [{ uri: vscode.Uri.file(root) }];
    Object.assign(vscode.fake.settings, { modelPath: await testModelPath(tinyQwen2), masks: ['isolated'], gpu: 'cpu', threads: 2 });
    vscode.commands.registerCommand('setContext', () => undefined);
    const { createEngineHost } = await import('../../src/extension/engineHost.js');
    const { RunManager } = await import('../../src/extension/runs/runManager.js');
    const { RunsView } = await import('../../src/extension/runs/runsView.js');
    const { registerRunCommands } = await import('../../src/extension/runs/runCommands.js');
    const context = { subscriptions: [] as { dispose(): unknown }[], extensionPath: packageRoot() };
    const host = createEngineHost(context as never, vscode.window.createOutputChannel() as never);
    const manager = new RunManager(host);
    const view = new RunsView(manager);
    views = view as never;
    registerRunCommands(context as never, host, manager, view);
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('turns the wizard’s answers into <data>.run.yaml and a finished run, with progress and a closing notification', async () => {
    answerWizard(['random', 'top-quality']);
    await vscode.commands.executeCommand('iclLab.runActiveLearning', vscode.Uri.file(data));

    const config = await readFile(path.join(root, 'reviews.run.yaml'), 'utf8');
    assert.match(config, /inputs:\n\s+- text/);
    assert.match(config, /id: id/);
    assert.match(config, /strategies:\n\s+- random\n\s+- top-quality/);
    assert.match(config, /budgets:\n\s+- 2\n\s+- 4/);
    const [dir] = await runDirs();
    assert.ok(dir, 'a run folder under .icl-lab/runs');
    assert.ok(existsSync(path.join(dir, 'run.json')), `no run.json; run.log:\n${await readFile(path.join(dir, 'run.log'), 'utf8').catch(() => '(none)')}`);
    const record = JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8'));
    assert.equal(record.status, 'complete');
    for (const file of ['stats.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv', 'run.log']) assert.ok(existsSync(path.join(dir, file)), file);

    const notification = vscode.fake.progress.find((p) => p.title === `ICL Lab: ${path.basename(dir)}`);
    assert.ok(notification, 'a progress notification for the run');
    assert.ok(notification.messages.some((m) => /^evaluate \d+\/\d+ prompts/.test(m)), notification.messages.join(' | '));
    assert.ok(vscode.fake.messages.some((m) => m.startsWith(`ICL Lab: Run complete (${path.basename(dir)}): largest |ρ| =`)), vscode.fake.messages.join(' | '));

    const [node] = await views.getChildren();
    const item = views.getTreeItem(node);
    assert.equal(item.label, path.basename(dir));
    assert.equal(item.contextValue, 'run-complete');
    assert.match(item.description ?? '', /^complete · \|ρ\| \d\.\d\d$/);
    const facts = (await views.getChildren(node)).map((n) => views.getTreeItem(n));
    assert.ok(facts.some((f) => f.label === 'evaluate' && /^complete · /.test(f.description ?? '')));
    assert.ok(facts.some((f) => f.label === '|ρ| isolated'));
  });

  it('cancels a run from its command, keeps the finished work, and resumes it to completion', async () => {
    const before = await runDirs();
    answerWizard(['random', 'k-center-greedy', 'k-means++', 'vote-k', 'uncertainty', 'kate', 'top-quality']);
    Object.assign(vscode.fake.settings, { masks: ['isolated', 'shared-prefix', 'in-context'] });
    // The first run used reviews.run.yaml: the wizard asks before overwriting it. The stopped run's warning is answered with Resume.
    vscode.fake.messageChoices.push('Overwrite', 'Resume');
    const started = vscode.commands.executeCommand('iclLab.runActiveLearning', vscode.Uri.file(data));
    let dir = '';
    await until('the second run to report progress', async () => {
      dir = (await runDirs()).find((d) => !before.includes(d)) ?? '';
      return dir !== '' && existsSync(path.join(dir, 'run.log')) && (await readFile(path.join(dir, 'run.log'), 'utf8')).includes('"event":"progress"');
    });
    await vscode.commands.executeCommand('iclLab.cancelRun', dir);
    await started;
    const stopped = JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8'));
    assert.equal(stopped.status, 'cancelled', 'the cancel landed before the run finished');
    assert.ok(vscode.fake.messages.some((m) => m === `ICL Lab: ${path.basename(dir)} stopped; finished work is kept.`), vscode.fake.messages.join(' | '));

    // Resume (chosen on the warning) reuses the finished units and completes.
    await until('the resumed run to complete', async () => JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8')).status === 'complete');
    const log = await readFile(path.join(dir, 'run.log'), 'utf8');
    assert.match(log, /resuming .*: \d+ finished units are reused/);
    assert.ok(existsSync(path.join(dir, 'curves.csv')));
  });
});
