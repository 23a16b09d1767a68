// Where the workspace's runs live (setting iclLab.runsFolder) and how a command that needs a run
// gets one: the run it was invoked on (runs view, CodeLens), else a quick pick, newest first.
import path from 'node:path';
import * as vscode from 'vscode';
import { listRunFolders, type RunFolder } from '../core/experiment/runFolders.js';

/** The runs folder, absolute; undefined without a workspace folder. */
export function runsRoot(): string | undefined {
  const setting = vscode.workspace.getConfiguration('iclLab').get<string>('runsFolder', '.icl-lab/runs');
  if (path.isAbsolute(setting)) return setting;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, setting) : undefined;
}

export async function listRuns(): Promise<RunFolder[]> {
  const root = runsRoot();
  return root ? listRunFolders(root) : [];
}

/** A run folder argument as commands receive it: a path, a Uri, or a runs-view item. */
export type RunArgument = string | vscode.Uri | { readonly run: RunFolder } | undefined;

export function runDirOf(argument: RunArgument): string | undefined {
  if (typeof argument === 'string') return argument;
  if (argument instanceof vscode.Uri) return argument.fsPath;
  if (argument && typeof argument === 'object' && 'run' in argument) return argument.run.dir;
  return undefined;
}

/**
 * The run a command acts on; undefined when the user dismissed the pick or there is none. When runs
 * exist but none fits, `none` says why (e.g. "no run can be resumed") instead of "no run yet".
 */
export async function pickRun(argument: RunArgument, title: string, filter: (run: RunFolder) => boolean | Promise<boolean> = () => true, none?: string): Promise<string | undefined> {
  const given = runDirOf(argument);
  if (given) return given;
  const all = await listRuns();
  const fits = await Promise.all(all.map(filter));
  const runs = all.filter((_, i) => fits[i]);
  if (runs.length === 0 && all.length > 0 && none) {
    void vscode.window.showInformationMessage(`ICL Lab: ${none}`);
    return undefined;
  }
  if (runs.length === 0) {
    const choice = await vscode.window.showInformationMessage('ICL Lab: no run to show yet.', 'Run the Demo Study', 'Run Active Learning on Dataset…');
    if (choice === 'Run the Demo Study') void vscode.commands.executeCommand('iclLab.runDemo');
    else if (choice) void vscode.commands.executeCommand('iclLab.runActiveLearning');
    return undefined;
  }
  if (runs.length === 1) return runs[0]!.dir;
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({ label: run.name, description: run.state, detail: `${path.basename(run.record.data.file)} · ${run.record.model?.architecture ?? 'no model'} · ${run.modified.toLocaleString()}`, run })),
    { title, placeHolder: 'Which run?' },
  );
  return picked?.run.dir;
}
