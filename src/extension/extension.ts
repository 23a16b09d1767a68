// VS Code glue: commands that drive the engine process. Nothing heavy runs in the extension host;
// the model lives in the engine child process started with VS Code's own runtime.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { loadDataset } from '../core/dataset/loadDataset.js';
import { statsCsvHeader, statsCsvRows } from '../core/format/statsCsv.js';
import { EngineClient } from '../engine/client.js';
import type { GpuChoice } from '../engine/protocol.js';

let client: EngineClient | undefined;
let output: vscode.OutputChannel;

export function activate(context: vscode.ExtensionContext): void {
  output = vscode.window.createOutputChannel('ICL Lab');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('iclLab.showEngineVersion', () => showEngineVersion(context)),
    vscode.commands.registerCommand('iclLab.extractActivations', (uri?: vscode.Uri) => extractActivations(context, uri)),
    { dispose: () => void client?.stop() },
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

function engineClient(context: vscode.ExtensionContext): EngineClient {
  if (client) return client;
  const gpu = vscode.workspace.getConfiguration('iclLab').get<GpuChoice>('gpu', 'auto');
  client = new EngineClient({
    serverModule: path.join(context.extensionPath, 'dist', 'engineServer.mjs'),
    // VS Code's Electron runs the engine as plain Node: users need no Node install.
    execPath: process.execPath,
    env: { ELECTRON_RUN_AS_NODE: '1' },
    gpu,
    onLog: (log) => output.appendLine(`[llama.cpp ${log.level}] ${log.message.trim()}`),
    onExit: (reason) => {
      output.appendLine(reason);
      void vscode.window.showErrorMessage(`ICL Lab engine stopped: ${reason}`, 'Show Log').then((choice) => {
        if (choice) output.show();
      });
    },
  });
  return client;
}

async function showEngineVersion(context: vscode.ExtensionContext): Promise<void> {
  try {
    const info = await engineClient(context).start();
    void vscode.window.showInformationMessage(`ICL Lab engine ${info.version}, llama.cpp ${info.llamaCppRelease}, backend ${info.gpu}`);
  } catch (error) {
    void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);
  }
}

async function extractActivations(context: vscode.ExtensionContext, uri?: vscode.Uri): Promise<void> {
  const dataUri = uri ?? vscode.window.activeTextEditor?.document.uri;
  if (!dataUri || !dataUri.fsPath.endsWith('.jsonl')) {
    void vscode.window.showErrorMessage('ICL Lab: open or select a .jsonl dataset first');
    return;
  }
  const configuration = vscode.workspace.getConfiguration('iclLab');
  let modelPath = configuration.get<string>('modelPath', '');
  if (!modelPath) {
    const picked = await vscode.window.showOpenDialog({ filters: { 'GGUF model': ['gguf'] }, canSelectMany: false });
    if (!picked?.[0]) return;
    modelPath = picked[0].fsPath;
  }
  const field = await vscode.window.showInputBox({ prompt: 'Field holding the example text', value: 'text' });
  if (!field) return;

  const outDir = path.join(path.dirname(dataUri.fsPath), '.icl-lab');
  const outFile = path.join(outDir, `${path.basename(dataUri.fsPath, '.jsonl')}.stats.csv`);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'ICL Lab: extracting activations', cancellable: true },
    async (progress, token) => {
      const csv = createWriteStream(outFile, { encoding: 'utf8' });
      try {
        const rows = (await loadDataset({ file: dataUri.fsPath, inputs: [field] })).rows.map((r) => ({ example: r.index, text: r.inputs[field]! }));
        const engine = engineClient(context);
        await engine.start();
        progress.report({ message: 'loading model' });
        await engine.loadModel(modelPath);
        await mkdir(outDir, { recursive: true });
        csv.write(statsCsvHeader());
        let reported = 0;
        const run = engine.extract(
          {
            examples: rows.map((r) => ({ example: r.example, text: r.text })),
            mask: 'isolated',
            contextSize: configuration.get<number>('contextSize', 4096),
            batchSize: configuration.get<number>('batchSize', 512),
            maxSequences: 64,
            threads: configuration.get<number>('threads', 0),
            exact: false,
          },
          (result) => csv.write(statsCsvRows(result.example, 'isolated', result.stats)),
          (p) => {
            const increment = (100 * (p.done - reported)) / p.total;
            reported = p.done;
            progress.report({ increment, message: `${p.done}/${p.total} examples, ${(p.tokens / (p.elapsedMs / 1000)).toFixed(0)} tok/s` });
          },
        );
        token.onCancellationRequested(() => run.cancel());
        await run.done;
        void vscode.window.showInformationMessage(`ICL Lab: statistics written to ${outFile}`, 'Open').then((choice) => {
          if (choice) void vscode.window.showTextDocument(vscode.Uri.file(outFile));
        });
      } catch (error) {
        output.appendLine((error as Error).message);
        void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);
      } finally {
        csv.end();
        await once(csv, 'finish');
      }
    },
  );
}
