// "Preview In-Context Prompt": the exact prompt a run put before the model, as a read-only virtual
// document (scheme and language `icl-prompt`, coloured by syntaxes/icl-prompt.tmLanguage.json).
// The document's URI says which run, selection and query; its text comes from core/inspect.
import { recordedModel } from '../../core/experiment/modelLabel.js';
import path from 'node:path';
import * as vscode from 'vscode';
import { formatPromptDocument, parsePromptDocument } from '../../core/inspect/promptDocument.js';
import { buildPromptPreview, promptChoices, type PromptChoice, type PromptPreview } from '../../core/inspect/promptPreview.js';
import { rowAtLine } from '../../core/inspect/rowStarts.js';
import { pickRun } from '../runsFolder.js';
import { isDataDocument, type InlineRuns } from './inlineRuns.js';

export const promptScheme = 'icl-prompt';
export const promptLanguage = 'icl-prompt';

/** Token counts of texts under a model (the engine's tokenizer; each text tokenized on its own, no BOS). */
export type CountTokens = (texts: string[], modelPath: string) => Promise<number[]>;

/** What a preview shows: the run folder, the selection, and the query row (absent: the first test row). */
export interface PromptRequest {
  readonly run: string;
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
  readonly query?: number;
}

/** `iclLab.previewPrompt`'s optional argument (CodeLens passes it; the palette passes nothing). */
export type PreviewPromptArgs = Partial<PromptRequest> | vscode.Uri | undefined;

export function promptUri(request: PromptRequest): vscode.Uri {
  const seed = request.strategy === 'kate' ? '' : ` s${request.seed}`;
  const name = `${request.strategy}${seed} b${request.budget}${request.query !== undefined ? ` row ${request.query}` : ''}`;
  const query = new URLSearchParams({ run: request.run, strategy: request.strategy, seed: String(request.seed), budget: String(request.budget), ...(request.query !== undefined ? { query: String(request.query) } : {}) });
  return vscode.Uri.from({ scheme: promptScheme, path: `/${path.basename(request.run)}/${name.replace(/[/\\]/g, '_')}.icl-prompt`, query: query.toString() });
}

export function promptRequestOf(uri: vscode.Uri): PromptRequest {
  const params = new URLSearchParams(uri.query);
  const run = params.get('run');
  const strategy = params.get('strategy');
  if (!run || !strategy) throw new Error(`${uri.toString()}: not a prompt preview`);
  const query = params.get('query');
  return { run, strategy, seed: Number(params.get('seed') ?? 0), budget: Number(params.get('budget') ?? 0), ...(query !== null ? { query: Number(query) } : {}) };
}

/** How long a preview waits for its token counts before it shows without them (they follow when ready). */
const countGraceMs = 1500;

export class PromptDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly previews = new Map<string, PromptPreview>();
  /** Token counts per preview URI: the counts, or why there are none; absent while counting. */
  private readonly counts = new Map<string, number[] | string>();
  private readonly counting = new Set<string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly runs: InlineRuns,
    private readonly countTokens: CountTokens,
  ) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    try {
      const request = promptRequestOf(uri);
      const index = await this.runs.index(request.run);
      const preview = await buildPromptPreview(index, { strategy: request.strategy, seed: request.seed, budget: request.budget }, request.query);
      const key = uri.toString();
      const known = this.counts.get(key) ?? (await this.startCounting(uri, preview.pieces.map((p) => p.text), recordedModel(index.record, index.dir).path));
      const counts = Array.isArray(known) && known.length === preview.pieces.length ? known : undefined;
      const countNote = typeof known === 'string' ? known : known === undefined ? `counting tokens with ${path.basename(recordedModel(index.record, index.dir).path)}…` : undefined;
      const shown = countNote ? { ...preview, warnings: [...preview.warnings, countNote] } : preview;
      this.previews.set(key, preview);
      const model = recordedModel(index.record, index.dir);
      return formatPromptDocument(shown, {
        runName: path.basename(index.dir),
        templateName: index.config.template ?? `the built-in ${index.config.data.task} template`,
        model: `${model.architecture}, ${model.layers} layers, ${path.basename(model.path)}`,
      }, counts);
    } catch (error) {
      return `# ICL Lab could not render this prompt: ${(error as Error).message.replace(/\r?\n/g, ' ')}\n`;
    }
  }

  /** Counts the pieces' tokens; settles with them within the grace period, else with undefined, and the document is redrawn when they come. */
  private startCounting(uri: vscode.Uri, texts: string[], modelPath: string): Promise<number[] | string | undefined> {
    const key = uri.toString();
    if (this.counting.has(key)) return Promise.resolve(undefined);
    this.counting.add(key);
    return new Promise((resolve) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        resolve(undefined);
      }, countGraceMs);
      this.countTokens(texts, modelPath)
        .then(
          (counts): number[] | string => counts,
          (error: unknown) => `token counts unavailable: ${(error as Error).message}`,
        )
        .then((result) => {
          clearTimeout(timer);
          this.counting.delete(key);
          this.counts.set(key, result);
          if (late) this.changed.fire(uri);
          else resolve(result);
        });
    });
  }

  /** The exact prompt of an open preview: from the model that rendered it, else read back from the document's markers. */
  exactPrompt(document: vscode.TextDocument): string {
    return this.previews.get(document.uri.toString())?.text ?? parsePromptDocument(document.getText()).text;
  }

  /** Re-render every open preview (the runs changed). */
  refreshAll(): void {
    this.counts.clear();
    for (const document of vscode.workspace.textDocuments) if (document.uri.scheme === promptScheme) this.changed.fire(document.uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** A CodeLens on a preview's first line: copy the exact prompt. */
export class PromptDocumentLenses implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (document.uri.scheme !== promptScheme) return [];
    return [new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: 'Copy Exact Prompt', command: 'iclLab.copyPromptText', arguments: [document.uri] })];
  }
}

async function quickPickOf<T>(items: readonly T[], label: (item: T) => string, title: string): Promise<T | undefined> {
  if (items.length <= 1) return items[0];
  const picked = await vscode.window.showQuickPick(items.map((item) => ({ label: label(item), item })), { title, placeHolder: title });
  return picked?.item;
}

/** The command: asks whatever the argument leaves open (run, strategy, seed, budget), then opens the preview beside the editor. */
export async function previewPrompt(runs: InlineRuns, args: PreviewPromptArgs): Promise<void> {
  const given: Partial<PromptRequest> = args instanceof vscode.Uri ? { run: args.fsPath } : (args ?? {});
  const editor = vscode.window.activeTextEditor;
  const dataDocument = editor && isDataDocument(editor.document) ? editor.document : undefined;
  const runDir = given.run ?? (dataDocument ? (await runs.runFor(dataDocument.uri.fsPath))?.dir : undefined) ?? (await pickRun(undefined, 'Preview the prompt of which run?', (run) => run.state === 'complete'));
  if (!runDir) return;
  const index = await runs.index(runDir);
  let choices = promptChoices(index);
  if (choices.length === 0) throw new Error(`${path.basename(runDir)} has no selections to preview`);

  const strategy = given.strategy ?? (await quickPickOf([...new Set(choices.map((c) => c.strategy))], (s) => s, 'Which strategy\'s prompt?'));
  if (strategy === undefined) return;
  choices = choices.filter((c) => c.strategy === strategy);
  const seed = given.seed ?? (await quickPickOf([...new Set(choices.map((c) => c.seed))], (s) => `seed ${s}`, `${strategy}: which seed?`));
  if (seed === undefined) return;
  choices = choices.filter((c) => strategy === 'kate' || c.seed === seed);
  const budget = given.budget ?? (await quickPickOf([...new Set(choices.map((c) => c.budget))], (b) => `budget ${b}`, `${strategy}, seed ${seed}: which budget?`));
  if (budget === undefined) return;
  const choice: PromptChoice = { strategy, seed, budget };

  let query = given.query;
  if (query === undefined && dataDocument && editor) {
    const inline = await runs.inlineRun(dataDocument.uri.fsPath);
    if (inline?.run.dir === runDir && !dataDocument.isDirty) {
      const under = rowAtLine(inline.rowStarts, editor.selection.active.line + 1);
      const inspected = under === undefined ? undefined : index.rows.get(under);
      if (inspected && (strategy !== 'kate' || inspected.split === 'test')) query = under;
      else if (inspected) void vscode.window.showInformationMessage(`ICL Lab: KATE retrieves for test rows only; row ${under} is a ${inspected.split} row, so the first test row is the query.`);
    }
  }
  const uri = promptUri({ run: runDir, ...choice, ...(query !== undefined ? { query } : {}) });
  const opened = await vscode.workspace.openTextDocument(uri);
  // The language (and its colours) comes from package.json; without it the preview is plain text.
  const document = await vscode.languages.setTextDocumentLanguage(opened, promptLanguage).then(
    (withLanguage) => withLanguage,
    () => opened,
  );
  await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: false });
}
