// The commands that start, follow and manage runs, and the one-off CLI jobs (extract, quality).
// All work happens in child processes; this file only asks, starts and reports.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { surveyFields } from '../../core/dataset/fieldSurvey.js';
import { listRunFolders, type RunFolder } from '../../core/experiment/runFolders.js';
import { readRunRecord } from '../../core/experiment/runExperiment.js';
import { maskStrategies } from '../../core/masks.js';
import type { EngineHost } from '../engineHost.js';
import { reportWebviewHtml } from '../panels/reportHtml.js';
import { hasSaeFeatures } from '../panels/saeFeatures.js';
import { listRuns, pickRun, runsRoot, type RunArgument } from '../runsFolder.js';
import { describeProgress, LineSplitter, parseRunEvent } from './runEvents.js';
import type { RunManager } from './runManager.js';
import { isResumable } from './runOutcome.js';
import type { RunsView } from './runsView.js';
import { engineSettings, newRunDir, pickDataFile, requireModel, runWizard } from './runWizard.js';

export function registerRunCommands(context: vscode.ExtensionContext, host: EngineHost, manager: RunManager, view: RunsView): void {
  const report = (error: unknown): void => {
    const message = (error as Error).message;
    host.output.appendLine(message);
    void vscode.window.showErrorMessage(`ICL Lab: ${message}`, 'Show Log').then((choice) => {
      if (choice) host.output.show();
    });
  };
  const command = (id: string, handler: (...args: never[]) => Promise<unknown>): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        await handler(...args);
      } catch (error) {
        report(error);
      }
    });
  const requireRoot = (): string => {
    const root = runsRoot();
    if (!root) throw new Error('open a folder first: runs are kept in the workspace (setting iclLab.runsFolder)');
    return root;
  };

  context.subscriptions.push(
    command('iclLab.runActiveLearning', async (uri?: vscode.Uri) => {
      const root = requireRoot();
      const data = await pickDataFile(uri);
      if (!data) return;
      const plan = await runWizard(data, root);
      if (!plan) return;
      void vscode.window.showTextDocument(vscode.Uri.file(plan.configFile), { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.Beside });
      view.refresh();
      await manager.start(plan.configFile, plan.runDir, { resume: false });
    }),

    command('iclLab.runDemo', async () => {
      const root = requireRoot();
      const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
      const demoDir = path.join(folder, 'icl-lab-demo');
      const code = await runCliJob(host, 'ICL Lab: preparing the demo model and dataset', ['demo', '--out', demoDir, '--no-run']);
      if (code !== 0) throw new Error('preparing the demo failed (see the ICL Lab output)');
      const configFile = path.join(demoDir, 'demo.run.yaml');
      await manager.start(configFile, newRunDir(root, 'demo'), { resume: false });
    }),

    command('iclLab.resumeRun', async (argument?: RunArgument) => {
      const dir = await pickRun(
        argument,
        'Resume which run?',
        (run) => isResumable(run.dir, run.record, run.state),
        'no run can be resumed: a run can be resumed once its model loaded and some of its work finished (cancelled, failed or interrupted runs).',
      );
      if (!dir) return;
      const record = await readRunRecord(dir);
      if (!record) throw new Error(`${dir} holds no run.json`);
      const config = record.config as { configFile?: string };
      let configFile = config.configFile;
      // The config as the run resolved it, when the original file has moved.
      if (!configFile || !existsSync(configFile)) {
        configFile = path.join(dir, 'resume.run.json');
        const rest: Record<string, unknown> = { ...config };
        delete rest['configFile'];
        await writeFile(configFile, JSON.stringify(rest, null, 2) + '\n');
      }
      await manager.start(configFile, dir, { resume: true });
    }),

    command('iclLab.cancelRun', async (argument?: RunArgument) => {
      const dir = await pickRun(argument, 'Cancel which run?', (run) => run.state === 'running');
      if (dir) await manager.cancel(dir);
    }),

    command('iclLab.deleteRun', async (argument?: RunArgument) => {
      const dir = await pickRun(argument, 'Delete which run?', (run) => run.state !== 'running');
      if (!dir) return;
      const answer = await vscode.window.showWarningMessage(`Delete the run folder ${path.basename(dir)} and everything in it?`, { modal: true }, 'Delete');
      if (answer !== 'Delete') return;
      await rm(dir, { recursive: true, force: true });
      view.refresh();
    }),

    command('iclLab.revealRun', async (argument?: RunArgument) => {
      const dir = await pickRun(argument, 'Reveal which run?');
      if (dir) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(dir, 'run.json')));
    }),

    command('iclLab.openReport', async (argument?: RunArgument) => {
      const dir = await pickRun(argument, 'Open the report of which run?', (run) => run.state === 'complete');
      if (!dir) return;
      const file = path.join(dir, 'report.html');
      if (!existsSync(file)) {
        const code = await runCliJob(host, 'ICL Lab: writing the report', ['report', dir]);
        if (code !== 0) throw new Error(`icl-lab report ${dir} failed (see the ICL Lab output)`);
      }
      // A webview, not openExternal: a file:// link opens nothing in code-server or a remote window.
      const panel = vscode.window.createWebviewPanel('iclLab.report', `Report: ${path.basename(dir)}`, vscode.ViewColumn.Active, {
        enableScripts: false,
        enableFindWidget: true,
        localResourceRoots: [vscode.Uri.file(dir)],
      });
      panel.webview.html = reportWebviewHtml(await readFile(file, 'utf8'), panel.webview.cspSource);
    }),

    command('iclLab.openRun', async () => {
      const runs = await listRuns();
      type Pick = vscode.QuickPickItem & { run?: RunFolder; browse?: boolean };
      const items: Pick[] = [...runs.map((run) => ({ label: run.name, description: run.state, detail: run.record.data.file, run })), { label: '$(folder) Browse for a run folder…', browse: true }];
      const picked = await vscode.window.showQuickPick(items, { title: 'Open Run' });
      if (!picked) return;
      let run = picked.run;
      if (picked.browse) {
        const folder = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, title: 'Run folder (holds run.json)' });
        if (!folder?.[0]) return;
        run = (await listRunFolders(path.dirname(folder[0].fsPath))).find((r) => r.dir === folder[0]!.fsPath);
        if (!run) throw new Error(`${folder[0].fsPath} holds no run.json`);
      }
      const actions = [
        { label: 'Show Correlations', command: 'iclLab.showCorrelations' },
        { label: 'Show Learning Curves', command: 'iclLab.showLearningCurves' },
        { label: 'Show Activation Histograms', command: 'iclLab.showHistograms' },
        ...((await hasSaeFeatures(run!.dir)) ? [{ label: 'Show SAE Features', command: 'iclLab.showFeatures' }] : []),
        { label: 'Open Run Report', command: 'iclLab.openReport' },
        { label: 'Reveal Run Folder', command: 'iclLab.revealRun' },
        ...((await isResumable(run!.dir, run!.record, run!.state)) ? [{ label: 'Resume Run', command: 'iclLab.resumeRun' }] : []),
      ];
      const action = await vscode.window.showQuickPick(actions, { title: `${run!.name} (${run!.state})` });
      if (action) await vscode.commands.executeCommand(action.command, run!.dir);
    }),

    command('iclLab.refreshRuns', async () => view.refresh()),

    command('iclLab.extractActivations', async (uri?: vscode.Uri) => {
      const data = await pickDataFile(uri);
      const model = data && (await requireModel());
      if (!data || !model) return;
      const survey = await surveyFields(data.fsPath);
      const field = await vscode.window.showQuickPick(
        survey.fields.map((f) => f.name).sort((a, b) => Number(b === survey.guessedInput) - Number(a === survey.guessedInput)),
        { title: 'Field holding the example text' },
      );
      if (!field) return;
      const mask = await vscode.window.showQuickPick([...maskStrategies], { title: 'Attention mask' });
      if (!mask) return;
      // The in-context mask shows other rows as demonstrations, answers included.
      const target =
        mask === 'in-context'
          ? await vscode.window.showQuickPick(survey.fields.map((f) => f.name).filter((f) => f !== field), { title: 'Label field (the demonstrations show it)', placeHolder: survey.guessedLabel })
          : undefined;
      if (mask === 'in-context' && !target) return;
      const out = path.join(path.dirname(data.fsPath), '.icl-lab', `${path.basename(data.fsPath).replace(/\.[^.]+$/, '')}.${mask}.stats.csv`);
      const args = ['extract', '--model', model, '--data', data.fsPath, '--field', field, '--mask', mask, '--out', out, ...engineArgs(), ...(target ? ['--target', target] : [])];
      if ((await runCliJob(host, `ICL Lab: extracting activations (${mask})`, args)) === 0) await offerOpen(out);
    }),

    command('iclLab.measureQuality', async (uri?: vscode.Uri) => {
      const data = await pickDataFile(uri);
      const model = data && (await requireModel());
      if (!data || !model) return;
      const survey = await surveyFields(data.fsPath);
      const input = await vscode.window.showQuickPick(survey.fields.map((f) => f.name), { title: 'Input field', placeHolder: survey.guessedInput });
      if (!input) return;
      const target = await vscode.window.showQuickPick(survey.fields.map((f) => f.name).filter((f) => f !== input), { title: 'Label field', placeHolder: survey.guessedLabel });
      if (!target) return;
      const estimator = await vscode.window.showQuickPick(['one-shot', 'influence'], { title: 'Quality estimator' });
      if (!estimator) return;
      const rows = survey.rows;
      const probe = String(Math.min(50, Math.max(2, Math.floor(rows * 0.15))));
      const test = String(Math.min(100, Math.max(2, Math.floor(rows * 0.3))));
      const out = path.join(path.dirname(data.fsPath), '.icl-lab', `${path.basename(data.fsPath).replace(/\.[^.]+$/, '')}.quality.csv`);
      const args = ['quality', '--model', model, '--data', data.fsPath, '--input', input, '--target', target, '--estimator', estimator, '--probe', probe, '--test', test, '--out', out, ...engineArgs()];
      if ((await runCliJob(host, 'ICL Lab: measuring example quality', args)) === 0) await offerOpen(out);
    }),
  );

  // Runs that outlived a window reload go on being followed; interrupted ones are offered a resume.
  void (async () => {
    const runs = await listRuns();
    for (const run of runs.filter((r) => r.state === 'running')) void manager.attach(run.dir);
    const interrupted = runs.filter((r) => r.state === 'interrupted');
    const resumable = (await Promise.all(interrupted.map((r) => isResumable(r.dir, r.record, r.state)))).every(Boolean);
    if (interrupted.length > 0) {
      const names = interrupted.map((r) => r.name).join(', ');
      const choice = await vscode.window.showWarningMessage(`ICL Lab: ${interrupted.length === 1 ? 'a run was' : `${interrupted.length} runs were`} interrupted (${names})${resumable ? '; finished work is kept.' : '.'}`, ...(resumable ? ['Resume'] : []));
      if (choice === 'Resume') for (const run of interrupted) void vscode.commands.executeCommand('iclLab.resumeRun', run.dir);
    }
  })();
}

function engineArgs(): string[] {
  const engine = engineSettings();
  return ['--gpu', engine.gpu, '--context-size', String(engine.contextSize), '--batch-size', String(engine.batchSize), '--max-sequences', String(engine.maxSequences), '--threads', String(engine.threads)];
}

async function offerOpen(file: string): Promise<void> {
  const choice = await vscode.window.showInformationMessage(`ICL Lab: wrote ${path.basename(file)}`, 'Open');
  if (choice) await vscode.window.showTextDocument(vscode.Uri.file(file));
}

/** How a CLI job ended: its exit code, whether the user cancelled it, and the lines it printed. */
export interface CliJobOutcome {
  readonly code: number;
  readonly cancelled: boolean;
  readonly lines: readonly string[];
}

/**
 * Runs one `icl-lab` command with a cancellable progress notification showing its latest progress
 * line (a `done/total` line, or a `--progress json` event); everything it prints goes to the ICL Lab
 * output. Cancel sends SIGINT: the CLI stops after the unit in hand and keeps what it finished.
 */
export function runCliTask(host: EngineHost, title: string, args: readonly string[]): Thenable<CliJobOutcome> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    const { command, args: argv, env } = host.cli(args);
    host.output.appendLine(`$ icl-lab ${args.join(' ')}`);
    const child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let cancelled = false;
    token.onCancellationRequested(() => {
      cancelled = true;
      child.kill('SIGINT');
    });
    const lines: string[] = [];
    const onLine = (line: string): void => {
      // A terminal progress line redraws itself with \r; the last drawing counts.
      const text = (line.split('\r').filter((part) => part.trim() !== '').pop() ?? '').replace(/\u001b\[K/g, '').trim();
      if (!text) return;
      const event = parseRunEvent(text);
      if (event?.event === 'progress') {
        progress.report({ message: describeProgress(event) });
        return;
      }
      const message = event?.event === 'log' ? event.message : text;
      host.output.appendLine(message);
      lines.push(message);
      if (lines.length > 200) lines.shift();
      if (/\d+\/\d+/.test(message)) progress.report({ message });
    };
    // Whole lines only: a chunk may end mid-line (a JSON event cut in two is no event).
    const follow = (stream: NodeJS.ReadableStream): (() => void) => {
      const splitter = new LineSplitter();
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => splitter.push(chunk).forEach(onLine));
      return () => onLine(splitter.push('\n')[0] ?? '');
    };
    const flushOut = follow(child.stdout);
    const flushErr = follow(child.stderr);
    return new Promise<CliJobOutcome>((resolve) => {
      child.on('error', (error) => {
        host.output.appendLine(error.message);
        lines.push(`error: ${error.message}`);
        resolve({ code: 1, cancelled, lines });
      });
      child.on('close', (code) => {
        flushOut();
        flushErr();
        resolve({ code: code ?? 1, cancelled, lines });
      });
    });
  });
}

/** runCliTask's exit code alone. */
export function runCliJob(host: EngineHost, title: string, args: readonly string[]): Thenable<number> {
  return runCliTask(host, title, args).then((outcome) => outcome.code);
}
