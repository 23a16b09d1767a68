// A finished run, shown where its data lives: a CodeLens above each row of the run's splits
// (quality, a statistic, what selected it; "Preview Prompt"), a hover with the row's statistics
// per layer, a gutter icon on every row some strategy selected, and a status bar item naming the
// run. The newest complete run on the file is shown; the status bar item switches to another.
// Everything is refreshed when a run.json under the runs folder changes.
import path from 'node:path';
import * as vscode from 'vscode';
import { rowAtLine } from '../../core/inspect/rowStarts.js';
import { rowHoverMarkdown, rowLensTitle } from '../../core/inspect/rowSummary.js';
import { runsRoot } from '../runsFolder.js';
import { InlineRuns, isDataDocument, type InlineRun } from './inlineRuns.js';
import { PromptDocumentLenses, PromptDocuments, previewPrompt, promptScheme, type CountTokens, type PreviewPromptArgs } from './promptPreviewDocument.js';

export interface InlineInspectionDeps {
  /** Token counts of `texts` under the run's model (`modelPath`), each text tokenized on its own without BOS. */
  countTokens(texts: string[], modelPath: string): Promise<number[]>;
}

/** The data files the inline views attach to. */
export const dataDocumentSelector: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.{jsonl,ndjson,json,csv,tsv,tab}' },
];

/** The statistic the CodeLens shows: iclLab.inlineStatistic when the user set it, else the run's selection statistic. */
function lensStatistic(inline: InlineRun): string {
  const setting = vscode.workspace.getConfiguration('iclLab').inspect<string>('inlineStatistic');
  const chosen = setting?.workspaceFolderValue ?? setting?.workspaceValue ?? setting?.globalValue;
  return chosen ?? inline.index.chosen.statistic;
}

class RowLenses implements vscode.CodeLensProvider {
  constructor(private readonly runs: InlineRuns) {}

  get onDidChangeCodeLenses(): vscode.Event<void> {
    return this.runs.onDidChange;
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!isDataDocument(document) || document.isDirty) return [];
    const inline = await this.runs.inlineRun(document.uri.fsPath);
    if (!inline) return [];
    const { index, run } = inline;
    const statistic = lensStatistic(inline);
    const lenses: vscode.CodeLens[] = [];
    if (index.stale) lenses.push(new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: `$(warning) run ${run.name}: ${index.stale}`, command: '' }));
    for (const [rowIndex, inspection] of index.rows) {
      const start = inline.rowStarts[rowIndex];
      if (start === undefined || start - 1 >= document.lineCount) continue;
      const range = new vscode.Range(start - 1, 0, start - 1, 0);
      lenses.push(new vscode.CodeLens(range, { title: rowLensTitle(index, inspection, statistic), command: '' }));
      const first = inspection.selections[0];
      if (inspection.split === 'test') {
        lenses.push(new vscode.CodeLens(range, { title: 'Preview Prompt', tooltip: 'The prompt the run built with this row as the query', command: 'iclLab.previewPrompt', arguments: [{ run: run.dir, query: rowIndex }] }));
      } else if (first) {
        lenses.push(
          new vscode.CodeLens(range, {
            title: `Preview Prompt (${first.strategy}, seed ${first.seed}, budget ${first.budget})`,
            tooltip: 'The prompt of this selection, with the first test row as the query',
            command: 'iclLab.previewPrompt',
            arguments: [{ run: run.dir, strategy: first.strategy, seed: first.seed, budget: first.budget }],
          }),
        );
      }
    }
    return lenses;
  }
}

class RowHovers implements vscode.HoverProvider {
  constructor(private readonly runs: InlineRuns) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!isDataDocument(document) || document.isDirty) return undefined;
    const inline = await this.runs.inlineRun(document.uri.fsPath);
    if (!inline) return undefined;
    const rowIndex = rowAtLine(inline.rowStarts, position.line + 1);
    const inspection = rowIndex === undefined ? undefined : inline.index.rows.get(rowIndex);
    if (!inspection) return undefined;
    // Editor lines count from 1 and rows from 0: say both, so "row 2" on line 3 is not a puzzle.
    const line = inline.rowStarts[rowIndex!];
    const text = rowHoverMarkdown(inline.index, inspection, inline.run.name);
    const markdown = new vscode.MarkdownString(line === undefined ? text : text.replace(/ — row (\d+) /, ` — line ${line}, row $1 `));
    return new vscode.Hover(markdown);
  }
}

export function registerInlineInspection(context: vscode.ExtensionContext, deps: InlineInspectionDeps): void {
  const runs = new InlineRuns();
  const countTokens: CountTokens = (texts, modelPath) => deps.countTokens(texts, modelPath);
  const documents = new PromptDocuments(runs, countTokens);
  const selected = vscode.window.createTextEditorDecorationType({
    gutterIconPath: context.asAbsolutePath(path.join('media', 'selected.svg')),
    gutterIconSize: 'contain',
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.infoForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  const status = vscode.window.createStatusBarItem('iclLab.inlineRun', vscode.StatusBarAlignment.Right, 100);
  status.name = 'ICL Lab inline run';
  status.command = 'iclLab.selectInlineRun';

  const report = (error: unknown): void => void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);

  const decorate = async (editor: vscode.TextEditor): Promise<void> => {
    if (!isDataDocument(editor.document)) return;
    const inline = editor.document.isDirty ? undefined : await runs.inlineRun(editor.document.uri.fsPath);
    const ranges: vscode.Range[] = [];
    for (const [rowIndex, inspection] of inline?.index.rows ?? []) {
      const start = inline!.rowStarts[rowIndex];
      if (inspection.selections.length > 0 && start !== undefined && start - 1 < editor.document.lineCount) ranges.push(new vscode.Range(start - 1, 0, start - 1, 0));
    }
    editor.setDecorations(selected, ranges);
  };

  const updateStatus = async (): Promise<void> => {
    const document = vscode.window.activeTextEditor?.document;
    if (!document || !isDataDocument(document)) {
      status.hide();
      return;
    }
    const file = document.uri.fsPath;
    const inline = await runs.inlineRun(file);
    const failure = runs.failures.get(path.resolve(file));
    if (inline) {
      const others = (await runs.runsFor(file)).length - 1;
      status.text = `$(beaker) ${inline.run.name}`;
      status.tooltip = `ICL Lab: rows annotated from run ${inline.run.name} (${inline.run.modified.toLocaleString()})${others > 0 ? `; ${others} other run${others === 1 ? '' : 's'} on this file — click to switch` : ''}`;
      status.backgroundColor = inline.index.stale ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
      status.show();
    } else if (failure) {
      status.text = '$(warning) ICL run';
      status.tooltip = `ICL Lab could not read the run on this file: ${failure}`;
      status.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      status.show();
    } else {
      status.hide();
    }
  };

  const refreshEditors = (): void => {
    for (const editor of vscode.window.visibleTextEditors) decorate(editor).catch(() => undefined);
    updateStatus().catch(() => undefined);
  };

  // A run.json appears, changes phase or disappears: list the runs again (debounced: a running run rewrites it often).
  let watcher: vscode.FileSystemWatcher | undefined;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const runsChanged = (): void => {
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = undefined;
      runs.refresh();
      documents.refreshAll();
    }, 500);
  };
  const watchRuns = (): void => {
    watcher?.dispose();
    const root = runsRoot();
    watcher = root ? vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '**/run.json')) : undefined;
    watcher?.onDidCreate(runsChanged);
    watcher?.onDidChange(runsChanged);
    watcher?.onDidDelete(runsChanged);
  };
  watchRuns();

  context.subscriptions.push(
    runs,
    documents,
    selected,
    status,
    { dispose: () => watcher?.dispose() },
    { dispose: () => pending && clearTimeout(pending) },
    runs.onDidChange(refreshEditors),
    vscode.languages.registerCodeLensProvider(dataDocumentSelector, new RowLenses(runs)),
    vscode.languages.registerHoverProvider(dataDocumentSelector, new RowHovers(runs)),
    vscode.workspace.registerTextDocumentContentProvider(promptScheme, documents),
    vscode.languages.registerCodeLensProvider({ scheme: promptScheme }, new PromptDocumentLenses()),
    vscode.window.onDidChangeActiveTextEditor(() => void updateStatus().catch(() => undefined)),
    vscode.window.onDidChangeVisibleTextEditors(refreshEditors),
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (isDataDocument(document)) runs.dataFileChanged(document.uri.fsPath);
    }),
    vscode.workspace.onDidChangeTextDocument((event) => {
      // Rows move while the file is edited: the gutter clears until it is saved.
      if (event.contentChanges.length > 0 && isDataDocument(event.document) && event.document.isDirty) {
        for (const editor of vscode.window.visibleTextEditors) if (editor.document === event.document) editor.setDecorations(selected, []);
      }
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('iclLab.runsFolder')) {
        watchRuns();
        runs.refresh();
      } else if (event.affectsConfiguration('iclLab.inlineStatistic')) {
        runs.redraw();
      }
    }),
    vscode.commands.registerCommand('iclLab.previewPrompt', (args?: PreviewPromptArgs) => previewPrompt(runs, args).catch(report)),
    vscode.commands.registerCommand('iclLab.copyPromptText', async (uri?: vscode.Uri) => {
      const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
      if (!document || document.uri.scheme !== promptScheme) {
        void vscode.window.showInformationMessage('ICL Lab: open a prompt preview first (Preview In-Context Prompt).');
        return;
      }
      try {
        await vscode.env.clipboard.writeText(documents.exactPrompt(document));
        void vscode.window.setStatusBarMessage('ICL Lab: exact prompt copied', 3000);
      } catch (error) {
        report(error);
      }
    }),
    vscode.commands.registerCommand('iclLab.selectInlineRun', async () => {
      const document = vscode.window.activeTextEditor?.document;
      if (!document || !isDataDocument(document)) return;
      const file = document.uri.fsPath;
      const [choices, current] = await Promise.all([runs.runsFor(file), runs.runFor(file)]);
      if (choices.length === 0) {
        void vscode.window.showInformationMessage(`ICL Lab: no complete run on ${path.basename(file)} yet.`);
        return;
      }
      const picked = await vscode.window.showQuickPick(
        choices.map((run) => ({ label: run.name, description: run.dir === current?.dir ? 'shown' : '', detail: run.modified.toLocaleString(), run })),
        { title: `Annotate ${path.basename(file)} from which run?` },
      );
      if (picked) runs.pin(file, picked.run.dir);
    }),
  );
  refreshEditors();
}
