// The extension's commands in a real VS Code, against the demo model, in a workspace holding the
// demo dataset (test/integration/runIntegration.ts prepares both). Questions are answered the way
// a user accepting every default would: the quick input's accept, again until the outcome shows.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { poolings } from '../../../src/core/stats/activationStatistics.js';

const workspace = process.env['ICL_LAB_IT_WORKSPACE'] ?? '';
const dataFile = path.join(workspace, 'demo.jsonl');
const runsRoot = path.join(workspace, '.icl-lab', 'runs');
const extensionId = 'icl-lab.icl-activation-lab';
const runTimeoutMs = 15 * 60_000;
/** Layers of the demo model (runIntegration.ts passes them; the suite avoids importing the CLI). */
const modelLayers = Number(process.env['ICL_LAB_IT_LAYERS'] ?? 0);

interface RunJson {
  readonly status: string;
  readonly error?: string;
  readonly phases?: Record<string, { status: string }>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** Accepts whatever quick input shows (its default answer), again and again, until `done` holds. */
async function acceptDefaultsUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s answering the questions of ${what}`);
    await sleep(800);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  }
}

function readRunJson(dir: string): RunJson | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunJson;
  } catch {
    return undefined;
  }
}

function runFolders(): string[] {
  return existsSync(runsRoot) ? readdirSync(runsRoot).map((name) => path.join(runsRoot, name)) : [];
}

async function waitForRunStatus(dir: string, status: string, timeoutMs = runTimeoutMs): Promise<RunJson> {
  const record = await waitFor(() => {
    const r = readRunJson(dir);
    return r && r.status !== 'running' ? r : undefined;
  }, timeoutMs, `${path.basename(dir)} to finish`);
  assert.equal(record.status, status, `${path.basename(dir)} ended ${record.status}${record.error ? `: ${record.error}` : ''}`);
  return record;
}

function webviewTabs(viewType: string): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));
}

describe('ICL Lab in VS Code', function () {
  this.timeout(120_000);
  let completedRun: string | undefined;

  before(async () => {
    assert.ok(workspace && existsSync(dataFile), `ICL_LAB_IT_WORKSPACE (${workspace}) holds no demo.jsonl: run through runIntegration.ts`);
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `${extensionId} is not loaded`);
    await extension.activate();
  });

  after(async () => {
    // Runs are detached processes: leave none behind.
    for (const dir of runFolders()) {
      if (readRunJson(dir)?.status === 'running') await vscode.commands.executeCommand('iclLab.cancelRun', dir).then(undefined, () => undefined);
    }
  });

  it('registers every command it declares', async () => {
    const declared = (vscode.extensions.getExtension(extensionId)!.packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands.map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(declared.filter((c) => !registered.has(c)), []);
  });

  it('shows its Runs and Model views', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.iclLab');
    await vscode.commands.executeCommand('iclLab.runs.focus');
    await vscode.commands.executeCommand('iclLab.model.focus');
    await vscode.commands.executeCommand('iclLab.refreshRuns');
  });

  it('Extract Activations writes every example × layer × pooling row of the dataset', async function () {
    this.timeout(runTimeoutMs);
    const document = await vscode.workspace.openTextDocument(dataFile);
    await vscode.window.showTextDocument(document);
    const out = path.join(workspace, '.icl-lab', 'demo.isolated.stats.csv');
    void vscode.commands.executeCommand('iclLab.extractActivations', document.uri);
    await acceptDefaultsUntil(() => existsSync(out), 120_000, 'Extract Activations');
    assert.ok(modelLayers > 0, 'ICL_LAB_IT_LAYERS is not set');
    const expectedRows = 60 * modelLayers * poolings.length;
    const lines = await waitFor(() => {
      const text = readFileSync(out, 'utf8').trim().split('\n');
      return text.length >= expectedRows + 1 ? text : undefined;
    }, runTimeoutMs, `${expectedRows} rows in ${out}`);
    assert.match(lines[0]!, /^example,layer,mask,pooling,mean,variance,skewness,kurtosis/);
    assert.ok(lines.slice(1).every((l) => l.split(',')[2] === 'isolated'));
  });

  it('Run Active Learning on Dataset… writes demo.run.yaml beside the data and completes a run in .icl-lab/runs', async function () {
    this.timeout(runTimeoutMs + 180_000);
    const before = new Set(runFolders());
    const configFile = path.join(workspace, 'demo.run.yaml');
    void vscode.commands.executeCommand('iclLab.runActiveLearning', vscode.Uri.file(dataFile));
    await acceptDefaultsUntil(() => existsSync(configFile), 120_000, 'the run wizard');
    const config = readFileSync(configFile, 'utf8');
    assert.match(config, /strategies:\s*\n\s*- random\s*\n\s*- highest-first\s*\n\s*- k-center-greedy\s*\n\s*- top-quality/, config);
    assert.match(config, /budgets:\s*\n\s*- 2\s*\n\s*- 4/, config);
    const dir = await waitFor(() => runFolders().find((d) => !before.has(d) && existsSync(path.join(d, 'run.json'))), 120_000, 'a new run folder');
    await waitForRunStatus(dir, 'complete');
    for (const file of ['stats.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv', 'report.html']) {
      assert.ok(existsSync(path.join(dir, file)), `${file} is missing from ${dir}`);
    }
    completedRun = dir;
  });

  for (const [command, viewType] of [
    ['iclLab.showCorrelations', 'iclLab.correlations'],
    ['iclLab.showHistograms', 'iclLab.histograms'],
    ['iclLab.showLearningCurves', 'iclLab.learningCurves'],
  ] as const) {
    it(`${command} opens its panel for the finished run`, async function () {
      if (!completedRun) this.skip();
      await vscode.commands.executeCommand(command, completedRun);
      await waitFor(() => webviewTabs(viewType).length > 0, 30_000, `a ${viewType} webview tab`);
    });
  }

  it('Run the Demo Study prepares icl-lab-demo/; Cancel Run stops its run and Resume Run finishes it', async function () {
    this.timeout(2 * runTimeoutMs);
    const before = new Set(runFolders());
    void vscode.commands.executeCommand('iclLab.runDemo');
    const demoDir = path.join(workspace, 'icl-lab-demo');
    for (const file of ['demo.jsonl', 'demo-model.gguf', 'demo.run.yaml']) {
      await waitFor(() => existsSync(path.join(demoDir, file)), 180_000, `icl-lab-demo/${file}`);
    }
    const dir = await waitFor(() => runFolders().find((d) => !before.has(d) && readRunJson(d)?.status === 'running'), 180_000, "the demo's run to start");
    // Cancel once some work is done, so the resume has units to reuse.
    await waitFor(() => readRunJson(dir)?.phases?.['extract']?.status === 'complete' || readRunJson(dir)?.status !== 'running', runTimeoutMs, 'the extract phase');
    if (readRunJson(dir)?.status === 'running') {
      await vscode.commands.executeCommand('iclLab.cancelRun', dir);
      await waitForRunStatus(dir, 'cancelled', 60_000);
      void vscode.commands.executeCommand('iclLab.resumeRun', dir);
      await waitFor(() => readRunJson(dir)?.status === 'running', 60_000, 'the resumed run to start');
    }
    await waitForRunStatus(dir, 'complete');
  });
});
