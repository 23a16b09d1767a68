// Which finished run the editor shows for a data file, and that run's index, loaded once and kept
// until the runs folder or the data file changes. The newest complete run on the file is used
// unless the user pinned another (ICL Lab: status bar item).
import path from 'node:path';
import * as vscode from 'vscode';
import { datasetFormatOf } from '../../core/dataset/datasetFormat.js';
import type { RunFolder } from '../../core/experiment/runFolders.js';
import { loadRunIndex, runsOnFile, samePath, type RunIndex } from '../../core/inspect/runIndex.js';
import { readRowStarts } from '../../core/inspect/rowStarts.js';
import { listRuns } from '../runsFolder.js';

export interface InlineRun {
  readonly run: RunFolder;
  readonly index: RunIndex;
  /** 1-based start line of every row of the file, by row index. */
  readonly rowStarts: readonly number[];
}

/** A data file the inline views read: by extension, on disk. */
export function isDataDocument(document: vscode.TextDocument): boolean {
  if (document.uri.scheme !== 'file') return false;
  try {
    datasetFormatOf(document.uri.fsPath);
    // The labelling files beside a data file are not data.
    return !/\.(labels\.jsonl|labelling\.json)$/.test(document.uri.fsPath);
  } catch {
    return false;
  }
}

export class InlineRuns implements vscode.Disposable {
  private runs: Promise<RunFolder[]> | undefined;
  private readonly loaded = new Map<string, Promise<InlineRun>>();
  private readonly pinned = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  /** Last load failure per data file, for the status bar. */
  readonly failures = new Map<string, string>();

  /** Every complete run on `dataFile`, newest first. */
  async runsFor(dataFile: string): Promise<RunFolder[]> {
    this.runs ??= listRuns().catch(() => []);
    return runsOnFile(await this.runs, dataFile);
  }

  /** The run shown for `dataFile`: the pinned one, else the newest complete run on it. */
  async runFor(dataFile: string): Promise<RunFolder | undefined> {
    const runs = await this.runsFor(dataFile);
    const pinned = this.pinned.get(path.resolve(dataFile));
    return runs.find((run) => run.dir === pinned) ?? runs[0];
  }

  pin(dataFile: string, runDir: string): void {
    this.pinned.set(path.resolve(dataFile), runDir);
    this.changed.fire();
  }

  /** The run shown for `dataFile` with its index; undefined when there is none or it cannot be read (see `failures`). */
  async inlineRun(dataFile: string): Promise<InlineRun | undefined> {
    const run = await this.runFor(dataFile);
    if (!run) return undefined;
    try {
      const inline = await this.load(run);
      this.failures.delete(path.resolve(dataFile));
      return inline;
    } catch (error) {
      this.failures.set(path.resolve(dataFile), `${run.name}: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** A run's index by folder (any run, not only those on an open file). */
  async index(runDir: string): Promise<RunIndex> {
    this.runs ??= listRuns().catch(() => []);
    const run = (await this.runs).find((r) => r.dir === runDir);
    if (run) return (await this.load(run)).index;
    return loadRunIndex(runDir);
  }

  private load(run: RunFolder): Promise<InlineRun> {
    let loading = this.loaded.get(run.dir);
    if (!loading) {
      loading = (async () => {
        const index = await loadRunIndex(run.dir);
        const rowStarts = await readRowStarts(index.config.data.file, index.config.data.format);
        return { run, index, rowStarts };
      })();
      this.loaded.set(run.dir, loading);
      loading.catch(() => this.loaded.delete(run.dir));
    }
    return loading;
  }

  /** The runs folder changed: list it again and reload what is asked for next. */
  refresh(): void {
    this.runs = undefined;
    this.loaded.clear();
    this.changed.fire();
  }

  /** Something the views show changed (a setting): draw again from what is loaded. */
  redraw(): void {
    this.changed.fire();
  }

  /** A data file changed on disk: drop the indexes of runs on it (their row lines may have moved). */
  dataFileChanged(file: string): void {
    for (const [dir, loading] of this.loaded) {
      void loading.then(
        (inline) => {
          if (samePath(inline.index.config.data.file, file) && this.loaded.get(dir) === loading) {
            this.loaded.delete(dir);
            this.changed.fire();
          }
        },
        () => undefined,
      );
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
