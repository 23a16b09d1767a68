// The chart panels' webview apps in a real browser (Chromium via playwright-core), under the very
// HTML and Content-Security-Policy the extension serves, with a stand-in for VS Code's webview API:
// the data messages come from RunPanelSource over a synthetic run folder. Checks that the charts
// render without eval or inline styles (no CSP violation), that clicks and exports send the right
// messages, that hostile dataset text shows as text, and that a saved state restores the panel.
// Needs `npm run build` (dist/webviews) and Chromium (/usr/bin/chromium or $CHROMIUM_PATH); skipped
// without them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generatedModelBanner } from '../../src/core/experiment/modelLabel.js';
import { RunPanelSource } from '../../src/extension/panels/panelData.js';
import { panelHtml, panelResourceRoots } from '../../src/extension/panels/panelHtml.js';
import { parsePanelState, parseWebviewMessage, type CellKey, type PanelKind, type WebviewMessage } from '../../src/extension/panels/panelMessages.js';
import { hostileText, plantedMassive, writeSyntheticRun, type SyntheticRun } from '../support/panelRunFolder.js';
import { hostileToken, writeSaeFixture } from '../extension/saeFixture.js';

const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const origin = 'https://panel.test';
const repoRoot = path.resolve('.');

const darkVariables: Record<string, string> = {
  '--vscode-editor-background': '#1e1e1e',
  '--vscode-editor-foreground': '#d4d4d4',
  '--vscode-font-family': 'sans-serif',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-red': '#f14c4c',
};

interface Harness {
  readonly page: Page;
  /** Messages the webview sent, validated as the extension validates them. */
  sent(): Promise<WebviewMessage[]>;
  waitFor<T extends WebviewMessage['type']>(type: T, count?: number): Promise<Extract<WebviewMessage, { type: T }>>;
  post(message: unknown): Promise<void>;
  state(): Promise<unknown>;
  problems(): Promise<string[]>;
}

const contentTypes: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

async function openPanel(browser: Browser, kind: PanelKind, savedState?: unknown): Promise<Harness> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  const html = panelHtml({ kind, cspSource: origin, resourceUri: (relative) => `${origin}/${relative}` });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
  });
  await page.route(`${origin}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
    const relative = decodeURIComponent(url.pathname).slice(1);
    if (!panelResourceRoots.some((root) => relative.startsWith(`${root}/`)) || relative.includes('..')) return route.fulfill({ status: 404 });
    return route.fulfill({ contentType: contentTypes[path.extname(relative)] ?? 'application/octet-stream', body: await readFile(path.join(repoRoot, relative)) });
  });
  // A string, not a function: tsx's transpiled functions call helpers the page does not have.
  await page.addInitScript(`(() => {
    const sent = [];
    const violations = [];
    window.__sent = sent;
    window.__violations = violations;
    window.__state = ${JSON.stringify(savedState ?? null)} ?? undefined;
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => sent.push(JSON.parse(JSON.stringify(m))),
      getState: () => window.__state,
      setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); },
    });
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample + ' @' + e.sourceFile + ':' + e.lineNumber + ':' + e.columnNumber));
    document.addEventListener('DOMContentLoaded', () => document.body.classList.add('vscode-light'));
  })();`);
  await page.goto(`${origin}/index.html`);
  const sent = async () => {
    const raw = (await page.evaluate(() => (window as unknown as { __sent: unknown[] }).__sent)) as unknown[];
    return raw.map((m) => {
      const parsed = parseWebviewMessage(m, kind);
      assert.ok(parsed, `the extension accepts ${JSON.stringify(m).slice(0, 200)}`);
      return parsed;
    });
  };
  return {
    page,
    sent,
    async waitFor(type, count = 1) {
      for (let i = 0; i < 200; i++) {
        const matching = (await sent()).filter((m) => m.type === type);
        if (matching.length >= count) return matching[count - 1] as never;
        await page.waitForTimeout(25);
      }
      throw new Error(`no ${type} message (#${count}) from the ${kind} webview; sent: ${JSON.stringify(await sent()).slice(0, 500)}`);
    },
    post: async (message) => {
      await page.evaluate((m) => window.postMessage(m, '*'), message as object);
    },
    state: () => page.evaluate(() => (window as unknown as { __state: unknown }).__state),
    problems: async () => [...pageErrors, ...((await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)) as string[])],
  };
}

async function svgText(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(`${selector} svg .mark-text`, { timeout: 10_000 });
  return page.locator(`${selector} svg`).first().evaluate((svg) => svg.textContent ?? '');
}

/** Checks nothing went wrong; with $PANEL_SCREENSHOTS set, keeps a screenshot there. */
async function assertClean(h: Harness, name: string): Promise<void> {
  const folder = process.env['PANEL_SCREENSHOTS'];
  if (folder) await h.page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
  assert.deepEqual(await h.problems(), [], 'no CSP violation, page error or console error');
  assert.equal(await h.page.locator('#error').isHidden(), true, '#error is hidden');
  assert.equal(await h.page.locator('#error').textContent(), '');
}

describe('chart panel webviews in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let run: SyntheticRun;
  let source: RunPanelSource;

  before(async function () {
    // Never a silent skip: npm test installs Chromium (scripts/setup-e2e.sh) and builds dist/ first.
    if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: run \`bash scripts/setup-e2e.sh\` (or set CHROMIUM_PATH)`);
    if (!existsSync('dist/webviews/correlations.js')) throw new Error('dist/webviews/ is not built: run `npm run build`');
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    run = await writeSyntheticRun();
    source = new RunPanelSource(run.dir);
  });
  afterEach(async () => {
    await run.cleanup();
  });

  it('correlations: heatmap, cell → scatter with hostile text as text, point → reveal, exports, restore', async () => {
    const h = await openPanel(browser, 'correlations');
    await h.waitFor('ready');
    await h.post(await source.correlationsData());
    const heatmapText = await svgText(h.page, '#heatmap');
    assert.match(heatmapText, /isolated mask/);
    assert.match(heatmapText, /in-context mask/, 'all masks stacked');
    assert.match(heatmapText, /\*/, 'significant cells starred');
    assert.equal(await h.page.locator('#run-name').textContent(), 'synthetic');
    assert.equal(await h.page.locator('#scatter-section').isHidden(), true);

    // A cell → the scatter request, answered as the extension answers it.
    await h.page.locator('#heatmap .mark-rect path').first().click({ force: true });
    const request = await h.waitFor('cellSelected');
    await h.post(await source.scatter(request.cell, request.requestId));
    assert.match(await svgText(h.page, '#scatter'), new RegExp(`${request.cell.statistic} \\(${request.cell.pooling}\\) vs gold_logprob`));

    // Hover the points until the hostile example's tooltip shows: its text as characters.
    const points = h.page.locator('#scatter .mark-symbol path');
    let hostileIndex = -1;
    for (let i = 0; i < (await points.count()) && hostileIndex < 0; i++) {
      await points.nth(i).hover({ force: true });
      if ((await h.page.locator('.chart-tooltip').textContent())?.includes(hostileText)) hostileIndex = i;
    }
    assert.ok(hostileIndex >= 0, 'a tooltip shows the hostile text');
    assert.equal(await h.page.locator('.chart-tooltip img').count(), 0);
    assert.equal(await h.page.locator('img').count(), 0);

    await points.nth(hostileIndex).click({ force: true });
    assert.deepEqual(await h.waitFor('revealExample'), { type: 'revealExample', example: 2 });

    // A theme switch redraws both charts in the new colours without asking for the points again.
    await h.page.evaluate((variables) => {
      for (const [name, value] of Object.entries(variables)) document.documentElement.style.setProperty(name, value);
      document.body.classList.replace('vscode-light', 'vscode-dark');
    }, darkVariables);
    await h.page.waitForFunction(() => document.querySelector('#scatter svg')?.outerHTML.includes('#3794ff'));
    assert.equal((await h.sent()).filter((m) => m.type === 'cellSelected').length, 1);

    // Exports: the heatmap and the scatter plot, each as SVG, PNG and CSV.
    await h.page.click('#export-svg');
    const svg = await h.waitFor('export');
    assert.equal(svg.format, 'svg');
    assert.match(svg.content, /^<svg[\s\S]*isolated mask[\s\S]*<\/svg>$/);
    await h.page.click('#export-png');
    const png = await h.waitFor('export', 2);
    assert.equal(png.format, 'png');
    assert.ok(Buffer.from(png.content.split(',')[1]!, 'base64').subarray(1, 4).toString() === 'PNG');
    await h.page.click('#export-csv');
    const csv = await h.waitFor('export', 3);
    assert.equal(csv.content.split('\n')[0], 'mask,site,layer,statistic,pooling,estimator,metric,rho,p_value,q_value,ci_low,ci_high,n,significant');
    assert.deepEqual(new Set(csv.content.trim().split('\n').slice(1).map((line) => line.split(',')[1])), new Set(['mlp_out']), 'one site at a time');
    await h.page.click('#scatter-export-csv');
    const scatterCsv = await h.waitFor('export', 4);
    assert.ok(scatterCsv.content.includes(`,${hostileText}`));
    assert.match(scatterCsv.name, /^scatter-/);
    await assertClean(h, 'correlations');

    // The saved state names the run and the open cell; a restored panel reopens the scatter plot.
    const state = parsePanelState(await h.state());
    assert.equal(state?.runDir, run.dir);
    assert.deepEqual((state?.ui as { cell?: CellKey }).cell, request.cell);
    await h.page.close();

    const restored = await openPanel(browser, 'correlations', state);
    await restored.waitFor('ready');
    await restored.post(await source.correlationsData());
    const again = await restored.waitFor('cellSelected');
    assert.deepEqual(again.cell, request.cell);
    await restored.post(await source.scatter(again.cell, again.requestId));
    await svgText(restored.page, '#scatter');
    await assertClean(restored, 'correlations-restored');
    await restored.page.close();
  });

  it('correlations: the site picker shows the residual stream’s grid and asks for its cells', async () => {
    const h = await openPanel(browser, 'correlations');
    await h.waitFor('ready');
    await h.post(await source.correlationsData());
    assert.match(await svgText(h.page, '#heatmap'), /isolated mask, mlp_out/, 'the strongest cell’s site first');
    await h.page.selectOption('#site', 'resid_post');
    await h.page.waitForFunction(() => document.querySelector('#heatmap svg')?.textContent?.includes('isolated mask, resid_post'));
    await h.page.locator('#heatmap .mark-rect path').first().click({ force: true });
    const request = await h.waitFor('cellSelected');
    assert.equal(request.cell.site, 'resid_post');
    await h.post(await source.scatter(request.cell, request.requestId));
    assert.match((await h.page.locator('#scatter-title').textContent()) ?? '', /^resid_post layer \d/);
    assert.equal((parsePanelState(await h.state())?.ui as { site?: string }).site, 'resid_post');
    await h.page.close();
  });

  it('correlations: an error from the extension shows in #error', async () => {
    const h = await openPanel(browser, 'correlations');
    await h.waitFor('ready');
    await h.post({ type: 'error', message: `${run.dir}: no such run folder` });
    await h.page.waitForSelector('#error:not([hidden])');
    assert.equal(await h.page.locator('#error').textContent(), `${run.dir}: no such run folder`);
    await h.page.close();
  });

  it('histograms: layer slider, massive activation by dimension, pooled statistic, log scale, theme', async () => {
    const h = await openPanel(browser, 'histograms');
    await h.waitFor('ready');
    await h.post(await source.histogramsData());
    assert.match(await svgText(h.page, '#chart'), /Layer 0: \|MLP output\| \(isolated mask\)/);
    await h.page.locator('#layer').evaluate((el: HTMLInputElement) => {
      el.value = '1';
      el.dispatchEvent(new Event('input'));
    });
    await h.page.waitForFunction(() => document.querySelector('#chart svg')?.textContent?.includes('Layer 1'));
    assert.match(await svgText(h.page, '#chart'), new RegExp(`dim ${plantedMassive.dim}`));
    assert.equal(await h.page.locator('#massive tbody tr').count(), 1);
    assert.equal(await h.page.locator('#layer-value').textContent(), '1');

    await h.page.selectOption('#pooling', 'token-mean');
    const request = await h.waitFor('statistic');
    assert.deepEqual(request.key, { mask: 'isolated', site: 'mlp_out', layer: 1, pooling: 'token-mean', statistic: 'kurtosis' });
    await h.post(await source.statistic(request.key, request.requestId));
    await h.page.waitForFunction(() => document.querySelector('#chart svg')?.textContent?.includes('kurtosis (token-mean pooling'));
    assert.match(await svgText(h.page, '#chart'), /4 examples, 1 without a value/);
    assert.equal(await h.page.locator('#massive-section').isHidden(), true);

    await h.page.uncheck('#log-scale');
    await h.page.waitForFunction(() => !document.querySelector('#chart svg')?.textContent?.includes('log scale'));
    await h.page.click('#export-csv');
    const csv = await h.waitFor('export');
    assert.equal(csv.content.split('\n')[0], 'mask,site,layer,pooling,statistic,example,id,value');
    assert.equal(csv.content.split('\n')[4], 'isolated,mlp_out,1,token-mean,kurtosis,3,d,nan');

    // A theme switch: VS Code changes the variables and the body class; the chart follows.
    await h.page.evaluate((variables) => {
      for (const [name, value] of Object.entries(variables)) document.documentElement.style.setProperty(name, value);
      document.body.classList.replace('vscode-light', 'vscode-dark');
    }, darkVariables);
    await h.page.waitForFunction(() => document.querySelector('#chart svg rect.background, #chart svg')?.outerHTML.includes('#3794ff'));
    assert.deepEqual(parsePanelState(await h.state())?.ui, { mask: 'isolated', layer: 1, pooling: 'token-mean', statistic: 'kurtosis', site: 'mlp_out', logScale: false });

    // The site picker: the residual stream's values of the same statistic.
    await h.page.selectOption('#site', 'resid_post');
    const residual = await h.waitFor('statistic', 2);
    assert.deepEqual(residual.key, { mask: 'isolated', site: 'resid_post', layer: 1, pooling: 'token-mean', statistic: 'kurtosis' });
    await h.post(await source.statistic(residual.key, residual.requestId));
    await h.page.waitForFunction(() => document.querySelector('#chart svg')?.textContent?.includes('resid_post layer 1: kurtosis'));
    await assertClean(h, 'histograms-dark');
    await h.page.close();
  });

  it('every panel answers the extension\'s ping with pong (the liveness check after a move), and only once per ping', async () => {
    for (const kind of ['histograms', 'correlations', 'learningCurves', 'features'] as const) {
      const h = await openPanel(browser, kind);
      await h.waitFor('ready');
      await h.post({ type: 'ping' });
      await h.waitFor('pong');
      await h.post({ type: 'ping' });
      await h.waitFor('pong', 2);
      assert.equal((await h.sent()).filter((m) => m.type === 'pong').length, 2, `${kind}: one pong per ping`);
      await assertClean(h, `ping-${kind}`);
      await h.page.close();
    }
  });

  it('learning curves: strategies vs random with bands, metric picker, exports', async () => {
    const h = await openPanel(browser, 'learningCurves');
    await h.waitFor('ready');
    const data = await source.learningCurvesData();
    await h.post({ ...data, run: { ...data.run, model: 'tiny (llama)', generatedModelBanner } });
    await h.page.waitForSelector('#model-banner:not([hidden])');
    assert.equal(await h.page.locator('#model-banner').textContent(), generatedModelBanner);
    assert.equal(await h.page.locator('#run-name').getAttribute('title'), 'model: tiny (llama)');
    await h.post(data);
    await h.page.waitForSelector('#model-banner[hidden]', { state: 'attached' });
    const text = await svgText(h.page, '#chart');
    assert.match(text, /Learning curves: accuracy/);
    assert.match(text, /random/);
    assert.match(text, /k-center-greedy/);
    assert.equal(await h.page.locator('#chart .mark-area path').count(), 3, 'a band per strategy');
    await h.page.selectOption('#metric', 'macro_f1');
    await h.page.waitForFunction(() => document.querySelector('#chart svg')?.textContent?.includes('Learning curves: macro_f1'));
    await h.page.selectOption('#band', 'sd');
    await h.page.waitForFunction(() => document.querySelector('#chart svg')?.textContent?.includes('mean ± 1 sd'));
    await h.page.click('#export-csv');
    const csv = await h.waitFor('export');
    assert.equal(csv.content.split('\n')[0], 'strategy,budget,metric,mean,sd,min,max,seeds');
    assert.equal(csv.content.trim().split('\n').length, 1 + 3 * 2);
    await h.page.click('#export-svg');
    assert.match((await h.waitFor('export', 2)).content, /^<svg/);
    assert.deepEqual(parsePanelState(await h.state())?.ui, { metric: 'macro_f1', band: 'sd' });
    await assertClean(h, 'learning-curves');
    await h.page.close();
  });

  it('features: the list by |ρ|, a feature’s examples with tokens shaded by activation, markup as text, clicks → reveal, restore', async () => {
    await writeSaeFixture(run.dir);
    const h = await openPanel(browser, 'features');
    await h.waitFor('ready');
    const data = await source.featuresData();
    await h.post({ ...data, run: { ...data.run, model: 'tiny (llama)', generatedModelBanner } });
    await h.page.waitForSelector('#feature-list tbody tr');
    assert.equal(await h.page.locator('#model-banner').textContent(), generatedModelBanner, 'the generated-model banner');
    assert.equal(await h.page.locator('#sae-info').textContent(), 'SAE · mlp_out layer 1 · 64 latents · k 4');
    const figures = await h.page.locator('#sae-figures > div').evaluateAll((items) => items.map((d) => `${d.querySelector('dt')?.textContent}: ${d.querySelector('dd')?.textContent}`));
    assert.deepEqual(figures, ['variance explained: 0.813', 'L0: 4.0', 'dead latents: 6 (9.38%)', 'loss recovered: 0.900', 'training tokens: 20,000', 'training time: 1m01s', 'tokens/s: 5,400']);
    const rows = () => h.page.locator('#feature-list tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells, (c) => c.textContent)));
    // Largest |ρ| first, the feature without one last.
    assert.deepEqual(await rows(), [
      ['3', '25.0%', '−0.610', '4.0e-4', '2.00'],
      ['7', '1.25%', '0.420', '0.0030', '3.50'],
      ['12', '50.0%', '–', '–', '–'],
    ]);

    // The first feature is shown at once; a click on another asks for its examples.
    const first = await h.waitFor('featureSelected');
    assert.equal(first.latent, 3);
    await h.post(await source.featureExamples(first.latent, first.requestId));
    await h.page.waitForSelector('#examples .feature-example');
    await h.page.locator('#feature-list tbody tr', { hasText: '0.420' }).click();
    const second = await h.waitFor('featureSelected', 2);
    assert.equal(second.latent, 7);
    await h.post(await source.featureExamples(second.latent, second.requestId));
    await h.page.waitForFunction(() => document.querySelectorAll('#examples .feature-example').length === 2);
    assert.equal(await h.page.locator('#examples-title').textContent(), 'Latent 7: top activating examples');
    assert.equal(await h.page.locator('#feature-list tr.selected td').first().textContent(), '7');

    // Tokens: markup shows as its characters, shaded by activation over the feature's largest (3.5).
    const tokens = await h.page.locator('#examples .feature-example').evaluateAll((items) =>
      items.map((li) => Array.from(li.querySelectorAll('.token'), (t) => ({ text: t.textContent, active: t.classList.contains('active'), level: (t as HTMLElement).style.getPropertyValue('--level') }))),
    );
    assert.deepEqual(tokens, [
      [{ text: hostileToken, active: true, level: '1.000' }, { text: ' fine', active: false, level: '' }],
      [{ text: 'a', active: false, level: '' }, { text: ' fine', active: true, level: '0.500' }, { text: ' film', active: true, level: '0.143' }],
    ]);
    assert.equal(await h.page.locator('#examples script').count(), 0, 'no script element from a token');
    assert.equal(await h.page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss), undefined);
    assert.match((await h.page.locator('#examples .feature-example').first().textContent()) ?? '', /id c.*line 4 · max 3\.50/s);

    // An example (click, or Enter) → its row in the dataset.
    await h.page.locator('#examples .feature-example').nth(1).click();
    assert.deepEqual(await h.waitFor('revealExample'), { type: 'revealExample', example: 0 });
    await h.page.locator('#examples .feature-example').first().focus();
    await h.page.keyboard.press('Enter');
    assert.deepEqual(await h.waitFor('revealExample', 2), { type: 'revealExample', example: 2 });

    // Sort by density; filter by latent number; neither loses the shown feature.
    await h.page.selectOption('#sort', 'density');
    assert.deepEqual((await rows()).map((r) => r[0]), ['12', '3', '7']);
    await h.page.fill('#filter', '1');
    assert.deepEqual((await rows()).map((r) => r[0]), ['12']);
    assert.match((await h.page.locator('#list-note').textContent()) ?? '', /^1 of 3 features\./);
    await h.page.fill('#filter', '');
    assert.equal((await h.sent()).filter((m) => m.type === 'featureSelected').length, 2, 'examples are asked for once per feature');
    await assertClean(h, 'features');

    const state = parsePanelState(await h.state());
    assert.equal(state?.kind, 'features');
    assert.equal(state?.runDir, run.dir);
    assert.deepEqual(state?.ui, { latent: 7, sort: 'density', filter: '' });
    await h.page.close();

    // A restored panel shows the same feature again.
    const restored = await openPanel(browser, 'features', state);
    await restored.waitFor('ready');
    await restored.post(await source.featuresData());
    const again = await restored.waitFor('featureSelected');
    assert.equal(again.latent, 7);
    assert.equal(await restored.page.locator('#sort').inputValue(), 'density');
    await restored.page.close();
  });

  it('features: a run without a sparse autoencoder shows what to do, and an empty list', async () => {
    const h = await openPanel(browser, 'features');
    await h.waitFor('ready');
    await h.post(await source.featuresData());
    await h.page.waitForSelector('#notes:not([hidden])');
    assert.match((await h.page.locator('#notes').textContent()) ?? '', /this run has no sparse autoencoder: add `sae: \{\}` to its config/);
    assert.equal(await h.page.locator('#list-note').textContent(), 'No features.');
    assert.equal(await h.page.locator('#feature-list tbody tr').count(), 0);
    assert.equal(await h.page.locator('#sae-figures').isHidden(), true);
    await assertClean(h, 'features-none');
    await h.page.close();
  });
});
