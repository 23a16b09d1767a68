// ICL Lab: Train Sparse Autoencoder…: trains a TopK SAE on a finished run's activations with
// `icl-lab sae RUN_FOLDER`, a CLI child process (the engine trains; never the extension host),
// behind a progress notification whose Cancel stops it; on success the Features panel opens.
import path from 'node:path';
import * as vscode from 'vscode';
import { runState } from '../../core/experiment/runFolders.js';
import { readRunRecord } from '../../core/experiment/runExperiment.js';
import type { EngineHost } from '../engineHost.js';
import { hasSaeFeatures, saeFiles } from '../panels/saeFeatures.js';
import { runCliTask } from '../runs/runCommands.js';
import { firstErrorLine } from '../runs/runOutcome.js';
import { pickRun, type RunArgument } from '../runsFolder.js';

/** The command line's arguments: `icl-lab sae RUN_FOLDER --progress json` (progress as JSON events: phase, done/total, rate, ETA). */
export function trainSaeArgs(runDir: string): string[] {
  return ['sae', runDir, '--progress', 'json'];
}

async function trainSae(host: EngineHost, argument: RunArgument): Promise<void> {
  const dir = await pickRun(
    argument,
    'Train a sparse autoencoder on which run?',
    (run) => run.state === 'complete',
    'no finished run to train a sparse autoencoder on: a run must complete first (its activations and quality are the training data).',
  );
  if (!dir) return;
  const runDir = path.resolve(dir);
  const name = path.basename(runDir);
  const record = await readRunRecord(runDir);
  if (!record) throw new Error(`${runDir} holds no run.json`);
  const state = runState(record);
  if (state !== 'complete') {
    void vscode.window.showInformationMessage(`ICL Lab: ${name} is ${state}: a sparse autoencoder is trained on a finished run.`);
    return;
  }
  const outcome = await runCliTask(host, `ICL Lab: training a sparse autoencoder on ${name}`, trainSaeArgs(runDir));
  // The Runs view watches run.json only: sae/ changes what it offers for this run.
  void vscode.commands.executeCommand('iclLab.refreshRuns').then(undefined, () => undefined);
  if (outcome.cancelled) {
    const choice = await vscode.window.showWarningMessage(`ICL Lab: training the sparse autoencoder of ${name} stopped; finished work is kept.`, 'Show Log');
    if (choice) host.output.show();
    return;
  }
  if (outcome.code !== 0) {
    const reason = firstErrorLine(outcome.lines) ?? outcome.lines.at(-1) ?? `exit code ${outcome.code}`;
    throw new Error(`training the sparse autoencoder of ${name} failed: ${reason}`);
  }
  if (!(await hasSaeFeatures(runDir))) throw new Error(`icl-lab sae finished but wrote no ${saeFiles.features} in ${runDir}`);
  await vscode.commands.executeCommand('iclLab.showFeatures', runDir);
}

export function registerSaeCommands(context: vscode.ExtensionContext, host: EngineHost): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('iclLab.trainSae', async (argument?: RunArgument) => {
      try {
        await trainSae(host, argument);
      } catch (error) {
        const message = (error as Error).message;
        host.output.appendLine(message);
        const choice = await vscode.window.showErrorMessage(`ICL Lab: ${message}`, 'Show Log');
        if (choice) host.output.show();
      }
    }),
  );
}
