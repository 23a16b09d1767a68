// Runs started from the editor. Each is an `icl-lab run --progress json` process of its own,
// detached and writing to <run>/run.log, so neither a crash of the engine nor a window reload takes
// it down; the extension follows the log (and re-attaches to live runs after a reload).
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { describeCorrelation } from '../../core/experiment/headline.js';
import { processAlive, runState, type RunState } from '../../core/experiment/runFolders.js';
import { readRunRecord, type RunRecord } from '../../core/experiment/runExperiment.js';
import { pidToSignal, readRunLock, runLockHolderState } from '../../core/experiment/runLock.js';
import type { EngineHost } from '../engineHost.js';
import { describeProgress, LineSplitter, parseRunEvent, type RunProgressEvent } from './runEvents.js';
import { describeFailure, firstErrorLine, isInterruptedComputeLine, isResumable } from './runOutcome.js';

export const runLogName = 'run.log';

interface FollowedRun {
  readonly dir: string;
  readonly name: string;
  pid: number | undefined;
  offset: number;
  readonly lines: LineSplitter;
  progress: RunProgressEvent | undefined;
  lastText: string | undefined;
  /** The plain lines the run printed (errors among them), in order. */
  readonly texts: string[];
  /** A cancel was asked for: llama.cpp's interrupted-compute lines are expected, not errors. */
  cancelling: boolean;
  readonly finished: Promise<RunRecord | undefined>;
  finish(record: RunRecord | undefined): void;
  timer: NodeJS.Timeout | undefined;
}

export class RunManager implements vscode.Disposable {
  private readonly runs = new Map<string, FollowedRun>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with a run folder whenever its progress or state changes. */
  readonly onDidChange = this.changed.event;
  private readonly statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);

  constructor(private readonly host: EngineHost) {
    this.statusItem.command = 'workbench.view.extension.iclLab';
  }

  isFollowing(dir: string): boolean {
    return this.runs.has(dir);
  }

  /** Followed runs still starting: no progress yet, so their process is reading data or loading the model. */
  runsLoadingModel(): string[] {
    return [...this.runs.values()].filter((run) => run.progress === undefined).map((run) => run.name);
  }

  progressOf(dir: string): RunProgressEvent | undefined {
    return this.runs.get(dir)?.progress;
  }

  /**
   * Starts `icl-lab run CONFIG --out DIR` (with --resume to continue one) and follows it with a
   * progress notification whose Cancel stops it. Resolves when the run's process ends.
   */
  async start(configFile: string, dir: string, options: { resume: boolean }): Promise<RunRecord | undefined> {
    if (this.runs.has(dir)) throw new Error(`${path.basename(dir)} is already running`);
    await mkdir(dir, { recursive: true });
    const log = openSync(path.join(dir, runLogName), 'a');
    const { command, args, env } = this.host.cli(['run', configFile, '--out', dir, '--progress', 'json', ...(options.resume ? ['--resume'] : [])]);
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log], env, cwd: path.dirname(configFile) });
    closeSync(log);
    child.unref();
    this.host.output.appendLine(`[${path.basename(dir)}] started: icl-lab ${args.slice(1).join(' ')} (pid ${child.pid})`);
    const followed = await this.follow(dir, child.pid, 'start');
    return this.notify(followed);
  }

  /** Follows a run another window (or an earlier session of this one) started; no-op when already followed. */
  async attach(dir: string): Promise<void> {
    if (this.runs.has(dir)) return;
    const record = await readRunRecord(dir);
    if (!record || runState(record) !== 'running') return;
    const followed = await this.follow(dir, record.pid, 'end');
    void this.notify(followed);
  }

  /** Asks the run's process to stop: finished units stay, the run can be resumed. */
  async cancel(dir: string): Promise<void> {
    // The lock's holder is the process really running the folder; run.json's pid may be a second run the lock refused.
    const holder = await readRunLock(dir);
    if (holder && runLockHolderState(holder) === 'other-host') throw new Error(`${path.basename(dir)} is running on ${holder.host} (pid ${holder.pid}); cancel it there`);
    const pid = pidToSignal(holder, this.runs.get(dir)?.pid ?? (await readRunRecord(dir))?.pid);
    if (pid === undefined) throw new Error(`${path.basename(dir)} is not running`);
    const followed = this.runs.get(dir);
    if (followed) followed.cancelling = true;
    process.kill(pid, 'SIGINT');
  }

  private async follow(dir: string, pid: number | undefined, from: 'start' | 'end'): Promise<FollowedRun> {
    let offset = 0;
    if (from === 'end') {
      const handle = await open(path.join(dir, runLogName), 'a+');
      offset = (await handle.stat()).size;
      await handle.close();
    }
    let finish!: (record: RunRecord | undefined) => void;
    const finished = new Promise<RunRecord | undefined>((resolve) => (finish = resolve));
    const run: FollowedRun = { dir, name: path.basename(dir), pid, offset, lines: new LineSplitter(), progress: undefined, lastText: undefined, texts: [], cancelling: false, finished, finish, timer: undefined };
    this.runs.set(dir, run);
    const poll = async (): Promise<void> => {
      await this.readLog(run);
      const record = await readRunRecord(dir).catch(() => undefined);
      if (run.pid === undefined && record?.pid) run.pid = record.pid;
      const alive = run.pid !== undefined && processAlive(run.pid);
      if (!alive) {
        await this.readLog(run);
        this.stopFollowing(run);
        run.finish(record);
        return;
      }
      run.timer = setTimeout(() => void poll(), 500);
    };
    run.timer = setTimeout(() => void poll(), 200);
    this.updateStatus();
    return run;
  }

  private async readLog(run: FollowedRun): Promise<void> {
    let handle;
    try {
      handle = await open(path.join(run.dir, runLogName), 'r');
      const { size } = await handle.stat();
      if (size <= run.offset) return;
      const buffer = Buffer.alloc(size - run.offset);
      await handle.read(buffer, 0, buffer.length, run.offset);
      run.offset = size;
      for (const line of run.lines.push(buffer.toString('utf8'))) {
        const event = parseRunEvent(line);
        if (!event) continue;
        if (event.event === 'progress') run.progress = event;
        else if (event.event === 'text' && run.cancelling && isInterruptedComputeLine(event.message)) {
          // llama.cpp reports the decode the cancel interrupted: expected, so not shown as an error.
          this.host.output.appendLine(`[${run.name}] (stopping after the cancel) ${event.message.replace(/\bfailed\b/g, 'interrupted')}`);
        } else {
          run.lastText = event.message;
          if (event.event === 'text') run.texts.push(event.message);
          this.host.output.appendLine(`[${run.name}] ${event.message}`);
        }
      }
      this.changed.fire(run.dir);
      this.updateStatus();
    } catch {
      // The log appears a moment after the process starts.
    } finally {
      await handle?.close();
    }
  }

  private stopFollowing(run: FollowedRun): void {
    if (run.timer) clearTimeout(run.timer);
    this.runs.delete(run.dir);
    this.changed.fire(run.dir);
    this.updateStatus();
  }

  /** A progress notification while the run goes on, then what became of it. */
  private async notify(run: FollowedRun): Promise<RunRecord | undefined> {
    const record = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `ICL Lab: ${run.name}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => void this.cancel(run.dir).catch(() => undefined));
        // Phases differ in size and unit: the message carries each phase's count, rate and ETA.
        const listener = this.onDidChange((dir) => {
          if (dir === run.dir && run.progress) progress.report({ message: describeProgress(run.progress) });
        });
        try {
          return await run.finished;
        } finally {
          listener.dispose();
        }
      },
    );
    const state: RunState | 'unknown' = record ? runState(record) : 'unknown';
    if (state === 'complete') {
      const overall = record?.headline?.overall;
      const choice = await vscode.window.showInformationMessage(
        `ICL Lab: Run complete (${run.name})${overall ? `: ${describeCorrelation(overall)}` : ''}`,
        'Show Correlations',
        'Show Learning Curves',
        'Open Report',
      );
      if (choice === 'Show Correlations') void vscode.commands.executeCommand('iclLab.showCorrelations', run.dir);
      else if (choice === 'Show Learning Curves') void vscode.commands.executeCommand('iclLab.showLearningCurves', run.dir);
      else if (choice === 'Open Report') void vscode.commands.executeCommand('iclLab.openReport', run.dir);
    } else if (state === 'cancelled' || state === 'interrupted') {
      const resumable = await isResumable(run.dir, record, state);
      const text = resumable ? `ICL Lab: ${run.name} stopped; finished work is kept.` : `ICL Lab: ${run.name} stopped before any work finished; nothing to resume.`;
      const choice = await vscode.window.showWarningMessage(text, ...(resumable ? ['Resume'] : []), 'Show Log');
      if (choice === 'Resume') void vscode.commands.executeCommand('iclLab.resumeRun', run.dir);
      else if (choice === 'Show Log') this.host.output.show();
    } else {
      const reason = firstErrorLine(run.texts) ?? record?.error ?? run.lastText ?? 'the run process ended without a result';
      const modelPath = (record?.config as { model?: string } | undefined)?.model ?? vscode.workspace.getConfiguration('iclLab').get<string>('modelPath', '');
      const failure = describeFailure(run.name, reason, { resumable: await isResumable(run.dir, record), modelPath });
      const choice = await vscode.window.showErrorMessage(failure.message, ...failure.actions);
      if (choice === 'Show Log') this.host.output.show();
      else if (choice === 'Resume') void vscode.commands.executeCommand('iclLab.resumeRun', run.dir);
      else if (choice === 'Select Model…') void vscode.commands.executeCommand('iclLab.selectModel');
      else if (choice === 'Open File' && failure.location) {
        const { file, line, column } = failure.location;
        const at = new vscode.Position(Math.max(0, line - 1), Math.max(0, (column ?? 1) - 1));
        void vscode.window.showTextDocument(vscode.Uri.file(path.resolve(path.dirname(run.dir), file)), { selection: new vscode.Range(at, at) });
      }
    }
    return record;
  }

  private updateStatus(): void {
    const active = [...this.runs.values()];
    if (active.length === 0) {
      this.statusItem.hide();
      return;
    }
    const first = active[0]!;
    this.statusItem.text = `$(sync~spin) ICL Lab: ${first.progress ? describeProgress(first.progress) : 'starting'}${active.length > 1 ? ` (+${active.length - 1})` : ''}`;
    this.statusItem.tooltip = active.map((r) => `${r.name}: ${r.progress ? describeProgress(r.progress) : 'starting'}`).join('\n');
    this.statusItem.show();
  }

  dispose(): void {
    for (const run of this.runs.values()) if (run.timer) clearTimeout(run.timer);
    this.runs.clear();
    this.statusItem.dispose();
    this.changed.dispose();
  }
}
