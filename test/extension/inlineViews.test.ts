import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../support/fakeVscodeLoader.js';
import { parsePromptDocument } from '../../src/core/inspect/promptDocument.js';
import { labelSidecarPath, readLabelSidecar } from '../../src/core/labelling/labelSidecar.js';
import { readLabellingSession, writeLabellingSession } from '../../src/core/labelling/labellingSession.js';
import { writeSyntheticRun, type SyntheticRun } from '../support/syntheticRunFolder.js';
import type * as FakeVscode from '../support/fakeVscode.js';

// The inline views and the labelling commands against a stand-in `vscode` (test/support/fakeVscode.ts):
// the providers' output and the commands' effects on disk, without an editor.

const repo = path.resolve(new URL('../../', import.meta.url).pathname);

describe('inline views in the editor', function () {
  let vscode: typeof FakeVscode;
  let root: string;
  const context = () => ({ subscriptions: [] as { dispose(): unknown }[], extensionPath: repo, asAbsolutePath: (p: string) => path.join(repo, p) });

  before(async () => {
    vscode = (await import('vscode')) as unknown as typeof FakeVscode;
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-inline-views-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));
  beforeEach(() => vscode.fake.reset());

  describe('a finished run on the open data file', () => {
    let run: SyntheticRun;
    const counted: { texts: string[]; model: string }[] = [];
    let modelMissing = false;
    let document: FakeVscode.FakeDocument;

    before(async () => {
      run = await writeSyntheticRun(path.join(root, 'runs'), 'study');
    });
    beforeEach(async () => {
      vscode.fake.settings['runsFolder'] = path.join(root, 'runs');
      document = vscode.fakeDocument(vscode.Uri.file(run.dataFile));
      vscode.window.activeTextEditor = vscode.fakeEditor(document);
      vscode.window.visibleTextEditors = [vscode.window.activeTextEditor];
      const { registerInlineInspection } = await import('../../src/extension/inline/inlineInspection.js');
      registerInlineInspection(context() as never, {
        countTokens: async (texts, model) => {
          if (modelMissing) throw new Error(`${model}: file not found`);
          counted.push({ texts, model });
          return texts.map((t) => t.split(/\s+/).filter(Boolean).length);
        },
      });
    });

    it('puts a CodeLens above each row of the run\'s splits, with Preview Prompt on test rows and selected rows', async () => {
      const lenses = await vscode.fake.codeLensProviders[0]!.provider.provideCodeLenses(document);
      const selectedRow = run.splits.pool[3]!;
      const atRow = (index: number): string[] => lenses.filter((l) => l.range.start.line === index).map((l) => l.command!.title);
      assert.match(atRow(selectedRow.index).join(' | '), /^quality .* · kurtosis L2 .* · selected by random, round 1 \(\+1 more\) \| Preview Prompt \(random, seed 0, budget 2\)$/);
      assert.deepEqual(atRow(run.splits.test[0]!.index), ['test row', 'Preview Prompt']);
      const rowsWithLenses = new Set(lenses.map((l) => l.range.start.line));
      assert.equal(rowsWithLenses.size, run.splits.pool.length + run.splits.probe.length + run.splits.test.length);
    });

    it('hovers over a row with its layer table', async () => {
      const row = run.splits.pool[1]!;
      const hover = await vscode.fake.hoverProviders[0]!.provider.provideHover(document, new vscode.Position(row.index, 3));
      assert.match(hover!.contents.value, /\| layer \| mean \| variance \| skewness \| kurtosis \| max_abs \|/);
      // Editor lines count from 1, rows from 0: the hover names both, so "row 2" is not read as line 2.
      assert.match(hover!.contents.value, new RegExp(` — line ${row.index + 1}, row ${row.index} \\(id `));
      document.isDirty = true;
      assert.equal(await vscode.fake.hoverProviders[0]!.provider.provideHover(document, new vscode.Position(row.index, 3)), undefined);
    });

    it('opens the exact prompt for the row under the cursor, with token counts from the run\'s model', async () => {
      const query = run.splits.test[1]!;
      vscode.window.activeTextEditor!.selection = new vscode.Selection(new vscode.Position(query.index, 0), new vscode.Position(query.index, 0));
      vscode.fake.quickPicks.push('highest-first', 'seed 1');
      await vscode.commands.executeCommand('iclLab.previewPrompt');
      const shown = vscode.fake.shown.at(-1)!;
      assert.equal(shown.uri.scheme, 'icl-prompt');
      assert.equal(shown.languageId, 'icl-prompt');
      const text = shown.getText();
      assert.match(text, new RegExp(`^# ICL Lab prompt preview · run study · highest-first, seed 1, budget 2 · query row ${query.index} \\(test split`));
      assert.match(parsePromptDocument(text).text, new RegExp(`Note: ${query.inputs['text']}\\nKind:$`));
      assert.equal(counted.at(-1)!.model, run.config.model);
      assert.match(text, /#▼ demonstration 1 · .* · \d+ tokens · \d+ chars\n/);
      await vscode.commands.executeCommand('iclLab.copyPromptText', shown.uri);
      assert.equal(vscode.fake.clipboard, parsePromptDocument(text).text);
    });

    it('shows the prompt without token counts when the run\'s model cannot be loaded, saying why', async () => {
      modelMissing = true;
      await vscode.commands.executeCommand('iclLab.previewPrompt', { run: run.dir, strategy: 'random', seed: 1, budget: 2 });
      modelMissing = false;
      const text = vscode.fake.shown.at(-1)!.getText();
      assert.match(text, /\n# ⚠ token counts unavailable: .*tiny\.gguf: file not found\n/);
      // The cursor is on row 0, a pool row: it is the query.
      assert.match(text, /\n#▼ query · row 0 · line 1 · pool split · \d+ chars\n/);
    });

    it('gives the gutter icon to the selected rows only', async () => {
      const editor = vscode.window.visibleTextEditors[0]!;
      // Decorations are drawn once the run is read, in the background.
      for (let waited = 0; editor.decorations.size === 0 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      const lines = [...editor.decorations.values()][0]!.map((r) => r.start.line).sort((a, b) => a - b);
      const selected = [...new Set(run.selections.flatMap((s) => s.picks.map((p) => run.splits.pool[p.position]!.index)))].sort((a, b) => a - b);
      assert.deepEqual(lines, selected);
    });
  });

  describe('labelling rounds', () => {
    let dataFile: string;
    let document: FakeVscode.FakeDocument;

    beforeEach(async () => {
      const dir = path.join(root, `labelling-${Math.random().toString(36).slice(2)}`);
      await mkdir(dir);
      dataFile = path.join(dir, 'pool.jsonl');
      await writeFile(dataFile, Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `p${i}`, text: `item ${i}` })).join('\n') + '\n');
      await writeLabellingSession(dataFile, {
        format: 'icl-lab-labelling/1',
        data: { inputs: ['text'], id: 'id', target: 'label', task: 'classification' },
        labels: [{ value: '0', verbalizer: 'negative' }, { value: '1', verbalizer: 'positive' }],
        strategy: 'random',
        roundSize: 3,
        seed: 0,
        rounds: [],
      });
      vscode.fake.settings['runsFolder'] = path.join(root, 'no-runs');
      const { registerLabelling } = await import('../../src/extension/labelling/labelling.js');
      registerLabelling(context() as never);
      document = vscode.fakeDocument(vscode.Uri.file(dataFile));
      vscode.window.activeTextEditor = vscode.fakeEditor(document);
      vscode.window.visibleTextEditors = [vscode.window.activeTextEditor];
    });

    it('proposes a round, takes a label for each row by quick pick into the sidecar, and offers the next round', async () => {
      vscode.fake.quickPicks.push('positive', 'negative', 'positive');
      vscode.fake.messageChoices.push('Later');
      await vscode.commands.executeCommand('iclLab.labelSelected');
      const session = await readLabellingSession(dataFile);
      assert.equal(session!.rounds.length, 1);
      const proposed = session!.rounds[0]!.proposed.map((p) => p.id);
      assert.equal(proposed.length, 3);
      const sidecar = await readLabelSidecar(labelSidecarPath(dataFile));
      assert.deepEqual(sidecar.entries.map((e) => [e.id, e.label, e.round]), [[proposed[0], '1', 1], [proposed[1], '0', 1], [proposed[2], '1', 1]]);
      assert.match(vscode.fake.messages.join('\n'), /labelling round 1 is complete \(3 rows labelled in all\)/);
      assert.equal(await readFile(dataFile, 'utf8'), Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `p${i}`, text: `item ${i}` })).join('\n') + '\n');
    });

    it('highlights each proposed row on its own lines, not the blank line after it', async () => {
      // A blank line after every row (the last one is the file's final newline).
      await writeFile(dataFile, Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `p${i}`, text: `item ${i}` }) + '\n').join('\n'));
      document = vscode.fakeDocument(vscode.Uri.file(dataFile));
      const editor = vscode.fakeEditor(document);
      vscode.window.activeTextEditor = editor;
      vscode.window.visibleTextEditors = [editor];
      vscode.fake.quickPicks.push(undefined);
      await vscode.commands.executeCommand('iclLab.labelSelected');
      const ranges = (): FakeVscode.Range[] => [...editor.decorations.values()].flat();
      for (let waited = 0; ranges().length < 3 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(ranges().length >= 3, 'the three proposed rows are highlighted');
      for (const range of ranges()) {
        assert.equal(range.end.line, range.start.line, `row at line ${range.start.line + 1} ends on its own line`);
        assert.equal(range.start.line % 2, 0, 'a row line, not a blank one');
      }
    });

    it('shows Label actions above the proposed rows and writes the one clicked', async () => {
      vscode.fake.quickPicks.push(undefined);
      await vscode.commands.executeCommand('iclLab.labelSelected');
      const provider = vscode.fake.codeLensProviders.at(-1)!.provider;
      const lenses = await provider.provideCodeLenses(document);
      assert.match(lenses[0]!.command!.title, /Labelling round 1: 0\/3 labelled/);
      const positive = lenses.find((l) => l.command!.title === 'positive')!;
      await vscode.commands.executeCommand(positive.command!.command, ...positive.command!.arguments!);
      const after = await provider.provideCodeLenses(document);
      assert.match(after[0]!.command!.title, /Labelling round 1: 1\/3 labelled/);
      assert.ok(after.some((l) => l.command!.title === '$(check) round 1: positive'));
    });

    it('labels the rows selected in the editor', async () => {
      vscode.window.activeTextEditor!.selection = new vscode.Selection(new vscode.Position(2, 0), new vscode.Position(3, 4));
      vscode.fake.quickPicks.push('negative', 'positive');
      await vscode.commands.executeCommand('iclLab.labelSelected');
      const sidecar = await readLabelSidecar(labelSidecarPath(dataFile));
      assert.deepEqual([...sidecar.labels].map(([id, r]) => [id, r.label]), [['p2', '0'], ['p3', '1']]);
    });
  });
});
