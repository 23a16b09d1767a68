// Just enough of the `vscode` module to drive the extension's providers and commands from mocha
// (no editor): registrations are recorded, quick picks and messages are answered by the test, and
// virtual documents come from the registered content providers. Loaded in place of `vscode` by
// test/support/fakeVscodeLoader.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

type Listener<T> = (value: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): { dispose(): void } => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(startLine: number | Position, startCharacter: number | Position, endLine?: number, endCharacter?: number) {
    if (startLine instanceof Position) {
      this.start = startLine;
      this.end = startCharacter as Position;
    } else {
      this.start = new Position(startLine, startCharacter as number);
      this.end = new Position(endLine!, endCharacter!);
    }
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
  get isEmpty(): boolean {
    return this.anchor.line === this.active.line && this.anchor.character === this.active.character;
  }
}

export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; command: string; arguments?: unknown[]; tooltip?: string },
  ) {}
}

export class MarkdownString {
  constructor(public value = '') {}
  appendText(text: string): this {
    this.value += text.replace(/[\\`*_{}[\]()#+\-.!<>]/g, '\\$&');
    return this;
  }
  appendMarkdown(markdown: string): this {
    this.value += markdown;
    return this;
  }
}

export const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 } as const;

export class Diagnostic {
  source?: string;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number = DiagnosticSeverity.Error,
  ) {}
}

export class Hover {
  constructor(readonly contents: MarkdownString) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class RelativePattern {
  constructor(
    readonly base: unknown,
    readonly pattern: string,
  ) {}
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query: string,
  ) {}
  static file(file: string): Uri {
    return new Uri('file', path.resolve(file), '');
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.posix.join(base.path, ...parts), '');
  }
  static from(parts: { scheme: string; path: string; query?: string }): Uri {
    return new Uri(parts.scheme, parts.path, parts.query ?? '');
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return this.scheme === 'file' ? pathToFileURL(this.path).href : `${this.scheme}:${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

export const StatusBarAlignment = { Left: 1, Right: 2 } as const;
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 } as const;
export const TreeItemCollapsibleState = { None: 0, Collapsed: 1, Expanded: 2 } as const;

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  contextValue?: string;
  iconPath?: unknown;
  command?: { command: string; title: string; arguments?: unknown[] };
  resourceUri?: unknown;
  constructor(
    readonly label: string,
    readonly collapsibleState: number = 0,
  ) {}
}
export const OverviewRulerLane = { Left: 1, Center: 2, Right: 4, Full: 7 } as const;
export const ViewColumn = { Active: -1, Beside: -2 } as const;
export const TextEditorRevealType = { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 } as const;
export const QuickPickItemKind = { Separator: -1, Default: 0 } as const;

export interface FakeDocument {
  readonly uri: Uri;
  isDirty: boolean;
  languageId: string;
  readonly lineCount: number;
  getText(): string;
  lineAt(line: number): { readonly text: string; readonly isEmptyOrWhitespace: boolean };
}

/** A document over `text` (a file's: read from disk when not given). */
export function fakeDocument(uri: Uri, text?: string): FakeDocument {
  const body = text ?? readFileSync(uri.fsPath, 'utf8');
  const lines = body.split('\n');
  return {
    uri,
    isDirty: false,
    languageId: 'plaintext',
    lineCount: lines.length,
    getText: () => body,
    lineAt: (line: number) => {
      const text = (lines[line] ?? '').replace(/\r$/, '');
      return { text, isEmptyOrWhitespace: text.trim() === '' };
    },
  };
}

export interface FakeEditor {
  readonly document: FakeDocument;
  selection: Selection;
  readonly decorations: Map<unknown, Range[]>;
  setDecorations(type: unknown, ranges: Range[]): void;
  revealRange(range: Range): void;
}

export function fakeEditor(document: FakeDocument): FakeEditor {
  return {
    document,
    selection: new Selection(new Position(0, 0), new Position(0, 0)),
    decorations: new Map(),
    setDecorations(type, ranges) {
      this.decorations.set(type, ranges);
    },
    revealRange() {},
  };
}

type QuickPickAnswer = (items: readonly { label: string }[], options: { title?: string; placeHolder?: string }) => unknown;

/** What the extension registered and showed, and how the "user" answers. */
export const fake = {
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  codeLensProviders: [] as { selector: unknown; provider: { provideCodeLenses(document: FakeDocument): Promise<CodeLens[]> | CodeLens[] } }[],
  hoverProviders: [] as { selector: unknown; provider: { provideHover(document: FakeDocument, position: Position): Promise<Hover | undefined> } }[],
  contentProviders: new Map<string, { provideTextDocumentContent(uri: Uri): Promise<string> | string }>(),
  settings: {} as Record<string, unknown>,
  /** Answers to quick picks, in order: a function of the items, or the label to pick (undefined: dismiss). */
  quickPicks: [] as (QuickPickAnswer | string | undefined)[],
  inputBoxes: [] as (string | undefined)[],
  /** The options of each input box shown (title, value, prompt, validateInput), in order. */
  inputBoxOptions: [] as { title?: string; value?: string; prompt?: string; validateInput?: (text: string) => unknown }[],
  /** The items and options of each quick pick shown, in order. */
  quickPickCalls: [] as { items: readonly { label: string; description?: string; detail?: string }[]; options: { title?: string; placeHolder?: string } }[],
  /** Answers to information/warning messages with buttons, in order. */
  messageChoices: [] as (string | undefined)[],
  messages: [] as string[],
  /** Each message with its buttons, in order (messages holds the texts alone). */
  notifications: [] as { text: string; buttons: string[] }[],
  /** Each withProgress notification: its title and the messages it reported. */
  progress: [] as { title: string; messages: string[]; cancel(): void }[],
  shown: [] as FakeDocument[],
  documents: new Map<string, FakeDocument>(),
  clipboard: '',
  /** The Problems panel: each diagnostic collection's entries, by file path. */
  diagnostics: new Map<string, Map<string, Diagnostic[]>>(),
  /** Webview panels the extension created: view type, title, options and the html it set. */
  webviewPanels: [] as { viewType: string; title: string; options: unknown; webview: { html: string; cspSource: string } }[],
  reset(): void {
    this.webviewPanels.length = 0;
    this.commands.clear();
    this.codeLensProviders.length = 0;
    this.hoverProviders.length = 0;
    this.contentProviders.clear();
    this.quickPicks.length = 0;
    this.inputBoxes.length = 0;
    this.inputBoxOptions.length = 0;
    this.quickPickCalls.length = 0;
    this.messageChoices.length = 0;
    this.messages.length = 0;
    this.notifications.length = 0;
    this.progress.length = 0;
    this.shown.length = 0;
    this.documents.clear();
    window.visibleTextEditors = [];
    window.activeTextEditor = undefined;
  },
};

const disposable = { dispose(): void {} };

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown) {
    fake.commands.set(id, handler);
    return { dispose: () => fake.commands.delete(id) };
  },
  async executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    const handler = fake.commands.get(id);
    if (!handler) throw new Error(`command ${id} is not registered`);
    return handler(...args);
  },
};

export const languages = {
  createDiagnosticCollection(name: string) {
    const entries = new Map<string, Diagnostic[]>();
    fake.diagnostics.set(name, entries);
    return {
      name,
      set: (uri: Uri, diagnostics: Diagnostic[]) => void entries.set(uri.fsPath, diagnostics),
      delete: (uri: Uri) => void entries.delete(uri.fsPath),
      clear: () => entries.clear(),
      dispose: () => entries.clear(),
    };
  },
  registerCodeLensProvider(selector: unknown, provider: (typeof fake.codeLensProviders)[number]['provider']) {
    fake.codeLensProviders.push({ selector, provider });
    return disposable;
  },
  registerHoverProvider(selector: unknown, provider: (typeof fake.hoverProviders)[number]['provider']) {
    fake.hoverProviders.push({ selector, provider });
    return disposable;
  },
  async setTextDocumentLanguage(document: FakeDocument, languageId: string): Promise<FakeDocument> {
    document.languageId = languageId;
    return document;
  },
};

const message = async (text: string, ...rest: unknown[]): Promise<string | undefined> => {
  fake.messages.push(text);
  const buttons = rest.filter((r): r is string => typeof r === 'string');
  fake.notifications.push({ text, buttons });
  return buttons.length > 0 ? fake.messageChoices.shift() : undefined;
};

export const window = {
  visibleTextEditors: [] as FakeEditor[],
  activeTextEditor: undefined as FakeEditor | undefined,
  createTextEditorDecorationType(options: unknown) {
    return { options, dispose() {} };
  },
  createStatusBarItem() {
    return { text: '', tooltip: '', show() {}, hide() {}, dispose() {} };
  },
  createOutputChannel() {
    return { appendLine() {}, show() {}, dispose() {} };
  },
  onDidChangeActiveTextEditor: () => disposable,
  onDidChangeVisibleTextEditors: () => disposable,
  showInformationMessage: message,
  showWarningMessage: message,
  showErrorMessage: message,
  setStatusBarMessage(text: string) {
    fake.messages.push(text);
    return disposable;
  },
  async showQuickPick<T extends { label: string }>(items: readonly T[], options: { title?: string; placeHolder?: string } = {}): Promise<T | undefined> {
    fake.quickPickCalls.push({ items, options });
    const answer = fake.quickPicks.shift();
    if (answer === undefined) return undefined;
    if (typeof answer === 'function') return answer(items, options) as T | undefined;
    const found = items.find((item) => item.label === answer);
    if (!found) throw new Error(`quick pick "${options.title}": no item "${answer}" among ${items.map((i) => i.label).join(', ')}`);
    return found;
  },
  async withProgress<R>(options: { title?: string }, task: (progress: { report(value: { message?: string }): void }, token: { isCancellationRequested: boolean; onCancellationRequested(listener: () => void): { dispose(): void } }) => Promise<R>): Promise<R> {
    const listeners: (() => void)[] = [];
    const token = {
      isCancellationRequested: false,
      onCancellationRequested(listener: () => void) {
        listeners.push(listener);
        return disposable;
      },
    };
    const entry = {
      title: options.title ?? '',
      messages: [] as string[],
  /** Each message with its buttons, in order (messages holds the texts alone). */
  notifications: [] as { text: string; buttons: string[] }[],
      cancel() {
        token.isCancellationRequested = true;
        for (const listener of listeners) listener();
      },
    };
    fake.progress.push(entry);
    return task({ report: ({ message }) => void (message && entry.messages.push(message)) }, token);
  },
  createWebviewPanel(viewType: string, title: string, _column: unknown, options: unknown) {
    const panel = { viewType, title, options, webview: { html: '', cspSource: 'vscode-webview:' }, reveal() {}, onDidDispose: () => disposable, dispose() {} };
    fake.webviewPanels.push(panel);
    return panel;
  },
  registerTreeDataProvider() {
    return disposable;
  },
  async showInputBox(options: (typeof fake.inputBoxOptions)[number] = {}): Promise<string | undefined> {
    fake.inputBoxOptions.push(options);
    return fake.inputBoxes.shift();
  },
  async showTextDocument(target: FakeDocument | Uri): Promise<FakeEditor> {
    const document = target instanceof Uri ? await workspace.openTextDocument(target) : target;
    fake.shown.push(document);
    const editor = fakeEditor(document);
    window.visibleTextEditors.push(editor);
    return editor;
  },
};

export const workspace = {
  workspaceFolders: undefined as unknown,
  textDocuments: [] as FakeDocument[],
  getConfiguration() {
    return {
      get: <T>(key: string, fallback: T): T => (key in fake.settings ? (fake.settings[key] as T) : fallback),
      inspect: (key: string) => (key in fake.settings ? { key, globalValue: fake.settings[key] } : { key }),
    };
  },
  createFileSystemWatcher() {
    return { onDidCreate: () => disposable, onDidChange: () => disposable, onDidDelete: () => disposable, dispose() {} };
  },
  registerTextDocumentContentProvider(scheme: string, provider: { provideTextDocumentContent(uri: Uri): Promise<string> | string }) {
    fake.contentProviders.set(scheme, provider);
    return disposable;
  },
  async openTextDocument(uri: Uri): Promise<FakeDocument> {
    const known = fake.documents.get(uri.toString());
    if (known) return known;
    const provider = fake.contentProviders.get(uri.scheme);
    const document = fakeDocument(uri, provider ? await provider.provideTextDocumentContent(uri) : undefined);
    fake.documents.set(uri.toString(), document);
    return document;
  },
  asRelativePath(file: string): string {
    return file;
  },
  onDidSaveTextDocument: () => disposable,
  onDidChangeTextDocument: () => disposable,
  onDidChangeConfiguration: () => disposable,
  findFiles: async () => [],
};

export const env = {
  clipboard: {
    async writeText(text: string): Promise<void> {
      fake.clipboard = text;
    },
  },
};
