import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { RunPanelSource } from '../../src/extension/panels/panelData.js';
import { noSaeMessage, parseSaeFeatures, saeFigures } from '../../src/extension/panels/saeFeatures.js';
import type * as FakeVscode from '../support/fakeVscode.js';
import { syntheticLines, writeSyntheticRun, type SyntheticRun } from '../support/panelRunFolder.js';
import { hostileToken, saeFixture, writeSaeFixture } from './saeFixture.js';

// Issue 13 item 6 in the editor: the Features panel's payload from a run's sae/features.json and
// sae.json, the commands and menus the manifest promises, the no-SAE message, and ICL Lab: Train
// Sparse Autoencoder… driving a stand-in `icl-lab sae RUN_FOLDER` (progress, cancel, failure, then
// the panel). The `vscode` module is the stand-in of test/support/fakeVscode.ts.

describe('the Features panel and Train Sparse Autoencoder…', function () {
  this.timeout(60_000);

  describe('the manifest', () => {
    type Menu = { command: string; when: string; group?: string };
    let manifest: { activationEvents: string[]; contributes: { commands: { command: string; title: string; category: string }[]; menus: Record<string, Menu[]> } };
    before(async () => (manifest = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8'))));

    /** Whether a runs-view item with this contextValue shows `command` in its context menu (the `viewItem` clauses of its when). */
    const shows = (command: string, contextValue: string): boolean =>
      manifest.contributes.menus['view/item/context']!.filter((m) => m.command === command && !(m.group ?? '').startsWith('inline')).some((m) =>
        m.when.split('&&').every((clause) => {
          const c = clause.trim();
          if (c === 'view == iclLab.runs') return true;
          const regex = /^viewItem =~ \/(.*)\/$/.exec(c);
          if (regex) return new RegExp(regex[1]!).test(contextValue);
          const equals = /^viewItem (==|!=) (.*)$/.exec(c);
          if (equals) return (equals[2] === contextValue) === (equals[1] === '==');
          throw new Error(`unexpected clause ${c}`);
        }),
      );

    it('contributes ICL Lab: Show SAE Features and ICL Lab: Train Sparse Autoencoder…, and revives the Features panel', () => {
      const titles = new Map(manifest.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]));
      assert.equal(titles.get('iclLab.showFeatures'), 'ICL Lab: Show SAE Features');
      assert.equal(titles.get('iclLab.trainSae'), 'ICL Lab: Train Sparse Autoencoder…');
      assert.ok(manifest.activationEvents.includes('onWebviewPanel:iclLab.features'));
    });

    it('offers Show SAE Features on runs with an SAE and Train Sparse Autoencoder… on finished runs, and keeps every other item where it was', () => {
      assert.ok(shows('iclLab.showFeatures', 'run-complete-sae'));
      assert.ok(!shows('iclLab.showFeatures', 'run-complete'));
      assert.ok(shows('iclLab.trainSae', 'run-complete'));
      assert.ok(shows('iclLab.trainSae', 'run-complete-sae'));
      assert.ok(!shows('iclLab.trainSae', 'run-failed'));
      for (const sae of ['', '-sae']) {
        assert.ok(shows('iclLab.openReport', `run-complete${sae}`));
        assert.ok(shows('iclLab.compareRuns', `run-complete${sae}`));
        assert.ok(shows('iclLab.cancelRun', `run-running${sae}`));
        assert.ok(!shows('iclLab.deleteRun', `run-running${sae}`));
        assert.ok(shows('iclLab.deleteRun', `run-complete${sae}`));
        assert.ok(shows('iclLab.resumeRun', `run-cancelled${sae}`));
        assert.ok(!shows('iclLab.resumeRun', `run-cancelled-nothing-to-resume${sae}`));
      }
      assert.ok(!shows('iclLab.openReport', 'run-failed'));
      assert.ok(shows('iclLab.deleteRun', 'run-failed-nothing-to-resume'));
    });
  });

  describe('the panel payload', () => {
    let run: SyntheticRun;
    let source: RunPanelSource;
    beforeEach(async () => {
      run = await writeSyntheticRun();
      source = new RunPanelSource(run.dir);
    });
    afterEach(async () => run.cleanup());

    it('lists the features of sae/features.json without their examples, with sae.json’s known figures in order', async () => {
      await writeSaeFixture(run.dir);
      const data = await source.featuresData();
      assert.equal(data.type, 'features/data');
      assert.equal(data.run.name, 'synthetic');
      assert.deepEqual(data.notes, []);
      assert.deepEqual(data.sae, { model: 'tiny (llama, generated)', site: 'mlp_out', layer: 1, latents: 64, k: 4 });
      // Known numeric fields only (backend, epochLoss, format left out; the string trainTokens gives way to the nested number).
      assert.deepEqual(data.figures, [
        { name: 'varianceExplained', value: 0.8125 },
        { name: 'l0', value: 4 },
        { name: 'deadLatents', value: 6 },
        { name: 'lossRecovered', value: 0.9 },
        { name: 'trainTokens', value: 20_000 },
        { name: 'trainingMs', value: 61_000 },
        { name: 'tokensPerSecond', value: 5400.4 },
      ]);
      assert.deepEqual(data.features, [
        { latent: 7, density: 0.0125, qualityRho: 0.42, qualityP: 0.003, examples: 2, maxActivation: 3.5 },
        { latent: 3, density: 0.25, qualityRho: -0.61, qualityP: 0.0004, examples: 1, maxActivation: 2 },
        { latent: 12, density: 0.5, qualityRho: null, qualityP: null, examples: 0, maxActivation: null },
      ]);
      // JSON all the way (null, never NaN).
      assert.deepEqual(JSON.parse(JSON.stringify(data)), data);
    });

    it('answers a feature’s examples token by token, dataset text as it is (the webview escapes), and reveals an example’s row', async () => {
      await writeSaeFixture(run.dir);
      const answer = await source.featureExamples(7, 9);
      assert.equal(answer.type, 'feature/examples');
      assert.equal(answer.requestId, 9);
      assert.deepEqual(answer.examples[0], { example: 2, id: 'c', line: syntheticLines[2], maxActivation: 3.5, tokens: [{ text: hostileToken, activation: 3.5 }, { text: ' fine', activation: 0 }] });
      await assert.rejects(source.featureExamples(99, 10), /sae\/features\.json has no latent 99/);
      assert.deepEqual(await source.exampleLocation(2), { file: run.datasetFile, line: syntheticLines[2] });
    });

    it('says what to do when the run has no sparse autoencoder', async () => {
      const data = await source.featuresData();
      assert.deepEqual(data.features, []);
      assert.equal(data.sae, undefined);
      assert.deepEqual(data.notes, [`No sae/features.json: ${noSaeMessage}.`]);
    });

    it('names the first bad field of a malformed features.json, and the file', async () => {
      const broken = structuredClone(saeFixture.features) as { features: { examples: { tokens: { activation: unknown }[] }[] }[] };
      broken.features[0]!.examples[1]!.tokens[2]!.activation = '0.5';
      await mkdir(path.join(run.dir, 'sae'));
      await writeFile(path.join(run.dir, 'sae', 'features.json'), JSON.stringify(broken));
      await assert.rejects(source.featuresData(), (error: Error) => {
        assert.equal(error.message, `${path.join(run.dir, 'sae', 'features.json')}: features[0].examples[1].tokens[2].activation: must be a number or null, got "0.5"`);
        return true;
      });
      await writeFile(path.join(run.dir, 'sae', 'features.json'), '{"model":');
      source.invalidate();
      await assert.rejects(source.featuresData(), /features\.json: invalid JSON/);
    });

    it('reads ids that are numbers as text and takes no figure that is not a finite number', () => {
      const parsed = parseSaeFeatures({ ...saeFixture.features, features: [{ latent: 0, density: 0, examples: [{ example: 1, id: 17, maxActivation: 1, tokens: [] }] }] });
      assert.equal(parsed.features[0]!.examples[0]!.id, '17');
      assert.ok(Number.isNaN(parsed.features[0]!.qualityRho), 'a missing ρ reads as none');
      assert.throws(() => parseSaeFeatures({ ...saeFixture.features, layer: -1 }), /^Error: layer: must be a whole number ≥ 0, got -1$/);
      assert.deepEqual(saeFigures({ l0: 'x', varianceExplained: null, deadLatents: [1] }), []);
      assert.deepEqual(saeFigures('not an object'), []);
    });
  });

  describe('the commands', () => {
    let vscode: typeof FakeVscode;
    let run: SyntheticRun;
    let runsRoot: string;
    let script = '';
    const output: string[] = [];
    const restore: (() => void)[] = [];
    /** Webview panels the commands showed, opened or revealed again (view type and title). */
    const panels: { viewType: string; title: string }[] = [];

    /** A stand-in for `icl-lab sae RUN_FOLDER` doing what `body` says (`dir` is the run folder). */
    const standIn = async (name: string, body: string): Promise<void> => {
      script = path.join(run.root, `${name}.mjs`);
      await writeFile(
        script,
        `import { mkdirSync, writeFileSync } from 'node:fs';
const [command, dir] = process.argv.slice(2);
if (command !== 'sae') { console.error('error: expected icl-lab sae RUN_FOLDER, got ' + process.argv.slice(2).join(' ')); process.exit(2); }
${body}
`,
      );
    };

    before(async () => {
      vscode = (await import('vscode')) as unknown as typeof FakeVscode;
      vscode.fake.reset();
      for (const key of Object.keys(vscode.fake.settings)) delete vscode.fake.settings[key];
      run = await writeSyntheticRun();
      runsRoot = path.dirname(run.dir);
      (vscode.workspace as { workspaceFolders: unknown }).workspaceFolders = [{ uri: vscode.Uri.file(run.root) }];
      vscode.fake.settings['runsFolder'] = runsRoot;
      // What ChartPanel needs of a webview beyond the shared stand-in (restored after these tests).
      const window = vscode.window as unknown as Record<string, unknown>;
      const uri = vscode.Uri as unknown as Record<string, unknown>;
      const original = { createWebviewPanel: window['createWebviewPanel'], registerWebviewPanelSerializer: window['registerWebviewPanelSerializer'], joinPath: uri['joinPath'] };
      restore.push(() => Object.assign(window, { createWebviewPanel: original.createWebviewPanel, registerWebviewPanelSerializer: original.registerWebviewPanelSerializer }), () => (uri['joinPath'] = original.joinPath));
      const none = { dispose() {} };
      window['registerWebviewPanelSerializer'] = () => none;
      uri['joinPath'] = (base: FakeVscode.Uri, ...parts: string[]) => vscode.Uri.file(path.join(base.fsPath, ...parts));
      window['createWebviewPanel'] = (viewType: string, title: string) => {
        // A live page: it answers the panel's liveness ping (ChartPanel.expectWebview).
        const listeners: ((message: unknown) => void)[] = [];
        const panel = {
          viewType,
          title,
          iconPath: undefined as unknown,
          viewColumn: 1,
          visible: true,
          webview: {
            html: '',
            options: {},
            cspSource: 'vscode-webview:',
            asWebviewUri: (u: FakeVscode.Uri) => u,
            onDidReceiveMessage: (listener: (message: unknown) => void) => (listeners.push(listener), none),
            postMessage: async (message: { type?: string }) => {
              if (message.type === 'ping') setImmediate(() => listeners.forEach((l) => l({ type: 'pong' })));
              return true;
            },
          },
          onDidChangeViewState: () => none,
          reveal() {
            panels.push({ viewType, title: panel.title });
          },
          onDidDispose: () => none,
          dispose() {},
        };
        panels.push(panel);
        return panel;
      };
      vscode.commands.registerCommand('setContext', () => undefined);
      vscode.commands.registerCommand('iclLab.refreshRuns', () => undefined);
      const { registerPanels } = await import('../../src/extension/panels/registerPanels.js');
      const { registerSaeCommands } = await import('../../src/extension/sae/saeCommands.js');
      const context = { subscriptions: [] as { dispose(): unknown }[], extensionUri: vscode.Uri.file(packageRoot()), extensionPath: packageRoot() };
      const host = {
        output: { appendLine: (line: string) => output.push(line), show() {}, dispose() {} },
        cli: (args: readonly string[]) => ({ command: process.execPath, args: [script, ...args], env: process.env }),
        modelInfo: () => Promise.reject(new Error('no engine here')),
        countTokens: () => Promise.reject(new Error('no engine here')),
        dispose: async () => undefined,
      };
      registerPanels(context as never);
      registerSaeCommands(context as never, host as never);
    });
    after(async () => {
      for (const undo of restore) undo();
      await run.cleanup();
    });
    beforeEach(async () => {
      vscode.fake.notifications.length = 0;
      vscode.fake.messages.length = 0;
      vscode.fake.progress.length = 0;
      panels.length = 0;
      output.length = 0;
      await rm(path.join(run.dir, 'sae'), { recursive: true, force: true });
    });

    it('says the run has no sparse autoencoder (offering to train one) instead of opening an empty panel', async () => {
      vscode.fake.messageChoices.push(undefined);
      await vscode.commands.executeCommand('iclLab.showFeatures', run.dir);
      assert.deepEqual(vscode.fake.notifications, [
        { text: 'ICL Lab: this run has no sparse autoencoder: add `sae: {}` to its config or run ICL Lab: Train Sparse Autoencoder…', buttons: ['Train Sparse Autoencoder…'] },
      ]);
      assert.deepEqual(panels, []);
      // From the palette, with no run holding one: one message, no pick.
      await vscode.commands.executeCommand('iclLab.showFeatures');
      assert.match(vscode.fake.notifications[1]!.text, /^ICL Lab: no run has a sparse autoencoder yet: add `sae: \{\}` to a run's config/);
      assert.deepEqual(panels, []);
    });

    it('opens the Features panel on a run with sae/features.json, picked by itself from the palette', async () => {
      await writeSaeFixture(run.dir);
      await vscode.commands.executeCommand('iclLab.showFeatures');
      assert.deepEqual(panels.map((p) => [p.viewType, p.title]), [['iclLab.features', 'SAE Features: synthetic']]);
      assert.deepEqual(vscode.fake.notifications, []);
    });

    it('trains with `icl-lab sae RUN_FOLDER`, shows its progress lines, and opens the Features panel when it is done', async () => {
      await standIn(
        'sae-ok',
        `console.error('sae: training on 1,024 tokens');
console.error('train 40/80 steps  812.0 tok/s  ETA 3s');
console.error(JSON.stringify({ event: 'progress', phase: 'sae', done: 80, total: 80, unit: 'steps', rate: 9.5, etaSeconds: 0 }));
console.error(JSON.stringify({ event: 'log', message: 'sae: variance explained 0.81' }));
mkdirSync(dir + '/sae', { recursive: true });
writeFileSync(dir + '/sae/features.json', ${JSON.stringify(JSON.stringify(saeFixture.features))});`,
      );
      await vscode.commands.executeCommand('iclLab.trainSae', { run: { dir: run.dir } });
      const [progress] = vscode.fake.progress;
      assert.equal(progress?.title, 'ICL Lab: training a sparse autoencoder on synthetic');
      assert.deepEqual(progress?.messages, ['train 40/80 steps  812.0 tok/s  ETA 3s', 'sae 80/80 steps · 9.5 steps/s · ETA 0s']);
      assert.ok(output.includes(`$ icl-lab sae ${run.dir} --progress json`), output.join('\n'));
      assert.ok(output.includes('sae: training on 1,024 tokens'));
      assert.ok(output.includes('sae: variance explained 0.81'), 'a log event’s message, not its JSON');
      assert.deepEqual(panels.map((p) => p.viewType), ['iclLab.features']);
    });

    it('stops training on Cancel (SIGINT), says finished work is kept, and opens no panel', async () => {
      const started = path.join(run.root, 'started');
      await standIn(
        'sae-cancel',
        `writeFileSync(${JSON.stringify(started)}, '');
process.on('SIGINT', () => { console.error('cancelled: finished epochs are kept'); process.exit(130); });
setInterval(() => console.error('train 1/80 steps'), 100);`,
      );
      await rm(started, { force: true });
      const done = vscode.commands.executeCommand('iclLab.trainSae', run.dir);
      const deadline = Date.now() + 20_000;
      while (!(await readFile(started).then(() => true, () => false)) || vscode.fake.progress.length === 0) {
        if (Date.now() > deadline) throw new Error('the stand-in never started');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      vscode.fake.progress[0]!.cancel();
      await done;
      assert.deepEqual(vscode.fake.notifications, [{ text: 'ICL Lab: training the sparse autoencoder of synthetic stopped; finished work is kept.', buttons: ['Show Log'] }]);
      assert.deepEqual(panels, []);
    });

    it('marks a run with an SAE in the Runs view (contextValue run-complete-sae: Show SAE Features in its menu)', async () => {
      const runJson = path.join(run.dir, 'run.json');
      const original = await readFile(runJson, 'utf8');
      await writeFile(runJson, JSON.stringify({ ...JSON.parse(original), data: { file: run.datasetFile, pool: 5, probe: 0, test: 0 }, phases: {} }));
      try {
        const { RunsView } = await import('../../src/extension/runs/runsView.js');
        const view = new RunsView({ onDidChange: () => ({ dispose() {} }), progressOf: () => undefined } as never);
        const contextValue = async () => view.getTreeItem((await view.getChildren())[0]!).contextValue;
        assert.equal(await contextValue(), 'run-complete');
        await writeSaeFixture(run.dir);
        assert.equal(await contextValue(), 'run-complete-sae');
        view.dispose();
      } finally {
        await writeFile(runJson, original);
      }
    });

    it('reports a failed training by its error: line', async () => {
      await standIn('sae-fail', `console.error('loading'); console.error('error: ' + dir + ': no activations to train on (raw/ is empty)'); process.exit(1);`);
      await vscode.commands.executeCommand('iclLab.trainSae', run.dir);
      assert.deepEqual(vscode.fake.notifications, [{ text: `ICL Lab: training the sparse autoencoder of synthetic failed: ${run.dir}: no activations to train on (raw/ is empty)`, buttons: ['Show Log'] }]);
      assert.deepEqual(panels, []);
    });
  });
});
