import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CorrelationRow } from '../../src/core/experiment/correlations.js';
import { correlatedStatistics, correlationsCsv } from '../../src/core/experiment/correlations.js';
import { generatedModelBanner } from '../../src/core/experiment/modelLabel.js';
import { encodeNpyFloat32 } from '../../src/core/format/npy.js';
import { qualityCsv } from '../../src/core/format/qualityCsv.js';
import { statsCsvHeader, statsCsvRows } from '../../src/core/format/statsCsv.js';
import type { MaskStrategy } from '../../src/core/masks.js';
import { SeededRandom } from '../../src/core/random.js';
import {
  activationHistograms,
  decodeNpyFloat32,
  histogramsCsv,
  massiveCsv,
  readHistogramsCsv,
  readMassiveCsv,
} from '../../src/core/report/activationHistograms.js';
import type { CurveRow } from '../../src/core/experiment/learningCurves.js';
import { correlationHeatmapSpec, learningCurvesSpec } from '../../src/core/report/charts.js';
import { renderReport, renderSvg } from '../../src/core/report/renderReport.js';
import { readCorrelationsCsv } from '../../src/core/report/runFolderFiles.js';
import { activationStatistics, poolings } from '../../src/core/stats/activationStatistics.js';
import { bundledCli, runCli } from '../support/runCli.js';

const hostileId = '<img src=x onerror=alert(1)>';
const escapedHostileId = '&lt;img src=x onerror=alert(1)&gt;';
const masks: MaskStrategy[] = ['isolated', 'in-context'];
const layers = 3;
const dims = 16;
const ids = ['alpha', 'beta, "quoted"', hostileId, 'delta', 'epsilon'];
const rawExamples = [0, 1, 2];
const tokensOf = (example: number) => 4 + example;
const strategies = ['random', 'highest-first', 'k-center-greedy', 'kate', 'top-quality'];
/** Planted massive activation: layer 1, example 2, token 3, dim 7. */
const planted = { layer: 1, example: 2, token: 3, dim: 7, value: -2500 };
/** Layer 2's: above 1e4, so it also lands in the overflow bin. */
const plantedOverflow = { layer: 2, example: 1, token: 2, dim: 5, value: 5e4 };

/** ρ and q for a grid cell, from a seeded formula; q < 0.05 for every third cell. */
function cellRho(maskIndex: number, layer: number, statistic: number, pooling: number): { rho: number; q: number } {
  const random = new SeededRandom(1000 * maskIndex + 100 * layer + 10 * statistic + pooling);
  const rho = Math.round((random.next() * 1.8 - 0.9) * 1000) / 1000;
  const q = (layer + statistic + pooling) % 3 === 0 ? 0.01 : 0.2 + random.next() / 2;
  return { rho, q };
}

function correlationRows(): CorrelationRow[] {
  const rows: CorrelationRow[] = [];
  masks.forEach((mask, m) => {
    for (let layer = 0; layer < layers; layer++) {
      correlatedStatistics.forEach((statistic, s) => {
        poolings.forEach((pooling, p) => {
          const { rho, q } = cellRho(m, layer, s, p);
          rows.push({ mask, site: 'mlp_out', layer, statistic, pooling, estimator: 'one-shot', metric: 'gold_logprob', rho, pValue: q / 2, qValue: q, ciLow: rho - 0.2, ciHigh: rho + 0.2, n: ids.length, partialRho: NaN, partialPValue: NaN, partialQValue: NaN });
        });
      });
    }
  });
  return rows;
}

function curveRows(): CurveRow[] {
  const random = new SeededRandom(7);
  const rows: CurveRow[] = [];
  strategies.forEach((strategy, s) => {
    for (let seed = 0; seed < 3; seed++) {
      for (const budget of [1, 2, 4, 8]) rows.push({ strategy, seed, budget, metric: 'accuracy', value: 0.5 + 0.04 * s + 0.02 * Math.log2(budget) + random.next() / 20 });
    }
  });
  return rows;
}

/** One example's raw MLP outputs at one layer: seeded values in (−1, 1), plus the planted ones. */
function rawValues(example: number, layer: number): Float32Array {
  const random = new SeededRandom(31 * example + layer + 1);
  const values = new Float32Array(tokensOf(example) * dims).map(() => random.next() * 2 - 1);
  for (const p of [planted, plantedOverflow]) {
    if (p.layer === layer && p.example === example) values[p.token * dims + p.dim] = p.value;
  }
  if (layer === 1 && example === 0) values[0] = 150; // > 100 but < 1000 × median: not massive
  if (layer === 0 && example === 0) {
    values[0] = 0; // zeros go to the lowest bin
    values[1] = 1e-7; // so does underflow
  }
  return values;
}

async function writeRunFolder(dir: string, options: { curves?: boolean } = {}): Promise<void> {
  await mkdir(path.join(dir, 'raw'), { recursive: true });
  const run = {
    config: {
      quality: { estimator: 'one-shot', metric: 'gold_logprob' },
      evaluation: { metric: 'accuracy' },
      data: { file: '/abs/<b>sst2</b>.jsonl', format: 'jsonl' },
      model: '/abs/m.gguf',
    },
    model: { architecture: 'llama', layers, embeddingLength: dims, quantization: 'F32', fileBytes: 123456789, sha256: 'ab'.repeat(32) },
    phases: { extract: { status: 'complete', wallMs: 1234 }, quality: { status: 'complete', wallMs: 65_000 }, evaluate: { status: 'running' } },
  };
  await writeFile(path.join(dir, 'run.json'), JSON.stringify(run, null, 2));

  const random = new SeededRandom(3);
  let stats = statsCsvHeader();
  for (const mask of masks) {
    for (let example = 0; example < ids.length; example++) {
      stats += statsCsvRows(example, 'mlp_out', mask, 3 + example, new Float64Array(layers * poolings.length * activationStatistics.length).map(() => random.next() * 10));
    }
  }
  await writeFile(path.join(dir, 'stats.csv'), stats);
  await writeFile(
    path.join(dir, 'quality.csv'),
    qualityCsv(ids.map((id, example) => ({ example, id, estimator: 'one-shot', metric: 'gold_logprob', value: -1 - example / 3, stderr: 0.1, nPrompts: 8, halfA: -1 - example / 3, halfB: -1 - example / 3 }))),
  );
  await writeFile(path.join(dir, 'correlations.csv'), correlationsCsv(correlationRows()));
  if (options.curves !== false) {
    await writeFile(path.join(dir, 'curves.csv'), ['strategy,seed,budget,metric,value', ...curveRows().map((r) => `${r.strategy},${r.seed},${r.budget},${r.metric},${r.value}`)].join('\n') + '\n');
  }
  for (const example of rawExamples) {
    for (let layer = 0; layer < layers; layer++) {
      await writeFile(path.join(dir, 'raw', `${example}_L${layer}.npy`), encodeNpyFloat32(rawValues(example, layer), [tokensOf(example), dims]));
    }
  }
}

/** The paths of the first rect mark group (the heatmap cells) with their aria-label, fill and opacity. */
function heatmapCellsOf(svg: string): { label: string; fill: string; opacity: number }[] {
  const start = svg.indexOf('<g class="mark-rect role-mark');
  assert.ok(start >= 0, 'a rect mark group');
  const group = svg.slice(start, svg.indexOf('</g>', start));
  return [...group.matchAll(/<path [^>]*>/g)].map(([tag]) => ({
    label: /aria-label="([^"]*)"/.exec(tag)?.[1] ?? '',
    fill: /fill="([^"]*)"/.exec(tag)?.[1] ?? '',
    opacity: Number(/opacity="([^"]*)"/.exec(tag)?.[1] ?? '1'),
  }));
}

describe('icl-lab report', () => {
  let dir: string;
  let runDir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-report-'));
    runDir = path.join(dir, 'run');
    await writeRunFolder(runDir);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  describe('activation histograms', () => {
    it('reads back what the npy writer wrote', () => {
      const values = rawValues(1, 2);
      const decoded = decodeNpyFloat32(encodeNpyFloat32(values, [tokensOf(1), dims]));
      assert.deepEqual(decoded.shape, [tokensOf(1), dims]);
      assert.deepEqual(decoded.values, values);
    });

    it('counts every token × dimension value of every example once per layer, in 0.1-decade bins', async () => {
      const { histograms, layers: summaries } = await activationHistograms(path.join(runDir, 'raw'), 'isolated');
      const expected = rawExamples.reduce((s, e) => s + tokensOf(e) * dims, 0);
      for (let layer = 0; layer < layers; layer++) {
        const rows = histograms.filter((h) => h.layer === layer);
        assert.equal(rows.length, 80);
        assert.equal(rows.reduce((s, r) => s + r.count, 0), expected, `layer ${layer}`);
        assert.ok(Math.abs(rows[0]!.binLow - 1e-4) < 1e-12 && Math.abs(rows[79]!.binHigh - 1e4) < 1e-6);
        assert.ok(rows.every((r) => r.mask === 'isolated'));
      }
      assert.ok(histograms.find((h) => h.layer === 0)!.count >= 2, 'zero and 1e-7 fold into the lowest bin');
      assert.equal(histograms.filter((h) => h.layer === 2).at(-1)!.count, 1, '5e4 folds into the highest bin');
      assert.equal(summaries.length, layers);
      assert.equal(summaries[0]!.examples, rawExamples.length);
    });

    it('finds the planted massive activations (|a| > 100 and > 1000 × median) and nothing else', async () => {
      const { massive, layers: summaries } = await activationHistograms(path.join(runDir, 'raw'), 'isolated');
      assert.deepEqual(massive, [
        { mask: 'isolated', ...planted },
        { mask: 'isolated', ...plantedOverflow },
      ]);
      assert.ok(summaries[1]!.medianAbs > 0.3 && summaries[1]!.medianAbs < 0.7);
      assert.deepEqual(summaries.map((s) => s.massiveCount), [0, 1, 1]);
    });

    it("takes each value's own token median for the 1000× condition, not the layer's", async () => {
      // Token 0 is [200, 200, 200, 200]: every value is > 100 and > 1000 × the layer's median |a|
      // (0.01), but not > 1000 × its own token's median (200). Token 1's 300 passes both.
      const raw = path.join(dir, 'token-median');
      await mkdir(raw, { recursive: true });
      const values = new Float32Array(4 * 4).fill(0.01);
      values.fill(200, 0, 4);
      values[4 + 2] = 300;
      await writeFile(path.join(raw, '0_L0.npy'), encodeNpyFloat32(values, [4, 4]));
      const { massive, layers: summaries } = await activationHistograms(raw, 'isolated');
      assert.deepEqual(massive, [{ mask: 'isolated', layer: 0, example: 0, token: 1, dim: 2, value: 300 }]);
      assert.ok(Math.abs(summaries[0]!.medianAbs - 0.01) < 1e-6);
    });

    it('writes and reads histograms.csv and massive.csv', async () => {
      const { histograms, massive } = await activationHistograms(path.join(runDir, 'raw'), 'isolated');
      const text = histogramsCsv(histograms);
      assert.equal(text.split('\n')[0], 'mask,layer,bin_low,bin_high,count');
      assert.equal(massiveCsv(massive).split('\n')[0], 'mask,layer,example,token,dim,value');
      assert.match(massiveCsv(massive), /^isolated,1,2,3,7,-2500$/m);
      await writeFile(path.join(dir, 'h.csv'), text);
      await writeFile(path.join(dir, 'm.csv'), massiveCsv(massive));
      assert.deepEqual(await readHistogramsCsv(path.join(dir, 'h.csv')), histograms);
      assert.deepEqual(await readMassiveCsv(path.join(dir, 'm.csv')), massive);
    });
  });

  describe('charts', () => {
    it('draws one filled rect per heatmap cell, titled layer/statistic, q ≥ 0.05 faded', async () => {
      const rows = await readCorrelationsCsv(path.join(runDir, 'correlations.csv'));
      const svg = await renderSvg(correlationHeatmapSpec(rows, { mask: 'isolated', site: 'mlp_out', estimator: 'one-shot', metric: 'gold_logprob', pooling: 'all' }));
      const cells = heatmapCellsOf(svg);
      assert.equal(cells.length, layers * correlatedStatistics.length);
      assert.ok(cells.every((c) => /^(rgb|#)/.test(c.fill)), 'every cell is filled');
      assert.match(svg, />layer<\/text>/);
      assert.match(svg, />statistic<\/text>/);
      assert.match(svg, />Spearman ρ<\/text>/);
      let muted = 0;
      let significant = 0;
      for (const cell of cells) {
        const layer = Number(/layer: (\d+)/.exec(cell.label)![1]);
        const statistic = /statistic: ([a-z_0-9]+)/.exec(cell.label)![1]!;
        const row = rows.find((r) => r.mask === 'isolated' && r.pooling === 'all' && r.layer === layer && r.statistic === statistic)!;
        if (row.qValue < 0.05) {
          significant++;
          assert.equal(cell.opacity, 1);
        } else {
          muted++;
          assert.ok(cell.opacity < 0.5, `${layer} ${statistic} faded`);
        }
      }
      assert.ok(muted > 0 && significant > 0);
    });

    it('names every strategy in the learning curves, with the metric and budget axes', async () => {
      const svg = await renderSvg(learningCurvesSpec(curveRows(), { metric: 'accuracy' }));
      for (const strategy of strategies) assert.ok(svg.includes(`>${strategy}</text>`), strategy);
      assert.match(svg, />budget \(examples\)<\/text>/);
      assert.match(svg, />accuracy<\/text>/);
      assert.match(svg, /stroke-dasharray="6,4"/, 'random is dashed');
    });
  });

  describe('report.html', () => {
    let html: string;
    let files: string[];
    before(async () => {
      ({ html, files } = await renderReport(runDir));
    });

    it('writes the figures and the report', () => {
      const names = files.map((f) => path.relative(runDir, f)).sort();
      const figure = (name: string) => path.join('figures', name);
      for (const name of [
        'report.html',
        figure('heatmap-isolated.svg'),
        figure('heatmap-in-context.svg'),
        figure('curves-accuracy.svg'),
        figure('histogram-isolated-L0.svg'),
        figure('histogram-isolated-L1.svg'),
        figure('histogram-isolated-L2.svg'),
      ]) {
        assert.ok(names.includes(name), name);
      }
      assert.equal(names.filter((n) => n.startsWith(figure('scatter-'))).length, 3);
      for (const file of files) assert.ok(existsSync(file), file);
    });

    it('is self-contained: no URLs but the SVG namespace, no scripts', () => {
      const withoutNamespace = html.replace(/ xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '').replace(/ xmlns:xlink="http:\/\/www\.w3\.org\/1999\/xlink"/g, '');
      assert.doesNotMatch(withoutNamespace, /https?:\/\//);
      assert.doesNotMatch(html, /<script/i);
      assert.match(html, /<svg /);
    });

    it('escapes untrusted text from the folder', () => {
      assert.ok(!html.includes(hostileId), 'the raw id never appears');
      assert.ok(html.includes(escapedHostileId), 'the escaped id does');
      assert.ok(!html.includes('<b>sst2</b>'));
      assert.ok(html.includes('/abs/&lt;b&gt;sst2&lt;/b&gt;.jsonl'));
    });

    it('states model facts, phase times, the headline per mask and the top correlations', () => {
      assert.match(html, /llama/);
      assert.match(html, /1\.2 s/);
      assert.match(html, /1 min 5 s/);
      const rows = correlationRows();
      for (const mask of masks) {
        const best = rows.filter((r) => r.mask === mask).sort((a, b) => Math.abs(b.rho) - Math.abs(a.rho))[0]!;
        assert.ok(html.includes(`<strong>${mask}</strong>: largest |ρ| = ${Math.abs(best.rho).toFixed(3)}`), mask);
      }
      const top = html.slice(html.indexOf('<section id="top">'), html.indexOf('</section>', html.indexOf('<section id="top">')));
      assert.equal(top.match(/<tr><td/g)?.length, 10);
      assert.ok(html.includes('-2500') || html.includes('−2500'), 'the massive activation is listed');
    });

    it('draws a heatmap per mask and site and names the site of the strongest cell, whose scatter reads that site’s rows', async () => {
      const sites = path.join(dir, 'two-sites');
      await cp(runDir, sites, { recursive: true });
      await rm(path.join(sites, 'figures'), { recursive: true, force: true });
      // The residual stream's isolated cells: every ρ of the MLP output's grid is beaten by layer 1's mean.
      const residual = correlationRows()
        .filter((r) => r.mask === 'isolated')
        .map((r) => ({ ...r, site: 'resid_post', rho: r.layer === 1 && r.statistic === 'mean' && r.pooling === 'all' ? 0.995 : r.rho / 2 }));
      await writeFile(path.join(sites, 'correlations.csv'), correlationsCsv([...correlationRows(), ...residual]));
      let stats = await readFile(path.join(sites, 'stats.csv'), 'utf8');
      const values = new Float64Array(layers * poolings.length * activationStatistics.length);
      // Layer 1's mean at resid_post: 100 + example, a value no mlp_out row holds.
      for (let example = 0; example < ids.length; example++) {
        values.fill(0);
        values[(1 * poolings.length + 0) * activationStatistics.length + activationStatistics.indexOf('mean')] = 100 + example;
        stats += statsCsvRows(example, 'resid_post', 'isolated', 3 + example, values);
      }
      await writeFile(path.join(sites, 'stats.csv'), stats);
      const result = await renderReport(sites);
      const names = result.files.map((f) => path.basename(f));
      assert.ok(names.includes('heatmap-isolated.svg') && names.includes('heatmap-isolated-resid_post.svg'), names.join(' '));
      assert.ok(!names.includes('heatmap-in-context-resid_post.svg'), 'no resid_post cells under in-context');
      assert.ok(result.html.includes('<strong>isolated</strong>: largest |ρ| = 0.995'));
      assert.match(result.html, /at resid_post layer 1, mean \(all\)/);
      assert.match(result.html, /<th>site<\/th>/);
      const scatter = result.files.find((f) => path.basename(f).startsWith('scatter-1-'))!;
      assert.match(path.basename(scatter), /^scatter-1-isolated-resid_post-L1-mean-all\.svg$/);
      const svg = await readFile(scatter, 'utf8');
      assert.match(svg, /10[0-9]/, 'the points are resid_post values (100 + example)');
    });

    it('reads correlations.csv written before the site column as the MLP output’s, its length rows as no site’s', async () => {
      const old = path.join(dir, 'old-correlations.csv');
      const text = correlationsCsv([...correlationRows().slice(0, 2), { ...correlationRows()[0]!, site: '', layer: NaN, pooling: '', statistic: 'token_count' }]);
      await writeFile(old, text.split('\n').map((line) => line.split(',').filter((_, i) => i !== 1).join(',')).join('\n'));
      const rows = await readCorrelationsCsv(old);
      assert.deepEqual(rows.map((r) => r.site), ['mlp_out', 'mlp_out', '']);
    });

    it('renders a run folder without curves.csv, saying what is missing', async () => {
      const partial = path.join(dir, 'partial');
      await cp(runDir, partial, { recursive: true });
      await rm(path.join(partial, 'curves.csv'));
      await rm(path.join(partial, 'figures'), { recursive: true, force: true });
      const result = await renderReport(partial);
      assert.match(result.html, /No curves\.csv yet/);
      assert.ok(result.notes.some((n) => n.includes('curves.csv')));
      assert.ok(!result.files.some((f) => path.basename(f).startsWith('curves-')));
      assert.ok(result.files.some((f) => path.basename(f) === 'heatmap-isolated.svg'));
    });

    it('draws histograms from histograms.csv and massive.csv when the run wrote them, raw/<mask>/ for other masks', async () => {
      const fromCsv = path.join(dir, 'from-csv');
      await cp(runDir, fromCsv, { recursive: true });
      await rm(path.join(fromCsv, 'figures'), { recursive: true, force: true });
      const { histograms, massive } = await activationHistograms(path.join(fromCsv, 'raw'), 'shared-prefix');
      await writeFile(path.join(fromCsv, 'histograms.csv'), histogramsCsv(histograms.filter((h) => h.layer !== 0)));
      await writeFile(path.join(fromCsv, 'massive.csv'), massiveCsv(massive));
      await rm(path.join(fromCsv, 'raw'), { recursive: true });
      const result = await renderReport(fromCsv);
      const names = result.files.map((f) => path.basename(f));
      assert.deepEqual(names.filter((n) => n.startsWith('histogram-')), ['histogram-shared-prefix-L1.svg', 'histogram-shared-prefix-L2.svg']);
      assert.match(await readFile(path.join(fromCsv, 'figures', 'histogram-shared-prefix-L1.svg'), 'utf8'), />dim 7<\/text>/);

      const subfolder = path.join(dir, 'subfolder');
      await cp(runDir, subfolder, { recursive: true });
      await cp(path.join(runDir, 'raw'), path.join(subfolder, 'raw', 'in-context'), { recursive: true });
      const both = (await renderReport(subfolder)).files.map((f) => path.basename(f)).filter((n) => n.startsWith('histogram-'));
      assert.equal(both.length, 2 * layers);
      assert.ok(both.includes('histogram-in-context-L2.svg'));
    });

    it('captions each histogram with what it marks: the massive values, or that none qualify and the largest |a|', () => {
      assert.match(html, /Layer 1, isolated mask: \|MLP output\| histogram; 1 massive activation marked in red/);
      assert.match(html, /Layer 0, isolated mask: \|MLP output\| histogram; no value is massive \(\|a\| &gt; 100 and &gt; 1000 × its token&#39;s median \|a\|\): the largest \|a\| is below [\d.e+]+/);
    });

    it('puts the generated-model banner at the top only when run.json says the model is generated', async () => {
      assert.doesNotMatch(html, /generated-model-banner/);
      const generated = path.join(dir, 'generated');
      await mkdir(generated);
      const record = JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as { model: object };
      await writeFile(path.join(generated, 'run.json'), JSON.stringify({ ...record, model: { ...record.model, generated: true } }));
      await writeFile(path.join(generated, 'correlations.csv'), correlationsCsv([]));
      const { html: bannered } = await renderReport(generated);
      const banner = /<p class="warning banner" id="generated-model-banner"><strong>([^<]*)<\/strong><\/p>/.exec(bannered);
      assert.equal(banner?.[1], generatedModelBanner);
      assert.ok(bannered.indexOf('generated-model-banner') < bannered.indexOf('id="facts"'), 'above the first section');
    });

    it('names the missing folder or the bad file', async () => {
      await assert.rejects(renderReport(path.join(dir, 'nowhere')), /nowhere: no such run folder/);
      const bad = path.join(dir, 'bad');
      await mkdir(bad);
      await writeFile(path.join(bad, 'correlations.csv'), 'mask,layer,rho\nisolated,0,0.5\n');
      await assert.rejects(renderReport(bad), /correlations\.csv: missing column\(s\) statistic/);
      await writeFile(path.join(bad, 'correlations.csv'), correlationsCsv([]));
      await writeFile(path.join(bad, 'run.json'), '{ not json');
      await assert.rejects(renderReport(bad), /run\.json: invalid JSON/);
    });
  });

  describe('the CLI', function () {
    this.timeout(120_000);
    it('`icl-lab report DIR --out FILE` writes the report and figures and prints them', async () => {
      const cliRun = path.join(dir, 'cli-run');
      await writeRunFolder(cliRun, { curves: false });
      const out = path.join(dir, 'out', 'cli-report.html');
      const result = await runCli(['report', cliRun, '--out', out], bundledCli);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.includes(out));
      assert.ok(result.stdout.includes(path.join(cliRun, 'figures', 'heatmap-isolated.svg')));
      assert.match(result.stdout, /note: No curves\.csv/);
      assert.ok(existsSync(path.join(cliRun, 'figures', 'histogram-isolated-L1.svg')));
      assert.match(await readFile(out, 'utf8'), /<svg /);

      const missing = await runCli(['report', path.join(dir, 'absent')], bundledCli);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /absent: no such run folder/);
    });
  });
});

describe('report.html: what the run computed, beside the examples', () => {
  let dir: string;
  let html: string;
  const hostile = '<b>bold</b> & "quoted"';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-report-examples-'));
    const dataFile = path.join(dir, 'data.jsonl');
    await writeFile(dataFile, ['first row text', hostile, 'third row text', 'fourth row text'].map((text, i) => JSON.stringify({ id: `e${i}`, text, label: String(i % 2) })).join('\n') + '\n');
    await writeFile(
      path.join(dir, 'run.json'),
      JSON.stringify({ config: { data: { file: dataFile, inputs: ['text'], id: 'id', target: 'label', task: 'classification' }, quality: { estimator: 'one-shot', metric: 'gold_logprob' } }, model: { architecture: 'llama', layers: 1 } }),
    );
    // Two poolings with the same numbers (kurtosis under all and last), one that differs (token-mean).
    let stats = statsCsvHeader();
    for (let example = 0; example < 4; example++) {
      const values = new Float64Array(poolings.length * activationStatistics.length).map((_, i) => (i % activationStatistics.length) * 10 + example * (1 + Math.floor(i / activationStatistics.length) % 2));
      stats += statsCsvRows(example, 'mlp_out', 'isolated', 3, values);
    }
    await writeFile(path.join(dir, 'stats.csv'), stats);
    const cell = (pooling: string, rho: number): CorrelationRow => ({ mask: 'isolated', site: 'mlp_out', layer: 0, statistic: 'kurtosis', pooling, estimator: 'one-shot', metric: 'gold_logprob', rho, pValue: 0.01, qValue: 0.02, ciLow: rho - 0.1, ciHigh: rho + 0.1, n: 4, partialRho: NaN, partialPValue: NaN, partialQValue: NaN });
    // poolings[0] and poolings[2] hold the same column (their index is even), poolings[1] another.
    await writeFile(path.join(dir, 'correlations.csv'), correlationsCsv([cell(poolings[0], 0.8), cell(poolings[2], 0.8), cell(poolings[1], 0.5)]));
    await writeFile(path.join(dir, 'quality.csv'), qualityCsv([0, 1, 2, 3].map((example) => ({ example, id: `e${example}`, estimator: 'one-shot', metric: 'gold_logprob', value: -example, stderr: 0, nPrompts: 1, halfA: NaN, halfB: NaN }))));
    await writeFile(path.join(dir, 'selections.csv'), 'strategy,seed,budget,round,example,id,score\nrandom,0,1,1,2,e2,0\nrandom,0,2,1,1,e1,0\nrandom,0,2,1,3,e3,0\nrandom,1,2,1,0,e0,0\n');
    await writeFile(path.join(dir, 'acquisition_correlations.csv'), 'strategy,budget,metric,rho,p_value,n\nk-center-greedy,2,accuracy,-0.5,0.6666666666666666,3\n');
    ({ html } = await renderReport(dir));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const section = (id: string): string => new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html)![1]!;

  it('shows each example\'s text beside its id, escaped', () => {
    assert.match(section('examples'), /<td>e1<\/td><td>&lt;b&gt;bold&lt;\/b&gt; &amp; &quot;quoted&quot;<\/td>/);
    assert.ok(!html.includes('<b>bold</b>'));
  });

  it('lists each strategy\'s selection at its largest budget for its first seed, with text', () => {
    assert.match(section('selections'), /<td>random<\/td><td>0<\/td><td>2<\/td><td>e1<\/td><td>&lt;b&gt;bold/);
    assert.match(section('selections'), /<td>e3<\/td><td>fourth row text<\/td>/);
    assert.doesNotMatch(section('selections'), /<td>e2<\/td>|<td>e0<\/td>/);
  });

  it('tables the acquisition correlations', () => {
    assert.match(section('acquisition'), /<td>k-center-greedy<\/td><td class="num">2<\/td><td class="num">accuracy<\/td><td class="num">−0\.500<\/td>/);
  });

  it('lists a cell whose column is the same numbers under another pooling once, naming its twin', () => {
    const top = section('top');
    assert.equal((top.match(/<td>kurtosis<\/td>/g) ?? []).length, 2, 'the twin is folded into its first cell');
    assert.match(top, new RegExp(`<td>${poolings[0]} \\(= ${poolings[2]}\\)</td>`));
  });
});
