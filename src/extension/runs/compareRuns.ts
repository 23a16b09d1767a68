// "Compare Runs": two or more runs' headlines and learning curves side by side in one webview table
// (core/report/runsComparison.ts builds it). From the Runs view it takes the runs selected there
// (multi-select); otherwise, or with one run selected, it asks for the complete runs to compare.
import path from 'node:path';
import * as vscode from 'vscode';
import { readRunComparison, runsComparisonHtml, runsComparisonTable } from '../../core/report/runsComparison.js';
import { listRuns, runDirOf, type RunArgument } from '../runsFolder.js';

/** A static table: no script, styles inline, nothing loaded. */
export function compareRunsContentSecurityPolicy(cspSource: string): string {
  return ["default-src 'none'", `style-src ${cspSource} 'unsafe-inline'`, `font-src ${cspSource}`].join('; ');
}

/** The run folders to compare: those selected in the Runs view when two or more are, else asked (complete runs, newest first). */
async function runsToCompare(clicked: RunArgument, selected: readonly RunArgument[] | undefined): Promise<string[] | undefined> {
  const given = [...new Set([...(selected ?? []), clicked].map((a) => runDirOf(a)).filter((d): d is string => d !== undefined))];
  if (given.length >= 2) return given;
  const complete = (await listRuns()).filter((run) => run.state === 'complete');
  if (complete.length < 2) {
    void vscode.window.showInformationMessage(`ICL Lab: comparing needs two complete runs; the runs folder holds ${complete.length === 0 ? 'none' : 'one'}.`);
    return undefined;
  }
  const items = complete.map((run) => ({
    label: run.name,
    description: path.basename(run.record.data.file),
    detail: `${run.record.model ? path.basename(String(run.record.model.path ?? '')) : 'no model'} · ${run.modified.toLocaleString()}`,
    picked: given.includes(run.dir),
    dir: run.dir,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Compare which runs? (two or more)', canPickMany: true });
  if (!picked) return undefined;
  if (picked.length < 2) {
    void vscode.window.showInformationMessage('ICL Lab: pick two or more runs to compare.');
    return undefined;
  }
  return picked.map((p) => p.dir);
}

export function registerCompareRuns(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('iclLab.compareRuns', async (clicked?: RunArgument, selected?: readonly RunArgument[]) => {
      try {
        const dirs = await runsToCompare(clicked, Array.isArray(selected) ? selected : undefined);
        if (!dirs) return;
        const entries = await Promise.all(dirs.map((dir) => readRunComparison(dir)));
        const panel = vscode.window.createWebviewPanel('iclLab.compareRuns', `Compare: ${entries.map((e) => e.name).join(' · ')}`, vscode.ViewColumn.Active, {
          enableScripts: false,
          enableFindWidget: true,
          localResourceRoots: [],
        });
        panel.webview.html = runsComparisonHtml(runsComparisonTable(entries), compareRunsContentSecurityPolicy(panel.webview.cspSource));
      } catch (error) {
        void vscode.window.showErrorMessage(`ICL Lab: ${(error as Error).message}`);
      }
    }),
  );
}
