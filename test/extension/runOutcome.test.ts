import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import type { RunRecord } from '../../src/core/experiment/runExperiment.js';
import { describeFailure, errorLocation, firstErrorLine, isInterruptedComputeLine, isResumable } from '../../src/extension/runs/runOutcome.js';
import type * as FakeVscode from '../support/fakeVscode.js';

// Honest failures (issue 11 item 16): what a failed or cancelled run's notification says and
// offers, which runs Resume Run lists, and that failed runs show in the Runs view. The `icl-lab run`
// process is a small stand-in script (no engine), so these run in a second.

const record = (fields: Partial<RunRecord>): RunRecord => ({
  format: 'icl-lab-run/1',
  status: 'failed',
  startedAt: '2026-01-01T00:00:00.000Z',
  pid: 999_999_999,
  seed: 1,
  config: {},
  data: { file: 'reviews.jsonl', pool: 0, probe: 0, test: 0 },
  versions: {},
  phases: {},
  ...fields,
});
const model = { path: '/models/m.gguf', architecture: 'qwen2', layers: 2, embeddingLength: 8, quantization: 'ALL_F32', sha256: 'ab'.repeat(32) } as unknown as RunRecord['model'];

describe('honest run failures in the editor', function () {
  this.timeout(60_000);
  let root: string;
  before(async () => (root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-outcome-'))));
  after(async () => rm(root, { recursive: true, force: true }));

  describe('the pure parts', () => {
    it('takes the first error: line of a run’s output, not a later one', () => {
      assert.equal(firstErrorLine(['loading', 'error: /d/bad.jsonl:3:84: Unexpected token', 'error: later']), '/d/bad.jsonl:3:84: Unexpected token');
      assert.equal(firstErrorLine(['all fine']), undefined);
    });

    it('offers to open the file at the line for a dataset error, and never Resume when nothing can be resumed', () => {
      const failure = describeFailure('bad-1', '/d/bad.jsonl:3:84: Unexpected token } in JSON', { resumable: false, modelPath: '/m.gguf' });
      assert.equal(failure.message, 'ICL Lab: bad-1 failed: /d/bad.jsonl:3:84: Unexpected token } in JSON');
      assert.deepEqual(failure.actions, ['Open File', 'Show Log']);
      assert.deepEqual(failure.location, { file: '/d/bad.jsonl', line: 3, column: 84 });
      assert.deepEqual(errorLocation('C:\\d\\bad.jsonl:12: missing field "label"'), { file: 'C:\\d\\bad.jsonl', line: 12 });
    });

    it('offers Select Model… for a non-GGUF model, and Resume only when the run is resumable', () => {
      const notGguf = describeFailure('r', '/m/model.bin: not a GGUF file (it does not start with the "GGUF" magic)', { resumable: false, modelPath: '/m/model.bin' });
      assert.deepEqual(notGguf.actions, ['Select Model…', 'Show Log']);
      assert.deepEqual(describeFailure('r', 'evaluate: out of memory', { resumable: true }).actions, ['Resume', 'Show Log']);
    });

    it('calls a run resumable only with a loaded model, a stopped state and checkpoints on disk', async () => {
      const dir = path.join(root, 'resumable');
      await mkdir(dir, { recursive: true });
      assert.equal(await isResumable(dir, record({ status: 'failed', error: 'x' })), false, 'failed before its model loaded');
      assert.equal(await isResumable(dir, record({ status: 'cancelled', model })), false, 'no checkpoints yet');
      await mkdir(path.join(dir, 'checkpoints'));
      await writeFile(path.join(dir, 'checkpoints', 'extract-isolated-0.json'), '{}\n');
      assert.equal(await isResumable(dir, record({ status: 'cancelled', model })), true);
      assert.equal(await isResumable(dir, record({ status: 'complete', model })), false);
    });

    it('knows llama.cpp’s interrupted-compute lines', () => {
      assert.ok(isInterruptedComputeLine('graph_compute: ggml_backend_sched_graph_compute_async failed with error -1'));
      assert.ok(isInterruptedComputeLine('llama_decode: failed to decode, ret = -3'));
      assert.ok(!isInterruptedComputeLine('error: /d/bad.jsonl:3:84: Unexpected token'));
    });
  });

  describe('with the run glue', () => {
    let vscode: typeof FakeVscode;
    let runsRoot: string;
    let script: string;
    const output: string[] = [];
    let views: { getChildren(node?: unknown): Promise<unknown[]>; getTreeItem(node: unknown): FakeVscode.TreeItem };
    let manager: { start(config: string, dir: string, options: { resume: boolean }): Promise<unknown>; cancel(dir: string): Promise<void> };

    /** A stand-in for `icl-lab run CONFIG --out DIR …` that does what `body` says. */
    const standIn = async (name: string, body: string): Promise<void> => {
      script = path.join(root, `${name}.mjs`);
      await writeFile(
        script,
        `import { writeFileSync, mkdirSync } from 'node:fs';
const out = process.argv[process.argv.indexOf('--out') + 1];
mkdirSync(out, { recursive: true });
const write = (fields) => writeFileSync(out + '/run.json', JSON.stringify({ format: 'icl-lab-run/1', startedAt: new Date().toISOString(), pid: process.pid, seed: 1, config: { model: ${JSON.stringify(model!.path)} }, data: { file: 'reviews.jsonl', pool: 4, probe: 2, test: 2 }, versions: {}, phases: {}, ...fields }));
${body}
`,
      );
    };

    before(async () => {
      vscode = (await import('vscode')) as unknown as typeof FakeVscode;
      vscode.fake.reset();
      for (const key of Object.keys(vscode.fake.settings)) delete vscode.fake.settings[key];
      (vscode.workspace as { workspaceFolders: unknown }).workspaceFolders = [{ uri: vscode.Uri.file(root) }];
      runsRoot = path.join(root, '.icl-lab', 'runs');
      vscode.commands.registerCommand('setContext', () => undefined);
      const { RunManager } = await import('../../src/extension/runs/runManager.js');
      const { RunsView } = await import('../../src/extension/runs/runsView.js');
      const { registerRunCommands } = await import('../../src/extension/runs/runCommands.js');
      const host = {
        output: { appendLine: (line: string) => output.push(line), show() {}, dispose() {} },
        cli: (args: readonly string[]) => ({ command: process.execPath, args: [script, ...args], env: process.env }),
        modelInfo: () => Promise.reject(new Error('no engine here')),
        countTokens: () => Promise.reject(new Error('no engine here')),
        dispose: async () => undefined,
      };
      const real = new RunManager(host as never);
      manager = real as never;
      const view = new RunsView(real);
      views = view as never;
      registerRunCommands({ subscriptions: [] } as never, host as never, real, view);
    });

    it('shows a dataset failure’s first error: line with Open File, without Resume, and the failed run in the Runs view', async () => {
      const data = path.join(root, 'bad.jsonl');
      await standIn('bad-data', `write({ status: 'failed', error: ${JSON.stringify(`${data}:3:84: Unexpected token } in JSON at position 83`)} });
console.error('loading ${data}');
console.error('error: ${data}:3:84: Unexpected token } in JSON at position 83');
console.error('error: a second line that is not the first');
process.exitCode = 1;`);
      const dir = path.join(runsRoot, 'bad-1');
      vscode.fake.notifications.length = 0;
      await manager.start(path.join(root, 'bad.run.yaml'), dir, { resume: false });
      const shown = vscode.fake.notifications.find((n) => n.text.includes('bad-1 failed'));
      assert.ok(shown, JSON.stringify(vscode.fake.notifications));
      assert.equal(shown.text, `ICL Lab: bad-1 failed: ${data}:3:84: Unexpected token } in JSON at position 83`);
      assert.deepEqual(shown.buttons, ['Open File', 'Show Log']);

      const [node] = await views.getChildren();
      const item = views.getTreeItem(node);
      assert.equal(item.label, 'bad-1');
      // Failed before any work: no Resume in the view (package.json offers it for run-failed only).
      assert.equal(item.contextValue, 'run-failed-nothing-to-resume');
      const facts = (await views.getChildren(node)).map((n) => views.getTreeItem(n));
      assert.ok(facts.some((f) => f.label === 'error' && f.description?.includes('bad.jsonl:3:84')), JSON.stringify(facts));
      assert.ok(facts.some((f) => f.label === 'model' && /not loaded/.test(f.description ?? '')));
    });

    it('says no run can be resumed (not "no run to show yet") when only unresumable runs exist', async () => {
      vscode.fake.notifications.length = 0;
      await vscode.commands.executeCommand('iclLab.resumeRun');
      assert.equal(vscode.fake.notifications.length, 1, JSON.stringify(vscode.fake.notifications));
      assert.match(vscode.fake.notifications[0]!.text, /^ICL Lab: no run can be resumed/);
    });

    it('lists a resumable run in Resume Run once one exists', async () => {
      const dir = path.join(runsRoot, 'stopped-1');
      await mkdir(path.join(dir, 'checkpoints'), { recursive: true });
      await writeFile(path.join(dir, 'checkpoints', 'extract-isolated-0.json'), '{}\n');
      await writeFile(path.join(dir, 'run.json'), JSON.stringify(record({ status: 'cancelled', model })));
      await standIn('resume', `write({ status: 'complete', model: ${JSON.stringify(model)} });`);
      await writeFile(path.join(dir, 'resume-config.yaml'), 'model: m.gguf\n');
      await writeFile(path.join(dir, 'run.json'), JSON.stringify(record({ status: 'cancelled', model, config: { configFile: path.join(dir, 'resume-config.yaml') } })));
      vscode.fake.notifications.length = 0;
      vscode.fake.messageChoices.push(undefined);
      // One resumable run among the two: it is taken without a pick, and resumed to completion.
      await vscode.commands.executeCommand('iclLab.resumeRun');
      const status = JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8')).status;
      assert.equal(status, 'complete');
    });

    it('opens Open Run Report in a webview (code-server opens no file:// link), scripts off, with a CSP', async () => {
      const dir = path.join(runsRoot, 'done-1');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'run.json'), JSON.stringify(record({ status: 'complete', model })));
      await writeFile(path.join(dir, 'report.html'), '<!DOCTYPE html><html><head><title>r</title></head><body><h1>ICL Lab report</h1><svg></svg><script>alert(1)</script></body></html>');
      vscode.fake.webviewPanels.length = 0;
      await vscode.commands.executeCommand('iclLab.openReport', dir);
      const [panel] = vscode.fake.webviewPanels;
      assert.ok(panel, 'a webview panel');
      assert.equal(panel.title, 'Report: done-1');
      assert.match(panel.webview.html, /<head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src vscode-webview: data:; style-src vscode-webview: 'unsafe-inline'/);
      assert.match(panel.webview.html, /<h1>ICL Lab report<\/h1><svg><\/svg>/);
      assert.doesNotMatch(panel.webview.html, /<script/);
      assert.equal((panel.options as { enableScripts: boolean }).enableScripts, false);
    });

    it('does not show llama.cpp’s graph_compute … failed lines as errors after a cancel, and offers Resume only with finished work', async () => {
      await standIn('cancel', `mkdirSync(out + '/checkpoints', { recursive: true });
writeFileSync(out + '/checkpoints/extract-isolated-0.json', '{}');
write({ status: 'running', model: ${JSON.stringify(model)} });
console.error(JSON.stringify({ event: 'progress', phase: 'extract', done: 1, total: 9, unit: 'units', rate: null, etaSeconds: null }));
process.on('SIGINT', () => {
  console.error('graph_compute: ggml_backend_sched_graph_compute_async failed with error -1');
  console.error('llama_decode: failed to decode, ret = -3');
  console.error('cancelled: cancelled during extract; finished work is kept: resume with --resume');
  write({ status: 'cancelled', model: ${JSON.stringify(model)} });
  process.exit(130);
});
setInterval(() => {}, 1000);`);
      const dir = path.join(runsRoot, 'cancel-1');
      vscode.fake.notifications.length = 0;
      output.length = 0;
      const started = manager.start(path.join(root, 'x.run.yaml'), dir, { resume: false });
      const deadline = Date.now() + 20_000;
      while (!(existsSync(path.join(dir, 'run.json')) && (await readFile(path.join(dir, 'run.log'), 'utf8').catch(() => '')).includes('progress'))) {
        if (Date.now() > deadline) throw new Error('the stand-in never started');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await manager.cancel(dir);
      await started;
      assert.ok(!output.some((line) => /graph_compute.*failed|failed to decode/.test(line)), output.join('\n'));
      assert.ok(output.some((line) => /stopping after the cancel/.test(line)), output.join('\n'));
      const shown = vscode.fake.notifications.find((n) => n.text.includes('cancel-1'));
      assert.deepEqual(shown, { text: 'ICL Lab: cancel-1 stopped; finished work is kept.', buttons: ['Resume', 'Show Log'] });
    });
  });
});
