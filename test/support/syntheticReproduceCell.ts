// A finished (or unfinished) cell of a reproduce grid written from scratch, no model: run.json with a
// headline per mask, correlations.csv, curves.csv and strategy_vs_random.csv, with values chosen so
// a test can say what each table cell must be.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface SyntheticCellOptions {
  readonly status?: 'complete' | 'running' | 'cancelled' | 'failed';
  /** Added to every ρ, so two cells differ. */
  readonly offset?: number;
}

/**
 * Masks isolated and in-context. isolated: largest ρ −0.6 at layer 3 kurtosis (all) vs one-shot
 * gold_logprob, max-aware CI 0.35..0.8, family-wise p 0.01, length ρ 0.4, ceiling 0.9; its strongest
 * partial ρ is −0.45 (q 0.02) at layer 1 max_abs (last). in-context: ρ 0.3, length ρ −0.5, strongest
 * partial 0.2 (q 0.3). Curves: random accuracy 0.5 and 0.7 over seeds 0 and 1 at budget 4 (mean 0.6),
 * 0.65 at budget 8. strategy_vs_random: budget 4 kate +0.1 [0.02, 0.18] and bm25 +0.05 [−0.01, 0.11];
 * budget 8 kate −0.02 [−0.1, 0.06], bm25 −0.03 [−0.12, 0.05].
 */
export async function writeSyntheticCell(dir: string, options: SyntheticCellOptions = {}): Promise<void> {
  const o = options.offset ?? 0;
  await mkdir(dir, { recursive: true });
  const headlineRow = (mask: string, rho: number, layer: number, statistic: string, pooling: string, extra: object): object => ({
    mask, layer, statistic, pooling, estimator: 'one-shot', metric: 'gold_logprob', rho, pValue: 0.001, qValue: 0.004, ciLow: rho - 0.2, ciHigh: rho + 0.2, n: 64, partialRho: NaN, partialPValue: NaN, partialQValue: NaN, ...extra,
  });
  const record = {
    format: 'icl-lab-run/1',
    status: options.status ?? 'complete',
    startedAt: '2026-01-01T00:00:00.000Z',
    pid: 1,
    seed: 0,
    config: { data: { task: 'classification' }, evaluation: { metric: 'accuracy' } },
    model: { path: 'm.gguf', architecture: 'llama', layers: 4, embeddingLength: 8, quantization: 'f32', fileBytes: 0, sha256: '' },
    data: { file: 'd.jsonl', pool: 64, probe: 16, test: 40 },
    versions: {},
    phases: {},
    headline: {
      byMask: [
        headlineRow('isolated', -0.6 - o, 3, 'kurtosis', 'all', { lengthRho: 0.4, reliability: 0.81, ceiling: 0.9, maxCiLow: 0.35, maxCiHigh: 0.8, familywiseP: 0.01, cells: 100 }),
        headlineRow('in-context', 0.3 + o, 0, 'variance', 'token-mean', { lengthRho: -0.5, reliability: 0.81, ceiling: 0.9, maxCiLow: 0.1, maxCiHigh: 0.5, familywiseP: 0.4, cells: 100 }),
      ],
    },
  };
  await writeFile(path.join(dir, 'run.json'), JSON.stringify(record, null, 2));
  const c = (mask: string, layer: number | '', statistic: string, pooling: string, rho: number, partial: number | 'nan', partialQ: number | 'nan'): string =>
    `${mask},${layer},${statistic},${pooling},one-shot,gold_logprob,${rho},0.001,0.004,${rho - 0.2},${rho + 0.2},64,${partial},0.01,${partialQ}`;
  await writeFile(
    path.join(dir, 'correlations.csv'),
    [
      'mask,layer,statistic,pooling,estimator,metric,rho,p_value,q_value,ci_low,ci_high,n,partial_rho,partial_p_value,partial_q_value',
      c('isolated', 3, 'kurtosis', 'all', -0.6 - o, -0.3, 0.2),
      c('isolated', 1, 'max_abs', 'last', 0.2, -0.45, 0.02),
      c('isolated', '', 'token_count', '', 0.4, 'nan', 'nan'),
      c('in-context', 0, 'variance', 'token-mean', 0.3 + o, 0.2, 0.3),
      c('in-context', 2, 'mean', 'all', 0.1, -0.1, 0.5),
      c('in-context', '', 'token_count', '', -0.5, 'nan', 'nan'),
    ].join('\n') + '\n',
  );
  await writeFile(
    path.join(dir, 'curves.csv'),
    [
      'strategy,seed,budget,metric,value,ci_low,ci_high',
      'random,0,4,accuracy,0.5,0.4,0.6',
      'random,1,4,accuracy,0.7,0.6,0.8',
      'random,0,4,gold_logprob,-1,nan,nan',
      'random,0,8,accuracy,0.6,0.5,0.7',
      'random,1,8,accuracy,0.7,0.6,0.8',
      'kate,0,4,accuracy,0.7,0.6,0.8',
    ].join('\n') + '\n',
  );
  await writeFile(
    path.join(dir, 'strategy_vs_random.csv'),
    [
      'strategy,budget,metric,diff,ci_low,ci_high,n_items,n_seeds',
      'bm25,4,accuracy,0.05,-0.01,0.11,40,2',
      'bm25,4,gold_logprob,0.9,0.5,1.3,40,2',
      'bm25,8,accuracy,-0.03,-0.12,0.05,40,2',
      'kate,4,accuracy,0.1,0.02,0.18,40,2',
      'kate,8,accuracy,-0.02,-0.1,0.06,40,2',
    ].join('\n') + '\n',
  );
}
