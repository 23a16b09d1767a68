// The Model view (`iclLab.model`): the model in setting iclLab.modelPath as the engine loads it,
// or what is wrong with it. Rebuilt when the setting (or the GPU choice) changes.
import * as vscode from 'vscode';
import { checkModelFile } from '../../core/models/modelFiles.js';
import type { ModelInfo } from '../../engine/protocol.js';
import { modelFactRows, modelProblemRows, type ModelRow } from './modelViewRows.js';

export class ModelTreeProvider implements vscode.TreeDataProvider<ModelRow> {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private rows: Promise<ModelRow[]> | undefined;

  constructor(
    private readonly modelPath: () => string | undefined,
    private readonly modelInfo: (modelPath: string) => Promise<ModelInfo>,
    private readonly output: vscode.OutputChannel,
  ) {}

  refresh(): void {
    this.rows = undefined;
    this.changed.fire(undefined);
  }

  getChildren(element?: ModelRow): Promise<ModelRow[]> {
    if (element) return Promise.resolve([]);
    this.rows ??= this.load();
    return this.rows;
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
