// The Runs view: every run folder under the runs folder, newest first, with its state, the phase it
// is in (with live progress for followed runs) and its headline ρ.
import path from 'node:path';
import * as vscode from 'vscode';
import { currentPhase, type RunFolder, type RunState } from '../../core/experiment/runFolders.js';
import { quantizationLabel } from '../../core/experiment/modelLabel.js';
import { hasSaeFeatures } from '../panels/saeFeatures.js';
import { isResumable } from './runOutcome.js';
import { formatDuration } from '../../core/format/duration.js';
import { listRuns, runsRoot } from '../runsFolder.js';
import { describeProgress } from './runEvents.js';
import type { RunManager } from './runManager.js';

const stateIcons: Record<RunState, string> = {
  running: 'sync~spin',
  interrupted: 'debug-pause',
  complete: 'pass',
  'shard-complete': 'pass',
  merged: 'combine',
  cancelled: 'circle-slash',
  failed: 'error',
};

type RunsNode = { readonly kind: 'run'; readonly run: RunFolder; readonly resumable?: boolean; readonly sae?: boolean } | { readonly kind: 'fact'; readonly run: RunFolder; readonly label: string; readonly value: string };

export class RunsView implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private watcher: vscode.FileSystemWatcher | undefined;

  constructor(private readonly manager: RunManager) {
    this.disposables.push(manager.onDidChange(() => this.refresh()));
    this.watch();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('iclLab.runsFolder')) {
          this.watch();
          this.refresh();
        }
      }),
    );
  }

  private watch(): void {
    this.watcher?.dispose();
    const root = runsRoot();
    if (!root) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '*/run.json'));
    this.watcher.onDidCreate(() => this.refresh());
    this.watcher.onDidChange(() => this.refresh());
    this.watcher.onDidDelete(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) {
      const runs = await listRuns();
      void vscode.commands.executeCommand('setContext', 'iclLab.hasRuns', runs.length > 0);
      // Resume is offered only where there is something to resume (a run that failed before its model loaded has nothing).
      // A run with sae/features.json offers Show SAE Features.
      return Promise.all(runs.map(async (run) => ({ kind: 'run' as const, run, resumable: await isResumable(run.dir, run.record, run.state), sae: await hasSaeFeatures(run.dir) })));
    }
    if (node.kind !== 'run') return [];
    const { run } = node;
    const { record } = run;
    const facts: [string, string][] = [['data', `${path.basename(record.data.file)} (pool ${record.data.pool}, probe ${record.data.probe}, test ${record.data.test})`]];
    const model = record.model;
    facts.push(['model', model ? `${path.basename(model.path ?? '')} · ${model.architecture} · ${model.layers} layers · ${quantizationLabel(model.quantization)}` : 'not loaded (the run failed before its model loaded)']);
    for (const [name, phase] of Object.entries(record.phases)) facts.push([name, `${phase.status} · ${formatDuration(phase.wallMs / 1000)}${phase.reused > 0 ? ` · ${phase.reused} units reused` : ''}`]);
    for (const row of record.headline?.byMask ?? []) facts.push([`|ρ| ${row.mask}`, `${Math.abs(row.rho).toFixed(3)} · ${row.site ? `${row.site} ` : ''}layer ${row.layer} ${row.statistic} (${row.pooling}) vs ${row.estimator} ${row.metric} · q ${row.qValue.toPrecision(2)}`]);
    if (record.error) facts.push(['error', record.error]);
    return facts.map(([label, value]) => ({ kind: 'fact', run, label, value }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'fact') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.description = node.value;
      item.tooltip = `${node.label}: ${node.value}`;
      return item;
    }
    const { run } = node;
    const live = this.manager.progressOf(run.dir);
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = run.dir;
    // `run-failed` etc. carry Resume (package.json menus); a stopped run with nothing to resume gets
    // `-nothing-to-resume`; a run with a sparse autoencoder's features ends in `-sae` (Show SAE Features).
    item.contextValue = `run-${run.state}${(run.state === 'failed' || run.state === 'cancelled' || run.state === 'interrupted') && node.resumable === false ? '-nothing-to-resume' : ''}${node.sae ? '-sae' : ''}`;
    item.iconPath = new vscode.ThemeIcon(stateIcons[run.state]);
    const overall = run.record.headline?.overall;
    item.description =
      run.state === 'running'
        ? live
          ? describeProgress(live)
          : `running · ${currentPhase(run.record) ?? 'starting'}`
        : overall
          ? `${run.state} · |ρ| ${Math.abs(overall.rho).toFixed(2)}`
          : `${run.state}${currentPhase(run.record) ? ` · ${currentPhase(run.record)}` : ''}`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendText(`${run.name} — ${run.state}\n`);
    tooltip.appendText(`${run.record.data.file}\n`);
    if (overall) tooltip.appendText(`largest |ρ| ${Math.abs(overall.rho).toFixed(3)} at ${overall.mask}, ${overall.site ? `${overall.site} ` : ''}layer ${overall.layer}, ${overall.statistic} (${overall.pooling})\n`);
    item.tooltip = tooltip;
    if (run.state === 'complete') item.command = { command: 'iclLab.showCorrelations', title: 'Show Correlations', arguments: [run.dir] };
    item.resourceUri = vscode.Uri.file(run.dir);
    return item;
  }

  dispose(): void {
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
