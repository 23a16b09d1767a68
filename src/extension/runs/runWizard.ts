// "Run Active Learning on Dataset…": a few quick picks over the file's own fields, then a run
// configuration written next to the data (so it can be re-run and versioned) and the run started.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { surveyFields } from '../../core/dataset/fieldSurvey.js';
import { checkModelFile } from '../../core/models/modelFiles.js';
import { correlatedStatistics } from '../../core/experiment/correlations.js';
import { classificationOnlyStrategies, runStrategyNames, saeStrategies } from '../../core/experiment/runConfig.js';
import { listRunFolders } from '../../core/experiment/runFolders.js';
import { checkDataset, describeBadRow, goodRowsFile, writeGoodRows } from './datasetCheck.js';
import { defaultLabelWords, labelsBeside, labelWordsText, parseLabelWords } from './labelWords.js';
import { nextFreeConfigFile, readPreviousAnswers } from './previousAnswers.js';
import { runConfigDraft, type WizardAnswers } from './runConfigDraft.js';

export interface WizardResult {
  readonly configFile: string;
  readonly runDir: string;
}

const dataExtensions = ['.jsonl', '.json', '.csv', '.tsv'];

/** The data file a command acts on: its argument, else the active editor's file, else an open dialog. */
export async function pickDataFile(uri: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  const candidate = uri ?? vscode.window.activeTextEditor?.document.uri;
  if (candidate && candidate.scheme === 'file' && dataExtensions.includes(path.extname(candidate.fsPath).toLowerCase())) return candidate;
  const picked = await vscode.window.showOpenDialog({ title: 'Dataset file', filters: { 'Datasets': dataExtensions.map((e) => e.slice(1)) }, canSelectMany: false });
  return picked?.[0];
}

/** The configured GGUF model, or one picked now (and saved in the workspace settings). */
export async function requireModel(): Promise<string | undefined> {
  const configured = vscode.workspace.getConfiguration('iclLab').get<string>('modelPath', '');
  if (configured) return configured;
  const choice = await vscode.window.showWarningMessage('ICL Lab needs a GGUF model.', 'Select Model…', 'Download Model…');
  if (choice === 'Select Model…') await vscode.commands.executeCommand('iclLab.selectModel');
  else if (choice === 'Download Model…') await vscode.commands.executeCommand('iclLab.downloadModel');
  return vscode.workspace.getConfiguration('iclLab').get<string>('modelPath', '') || undefined;
}

/** The engine settings (iclLab.gpu, contextSize, …) new runs and one-off jobs use. */
export function engineSettings(): WizardAnswers['engine'] {
  const settings = vscode.workspace.getConfiguration('iclLab');
  return {
    gpu: settings.get<string>('gpu', 'auto'),
    contextSize: settings.get<number>('contextSize', 4096),
    batchSize: settings.get<number>('batchSize', 512),
    maxSequences: settings.get<number>('maxSequences', 64),
    threads: settings.get<number>('threads', 0),
  };
}

/** A fresh run folder under the runs folder: `<stem>-<UTC time to the second>`. */
export function newRunDir(runsRoot: string, stem: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return path.join(runsRoot, `${stem}-${stamp}`);
}

function cancelled(): undefined {
  return undefined;
}

let problems: vscode.DiagnosticCollection | undefined;

/** The Problems panel's "ICL Lab" entries: the bad rows the wizard found. */
export function datasetProblems(): vscode.DiagnosticCollection {
  problems ??= vscode.languages.createDiagnosticCollection('ICL Lab');
  return problems;
}

/** The model setting as a path (relative to the first workspace folder). */
function modelFilePath(model: string): string {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return path.isAbsolute(model) || !base ? model : path.join(base, model);
}

/**
 * The configured model, checked before any question: a missing or non-GGUF file is reported now with
 * Select Model… (then checked again), not after six answers and a started run.
 */
async function checkedModel(): Promise<string | undefined> {
  let model = await requireModel();
  while (model) {
    const check = await checkModelFile(modelFilePath(model));
    if (check.ok) return model;
    const choice = await vscode.window.showErrorMessage(`ICL Lab: the configured model cannot be used: ${check.message}`, 'Select Model…');
    if (choice !== 'Select Model…') return undefined;
    const before = model;
    await vscode.commands.executeCommand('iclLab.selectModel');
    model = vscode.workspace.getConfiguration('iclLab').get<string>('modelPath', '') || undefined;
    if (model === before) return undefined;
  }
  return undefined;
}

/**
 * The dataset, checked before any question: rows its format cannot read go to the Problems panel and
 * are reported with Open (the first at its line) and Skip bad rows (a copy without them is used).
 * Returns the file to run on; undefined when the user stops here.
 */
async function checkedDataFile(dataFile: string): Promise<string | undefined> {
  const check = await checkDataset(dataFile);
  const uri = vscode.Uri.file(dataFile);
  const diagnostics = check.badRows.map((row) => {
    const at = new vscode.Position(row.line - 1, Math.max(0, (row.column ?? 1) - 1));
    const diagnostic = new vscode.Diagnostic(new vscode.Range(at, new vscode.Position(row.line - 1, Number.MAX_SAFE_INTEGER)), row.problem, vscode.DiagnosticSeverity.Error);
    diagnostic.source = 'ICL Lab';
    return diagnostic;
  });
  datasetProblems().set(uri, diagnostics);
  if (check.fatal) {
    const choice = await vscode.window.showErrorMessage(`ICL Lab: ${check.fatal}`, 'Open');
    if (choice === 'Open') await vscode.window.showTextDocument(uri);
    return undefined;
  }
  const [first] = check.badRows;
  if (!first) return dataFile;
  const more = check.badRows.length > 1 ? ` (and ${check.badRows.length - 1} more bad row${check.badRows.length > 2 ? 's' : ''}, listed in Problems)` : '';
  const choice = await vscode.window.showErrorMessage(`ICL Lab: ${describeBadRow(path.basename(dataFile), first)}${more}`, 'Open', 'Skip bad rows');
  if (choice === 'Open') {
    const at = new vscode.Position(first.line - 1, Math.max(0, (first.column ?? 1) - 1));
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(at, at) });
    return undefined;
  }
  if (choice !== 'Skip bad rows') return undefined;
  const copy = goodRowsFile(dataFile);
  const { written, leftOut } = await writeGoodRows(dataFile, copy);
  void vscode.window.showInformationMessage(`ICL Lab: the run uses ${path.basename(copy)}: ${written} rows, ${leftOut} bad row${leftOut === 1 ? '' : 's'} left out (${path.basename(dataFile)} is unchanged).`);
  return copy;
}

export async function runWizard(dataUri: vscode.Uri, runsRoot: string): Promise<WizardResult | undefined> {
  // Model and data are checked before the first question.
  const model = await checkedModel();
  if (!model) return cancelled();
  const dataFile = await checkedDataFile(dataUri.fsPath);
  if (!dataFile) return cancelled();
  const survey = await surveyFields(dataFile);
  if (survey.fields.length === 0) throw new Error(`${dataFile}: no rows with fields were found`);
  const settings = vscode.workspace.getConfiguration('iclLab');
  // The config is named after the file the user chose; its last answers pre-fill every question.
  const stem = path.basename(dataUri.fsPath).replace(/\.[^.]+$/, '');
  let configFile = path.join(path.dirname(dataUri.fsPath), `${stem}.run.yaml`);
  const last = await readPreviousAnswers(configFile);
  const first = <T extends { label: string }>(items: T[], wanted: string | undefined): T[] => (wanted === undefined ? items : [...items].sort((a, b) => Number(b.label === wanted) - Number(a.label === wanted)));

  const inputItems = survey.fields.map((f) => ({ label: f.name, description: `${f.present} of ${survey.rowsRead} rows · ${Math.round(f.meanLength)} chars`, picked: last.inputs ? last.inputs.includes(f.name) : f.name === survey.guessedInput }));
  const inputs = await vscode.window.showQuickPick(inputItems, { title: 'Input fields (1/6)', placeHolder: 'The fields the model reads, in order', canPickMany: true, ignoreFocusOut: true });
  if (!inputs || inputs.length === 0) return cancelled();

  const remaining = survey.fields.filter((f) => !inputs.some((i) => i.label === f.name));
  const targetItems = remaining
    .map((f) => ({ label: f.name, description: f.distinct.length <= 20 ? f.distinct.slice(0, 6).join(', ') : 'many values' }))
    .sort((a, b) => Number(b.label === survey.guessedLabel) - Number(a.label === survey.guessedLabel))
    .sort((a, b) => Number(b.label === last.target) - Number(a.label === last.target));
  const target = await vscode.window.showQuickPick(targetItems, { title: 'Label field (2/6)', placeHolder: 'The label (classification) or the reference answer (generative)', ignoreFocusOut: true });
  if (!target) return cancelled();
  const targetSummary = survey.fields.find((f) => f.name === target.label)!;

  const fewValues = targetSummary.distinct.length <= 20;
  const taskItems = [
    { label: 'classification', description: fewValues ? `labels: ${[...targetSummary.distinct].sort().join(', ')}` : 'a label per row' },
    { label: 'generative', description: 'a free-text answer per row' },
  ];
  if (!fewValues) taskItems.reverse();
  const task = await vscode.window.showQuickPick(first(taskItems, last.task), { title: 'Task (3/6)', ignoreFocusOut: true });
  if (!task) return cancelled();

  // The words the model answers for each label (0 → negative), pre-filled from labels.json beside the data.
  let verbalizers: Record<string, string> | undefined;
  if (task.label === 'classification' && fewValues) {
    const values = [...targetSummary.distinct].sort();
    const beside = await labelsBeside(dataFile);
    const validate = (text: string): string | undefined => {
      const parsed = parseLabelWords(text, values);
      return 'problem' in parsed ? parsed.problem : undefined;
    };
    const wordsText = await vscode.window.showInputBox({
      title: 'Label words (4/7)',
      prompt: `The word the model answers for each label, as label=word${beside ? ` (pre-filled from ${path.basename(beside.file)})` : ''}: the prompts teach "Label: negative", not "Label: 0"`,
      value: labelWordsText(defaultLabelWords(values, last.labelWords ? Object.entries(last.labelWords).map(([value, verbalizer]) => ({ value, verbalizer })) : beside?.labels)),
      ignoreFocusOut: true,
      validateInput: validate,
    });
    if (wordsText === undefined) return cancelled();
    const parsed = parseLabelWords(wordsText, values);
    if ('problem' in parsed) throw new Error(`label words: ${parsed.problem}`);
    verbalizers = Object.fromEntries(parsed.labels.map((l) => [l.value, l.verbalizer]));
  }
  const steps = verbalizers ? 7 : 6;
  const step = (n: number): string => `${verbalizers && n >= 4 ? n + 1 : n}/${steps}`;

  const templates = await vscode.workspace.findFiles('**/*.icl.tmpl', '**/node_modules/**', 50);
  const templateItems = [{ label: 'Built-in template', description: `for ${task.label}`, file: undefined as string | undefined }, ...templates.map((t) => ({ label: vscode.workspace.asRelativePath(t), description: '', file: t.fsPath }))];
  const lastTemplate = last.template ? templateItems.find((t) => t.file === last.template)?.label : last.inputs ? 'Built-in template' : undefined;
  const template = await vscode.window.showQuickPick(first(templateItems, lastTemplate), { title: `Prompt template (${step(4)})`, ignoreFocusOut: true });
  if (!template) return cancelled();

  const configuredStrategies = settings.get<string[]>('strategies', []);
  // Classification only: these read the label distribution or the labels. Never the SAE's: they
  // need the config's `sae:` key, which the wizard does not write (the run would refuse them).
  const allStrategies = runStrategyNames.filter((s) => (task.label === 'classification' || !classificationOnlyStrategies.includes(s)) && !saeStrategies.includes(s));
  const strategies = await vscode.window.showQuickPick(
    allStrategies.map((s) => ({ label: s, picked: (last.strategies ?? configuredStrategies).includes(s) })),
    {
      title: `Selection strategies (${step(5)})`,
      placeHolder: `${saeStrategies.join(' and ')} need a sparse autoencoder: add \`sae: {}\` to the written config and list them in selection.strategies`,
      canPickMany: true,
      ignoreFocusOut: true,
    },
  );
  if (!strategies || strategies.length === 0) return cancelled();

  const budgetsText = await vscode.window.showInputBox({
    title: `Budgets (${step(6)})`,
    prompt: 'Examples each strategy selects, comma-separated',
    value: (last.budgets ?? settings.get<number[]>('budgets', [4, 8, 16, 32])).join(', '),
    ignoreFocusOut: true,
    validateInput: (text) => (/^\s*\d+(\s*,\s*\d+)*\s*$/.test(text) && text.split(',').every((b) => Number(b) >= 1) ? undefined : 'whole numbers ≥ 1, comma-separated'),
  });
  if (budgetsText === undefined) return cancelled();

  const answers: WizardAnswers = {
    dataFile,
    rows: survey.rows,
    model,
    inputs: inputs.map((i) => i.label),
    ...idField(survey, [...inputs.map((i) => i.label), target.label]),
    target: target.label,
    task: task.label as WizardAnswers['task'],
    ...(task.label === 'classification' && fewValues ? { labels: [...targetSummary.distinct].sort() } : {}),
    ...(verbalizers ? { verbalizers } : {}),
    ...(template.file ? { template: template.file } : {}),
    masks: settings.get<string[]>('masks', ['isolated', 'shared-prefix', 'in-context']),
    statistics: settings.get<string[]>('statistics', [...correlatedStatistics]),
    strategies: strategies.map((s) => s.label),
    budgets: [...new Set(budgetsText.split(',').map((b) => Number(b.trim())))].sort((a, b) => a - b),
    engine: engineSettings(),
  };
  // A config a run used is its record of how the run was made: overwrite it only when asked to.
  const usedBy = existsSync(configFile) ? (await listRunFolders(runsRoot)).filter((run) => (run.record.config as { configFile?: string } | undefined)?.configFile === configFile) : [];
  if (usedBy.length > 0) {
    const names = usedBy.map((run) => run.name);
    const choice = await vscode.window.showWarningMessage(
      `${path.basename(configFile)} was used by ${names.length === 1 ? `run ${names[0]}` : `${names.length} runs (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`}. Overwrite it with these answers, or save them as a new file?`,
      { modal: true },
      'Save as New File',
      'Overwrite',
    );
    if (choice === 'Save as New File') configFile = nextFreeConfigFile(configFile);
    else if (choice !== 'Overwrite') return cancelled();
  }
  const draft = runConfigDraft(answers, path.dirname(configFile));
  await writeFile(configFile, draft.text);
  return { configFile, runDir: newRunDir(runsRoot, path.basename(configFile).replace(/\.run\.yaml$/, '')) };
}

/** An id-like field present on every surveyed row, not used as input or target (the loader checks ids are unique). */
function idField(survey: Awaited<ReturnType<typeof surveyFields>>, used: readonly string[]): { id?: string } {
  const field = survey.fields.find((f) => /^(id|idx|uid|guid|qid)$/i.test(f.name) && !used.includes(f.name) && f.present === survey.rowsRead);
  return field ? { id: field.name } : {};
}
