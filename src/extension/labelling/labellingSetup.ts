// Starting a labelling session on a data file: which fields the rows have and the label set (from
// the newest run on the file when there is one, else asked over the file's own fields), then how
// rounds are proposed (strategy, round size) and what ranks the rows (the run's statistic and
// vectors, or a stats.csv beside the file).
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { datasetFormatOf } from '../../core/dataset/datasetFormat.js';
import { surveyFields } from '../../core/dataset/fieldSurvey.js';
import { parseLabelList } from '../../core/dataset/labelSet.js';
import { defaultLabelWords, labelsBeside, labelWordsText } from '../runs/labelWords.js';
import type { RunConfig } from '../../core/experiment/runConfig.js';
import { loadRunIndex, newestRunOnFile } from '../../core/inspect/runIndex.js';
import { candidateInfoFromRun, candidateInfoFromStatsCsv } from '../../core/labelling/candidateInfo.js';
import type { LabellingSession } from '../../core/labelling/labellingSession.js';
import { labellingStrategies, type CandidateInfo } from '../../core/labelling/proposeRound.js';
import { listRuns } from '../runsFolder.js';

/** What ranks rows for a session's strategy; empty when the session names nothing. */
export async function rankingInfo(rankBy: LabellingSession['rankBy']): Promise<CandidateInfo> {
  if (!rankBy) return {};
  if ('run' in rankBy) return candidateInfoFromRun(await loadRunIndex(rankBy.run));
  return candidateInfoFromStatsCsv(rankBy.statsFile, rankBy);
}

/** Where the extension's "Extract Activations" writes a file's statistics. */
function extractedStatsFile(dataFile: string): string {
  return path.join(path.dirname(dataFile), '.icl-lab', `${path.basename(dataFile, path.extname(dataFile))}.stats.csv`);
}

/** The ranking sources available for `dataFile`: the newest complete run on it, and a stats.csv beside it. */
async function rankingSources(dataFile: string): Promise<{ label: string; rankBy: LabellingSession['rankBy'] }[]> {
  const sources: { label: string; rankBy: LabellingSession['rankBy'] }[] = [];
  const run = newestRunOnFile(await listRuns(), dataFile);
  if (run) sources.push({ label: `run ${run.name}`, rankBy: { run: run.dir } });
  const stats = extractedStatsFile(dataFile);
  if (existsSync(stats)) {
    const statistic = vscode.workspace.getConfiguration('iclLab').get<string>('inlineStatistic', 'kurtosis');
    sources.push({ label: vscode.workspace.asRelativePath(stats), rankBy: { statsFile: stats, mask: 'isolated', pooling: 'all', statistic, layer: 'middle' } });
  }
  return sources;
}

/** Asks the strategy of the next rounds (with what ranks rows); undefined when dismissed. */
export async function askStrategy(dataFile: string, current?: LabellingSession): Promise<Pick<LabellingSession, 'strategy' | 'rankBy'> | undefined> {
  const sources = await rankingSources(dataFile);
  const infos = await Promise.all(
    sources.map(async (source) => {
      try {
        return await rankingInfo(source.rankBy);
      } catch {
        return {};
      }
    }),
  );
  const items: (vscode.QuickPickItem & { strategy?: string; source?: number; reason?: string })[] = [];
  const random = labellingStrategies({}).find((s) => s.name === 'random')!;
  items.push({ label: random.name, description: 'no ranking information needed', strategy: random.name });
  sources.forEach((source, i) => {
    for (const s of labellingStrategies(infos[i]!)) {
      if (s.name === 'random' || !s.available) continue;
      items.push({ label: s.name, description: `ranked by ${infos[i]!.source ?? source.label}`, strategy: s.name, source: i });
    }
  });
  for (const s of labellingStrategies(infos.reduce<CandidateInfo>((all, info) => ({ ...all, ...info }), {}))) {
    if (!s.available) items.push({ label: `$(circle-slash) ${s.name}`, description: 'unavailable', detail: s.reason, reason: s.reason });
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Which strategy proposes the rows to label?${current ? ` (now: ${current.strategy})` : ''}`,
    placeHolder: 'Each round, the strategy picks the next unlabelled rows; the labelled ones steer the diversity strategies',
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (!picked.strategy) throw new Error(`${picked.label.replace('$(circle-slash) ', '')} ${picked.reason}`);
  const rankBy = picked.source === undefined ? undefined : sources[picked.source]!.rankBy;
  return { strategy: picked.strategy, ...(rankBy ? { rankBy } : {}) };
}

/** A new session for `dataFile`, asked of the user; undefined when dismissed. */
export async function setUpSession(dataFile: string): Promise<LabellingSession | undefined> {
  const format = datasetFormatOf(dataFile);
  let data: LabellingSession['data'];
  let labels: LabellingSession['labels'];
  const run = newestRunOnFile(await listRuns(), dataFile);
  if (run) {
    // The run already says what the rows hold.
    const config = run.record.config as RunConfig;
    data = { inputs: config.data.inputs, ...(config.data.id ? { id: config.data.id } : {}), target: config.data.target, task: config.data.task, format: config.data.format ?? format };
    labels = config.data.labels;
  } else {
    const survey = await surveyFields(dataFile);
    if (survey.fields.length === 0) throw new Error(`${dataFile}: no rows with fields were found`);
    const inputs = await vscode.window.showQuickPick(
      survey.fields.map((f) => ({ label: f.name, description: `${f.present} of ${survey.rowsRead} rows · ${Math.round(f.meanLength)} chars`, picked: f.name === survey.guessedInput })),
      { title: 'Labelling: the fields an annotator reads (1/3)', canPickMany: true, ignoreFocusOut: true },
    );
    if (!inputs || inputs.length === 0) return undefined;
    const rest = survey.fields.filter((f) => !inputs.some((i) => i.label === f.name));
    const idItems = [
      { label: '(row index)', description: 'labels are keyed by row position: do not insert or delete rows later', field: undefined as string | undefined },
      ...rest.map((f) => ({ label: f.name, description: f.present === survey.rowsRead ? 'present in every row read' : `${f.present} of ${survey.rowsRead} rows`, field: f.name as string | undefined })),
    ];
    const id = await vscode.window.showQuickPick(idItems, { title: 'Labelling: the field holding each row\'s unique id (2/3)', ignoreFocusOut: true });
    if (!id) return undefined;
    const target = survey.guessedLabel && !inputs.some((i) => i.label === survey.guessedLabel) ? survey.guessedLabel : 'label';
    // The same words as the run wizard: labels.json beside the data names them (0 → negative).
    const beside = await labelsBeside(dataFile);
    // The label values the data holds, when its label field is the one guessed (not an input field).
    const seen = target === survey.guessedLabel ? survey.guessedLabels : undefined;
    const guessed = seen ? labelWordsText(defaultLabelWords(seen, beside?.labels)) : beside ? labelWordsText(beside.labels) : '';
    const labelText = await vscode.window.showInputBox({
      title: 'Labelling: the label set (3/3)',
      prompt: 'Labels as the data writes them, each with the words the model should answer: 0=negative,1=positive (or yes,no)',
      value: guessed,
      ignoreFocusOut: true,
      validateInput: (text) => {
        try {
          parseLabelList(text);
          return undefined;
        } catch (error) {
          return (error as Error).message;
        }
      },
    });
    if (labelText === undefined) return undefined;
    data = { inputs: inputs.map((i) => i.label), ...(id.field ? { id: id.field } : {}), target, task: 'classification', format };
    labels = parseLabelList(labelText);
  }
  const strategy = await askStrategy(dataFile);
  if (!strategy) return undefined;
  const size = await vscode.window.showInputBox({
    title: 'Labelling: rows per round',
    value: '4',
    ignoreFocusOut: true,
    validateInput: (text) => (/^\s*[1-9]\d*\s*$/.test(text) ? undefined : 'a whole number ≥ 1'),
  });
  if (size === undefined) return undefined;
  return {
    format: 'icl-lab-labelling/1',
    data,
    ...(labels ? { labels } : {}),
    ...strategy,
    roundSize: Number(size),
    seed: 0,
    rounds: [],
  };
}
