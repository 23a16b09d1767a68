// Human-in-the-loop labelling in the editor. "Label Selected Examples" labels the rows selected in
// the editor, or — with nothing selected — walks the current round's proposed rows (starting a
// session, or the next round, when there is none open). Each proposed row carries CodeLens actions
// (`Label: negative | positive`), a highlight and a gutter tag; every label goes to the sidecar
// `<data>.labels.jsonl` at once. When a round is complete, the next is offered.
import path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetRow } from '../../core/dataset/datasetSpec.js';
import { loadDataset } from '../../core/dataset/loadDataset.js';
import { readRowStarts, rowsInLines } from '../../core/inspect/rowStarts.js';
import { appendLabel, labelSidecarPath, readLabelSidecar } from '../../core/labelling/labelSidecar.js';
import {
  readLabellingSession,
  roundProgress,
  sessionDatasetSpec,
  withRound,
  writeLabellingSession,
  type LabellingSession,
  type RoundProgress,
} from '../../core/labelling/labellingSession.js';
import { proposeRound } from '../../core/labelling/proposeRound.js';
import { dataDocumentSelector } from '../inline/inlineInspection.js';
import { isDataDocument } from '../inline/inlineRuns.js';
import { askStrategy, rankingInfo, setUpSession } from './labellingSetup.js';

/** A data file's labelling as the editor shows it. */
interface LabellingView {
  readonly dataFile: string;
  readonly session: LabellingSession;
  readonly rows: readonly DatasetRow[];
  readonly byId: ReadonlyMap<string, DatasetRow>;
  /** 1-based start line of every row, by row index. */
  readonly rowStarts: readonly number[];
  readonly labelled: ReadonlySet<string>;
  readonly progress: RoundProgress;
  /** Bad rows left out, and sidecar lines left out. */
  readonly notes: readonly string[];
}

/** `iclLab.labelRow`'s argument (the CodeLens actions pass it). */
interface LabelRowArgs {
  readonly file: string;
  readonly id: string;
  /** Absent: ask. */
  readonly label?: string;
}

class LabellingViews implements vscode.Disposable {
  private readonly views = new Map<string, Promise<LabellingView | undefined>>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  get(dataFile: string): Promise<LabellingView | undefined> {
    const key = path.resolve(dataFile);
    let view = this.views.get(key);
    if (!view) {
      view = loadView(key);
      this.views.set(key, view);
      view.catch(() => this.views.delete(key));
    }
    return view;
  }

  /** Files beside `dataFile` changed (sidecar, session) or the file itself did. */
  invalidate(dataFile?: string): void {
    if (dataFile) this.views.delete(path.resolve(dataFile));
    else this.views.clear();
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

async function loadView(dataFile: string): Promise<LabellingView | undefined> {
  const session = await readLabellingSession(dataFile);
  if (!session) return undefined;
  const [{ rows, skipped }, rowStarts, sidecar] = await Promise.all([
    loadDataset(sessionDatasetSpec(dataFile, session), { badRows: 'skip' }),
    readRowStarts(dataFile, session.data.format),
    readLabelSidecar(labelSidecarPath(dataFile)),
  ]);
  const labelled = new Set(rows.filter((r) => r.label !== undefined || r.references !== undefined).map((r) => r.id));
  const notes = [
    ...(skipped.length > 0 ? [`${skipped.length} bad row${skipped.length === 1 ? '' : 's'} left out (first: line ${skipped[0]!.line}: ${skipped[0]!.problem})`] : []),
    ...sidecar.problems.map((p) => `${path.basename(sidecar.file)}:${p.line}: ${p.problem}; left out`),
  ];
  return { dataFile, session, rows, byId: new Map(rows.map((r) => [r.id, r])), rowStarts, labelled, progress: roundProgress(session, labelled), notes };
}

/** The row's lines in the editor: from its start to the line before the next row. */
function rowRange(view: LabellingView, index: number, document: vscode.TextDocument): vscode.Range | undefined {
  const start = view.rowStarts[index];
  if (start === undefined || start - 1 >= document.lineCount) return undefined;
  const next = view.rowStarts[index + 1];
  let last = Math.min(next === undefined ? document.lineCount : next - 1, document.lineCount) - 1;
  // Not the blank lines after the row (the file's final newline, blank lines between rows).
  while (last > start - 1 && document.lineAt(last).isEmptyOrWhitespace) last--;
  return new vscode.Range(start - 1, 0, Math.max(start - 1, last), 0);
}

const labelName = (session: LabellingSession, value: string): string => session.labels?.find((l) => l.value === value)?.verbalizer ?? value;

/** The label choices: the session's label set, else the labels seen so far. */
function labelChoices(view: LabellingView): { value: string; name: string }[] {
  if (view.session.labels) return view.session.labels.map((l) => ({ value: l.value, name: l.verbalizer }));
  const seen = [...new Set(view.rows.flatMap((r) => (r.label !== undefined ? [r.label] : [])))].sort();
  return seen.map((value) => ({ value, name: value }));
}

function withoutRankBy(session: LabellingSession): LabellingSession {
  const copy: { -readonly [K in keyof LabellingSession]?: LabellingSession[K] } = { ...session };
  delete copy.rankBy;
  return copy as LabellingSession;
}

const skip = Symbol('skip');

/** Asks the label of `row`: a quick pick over the label set (classification) or an input box (generative). */
async function askLabel(view: LabellingView, row: DatasetRow, title: string, allowSkip: boolean): Promise<string | typeof skip | undefined> {
  const text = view.session.data.inputs.map((field) => row.inputs[field] ?? '').join(' ⏎ ');
  const shown = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  if (view.session.data.task === 'generative') {
    const answer = await vscode.window.showInputBox({ title, prompt: shown, value: row.references?.[0] ?? '', ignoreFocusOut: true });
    return answer === undefined || answer.trim() === '' ? undefined : answer;
  }
  const choices = labelChoices(view);
  // The label's word (what the prompts teach the model) first, its value in the data beside it, and
  // the row's whole text under the first choice: the placeholder only holds its start.
  const items: (vscode.QuickPickItem & { value?: string; skip?: boolean; other?: boolean })[] = choices.map((c, i) => ({
    label: c.name,
    description: [c.name === c.value ? '' : `label ${c.value}`, row.label === c.value ? 'current label' : ''].filter(Boolean).join(' · '),
    value: c.value,
    ...(i === 0 ? { detail: text } : {}),
  }));
  if (!view.session.labels) items.push({ label: '$(add) Another label…', other: true });
  if (allowSkip) items.push({ label: 'Skip for now', skip: true });
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: shown, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.skip) return skip;
  if (picked.other) return (await vscode.window.showInputBox({ title, prompt: 'The new label, as the data should write it' }))?.trim() || undefined;
  return picked.value;
}

export function registerLabelling(context: vscode.ExtensionContext): void {
  const views = new LabellingViews();
  const proposedDecoration = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    gutterIconPath: context.asAbsolutePath(path.join('media', 'label-proposed.svg')),
    gutterIconSize: 'contain',
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.findMatchForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Center,
  });
  const labelledDecoration = vscode.window.createTextEditorDecorationType({
    gutterIconPath: context.asAbsolutePath(path.join('media', 'labelled.svg')),
    gutterIconSize: 'contain',
  });

  const report = (error: unknown): void => void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);

  const decorate = async (editor: vscode.TextEditor): Promise<void> => {
    if (!isDataDocument(editor.document)) return;
    const view = editor.document.isDirty ? undefined : await views.get(editor.document.uri.fsPath).catch(() => undefined);
    const proposed: vscode.Range[] = [];
    const labelled: vscode.Range[] = [];
    if (view) {
      for (const p of view.progress.rows) {
        const range = !p.labelled ? rowRange(view, p.index, editor.document) : undefined;
        if (range) proposed.push(range);
      }
      for (const id of view.labelled) {
        const row = view.byId.get(id);
        const start = row ? view.rowStarts[row.index] : undefined;
        if (start !== undefined && start - 1 < editor.document.lineCount) labelled.push(new vscode.Range(start - 1, 0, start - 1, 0));
      }
    }
    editor.setDecorations(proposedDecoration, proposed);
    editor.setDecorations(labelledDecoration, labelled);
  };
  const redraw = (): void => {
    for (const editor of vscode.window.visibleTextEditors) decorate(editor).catch(() => undefined);
  };

  /** Writes one label and says whether it completed the latest round. */
  const writeLabel = async (view: LabellingView, id: string, label: string): Promise<boolean> => {
    const sidecar = labelSidecarPath(view.dataFile);
    await appendLabel(sidecar, { id, label, round: view.progress.round, labelledAt: new Date().toISOString() });
    // Each save is confirmed, in the label's word and its value.
    const row = view.byId.get(id);
    const name = labelName(view.session, label);
    vscode.window.setStatusBarMessage(`$(check) ICL Lab: saved "${name}"${name === label ? '' : ` (label ${label})`} for row ${row?.index ?? id}${row ? ` (line ${row.line})` : ''} in ${path.basename(sidecar)}`, 6000);
    views.invalidate(view.dataFile);
    const after = await views.get(view.dataFile);
    return !view.progress.complete && after?.progress.complete === true && after.progress.round === view.progress.round;
  };

  const editorFor = async (dataFile: string): Promise<vscode.TextEditor> => {
    const open = vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'file' && path.resolve(e.document.uri.fsPath) === path.resolve(dataFile));
    return open ?? vscode.window.showTextDocument(vscode.Uri.file(dataFile), { preview: false });
  };

  const reveal = (editor: vscode.TextEditor, range: vscode.Range | undefined): void => {
    if (!range) return;
    editor.selection = new vscode.Selection(range.start, range.start);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  };

  const offerNextRound = async (dataFile: string): Promise<void> => {
    const view = await views.get(dataFile);
    if (!view) return;
    const choice = await vscode.window.showInformationMessage(
      `ICL Lab: labelling round ${view.progress.round} is complete (${view.labelled.size} rows labelled in all).`,
      'Next Round',
      'Later',
    );
    if (choice === 'Next Round') await nextRound(dataFile, true);
  };

  /** Proposes the next round and saves it in the session; walks it when `walk`. */
  const nextRound = async (dataFile: string, walk: boolean): Promise<void> => {
    const view = await views.get(dataFile);
    if (!view) return;
    if (!view.progress.complete) {
      const left = view.progress.rows.length - view.progress.done;
      const go = await vscode.window.showWarningMessage(`Round ${view.progress.round} still has ${left} unlabelled row${left === 1 ? '' : 's'}. Propose the next round anyway?`, { modal: true }, 'Propose');
      if (go !== 'Propose') return;
    }
    const { session } = view;
    const info = await rankingInfo(session.rankBy);
    const round = session.rounds.length + 1;
    const proposal = proposeRound({ rows: view.rows, labelled: view.labelled, strategy: session.strategy, budget: session.roundSize, seed: session.seed, round, info });
    if (proposal.proposed.length === 0) {
      if (view.labelled.size === 0) {
        void vscode.window.showInformationMessage(`ICL Lab: ${session.strategy} proposes no row${proposal.leftOut > 0 ? ` (${proposal.leftOut} rows have no ranking information)` : ''}.`);
        return;
      }
      // An already-labelled file: offer to relabel (select rows in the editor, or a round the strategy picks).
      const choice = await vscode.window.showInformationMessage(
        `ICL Lab: every row of ${path.basename(dataFile)} already has a label${proposal.leftOut > 0 ? ` (or no ranking information for ${session.strategy})` : ''}. Select rows in the editor to relabel them, or relabel ${session.roundSize} rows ${session.strategy} picks.`,
        'Relabel Rows',
      );
      if (choice === 'Relabel Rows') await relabelRound(dataFile);
      return;
    }
    await writeLabellingSession(dataFile, withRound(session, proposal, new Date().toISOString(), info.source));
    views.invalidate(dataFile);
    const leftOut = proposal.leftOut > 0 ? `; ${proposal.leftOut} unlabelled rows without ranking information were not considered` : '';
    void vscode.window.setStatusBarMessage(`ICL Lab: round ${round}: ${proposal.proposed.length} rows proposed by ${session.strategy}${leftOut}`, 8000);
    if (walk) await walkRound(dataFile);
  };

  /** Relabels `roundSize` rows the session's strategy picks among all rows, labelled or not; Escape stops. */
  const relabelRound = async (dataFile: string): Promise<void> => {
    const view = await views.get(dataFile);
    if (!view) return;
    const { session } = view;
    const info = await rankingInfo(session.rankBy);
    const proposal = proposeRound({ rows: view.rows, labelled: new Set(), strategy: session.strategy, budget: session.roundSize, seed: session.seed + view.labelled.size, round: session.rounds.length + 1, info });
    const editor = await editorFor(dataFile);
    void vscode.window.setStatusBarMessage(`ICL Lab: relabelling ${proposal.proposed.length} rows proposed by ${session.strategy}`, 8000);
    for (const [k, proposed] of proposal.proposed.entries()) {
      const current = await views.get(dataFile);
      const row = current?.byId.get(proposed.id);
      if (!current || !row) return;
      reveal(editor, rowRange(current, row.index, editor.document));
      const label = await askLabel(current, row, `Relabel row ${row.index} (line ${row.line}) · ${k + 1} of ${proposal.proposed.length} · proposed by ${session.strategy}`, true);
      if (label === undefined) return;
      if (label === skip) continue;
      await writeLabel(current, row.id, label);
    }
  };

  /** Labels the latest round's unlabelled rows one by one, each revealed in the editor; Escape stops. */
  const walkRound = async (dataFile: string): Promise<void> => {
    const editor = await editorFor(dataFile);
    const skipped = new Set<string>();
    const start = await views.get(dataFile);
    if (start) void vscode.window.setStatusBarMessage(`ICL Lab: labelling round ${start.progress.round}: rows proposed by ${start.session.strategy} (nothing is selected in the editor)`, 8000);
    for (;;) {
      const view = await views.get(dataFile);
      if (!view) return;
      const waiting = view.progress.rows.filter((r) => !r.labelled);
      const next = waiting.find((r) => !skipped.has(r.id));
      if (!next) {
        if (waiting.length === 0) await offerNextRound(dataFile);
        return;
      }
      const row = view.byId.get(next.id);
      if (!row) throw new Error(`round ${view.progress.round} proposed id "${next.id}", which the file no longer has`);
      reveal(editor, rowRange(view, row.index, editor.document));
      const place = view.progress.rows.findIndex((r) => r.id === next.id) + 1;
      const label = await askLabel(view, row, `Round ${view.progress.round} · row ${row.index} (line ${row.line}) · ${place} of ${view.progress.rows.length} · proposed by ${view.session.strategy}`, true);
      if (label === undefined) return;
      if (label === skip) {
        skipped.add(next.id);
        continue;
      }
      await writeLabel(view, row.id, label);
    }
  };

  const labelSelected = async (uri?: vscode.Uri): Promise<void> => {
    const editor = vscode.window.activeTextEditor;
    const dataFile = uri?.fsPath ?? (editor && isDataDocument(editor.document) ? editor.document.uri.fsPath : undefined);
    if (!dataFile) {
      void vscode.window.showInformationMessage('ICL Lab: open a dataset (.jsonl, .json, .csv or .tsv) to label its rows.');
      return;
    }
    let view = await views.get(dataFile);
    if (!view) {
      const session = await setUpSession(dataFile);
      if (!session) return;
      await writeLabellingSession(dataFile, session);
      views.invalidate(dataFile);
      view = await views.get(dataFile);
      if (!view) return;
    }
    for (const note of view.notes) void vscode.window.showWarningMessage(`ICL Lab: ${note}`);

    // Rows selected in the editor: label exactly those.
    const selection = editor && path.resolve(editor.document.uri.fsPath) === path.resolve(dataFile) && !editor.selection.isEmpty ? editor.selection : undefined;
    if (selection && editor) {
      if (editor.document.isDirty) throw new Error('save the file first: rows are found by their lines on disk');
      const indices = rowsInLines(view.rowStarts, selection.start.line + 1, selection.end.line + 1 - (selection.end.character === 0 && selection.end.line > selection.start.line ? 1 : 0));
      const rows = indices.map((i) => view!.rows.find((r) => r.index === i)).filter((r): r is DatasetRow => r !== undefined);
      if (rows.length === 0) throw new Error('the selection holds no readable row');
      void vscode.window.setStatusBarMessage(`ICL Lab: labelling the ${rows.length} row${rows.length === 1 ? '' : 's'} selected in the editor`, 8000);
      for (const [k, row] of rows.entries()) {
        const current = await views.get(dataFile);
        if (!current) return;
        const label = await askLabel(current, row, `Label row ${row.index} (line ${row.line}) · ${k + 1} of ${rows.length} · from the editor selection`, rows.length > 1);
        if (label === undefined) return;
        if (label === skip) continue;
        if (await writeLabel(current, row.id, label)) await offerNextRound(dataFile);
      }
      return;
    }
    if (view.progress.complete) await nextRound(dataFile, true);
    else await walkRound(dataFile);
  };

  const labelRow = async (args: LabelRowArgs): Promise<void> => {
    const view = await views.get(args.file);
    const row = view?.byId.get(args.id);
    if (!view || !row) throw new Error(`no row "${args.id}" in ${path.basename(args.file)} to label`);
    const label = args.label ?? (await askLabel(view, row, `Label row ${row.index} (line ${row.line})`, false));
    if (label === undefined || label === skip) return;
    if (await writeLabel(view, row.id, label)) await offerNextRound(args.file);
  };

  const lenses: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: views.onDidChange,
    async provideCodeLenses(document) {
      if (!isDataDocument(document) || document.isDirty) return [];
      const view = await views.get(document.uri.fsPath).catch(() => undefined);
      if (!view) return [];
      const { progress, session } = view;
      const file = view.dataFile;
      const top = new vscode.Range(0, 0, 0, 0);
      const out: vscode.CodeLens[] = [];
      const summary = progress.round === 0 ? 'Labelling: no round proposed yet' : `Labelling round ${progress.round}: ${progress.done}/${progress.rows.length} labelled · ${view.labelled.size} rows labelled in all`;
      out.push(new vscode.CodeLens(top, { title: `$(tag) ${summary}`, command: 'iclLab.labelSelected', arguments: [document.uri], tooltip: progress.complete ? 'Propose the next round' : 'Label the proposed rows one by one' }));
      if (progress.complete) out.push(new vscode.CodeLens(top, { title: 'Next Round', command: 'iclLab.nextLabellingRound', arguments: [document.uri] }));
      out.push(new vscode.CodeLens(top, { title: `Strategy: ${session.strategy}, ${session.roundSize} per round`, command: 'iclLab.changeLabellingStrategy', arguments: [document.uri] }));
      for (const p of progress.rows) {
        const row = view.byId.get(p.id);
        const range = row ? rowRange(view, row.index, document) : undefined;
        if (!row || !range) continue;
        const at = new vscode.Range(range.start, range.start);
        if (p.labelled) {
          const current = row.label ?? row.references?.[0] ?? '';
          out.push(new vscode.CodeLens(at, { title: `$(check) round ${progress.round}: ${labelName(session, current)}`, command: '' }));
          out.push(new vscode.CodeLens(at, { title: 'Change', command: 'iclLab.labelRow', arguments: [{ file, id: row.id } satisfies LabelRowArgs] }));
        } else if (session.data.task === 'generative') {
          out.push(new vscode.CodeLens(at, { title: `Round ${progress.round}: Answer…`, command: 'iclLab.labelRow', arguments: [{ file, id: row.id } satisfies LabelRowArgs] }));
        } else {
          out.push(new vscode.CodeLens(at, { title: `Round ${progress.round} · Label:`, command: '' }));
          for (const choice of labelChoices(view)) {
            out.push(new vscode.CodeLens(at, { title: choice.name, tooltip: `label ${choice.value}`, command: 'iclLab.labelRow', arguments: [{ file, id: row.id, label: choice.value } satisfies LabelRowArgs] }));
          }
          if (!session.labels) out.push(new vscode.CodeLens(at, { title: 'Other…', command: 'iclLab.labelRow', arguments: [{ file, id: row.id } satisfies LabelRowArgs] }));
        }
      }
      return out;
    },
  };

  // The sidecar and the session may change outside this window (another window, git, an editor).
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{labels.jsonl,labelling.json}');
  const besideChanged = (uri: vscode.Uri): void => views.invalidate(uri.fsPath.replace(/\.(labels\.jsonl|labelling\.json)$/, ''));
  const fileCommand = (id: string, handler: (file: string) => Promise<void>): vscode.Disposable =>
    vscode.commands.registerCommand(id, (uri?: vscode.Uri) => {
      const editor = vscode.window.activeTextEditor;
      const file = uri?.fsPath ?? (editor && isDataDocument(editor.document) ? editor.document.uri.fsPath : undefined);
      if (!file) return;
      return handler(file).catch(report);
    });

  context.subscriptions.push(
    views,
    proposedDecoration,
    labelledDecoration,
    watcher,
    watcher.onDidCreate(besideChanged),
    watcher.onDidChange(besideChanged),
    watcher.onDidDelete(besideChanged),
    views.onDidChange(redraw),
    vscode.window.onDidChangeVisibleTextEditors(redraw),
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (isDataDocument(document)) views.invalidate(document.uri.fsPath);
    }),
    vscode.languages.registerCodeLensProvider(dataDocumentSelector, lenses),
    vscode.commands.registerCommand('iclLab.labelSelected', (uri?: vscode.Uri) => labelSelected(uri instanceof vscode.Uri ? uri : undefined).catch(report)),
    vscode.commands.registerCommand('iclLab.labelRow', (args: LabelRowArgs) => labelRow(args).catch(report)),
    fileCommand('iclLab.nextLabellingRound', (file) => nextRound(file, true)),
    fileCommand('iclLab.changeLabellingStrategy', async (file) => {
      const view = await views.get(file);
      if (!view) return;
      const strategy = await askStrategy(file, view.session);
      if (!strategy) return;
      const size = await vscode.window.showInputBox({ title: 'Rows per round', value: String(view.session.roundSize), validateInput: (t) => (/^\s*[1-9]\d*\s*$/.test(t) ? undefined : 'a whole number ≥ 1') });
      if (size === undefined) return;
      // A strategy that needs no ranking information drops the old source.
      const session: LabellingSession = { ...view.session, strategy: strategy.strategy, roundSize: Number(size) };
      await writeLabellingSession(file, strategy.rankBy ? { ...session, rankBy: strategy.rankBy } : withoutRankBy(session));
      views.invalidate(file);
    }),
  );
  redraw();
}
