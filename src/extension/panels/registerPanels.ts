// The chart panels' commands and serializers: one panel per run × kind (shown again if open), and
// panels restored after a reload from the state their webview saved (run folder and UI choices).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { pickRun, type RunArgument } from '../runsFolder.js';
import { ChartPanel, panelWebviewOptions } from './chartPanel.js';
import { panelKinds, panelTitles, panelViewTypes, parsePanelState, type PanelKind } from './panelMessages.js';
import { hasSaeFeatures, noRunWithSaeMessage, noSaeMessage } from './saeFeatures.js';

const commands: Readonly<Record<PanelKind, string>> = {
  histograms: 'iclLab.showHistograms',
  correlations: 'iclLab.showCorrelations',
  learningCurves: 'iclLab.showLearningCurves',
  features: 'iclLab.showFeatures',
};

const trainSaeCommand = 'iclLab.trainSae';
const trainSaeAction = 'Train Sparse Autoencoder…';

/** The Features panel needs sae/features.json: says so (offering to train one) when the run has none. */
async function checkHasSae(runDir: string): Promise<boolean> {
  if (await hasSaeFeatures(runDir)) return true;
  const choice = await vscode.window.showInformationMessage(`ICL Lab: ${noSaeMessage}`, trainSaeAction);
  if (choice === trainSaeAction) void vscode.commands.executeCommand(trainSaeCommand, runDir);
  return false;
}

/** A run folder given as its run.json (or another file in it) means the folder. */
async function runFolderOf(dir: string): Promise<string> {
  const s = await stat(dir).catch(() => undefined);
  return path.resolve(s?.isFile() ? path.dirname(dir) : dir);
}

class PanelManager implements vscode.Disposable {
  private readonly panels = new Map<string, ChartPanel>();

  constructor(private readonly extensionUri: vscode.Uri) {}

  private static key(kind: PanelKind, runDir: string): string {
    return `${kind}\u0000${runDir}`;
  }

  async show(kind: PanelKind, argument: RunArgument): Promise<void> {
    const picked =
      kind === 'features'
        ? await pickRun(argument, `Show ${panelTitles[kind]}`, (run) => hasSaeFeatures(run.dir), noRunWithSaeMessage)
        : await pickRun(argument, `Show ${panelTitles[kind]}`);
    if (!picked) return;
    const runDir = await runFolderOf(picked);
    if (kind === 'features' && !(await checkHasSae(runDir))) return;
    const open = this.panels.get(PanelManager.key(kind, runDir));
    if (open) {
      open.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(panelViewTypes[kind], panelTitles[kind], vscode.ViewColumn.Active, panelWebviewOptions(this.extensionUri));
    this.attach(kind, runDir, panel);
  }

  revive(kind: PanelKind, panel: vscode.WebviewPanel, state: unknown): void {
    const saved = parsePanelState(state);
    if (!saved || saved.kind !== kind || this.panels.has(PanelManager.key(kind, path.resolve(saved.runDir)))) {
      // Nothing to show (a panel closed before its data arrived), or the run is shown already.
      panel.dispose();
      return;
    }
    this.attach(kind, path.resolve(saved.runDir), panel);
  }

  private attach(kind: PanelKind, runDir: string, panel: vscode.WebviewPanel): void {
    const key = PanelManager.key(kind, runDir);
    this.panels.set(key, new ChartPanel(kind, runDir, panel, this.extensionUri, () => this.panels.delete(key)));
  }

  dispose(): void {
    for (const panel of [...this.panels.values()]) panel.dispose();
    this.panels.clear();
  }
}

/**
 * Registers iclLab.showHistograms / showCorrelations / showLearningCurves / showFeatures (each takes an optional
 * run: a folder path, a Uri, or a runs-view item; else the user picks one) and the serializers
 * that restore their panels.
 */
export function registerPanels(context: vscode.ExtensionContext): void {
  const manager = new PanelManager(context.extensionUri);
  context.subscriptions.push(manager);
  for (const kind of panelKinds) {
    context.subscriptions.push(
      vscode.commands.registerCommand(commands[kind], (argument?: RunArgument) =>
        manager.show(kind, argument).catch((error: unknown) => {
          void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);
        }),
      ),
      vscode.window.registerWebviewPanelSerializer(panelViewTypes[kind], {
        deserializeWebviewPanel: async (panel, state: unknown) => manager.revive(kind, panel, state),
      }),
    );
  }
}
