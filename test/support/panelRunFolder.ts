// A small run folder written without a model, for the chart panels' tests: run.json, a JSON Lines
// dataset (with a blank line, so row lines differ from indices, and one hostile text), stats.csv,
// quality.csv, correlations.csv, curves.csv, histograms.csv and massive.csv.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { correlatedStatistics, correlationsCsv, type CorrelationRow } from '../../src/core/experiment/correlations.js';
import { curvesCsv, type CurveRow } from '../../src/core/experiment/learningCurves.js';
import { qualityCsv } from '../../src/core/format/qualityCsv.js';
import { formatNumber, statsCsvHeader } from '../../src/core/format/statsCsv.js';
import { histogramEdges, histogramsCsv, massiveCsv, type HistogramRow, type MassiveRow } from '../../src/core/report/activationHistograms.js';
import { activationStatistics, poolings } from '../../src/core/stats/activationStatistics.js';

export const hostileText = '<img src=x onerror=alert(1)>';

export const syntheticRows = [
  { id: 'a', text: 'a fine film', label: '1' },
  { id: 'b', text: 'dull, "quoted" and long', label: '0' },
  { id: 'c', text: hostileText, label: '1' },
  { id: 'd', text: 'line one\nline two', label: '0' },
  { id: 'e', text: 'the end', label: '1' },
];
/** The dataset's line of each example: a blank line follows example 1. */
export const syntheticLines = [1, 2, 4, 5, 6];
export const syntheticMasks = ['isolated', 'in-context'];
export const syntheticLayers = 3;
/** Both sites, the residual stream's values and ρ set apart from the MLP output's. */
export const syntheticSites = ['mlp_out', 'resid_post'];
/** A massive activation planted in the isolated mask's layer 1. */
export const plantedMassive: MassiveRow = { mask: 'isolated', layer: 1, example: 2, token: 3, dim: 7, value: -2500 };

/** stats.csv's value of a statistic (index s in activationStatistics; site index in syntheticSites); example 3's kurtosis is nan. */
export function statValue(example: number, layer: number, pooling: number, s: number, site = 0): number {
  if (example === 3 && activationStatistics[s] === 'kurtosis') return NaN;
  return example * 10 + layer + pooling * 0.25 + s * 0.01 + site * 1000;
}

export const qualityValue = (example: number) => example * 0.5 - 1;

/** ρ of a grid cell; cells with layer + statistic even are significant; layer 2's max_abs has no ρ; resid_post's are 0.1 lower (the strongest cell is mlp_out's). */
export function cellCorrelation(mask: number, layer: number, statistic: string, pooling: number, site = 0): Pick<CorrelationRow, 'rho' | 'qValue'> {
  const s = correlatedStatistics.indexOf(statistic as (typeof correlatedStatistics)[number]);
  if (layer === 2 && statistic === 'max_abs') return { rho: NaN, qValue: NaN };
  return { rho: Math.round(((mask + 1) * 0.2 - layer * 0.2 + s * 0.04 - pooling * 0.05 - site * 0.1) * 1000) / 1000, qValue: (layer + s) % 2 === 0 ? 0.01 : 0.4 };
}

export interface SyntheticRun {
  readonly root: string;
  readonly dir: string;
  readonly datasetFile: string;
  cleanup(): Promise<void>;
}

export interface SyntheticRunOptions {
  /** Leave these run files out (e.g. 'histograms.csv'). */
  readonly without?: readonly string[];
}

export async function writeSyntheticRun(options: SyntheticRunOptions = {}): Promise<SyntheticRun> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'icl-panels-'));
  const dir = path.join(root, 'runs', 'synthetic');
  await mkdir(dir, { recursive: true });
  const datasetFile = path.join(root, 'data.jsonl');
  const lines = syntheticRows.map((r) => JSON.stringify(r));
  await writeFile(datasetFile, [lines[0], lines[1], '', ...lines.slice(2)].join('\n') + '\n');

  const files: Record<string, string> = {};
  files['run.json'] = JSON.stringify({
    format: 'icl-lab-run/1',
    status: 'complete',
    config: {
      configFile: path.join(root, 'study.run.yaml'),
      data: { file: datasetFile, inputs: ['text'], id: 'id', target: 'label', task: 'classification', labels: [{ value: '0', verbalizer: 'negative' }, { value: '1', verbalizer: 'positive' }] },
      quality: { estimator: 'one-shot', metric: 'gold_logprob' },
      evaluation: { metric: 'accuracy' },
    },
  });

  let stats = statsCsvHeader();
  syntheticSites.forEach((site, i) => {
    syntheticMasks.forEach((mask) => {
      for (let example = 0; example < syntheticRows.length; example++) {
        for (let layer = 0; layer < syntheticLayers; layer++) {
          poolings.forEach((pooling, p) => {
            stats += `${example},${site},${layer},${mask},${pooling},${3 + example},${activationStatistics.map((_, s) => formatNumber(statValue(example, layer, p, s, i))).join(',')}\n`;
          });
        }
      }
    });
  });
  files['stats.csv'] = stats;

  files['quality.csv'] = qualityCsv(syntheticRows.map((r, example) => ({ example, id: r.id, estimator: 'one-shot', metric: 'gold_logprob', value: qualityValue(example), stderr: 0.1, nPrompts: 4, halfA: qualityValue(example), halfB: qualityValue(example) })));

  const correlations: CorrelationRow[] = [];
  syntheticMasks.forEach((mask, m) => {
    syntheticSites.forEach((site, i) => {
      for (let layer = 0; layer < syntheticLayers; layer++) {
        for (const statistic of correlatedStatistics) {
          poolings.forEach((pooling, p) => {
            const { rho, qValue } = cellCorrelation(m, layer, statistic, p, i);
            correlations.push({ mask, site, layer, statistic, pooling, estimator: 'one-shot', metric: 'gold_logprob', rho, pValue: qValue / 2, qValue, ciLow: rho - 0.2, ciHigh: rho + 0.2, n: syntheticRows.length, partialRho: NaN, partialPValue: NaN, partialQValue: NaN });
          });
        }
      }
    });
  });
  files['correlations.csv'] = correlationsCsv(correlations);

  const curves: CurveRow[] = [];
  for (const strategy of ['random', 'highest-first', 'k-center-greedy']) {
    for (const seed of [0, 1, 2]) {
      for (const budget of [2, 4]) {
        for (const metric of ['accuracy', 'macro_f1']) curves.push({ strategy, seed, budget, metric, value: 0.5 + budget * 0.05 + seed * 0.01 + (strategy === 'random' ? 0 : 0.1) });
      }
    }
  }
  files['curves.csv'] = curvesCsv(curves);

  const edges = histogramEdges();
  const histograms: HistogramRow[] = [];
  for (let layer = 0; layer < 2; layer++) {
    for (let i = 0; i + 1 < edges.length; i++) histograms.push({ mask: 'isolated', layer, binLow: edges[i]!, binHigh: edges[i + 1]!, count: i >= 30 && i <= 50 ? 10 + i + layer : 0 });
  }
  files['histograms.csv'] = histogramsCsv(histograms);
  files['massive.csv'] = massiveCsv([plantedMassive]);

  for (const [name, text] of Object.entries(files)) if (!options.without?.includes(name)) await writeFile(path.join(dir, name), text);
  return { root, dir, datasetFile, cleanup: () => rm(root, { recursive: true, force: true }) };
}
