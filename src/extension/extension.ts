// VS Code glue. Nothing heavy runs in the extension host: runs are `icl-lab` processes of their own,
// the model lives in the engine child process, both started with VS Code's own runtime.
import * as vscode from 'vscode';
import { createEngineHost, type EngineHost } from './engineHost.js';
import { registerInlineInspection } from './inline/inlineInspection.js';
import { registerLabelling } from './labelling/labelling.js';
import { registerModelCommands } from './model/modelCommands.js';
import { registerPanels } from './panels/registerPanels.js';
import { registerCompareRuns } from './runs/compareRuns.js';
import { registerRunCommands } from './runs/runCommands.js';
import { RunManager } from './runs/runManager.js';
import { RunsView } from './runs/runsView.js';
import { registerSaeCommands } from './sae/saeCommands.js';

let host: EngineHost | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('ICL Lab');
  host = createEngineHost(context, output);
  const manager = new RunManager(host);
  const runsView = new RunsView(manager);
  context.subscriptions.push(
    output,
    manager,
    runsView,
    // Several runs can be selected: "Compare Runs…" takes them all.
    vscode.window.createTreeView('iclLab.runs', { treeDataProvider: runsView, canSelectMany: true }),
    vscode.commands.registerCommand('iclLab.showEngineVersion', () => showEngineVersion(host!)),
  );
  registerRunCommands(context, host, manager, runsView);
  registerModelCommands(context, { output: host.output, modelInfo: (modelPath) => host!.modelInfo(modelPath), cli: host.cli.bind(host), runs: manager });
  registerPanels(context);
  registerSaeCommands(context, host);
  registerCompareRuns(context);
  const engineHost = host;
  registerInlineInspection(context, { countTokens: (texts, modelPath) => engineHost.countTokens(modelPath, texts) });
  registerLabelling(context);
}

export async function deactivate(): Promise<void> {
  await host?.dispose();
}

async function showEngineVersion(engineHost: EngineHost): Promise<void> {
  const modelPath = vscode.workspace.getConfiguration('iclLab').get<string>('modelPath', '');
  try {
    const { command, args, env } = engineHost.cli(['--version']);
    const { execFile } = await import('node:child_process');
    const version = await new Promise<string>((resolve, reject) => execFile(command, args, { env }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim()))));
    const model = modelPath ? await engineHost.modelInfo(modelPath).then((info) => `; model ${info.architecture}, backend ${info.gpu}`, () => '') : '';
    void vscode.window.showInformationMessage(`${version}${model}`);
  } catch (error) {
    void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);
  }
}
