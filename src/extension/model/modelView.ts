// The Model view (`iclLab.model`): the model in setting iclLab.modelPath as the engine loads it,
// or what is wrong with it. Rebuilt when the setting (or the GPU choice) changes.
import * as vscode from 'vscode';
import { checkModelFile } from '../../core/models/modelFiles.js';
import type { ModelInfo } from '../../engine/protocol.js';
import { modelFactRows, modelLoadingRows, modelProblemRows, type ModelRow } from './modelViewRows.js';

export class ModelTreeProvider implements vscode.TreeDataProvider<ModelRow> {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** The rows once loaded; undefined while none are (then "loading…" shows). */
  private rows: ModelRow[] | undefined;
  private loading: Promise<void> | undefined;
  private generation = 0;

  constructor(
    private readonly modelPath: () => string | undefined,
    private readonly modelInfo: (modelPath: string) => Promise<ModelInfo>,
    private readonly output: vscode.OutputChannel,
    /** Runs (by name) whose own process is loading their model right now. */
    private readonly runsLoadingModel: () => readonly string[] = () => [],
  ) {}

  refresh(): void {
    this.generation += 1;
    this.rows = undefined;
    this.loading = undefined;
    this.changed.fire(undefined);
  }

  /** Redraws without reloading (a run started or finished loading its model). */
  redraw(): void {
    this.changed.fire(undefined);
  }

  /** Resolves once the current rows are loaded (tests wait on it). */
  async settled(): Promise<void> {
    await this.loading;
  }

  async getChildren(element?: ModelRow): Promise<ModelRow[]> {
    if (element) return [];
    const runs = this.runsLoadingModel();
    if (!this.modelPath()) return runs.length > 0 ? modelLoadingRows(undefined, runs) : [];
    if (this.rows) return this.rows.length === 0 && runs.length > 0 ? modelLoadingRows(undefined, runs) : this.rows;
    // Loading a model takes seconds: "loading…" now, the facts when they come.
    if (!this.loading) {
      const generation = this.generation;
      this.loading = this.load().then((rows) => {
        if (generation !== this.generation) return;
        this.rows = rows;
        this.changed.fire(undefined);
      });
    }
    return modelLoadingRows(this.modelPath(), runs);
  }

  getTreeItem(row: ModelRow): vscode.TreeItem {
    const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.None);
    item.id = row.id;
    item.description = row.description;
    item.tooltip = row.tooltip;
    item.contextValue = `model-${row.kind}`;
    item.iconPath = row.icon === 'error' ? new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')) : new vscode.ThemeIcon(row.icon);
    if (row.command) item.command = { command: row.command, title: row.label };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }

  /** No rows without a model: the view's welcome text offers Select and Download. */
  private async load(): Promise<ModelRow[]> {
    const modelPath = this.modelPath();
    if (!modelPath) return [];
    const check = await checkModelFile(modelPath);
    if (!check.ok) return modelProblemRows(modelPath, check.problem, check.message);
    try {
      return modelFactRows(await this.modelInfo(modelPath));
    } catch (error) {
      const message = (error as Error).message;
      this.output.appendLine(`Model view: ${modelPath}: ${message}`);
      return modelProblemRows(modelPath, 'engine', message);
    }
  }
}
