// "Select Model…", "Download Model…" and the Model view. The model is setting iclLab.modelPath
// (saved in the workspace settings); downloads go to setting iclLab.modelsFolder (default
// ~/.icl-lab/models) through `icl-lab download-model` in a child process.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { describeDownloadProgress, downloadPercent, formatBytes } from '../../core/models/downloadEvents.js';
import { catalogModels } from '../../core/models/modelCatalog.js';
import { checkModelFile, listGgufFiles, type GgufFileEntry } from '../../core/models/modelFiles.js';
import { resolveModelsFolder } from '../../core/models/modelsFolder.js';
import { ModelUriError, parseModelSource } from '../../core/models/modelSource.js';
import type { ModelInfo } from '../../engine/protocol.js';
import { startModelDownload, type CliLauncher, type DownloadOutcome, type DownloadProcess } from './modelDownloadProcess.js';
import { ModelTreeProvider } from './modelView.js';

export interface ModelCommandDeps {
  readonly output: vscode.OutputChannel;
  /** Loads `modelPath` in the engine process and returns its facts (EngineHost.modelInfo). */
  modelInfo(modelPath: string): Promise<ModelInfo>;
  /** The command line that runs `icl-lab <args>` with VS Code's runtime (EngineHost.cli). */
  cli: CliLauncher;
  /** Runs whose process is loading their model now, and when that changes (the Model view says "loading…"). */
  readonly runs?: { runsLoadingModel(): readonly string[]; readonly onDidChange: vscode.Event<unknown> };
}

export interface ModelCommands {
  /** Reloads the Model view (after the engine restarted, say). */
  refresh(): void;
}

export function registerModelCommands(context: vscode.ExtensionContext, deps: ModelCommandDeps): ModelCommands {
  const provider = new ModelTreeProvider(currentModelPath, (modelPath) => deps.modelInfo(modelPath), deps.output, () => deps.runs?.runsLoadingModel() ?? []);
  let loadingBefore = '';
  if (deps.runs) {
    context.subscriptions.push(
      deps.runs.onDidChange(() => {
        const loading = deps.runs!.runsLoadingModel().join('\n');
        if (loading !== loadingBefore) provider.redraw();
        loadingBefore = loading;
      }),
    );
  }
  const downloading = new Map<string, DownloadProcess>();
  context.subscriptions.push(
    provider,
    // Closing the window cancels downloads in flight: their partial files are deleted.
    { dispose: () => downloading.forEach((download) => download.cancel()) },
    vscode.window.createTreeView('iclLab.model', { treeDataProvider: provider }),
    vscode.commands.registerCommand('iclLab.selectModel', (argument?: vscode.Uri | string) => selectModel(argument)),
    vscode.commands.registerCommand('iclLab.downloadModel', (uri?: string) => downloadModel(deps, downloading, uri)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('iclLab.modelPath') || event.affectsConfiguration('iclLab.gpu')) provider.refresh();
    }),
  );
  return { refresh: () => provider.refresh() };
}

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Setting iclLab.modelPath, absolute (a relative path is relative to the first workspace folder). */
function currentModelPath(): string | undefined {
  const setting = vscode.workspace.getConfiguration('iclLab').get<string>('modelPath', '').trim();
  if (!setting) return undefined;
  const base = workspaceFolder();
  return path.isAbsolute(setting) || !base ? setting : path.join(base, setting);
}

function modelsFolder(): string {
  return resolveModelsFolder(vscode.workspace.getConfiguration('iclLab').get<string>('modelsFolder', ''), workspaceFolder());
}

/** Saves the model in the workspace settings (user settings when no folder is open). */
async function useModel(modelPath: string): Promise<boolean> {
  const check = await checkModelFile(modelPath);
  if (!check.ok) {
    void vscode.window.showErrorMessage(`ICL Lab: ${check.message}`);
    return false;
  }
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('iclLab').update('modelPath', modelPath, target);
  return true;
}

interface ModelPickItem extends vscode.QuickPickItem {
  readonly action?: 'browse' | 'download';
  readonly file?: string;
}

async function selectModel(argument?: vscode.Uri | string): Promise<void> {
  // From the explorer's context menu or another command: that file.
  if (argument) {
    await useModel(typeof argument === 'string' ? argument : argument.fsPath);
    return;
  }
  const folder = modelsFolder();
  const current = currentModelPath();
  const [inFolder, inWorkspace] = await Promise.all([listGgufFiles(folder), workspaceGgufFiles()]);
  const seen = new Set(inFolder.map((file) => file.path));
  const fileItem = (file: GgufFileEntry): ModelPickItem => ({
    label: `$(file-binary) ${path.basename(file.path)}`,
    description: `${formatBytes(file.bytes)}${file.path === current ? ' · current' : ''}`,
    detail: path.dirname(file.path),
    file: file.path,
  });
  const items: ModelPickItem[] = [
    { label: `Models folder (${folder})`, kind: vscode.QuickPickItemKind.Separator },
    ...inFolder.map(fileItem),
    ...(inWorkspace.some((file) => !seen.has(file.path)) ? [{ label: 'Workspace', kind: vscode.QuickPickItemKind.Separator }] : []),
    ...inWorkspace.filter((file) => !seen.has(file.path)).map(fileItem),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(folder-opened) Browse…', description: 'a .gguf file anywhere', action: 'browse' },
    { label: '$(cloud-download) Download Model…', description: "the paper's models or a URI", action: 'download' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'ICL Lab: Select Model',
    placeHolder: inFolder.length + inWorkspace.length > 0 ? 'GGUF model for ICL Lab commands' : 'No GGUF files found yet: browse for one or download one',
    matchOnDetail: true,
  });
  if (!picked) return;
  if (picked.action === 'download') {
    await vscode.commands.executeCommand('iclLab.downloadModel');
    return;
  }
  let file = picked.file;
  if (picked.action === 'browse') {
    const chosen = await vscode.window.showOpenDialog({
      title: 'ICL Lab: Select Model',
      filters: { 'GGUF model': ['gguf'] },
      canSelectMany: false,
      ...(current ? { defaultUri: vscode.Uri.file(path.dirname(current)) } : {}),
    });
    file = chosen?.[0]?.fsPath;
  }
  if (file) await useModel(file);
}

async function workspaceGgufFiles(): Promise<GgufFileEntry[]> {
  const uris = await vscode.workspace.findFiles('**/*.gguf', '**/{node_modules,.git}/**', 200);
  const files = await Promise.all(
    uris.map(async (uri) => {
      const info = await stat(uri.fsPath).catch(() => undefined);
      return info?.isFile() ? { path: uri.fsPath, bytes: info.size, modified: info.mtime } : undefined;
    }),
  );
  return files.filter((file): file is GgufFileEntry => file !== undefined).sort((a, b) => a.path.localeCompare(b.path));
}

interface DownloadPickItem extends vscode.QuickPickItem {
  readonly uri?: string;
}

async function downloadModel(deps: ModelCommandDeps, downloading: Map<string, DownloadProcess>, given?: string): Promise<void> {
  let input = given;
  let title: string | undefined;
  if (!input) {
    const items: DownloadPickItem[] = [
      ...catalogModels.map((model) => ({
        label: `$(cloud-download) ${model.label}`,
        description: `${model.quantization} · ≈${formatBytes(model.approxBytes)}`,
        detail: `${model.uri}  (quantised ${model.baseModel}; ${model.license})`,
        uri: model.uri,
      })),
      { label: '$(link) Enter a URI…', detail: 'hf:<user>/<repo>/<file>.gguf, hf:<user>/<repo>:<quant> or an http(s) URL to a .gguf file' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: 'ICL Lab: Download Model', placeHolder: `Saved in ${modelsFolder()} (setting iclLab.modelsFolder)` });
    if (!picked) return;
    title = picked.uri ? picked.label.replace(/^\$\([^)]*\)\s*/, '') : undefined;
    input =
      picked.uri ??
      (await vscode.window.showInputBox({
        title: 'ICL Lab: Download Model',
        prompt: 'Model URI',
        placeHolder: 'hf:QuantFactory/Llama-3.2-3B-GGUF/Llama-3.2-3B.Q8_0.gguf',
        ignoreFocusOut: true,
        validateInput: (value) => {
          try {
            parseModelSource(value);
            return undefined;
          } catch (error) {
            return error instanceof ModelUriError ? error.message : String(error);
          }
        },
      }));
    if (!input) return;
  }
  let uri: string;
  try {
    uri = parseModelSource(input).uri;
  } catch (error) {
    void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);
    return;
  }
  if (downloading.has(uri)) {
    void vscode.window.showInformationMessage(`ICL Lab: ${uri} is already downloading.`);
    return;
  }
  const folder = modelsFolder();
  const { output } = deps;
  output.appendLine(`Download Model: ${uri} → ${folder}`);
  let outcome: DownloadOutcome;
  try {
    outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `ICL Lab: downloading ${title ?? uri}`, cancellable: true },
      (progress, token) => {
        progress.report({ message: 'connecting…' });
        let reported = 0;
        const download = startModelDownload(deps.cli, uri, folder, (event) => {
          if (event.event === 'start') {
            output.appendLine(event.existing ? `  ${event.file} is already there (${formatBytes(event.totalBytes)})` : `  ${formatBytes(event.totalBytes)} → ${event.file}`);
          } else if (event.event === 'progress') {
            const percent = downloadPercent(event);
            progress.report({ increment: percent - reported, message: describeDownloadProgress(event) });
            reported = percent;
          } else if (event.event === 'error') {
            output.appendLine(`  ${event.message}`);
          }
        });
        downloading.set(uri, download);
        token.onCancellationRequested(() => download.cancel());
        return download.done;
      },
    );
  } finally {
    downloading.delete(uri);
  }

  if (outcome.status === 'done') {
    output.appendLine(`  done: ${outcome.file}`);
    const name = path.basename(outcome.file);
    const message = outcome.existing
      ? `ICL Lab: ${name} was already downloaded (${formatBytes(outcome.bytes)}, ${path.dirname(outcome.file)}).`
      : `ICL Lab: downloaded ${name} (${formatBytes(outcome.bytes)}) to ${path.dirname(outcome.file)}.`;
    const isCurrent = currentModelPath() === outcome.file;
    const choice = await vscode.window.showInformationMessage(message, ...(isCurrent ? [] : ['Use this model']));
    if (choice === 'Use this model' && (await useModel(outcome.file))) void vscode.window.showInformationMessage(`ICL Lab: using ${name}.`);
  } else if (outcome.status === 'cancelled') {
    output.appendLine(`  ${outcome.message}`);
    void vscode.window.showInformationMessage(`ICL Lab: ${outcome.message}.`);
  } else {
    output.appendLine(`  failed: ${outcome.message}`);
    const choice = await vscode.window.showErrorMessage(`ICL Lab: ${outcome.message}`, 'Show Log', 'Try Again');
    if (choice === 'Show Log') output.show();
    else if (choice === 'Try Again') void vscode.commands.executeCommand('iclLab.downloadModel', uri);
  }
}
