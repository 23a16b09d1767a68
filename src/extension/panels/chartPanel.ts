// One chart panel (a webview) showing one run: it answers its webview's messages (data, scatter
// points, statistic values), opens the dataset at a clicked example, saves exports, and resends the
// data when the run folder's files change. The webview's HTML and messages are in panelHtml.ts and
// panelMessages.ts; what it shows comes from panelData.ts.
import path from 'node:path';
import * as vscode from 'vscode';
import { RunPanelSource } from './panelData.js';
import { panelHtml, panelResourceRoots } from './panelHtml.js';
import {
  panelTitles,
  parseWebviewMessage,
  type ExportCommand,
  type HostMessage,
  type PanelKind,
  type PingRequest,
  type WebviewMessage,
} from './panelMessages.js';

/** The options every panel is created (and revived) with: scripts on, resources only from dist/webviews and media. */
export function panelWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: panelResourceRoots.map((root) => vscode.Uri.joinPath(extensionUri, ...root.split('/'))),
  };
}

const exportFilters: Readonly<Record<ExportCommand['format'], Record<string, string[]>>> = {
  svg: { 'SVG image': ['svg'] },
  png: { 'PNG image': ['png'] },
  csv: { 'CSV table': ['csv'] },
};

/** How long file changes settle before the panel reloads its data. */
const reloadDelayMs = 500;

/**
 * A shown or moved panel whose webview says nothing (no `ready`, no `pong`) for this long gets its
 * HTML set again: a webview moved to another editor group reloads, and in code-server its script and
 * stylesheet then failed to load, leaving an empty panel that never asked for its data.
 */
export const webviewSilenceMs = 5000;
/** HTML reloads in a row before the panel says it could not load. */
export const maxWebviewReloads = 2;

export class ChartPanel implements vscode.Disposable {
  private readonly source: RunPanelSource;
  private readonly disposables: vscode.Disposable[] = [];
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  /** The liveness check: whether the webview spoke since the panel was last shown, moved or reloaded. */
  private heard = false;
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private htmlReloads = 0;
  private column: vscode.ViewColumn | undefined;
  private wasVisible: boolean;

  constructor(
    readonly kind: PanelKind,
    runDir: string,
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    onDispose: () => void,
    private readonly silenceMs = webviewSilenceMs,
  ) {
    this.source = new RunPanelSource(runDir);
    const webview = panel.webview;
    webview.options = panelWebviewOptions(extensionUri);
    panel.title = `${panelTitles[kind]}: ${path.basename(this.source.dir)}`;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icl-lab.svg');
    this.setHtml();
    this.column = panel.viewColumn;
    this.wasVisible = panel.visible;
    // The Features panel reads sae/ (features.json, sae.json) besides run.json.
    const watched = kind === 'features' ? '{run.json,sae/*.json}' : '*.{csv,json}';
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.source.dir), watched));
    const changed = () => this.scheduleReload();
    this.disposables.push(
      watcher,
      watcher.onDidChange(changed),
      watcher.onDidCreate(changed),
      watcher.onDidDelete(changed),
      webview.onDidReceiveMessage((message: unknown) => void this.onMessage(message)),
      panel.onDidChangeViewState(() => this.onViewState()),
      panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
  }

  /** A fresh page (a new nonce, so VS Code loads it anew even when nothing else changed). */
  private setHtml(): void {
    const webview = this.panel.webview;
    webview.html = panelHtml({
      kind: this.kind,
      cspSource: webview.cspSource,
      resourceUri: (relative) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...relative.split('/'))).toString(),
    });
    this.expectWebview();
  }

  /** Shown again or moved to another group: the page may have reloaded, so check that it runs. */
  private onViewState(): void {
    const moved = this.panel.viewColumn !== this.column;
    const shown = this.panel.visible && !this.wasVisible;
    this.column = this.panel.viewColumn;
    this.wasVisible = this.panel.visible;
    if (this.panel.visible && (moved || shown)) {
      this.htmlReloads = 0;
      this.expectWebview();
    }
  }

  /**
   * Pings the webview and waits `silenceMs` for any message: a live page answers `pong`, a
   * reloaded one says `ready`. Silence means its script did not load: the HTML is set again.
   */
  private expectWebview(): void {
    this.heard = false;
    if (this.silenceTimer !== undefined) clearTimeout(this.silenceTimer);
    if (!this.disposed) void this.panel.webview.postMessage({ type: 'ping' } satisfies PingRequest);
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = undefined;
      if (this.heard || this.disposed || !this.panel.visible) return;
      if (this.htmlReloads < maxWebviewReloads) {
        this.htmlReloads++;
        console.warn(`ICL Lab ${this.kind} panel: the webview did not answer in ${this.silenceMs} ms; loading it again (${this.htmlReloads} of ${maxWebviewReloads})`);
        this.setHtml();
        return;
      }
      void vscode.window
        .showWarningMessage(`ICL Lab: the ${panelTitles[this.kind]} panel of ${path.basename(this.source.dir)} did not load (its page did not answer after ${maxWebviewReloads} reloads).`, 'Reload Panel')
        .then((choice) => {
          if (choice && !this.disposed) {
            this.htmlReloads = 0;
            this.setHtml();
          }
        });
    }, this.silenceMs);
  }

  get runDir(): string {
    return this.source.dir;
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.reloadTimer !== undefined) clearTimeout(this.reloadTimer);
    if (this.silenceTimer !== undefined) clearTimeout(this.silenceTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  private post(message: HostMessage): void {
    if (!this.disposed) void this.panel.webview.postMessage(message);
  }

  private scheduleReload(): void {
    if (this.reloadTimer !== undefined) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      this.source.invalidate();
      void this.sendData();
    }, reloadDelayMs);
  }

  private async sendData(): Promise<void> {
    try {
      this.post(await this.data());
    } catch (error) {
      this.post({ type: 'error', message: (error as Error).message });
    }
  }

  private data(): Promise<HostMessage> {
    switch (this.kind) {
      case 'histograms':
        return this.source.histogramsData();
      case 'correlations':
        return this.source.correlationsData();
      case 'learningCurves':
        return this.source.learningCurvesData();
      case 'features':
        return this.source.featuresData();
    }
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw, this.kind);
    if (!message) {
      console.warn(`ICL Lab ${this.kind} panel: ignored a message it may not send`);
      return;
    }
    this.heard = true;
    await this.handle(message);
  }

  private async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'pong':
        return;
      case 'ready':
        return this.sendData();
      case 'cellSelected':
      case 'statistic':
      case 'featureSelected':
        try {
          this.post(
            message.type === 'cellSelected'
              ? await this.source.scatter(message.cell, message.requestId)
              : message.type === 'statistic'
                ? await this.source.statistic(message.key, message.requestId)
                : await this.source.featureExamples(message.latent, message.requestId),
          );
        } catch (error) {
          this.post({ type: 'error', message: (error as Error).message, requestId: message.requestId });
        }
        return;
      case 'revealExample':
        try {
          const { file, line } = await this.source.exampleLocation(message.example);
          await revealLine(file, line);
        } catch (error) {
          void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);
        }
        return;
      case 'export':
        try {
          await this.saveExport(message);
        } catch (error) {
          void vscode.window.showErrorMessage(`ICL Lab: export failed: ${(error as Error).message}`);
        }
        return;
      case 'error':
        console.warn(`ICL Lab ${this.kind} panel: ${message.message}`);
        return;
    }
  }

  private async saveExport(message: ExportCommand): Promise<void> {
    const file = `${message.name}.${message.format}`;
    const figures = path.join(this.source.dir, 'figures');
    const folder = await vscode.workspace.fs.stat(vscode.Uri.file(figures)).then(
      () => figures,
      () => this.source.dir,
    );
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(folder, file)),
      filters: exportFilters[message.format],
      title: message.format === 'csv' ? 'Save the chart’s data' : 'Save the chart',
    });
    if (!target) return;
    const bytes =
      message.format === 'png' ? Buffer.from(message.content.slice(message.content.indexOf(',') + 1), 'base64') : Buffer.from(message.content, 'utf8');
    await vscode.workspace.fs.writeFile(target, bytes);
    const choice = await vscode.window.showInformationMessage(`ICL Lab: saved ${path.basename(target.fsPath)}`, 'Open');
    if (choice) await vscode.commands.executeCommand('vscode.open', target);
  }
}

/** Opens `file` with line `line` (1-based) selected, in the editor already showing it if there is one. */
async function revealLine(file: string, line: number): Promise<void> {
  const uri = vscode.Uri.file(file);
  const document = await vscode.workspace.openTextDocument(uri);
  const range = document.lineAt(Math.max(0, Math.min(line - 1, document.lineCount - 1))).range;
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
  const editor = await vscode.window.showTextDocument(document, {
    viewColumn: visible?.viewColumn ?? vscode.ViewColumn.Beside,
    selection: new vscode.Selection(range.start, range.end),
    preserveFocus: false,
  });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
