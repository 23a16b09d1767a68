/// <reference lib="dom" />
// End to end in a real VS Code workbench (code-server) in a real browser (Debian's Chromium via
// playwright-core): the demo dataset with one hostile row, "Run Active Learning on Dataset…"
// answered with Enter at each step, the run followed to the end, then the correlation panel's
// heatmap, a cell's scatter plot, the text-only tooltip, escaping and the Content-Security-Policy.
// Steps run in order and stop at the first failure (mocha --bail); each leaves a screenshot in
// test-results/e2e/. Setup: `bash scripts/setup-e2e.sh`. Run: `npm run test:e2e`.
// ICL_LAB_E2E_VSIX=<file> installs that VSIX instead of linking the built repository.
// ICL_LAB_E2E_SCREENSHOTS=<folder> also saves the screenshots worth looking at there (named, no step number).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { demoModelOptions } from '../../src/cli/demo.js';
import { readQualityRows } from '../../src/core/report/runFolderFiles.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { testModelPath } from '../engine/generatedModels.js';
import { startCodeServer, type CodeServer } from './codeServer.js';
import { acceptQuickInput, frameWhere, notification, openBrowser, panelFrame, quickInput, quickInputTitle, runCommand, webviewFrames } from './workbench.js';

const hostileText = '<img src=x onerror="window.__xss=1"> great';
/** A token of the SAE fixture that is markup: the Features panel must show it as text. */
const hostileToken = '<script>window.__xss=2</script> & co';
/** Where the Features panel's screenshot is kept for people to look at ($ICL_LAB_E2E_FEATURES_SCREENSHOT overrides). */
const featuresScreenshot = process.env['ICL_LAB_E2E_FEATURES_SCREENSHOT'] ?? '/work/screens/features-panel.png';
const resultsDir = path.join(packageRoot(), 'test-results', 'e2e');
const runTimeoutMs = Number(process.env['ICL_LAB_E2E_RUN_TIMEOUT_S'] ?? 600) * 1000;

interface RunJson {
  readonly status: string;
  readonly pid?: number;
  readonly error?: string;
}

declare global {
  interface Window {
    __xss?: unknown;
    __cspProbe?: unknown;
    __nonceProbe?: unknown;
  }
}

describe('ICL Lab in a VS Code workbench (code-server + Chromium)', function () {
  this.timeout(120_000);
  let scratch: string;
  let workspace: string;
  let dataFile: string;
  let modelFile: string;
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let runDir: string | undefined;
  let panel: Frame;
  let step = 0;

  const screenshot = async (name: string): Promise<void> => {
    if (!page) return;
    await page.screenshot({ path: path.join(resultsDir, `${String(step).padStart(2, '0')}-${name}.png`) }).catch(() => undefined);
  };
  /** A screenshot for people to look at: into $ICL_LAB_E2E_SCREENSHOTS when set, as well as test-results/e2e. */
  const keepScreenshot = async (name: string): Promise<void> => {
    await screenshot(name);
    const folder = process.env['ICL_LAB_E2E_SCREENSHOTS'];
    if (!folder) return;
    await mkdir(folder, { recursive: true });
    await page.screenshot({ path: path.join(path.resolve(folder), `${name}.png`) });
  };
  /** Opens `name` from the explorer: a click (a double click, then Quick Open, when the first does not take). */
  const openFromExplorer = async (name: string): Promise<void> => {
    const tab = page.locator('.tabs-container .tab', { hasText: name }).first();
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
    const shown = (timeout: number): Promise<boolean> => tab.waitFor({ state: 'visible', timeout }).then(() => true, () => false);
    await row.click();
    if (await shown(10_000)) return;
    await row.dblclick();
    if (await shown(10_000)) return;
    await page.keyboard.press('Control+P');
    await page.locator(`${quickInput} input`).first().fill(name);
    await page.locator(`${quickInput} .quick-input-list .monaco-list-row`, { hasText: name }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.keyboard.press('Enter');
    await tab.waitFor({ state: 'visible', timeout: 30_000 });
  };
  /** With several runs a chart command asks which: the newest comes first. */
  const answerRunPick = async (): Promise<void> => {
    await page.waitForTimeout(1000);
    if ((await quickInputTitle(page)) !== undefined) await page.keyboard.press('Enter');
  };
  const slug = (title: string): string => title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);

  before(async function () {
    this.timeout(180_000);
    await rm(resultsDir, { recursive: true, force: true });
    await mkdir(resultsDir, { recursive: true });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-e2e-'));
    workspace = path.join(scratch, 'workspace');
    await mkdir(workspace);
    // The demo dataset plus one row whose text is markup: it must only ever show as text.
    dataFile = path.join(workspace, 'demo.jsonl');
    const rows = [...demoRows(60, 7), { id: 999, text: hostileText, label: 'positive' }];
    await writeFile(dataFile, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    // A dataset with a malformed row 3 (a missing comma): the wizard reports it before any question.
    const badRows = demoRows(20, 3).map((row) => JSON.stringify(row));
    badRows[2] = badRows[2]!.replace('","label"', '" "label"');
    await writeFile(path.join(workspace, 'bad.jsonl'), badRows.join('\n') + '\n');
    const model = await testModelPath(demoModelOptions);
    modelFile = model;
    const vsix = process.env['ICL_LAB_E2E_VSIX'];
    server = await startCodeServer({
      home: path.join(scratch, 'code-server'),
      logFile: path.join(resultsDir, 'code-server.log'),
      ...(vsix ? { vsix: path.resolve(vsix) } : {}),
      settings: {
        'iclLab.modelPath': model,
        'iclLab.budgets': [2, 4],
        'iclLab.strategies': ['random', 'highest-first', 'k-center-greedy', 'top-quality'],
      },
    });
    ({ context, page } = await openBrowser(path.join(scratch, 'chromium-profile')));
  });

  beforeEach(() => {
    step++;
  });

  afterEach(async function () {
    const test = this.currentTest;
    if (!test) return;
    await screenshot(`${slug(test.title)}${test.state === 'failed' ? '-FAILED' : ''}`);
    if (test.state === 'failed') {
      if (runDir && existsSync(path.join(runDir, 'run.log'))) await copyFile(path.join(runDir, 'run.log'), path.join(resultsDir, 'run.log')).catch(() => undefined);
      if (server) console.error(`\n--- code-server (last lines; whole log in ${server.logFile}) ---\n${server.logTail().split('\n').slice(-25).join('\n')}`);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await context?.close().catch(() => undefined);
    await server?.stop();
    // The extension starts runs detached (they outlive a window): stop one this test left running.
    const record = runDir ? await readRunJson(runDir) : undefined;
    if (record?.status === 'running' && record.pid) {
      try {
        process.kill(record.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (scratch && !process.env['ICL_LAB_E2E_KEEP']) await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  });

  it('step 1: the workbench loads the workspace with the dataset', async () => {
    await page.goto(`${server!.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'demo.jsonl' }).first().waitFor({ state: 'visible', timeout: 60_000 });
  });

  it('step 2: the dataset opens in an editor', async () => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'demo.jsonl' }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'demo.jsonl' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: '"label"' }).first().waitFor({ state: 'visible', timeout: 30_000 });
  });

  it('step 2b: the wizard reports a malformed row before its first question, with Open and Skip bad rows', async () => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'bad.jsonl' }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'bad.jsonl' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await runCommand(page, 'ICL Lab: Run Active Learning on Dataset');
    const toast = notification(page, 'bad.jsonl:3:');
    await toast.waitFor({ state: 'visible', timeout: 60_000 });
    for (const action of ['Open', 'Skip bad rows']) await toast.locator('.monaco-button', { hasText: action }).first().waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(await quickInputTitle(page), undefined, 'a wizard question showed before the error');
    // The bad row is in the Problems panel.
    await runCommand(page, 'View: Toggle Problems');
    await page.locator('.monaco-list-row', { hasText: 'malformed JSON' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await toast.hover();
    await screenshot('wizard-early-error');
    await toast.locator('.monaco-button', { hasText: 'Open' }).first().click();
    // Back to the demo dataset (bad.jsonl took the preview tab).
    await openFromExplorer('demo.jsonl');
  });

  it('step 3: "Run Active Learning on Dataset…" takes seven answers (Enter on each, label words included) and writes demo.run.yaml', async () => {
    await runCommand(page, 'ICL Lab: Run Active Learning on Dataset');
    const steps = ['Input fields (1/6)', 'Label field (2/6)', 'Task (3/6)', 'Label words (4/7)', 'template (5/7)', 'strategies (6/7)', 'Budgets (7/7)'];
    for (const title of steps) {
      try {
        await acceptQuickInput(page, title, 60_000);
      } catch (error) {
        const shown = await quickInputTitle(page);
        throw new Error(`wizard step "${title}" did not show (quick input now: ${shown === undefined ? 'none' : `"${shown}"`}): ${(error as Error).message.split('\n')[0]}`);
      }
    }
    const configFile = path.join(workspace, 'demo.run.yaml');
    // Written by one writeFile: the file may exist, still empty, a moment before its text lands.
    let config = '';
    await waitFor(async () => existsSync(configFile) && (config = await readFile(configFile, 'utf8')).trim() !== '', 30_000, `${configFile} was not written`);
    assert.match(config, /inputs:\s*\n\s*- text/, `the config does not read the text field:\n${config}`);
    assert.match(config, /target: label/);
    assert.match(config, /strategies:\s*\n\s*- random\s*\n\s*- highest-first\s*\n\s*- k-center-greedy\s*\n\s*- top-quality/, `strategies are not the settings':\n${config}`);
    assert.match(config, /budgets:\s*\n\s*- 2\s*\n\s*- 4/, `budgets are not the settings':\n${config}`);
    assert.match(config, /labels:\s*\n\s*negative: negative\s*\n\s*positive: positive/, `no label words in the config:\n${config}`);
  });

  it('step 4: the run starts in .icl-lab/runs and completes', async function () {
    this.timeout(runTimeoutMs + 60_000);
    const runsRoot = path.join(workspace, '.icl-lab', 'runs');
    await waitFor(async () => (runDir = await newestRun(runsRoot)) !== undefined && existsSync(path.join(runDir, 'run.json')), 120_000, `no run folder with run.json appeared under ${runsRoot}`);
    const started = Date.now();
    let record: RunJson | undefined;
    while (Date.now() - started < runTimeoutMs) {
      record = await readRunJson(runDir!);
      if (record && record.status !== 'running') break;
      await sleep(2000);
    }
    const log = await readFile(path.join(runDir!, 'run.log'), 'utf8').catch(() => '');
    assert.equal(record?.status, 'complete', `run ${runDir} ended ${record?.status ?? 'without run.json'}${record?.error ? `: ${record.error}` : ''} after ${((Date.now() - started) / 1000).toFixed(0)} s; run.log ends:\n${log.split('\n').slice(-15).join('\n')}`);
    for (const file of ['stats.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv']) assert.ok(existsSync(path.join(runDir!, file)), `${file} missing from ${runDir}`);
  });

  it('step 5: a "Run complete" notification offers Show Correlations', async () => {
    const toast = notification(page, 'Run complete');
    await toast.waitFor({ state: 'visible', timeout: 60_000 });
    await toast.locator('.monaco-button', { hasText: 'Show Correlations' }).first().waitFor({ state: 'visible', timeout: 5_000 });
    // A hovered toast stays for the screenshot.
    await toast.hover();
  });

  it('step 6: "Show Correlations" opens the panel with a heatmap (cells, axis titles, no error)', async () => {
    await page.mouse.move(700, 450);
    await runCommand(page, 'ICL Lab: Show Correlations');
    // With several runs the command asks which: the newest comes first.
    await page.waitForTimeout(1000);
    if ((await quickInputTitle(page)) !== undefined) await page.keyboard.press('Enter');
    panel = await panelFrame(page, 'correlations', 60_000);
    const cells = panel.locator('#heatmap svg g.mark-rect path');
    await cells.first().waitFor({ state: 'attached', timeout: 60_000 });
    assert.ok((await cells.count()) > 1, 'the heatmap has no cells');
    const svgText = (await panel.locator('#heatmap svg').first().textContent()) ?? '';
    assert.match(svgText, /layer/i, 'no "layer" axis title in the heatmap');
    assert.match(svgText, /statistic/i, 'no "statistic" axis title in the heatmap');
    await assertNoPanelError(panel);
  });

  it('step 7: clicking a heatmap cell draws its scatter plot', async () => {
    // A user clicks the middle of the cell, where its ρ label is: force the click through the label.
    await panel.locator('#heatmap svg g.mark-rect path').first().click({ force: true });
    const points = panel.locator('#scatter svg g.mark-symbol path');
    await points.first().waitFor({ state: 'attached', timeout: 30_000 });
    assert.ok((await points.count()) > 1, 'the scatter plot has no points');
    assert.ok(await panel.locator('#scatter-section').isVisible(), '#scatter-section stays hidden');
    await assertNoPanelError(panel);
  });

  it('step 8: hovering a point shows a text-only tooltip', async () => {
    await panel.locator('#scatter svg g.mark-symbol path').first().hover({ force: true });
    const tooltip = panel.locator('.chart-tooltip').first();
    await tooltip.waitFor({ state: 'visible', timeout: 10_000 });
    const shape = await tooltip.evaluate((el) => ({
      text: el.textContent ?? '',
      tags: Array.from(el.querySelectorAll('*'), (child) => child.tagName.toLowerCase()),
    }));
    assert.ok(shape.text.trim().length > 0, 'the tooltip is empty');
    assert.deepEqual(shape.tags.filter((t) => t !== 'div' && t !== 'span'), [], `the tooltip holds elements other than text rows: ${shape.tags.join(', ')}`);
  });

  it('step 9: the hostile row shows as text and never runs (no window.__xss, no <img src="x">)', async () => {
    // Hover the points until the tooltip shows the hostile text (when the split put it in the pool).
    const points = panel.locator('#scatter svg g.mark-symbol path');
    const count = await points.count();
    let shownAsText = false;
    for (let i = 0; i < count && !shownAsText; i++) {
      await points.nth(i).hover({ force: true }).catch(() => undefined);
      const text = (await panel.locator('.chart-tooltip').first().textContent().catch(() => '')) ?? '';
      shownAsText = text.includes('<img src=x onerror=');
    }
    if (!shownAsText) console.log(`      (the hostile row is not among the ${count} scatter points: the split put it in the test or probe set)`);
    for (const frame of [page.mainFrame(), ...webviewFrames(page)]) {
      const found = await frame.evaluate(() => ({ xss: window.__xss, images: document.querySelectorAll('img[src="x"]').length })).catch(() => undefined);
      if (!found) continue;
      assert.equal(found.xss, undefined, `window.__xss was set in ${frame === page.mainFrame() ? 'the workbench' : `frame ${frame.url().slice(0, 80)}`}`);
      assert.equal(found.images, 0, `an <img src="x"> element exists in ${frame === page.mainFrame() ? 'the workbench' : `frame ${frame.url().slice(0, 80)}`}`);
    }
  });

  it("step 10: the panel's Content-Security-Policy blocks a script without the nonce and runs one with it", async () => {
    const result = await panel.evaluate(
      () =>
        new Promise<{ csp: string; blocked: boolean; violations: string[]; nonceRan: boolean }>((resolve) => {
          const violations: string[] = [];
          document.addEventListener('securitypolicyviolation', (event) => violations.push(event.effectiveDirective));
          const injected = document.createElement('script');
          injected.textContent = 'window.__cspProbe = 1;';
          document.body.append(injected);
          // Control: the same injection carrying this render's nonce runs, so "blocked" means the CSP.
          const nonce = document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce ?? '';
          const allowed = document.createElement('script');
          allowed.nonce = nonce;
          allowed.textContent = 'window.__nonceProbe = 1;';
          document.body.append(allowed);
          setTimeout(
            () =>
              resolve({
                csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
                blocked: window.__cspProbe === undefined,
                violations,
                nonceRan: window.__nonceProbe === 1,
              }),
            500,
          );
        }),
    );
    assert.match(result.csp, /script-src 'nonce-[^']+'/, `no nonce-based script-src in the panel's CSP: "${result.csp}"`);
    assert.ok(result.blocked, 'a script without the nonce ran');
    assert.ok(result.violations.some((d) => d.startsWith('script-src')), `no script-src violation was reported (saw: ${result.violations.join(', ') || 'none'})`);
    assert.ok(result.nonceRan, 'the control script with the nonce did not run either, so the probe proves nothing');
  });

  it('step 11: learning curves and histograms side by side at 1400×900 fit their columns, legend labels whole', async () => {
    await page.keyboard.press('Escape');
    await runCommand(page, 'View: Close All Editors');
    // The Problems panel (open since step 2b) off: the charts get the window's height.
    if (await page.locator('.part.panel').isVisible().catch(() => false)) await runCommand(page, 'View: Hide Panel');
    // Two columns without moving a webview (a moved webview reloads, and in code-server 4.100 the
    // reloaded learning-curves panel came back without its stylesheet and script): split a text
    // editor right, open the curves in the right group, then the histograms in the left one.
    await openFromExplorer('demo.jsonl');
    await runCommand(page, 'View: Split Editor Right');
    await waitFor(async () => (await page.locator('.editor-group-container').count()) === 2, 30_000, 'no second editor group appeared');
    await runCommand(page, 'ICL Lab: Show Learning Curves');
    await answerRunPick();
    await panelFrame(page, 'learningCurves', 60_000);
    await runCommand(page, 'View: Focus First Editor Group');
    await runCommand(page, 'ICL Lab: Show Activation Histograms');
    await answerRunPick();
    const histograms = await panelFrame(page, 'histograms', 60_000);
    const curves = await panelFrame(page, 'learningCurves', 60_000);
    const boxes: Record<string, { x: number; width: number }> = {};
    for (const [frame, name] of [[curves, 'learning curves'], [histograms, 'histograms']] as const) {
      await frame.locator('#chart svg').first().waitFor({ state: 'attached', timeout: 60_000 });
      await assertNoPanelError(frame);
      const size = await frame.evaluate(() => ({ svg: document.querySelector('#chart svg')!.getBoundingClientRect().width, body: document.body.clientWidth }));
      assert.ok(size.svg <= size.body, `the ${name} chart is ${size.svg} px wide in a ${size.body} px panel`);
      const box = await (await frame.parentFrame()?.frameElement())?.boundingBox();
      assert.ok(box, `the ${name} webview has no box on the page`);
      assert.ok(box.width < 800, `the ${name} webview is ${box.width} px wide: not a two-column layout`);
      boxes[name] = box;
    }
    const [left, right] = [boxes['histograms']!, boxes['learning curves']!];
    assert.ok(right.x >= left.x + left.width - 2, `the columns overlap: histograms at x ${left.x}..${left.x + left.width}, curves from x ${right.x}`);
    // Every strategy's legend label whole (no "…") and inside the panel.
    const legend = await curves.evaluate(() =>
      Array.from(document.querySelectorAll('#chart svg .role-legend-label text'), (t) => {
        const r = t.getBoundingClientRect();
        return { text: t.textContent ?? '', left: r.left, right: r.right, width: document.documentElement.clientWidth };
      }),
    );
    assert.deepEqual(legend.map((l) => l.text).sort(), ['highest-first', 'k-center-greedy', 'random', 'top-quality'], `legend labels: ${legend.map((l) => l.text).join(', ')}`);
    for (const label of legend) assert.ok(label.left >= 0 && label.right <= label.width + 0.5, `the legend label "${label.text}" spans x ${label.left.toFixed(0)}..${label.right.toFixed(0)} in a ${label.width} px panel`);
    const swatches = await curves.evaluate(() => Array.from(document.querySelectorAll('#chart svg .role-legend-symbol path'), (p) => Number(getComputedStyle(p).opacity || '1') * Number(p.getAttribute('opacity') ?? '1')));
    assert.ok(swatches.length > 0 && swatches.every((o) => o === 1), `legend swatch opacities: ${swatches.join(', ')}`);
    const bars = await histograms.locator('#chart svg g.mark-rect path').count();
    assert.ok(bars > 0, 'the histogram has no bars');
    await keepScreenshot('curves-and-histograms-side-by-side');
  });

  it('step 12: "Open Run Report" shows the report in a webview (headline, generated-model banner, no script)', async function () {
    this.timeout(300_000);
    await runCommand(page, 'View: Close All Editor Groups');
    await runCommand(page, 'ICL Lab: Open Run Report');
    // Writing report.html (when the run has none yet) is a CLI job: give it time.
    const report = await frameWhere(page, 'the run report', "document.querySelector('h1')?.textContent?.startsWith('ICL Activation Lab report') === true", 240_000);
    const shown = await report.evaluate(() => ({
      h1: document.querySelector('h1')?.textContent ?? '',
      headline: document.querySelector('#headline')?.textContent ?? '',
      banner: document.querySelector('#generated-model-banner')?.textContent ?? '',
      scripts: document.querySelectorAll('script').length,
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
    }));
    assert.ok(shown.h1.includes(path.basename(runDir!)), `the report's title "${shown.h1}" does not name the run ${path.basename(runDir!)}`);
    assert.match(shown.headline, /ρ/, `the report's headline section holds no ρ: "${shown.headline.slice(0, 200)}"`);
    assert.match(shown.banner, /generated model/i, 'no generated-model banner in the report of a generated model');
    assert.equal(shown.scripts, 0, 'the report webview holds a script');
    assert.match(shown.csp, /default-src 'none'/, `the report's CSP: "${shown.csp}"`);
    await keepScreenshot('run-report-webview');
  });

  it("step 13: the Model view shows the selected model's file and architecture", async () => {
    await runCommand(page, 'View: Close All Editor Groups');
    await runCommand(page, 'View: Show ICL Lab');
    const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /^\s*Model/ }) }).first();
    await pane.waitFor({ state: 'visible', timeout: 30_000 });
    const header = pane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    try {
      await pane.locator('.monaco-list-row', { hasText: 'Architecture' }).first().waitFor({ state: 'visible', timeout: 90_000 });
    } catch (error) {
      throw new Error(`the Model view shows no Architecture row (it shows: "${((await pane.textContent()) ?? '').replace(/\s+/g, ' ').slice(0, 300)}"): ${(error as Error).message.split('\n')[0]}`);
    }
    await pane.locator('.monaco-list-row', { hasText: path.basename(modelFile) }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await keepScreenshot('model-view');
  });

  it('step 13b: "Show SAE Features" opens the Features panel on the run with sae/features.json: features, examples with shaded tokens, markup as text, an example reveals its row', async () => {
    // The SAE phase's output, written here for the finished run: features over its pool examples.
    const fixture = await writeSaeFixture(runDir!, dataFile);
    await runCommand(page, 'View: Close All Editor Groups');
    await runCommand(page, 'ICL Lab: Show SAE Features');
    // One run has an SAE: no pick.
    const features = await panelFrame(page, 'features', 60_000);
    const rows = features.locator('#feature-list tbody tr');
    await waitFor(async () => (await rows.count()) === fixture.features.length, 30_000, `the feature list does not show ${fixture.features.length} rows`);
    await features.locator('#examples .feature-example').first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await features.locator('#sae-info').textContent()) ?? '', /^SAE · mlp_out layer 2 · 256 latents · k 8$/);
    assert.match((await features.locator('#sae-figures').textContent()) ?? '', /variance explained\s*0\.734/);
    assert.match((await features.locator('#model-banner').textContent()) ?? '', /generated model/i, 'no generated-model banner for a run of a generated model');
    // A click on the feature holding the markup token shows its examples.
    await features.locator(`#feature-list tbody tr[data-latent="${fixture.hostileLatent}"]`).click();
    await features.locator('#examples-title', { hasText: `Latent ${fixture.hostileLatent}:` }).waitFor({ state: 'visible', timeout: 30_000 });
    const tokenTexts = await features.locator('#examples .token').allTextContents();
    assert.ok(tokenTexts.includes(` ${hostileToken}`), `the markup token is not shown as its text (tokens: ${tokenTexts.slice(0, 12).join(' | ')})`);
    const shaded = await features.locator('#examples .token.active').count();
    assert.ok(shaded > 0, 'no token is shaded');
    for (const frame of [page.mainFrame(), ...webviewFrames(page)]) {
      const found = await frame.evaluate(() => ({ xss: window.__xss, scripts: document.querySelectorAll('#examples script').length })).catch(() => undefined);
      if (!found) continue;
      assert.equal(found.xss, undefined, 'window.__xss was set');
      assert.equal(found.scripts, 0, 'a token became a <script> element');
    }
    await assertNoPanelError(features);
    await mkdir(path.dirname(featuresScreenshot), { recursive: true });
    await page.screenshot({ path: featuresScreenshot });
    await keepScreenshot('features-panel');
    // An example → its row in demo.jsonl, selected (the status bar names the line).
    const example = features.locator('#examples .feature-example').first();
    const row = Number(await example.getAttribute('data-example'));
    assert.match((await example.locator('.example-meta').textContent()) ?? '', new RegExp(`^line ${row + 1} · max `), 'the example names its line in demo.jsonl');
    await example.click();
    await page.locator('.tabs-container .tab', { hasText: 'demo.jsonl' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${row + 1}, Col`) }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await keepScreenshot('features-panel-reveal');
  });

  it('step 14: a run that failed before its model loaded (icl-lab run on the malformed dataset) shows in the Runs view with its error', async function () {
    this.timeout(180_000);
    // The CLI writes run.json {status: failed, error, no model} when the data cannot be read.
    const name = 'bad-20260101-000000';
    const config = path.join(workspace, 'bad.run.yaml');
    await writeFile(config, `model: ${JSON.stringify(modelFile)}\ndata:\n  file: bad.jsonl\n  inputs:\n    - text\n  target: label\n  task: classification\n`);
    const cli = await runCli(['run', config, '--out', path.join(workspace, '.icl-lab', 'runs', name)]);
    assert.equal(cli.code, 1, `icl-lab run on bad.jsonl exited ${cli.code}:\n${cli.output}`);
    const record = await readRunJson(path.join(workspace, '.icl-lab', 'runs', name));
    assert.equal(record?.status, 'failed', `icl-lab run wrote ${JSON.stringify(record)}`);
    await runCommand(page, 'View: Show ICL Lab');
    const row = page.locator('.monaco-list-row', { hasText: name }).first();
    // The view watches run.json files; its Refresh action is the fallback.
    if (!(await row.waitFor({ state: 'visible', timeout: 15_000 }).then(() => true, () => false))) {
      await page.locator('.pane-header', { hasText: 'Runs' }).first().hover();
      await page.locator('.pane-header .action-label[aria-label="Refresh Runs"]').first().click();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
    }
    assert.match((await row.textContent()) ?? '', /failed/);
    await row.click();
    await page.locator('.monaco-list-row', { hasText: 'malformed JSON' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator('.monaco-list-row', { hasText: 'failed before its model loaded' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await keepScreenshot('runs-view-failed-run');
  });

  it('step 15: labelling a row: the quick pick offers the label words with their values and the row text, and confirms the save', async function () {
    this.timeout(180_000);
    // A dataset whose labels are 0/1, named by labels.json beside it; rows 10.. have no label yet.
    const folder = path.join(workspace, 'labelling');
    await mkdir(folder);
    await writeFile(path.join(folder, 'labels.json'), JSON.stringify({ 0: 'negative', 1: 'positive' }));
    const rows = demoRows(30, 11).map((r, i) => (i < 10 ? { id: r.id, text: r.text, label: r.label === 'positive' ? 1 : 0 } : { id: r.id, text: r.text }));
    const sst = path.join(folder, 'sst.jsonl');
    await writeFile(sst, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await runCommand(page, 'View: Show Explorer');
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'labelling' }).first().click();
    await openFromExplorer('sst.jsonl');
    await runCommand(page, 'ICL Lab: Label Selected Examples');
    await acceptQuickInput(page, 'the fields an annotator reads (1/3)', 60_000);
    await acceptQuickInput(page, "each row's unique id (2/3)");
    // The label set is pre-filled with the words labels.json gives the data's values.
    await page.locator(`${quickInput} .quick-input-title`, { hasText: 'the label set (3/3)' }).waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await page.locator(`${quickInput} input`).first().inputValue(), '0=negative,1=positive');
    await acceptQuickInput(page, 'the label set (3/3)');
    await acceptQuickInput(page, 'Which strategy proposes the rows to label?');
    await acceptQuickInput(page, 'rows per round');
    const title = page.locator(`${quickInput} .quick-input-title`, { hasText: /Round 1 · row \d+ \(line \d+\)/ });
    await title.waitFor({ state: 'visible', timeout: 60_000 });
    await page.waitForTimeout(500);
    const line = Number(/\(line (\d+)\)/.exec((await title.textContent()) ?? '')![1]);
    const row = rows[line - 1]!;
    const items = await page.locator(`${quickInput} .quick-input-list .monaco-list-row`).allTextContents();
    const negative = items.find((t) => t.includes('negative'));
    const positive = items.find((t) => t.includes('positive'));
    assert.ok(negative !== undefined && negative.includes('label 0'), `no "negative" choice with its value "label 0" (choices: ${items.join(' | ')})`);
    assert.ok(positive !== undefined && positive.includes('label 1'), `no "positive" choice with its value "label 1" (choices: ${items.join(' | ')})`);
    assert.ok(negative.includes(row.text), `the first choice does not show the row's text "${row.text}": "${negative}"`);
    assert.ok(items.some((t) => t.includes('Skip for now')), `no "Skip for now" (choices: ${items.join(' | ')})`);
    await keepScreenshot('labelling-quick-pick');
    // Enter takes the first word: "negative", saved as the data's value 0.
    await page.keyboard.press('Enter');
    await page.locator('.statusbar', { hasText: `saved "negative" (label 0) for row ${line - 1} (line ${line}) in sst.jsonl.labels.jsonl` }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const sidecar = (await readFile(path.join(folder, 'sst.jsonl.labels.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; label: string; round: number });
    assert.deepEqual(sidecar.map((s) => [String(s.id), s.label, s.round]), [[String(row.id), '0', 1]]);
    // The walk goes on to the round's next row; Escape stops it.
    await page.locator(`${quickInput} .quick-input-title`, { hasText: /Round 1 · .* 2 of 4/ }).waitFor({ state: 'visible', timeout: 30_000 });
    await page.keyboard.press('Escape');
  });
});

/**
 * Writes RUN/sae/features.json and sae.json as the SAE phase would for a finished run: 24 features
 * over the run's pool examples (quality.csv), each example's text cut into word tokens with
 * activations, one token that is markup. Returns the features and the latent holding that token.
 */
async function writeSaeFixture(runDir: string, dataFile: string): Promise<{ features: unknown[]; hostileLatent: number }> {
  const pool = [...new Map((await readQualityRows(path.join(runDir, 'quality.csv'))).map((q) => [q.example, q.id])).entries()];
  const lines = (await readFile(dataFile, 'utf8')).split('\n');
  const textOf = (example: number): string => (JSON.parse(lines[example]!) as { text: string }).text;
  // A small deterministic generator: the same fixture every run.
  let state = 13;
  const next = (): number => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const hostileLatent = 41;
  const features = Array.from({ length: 24 }, (_, i) => {
    const latent = i === 1 ? hostileLatent : i * 10 + 3;
    const examples = Array.from({ length: 3 }, (_, e) => {
      const [example, id] = pool[(i * 3 + e) % pool.length]!;
      const words = textOf(example).split(/(?=\s)/);
      const tokens = words.map((text) => ({ text, activation: next() < 0.35 ? Math.round(next() * 400) / 100 : 0 }));
      if (i === 1 && e === 0) tokens.splice(1, 0, { text: ` ${hostileToken}`, activation: 4.5 });
      return { example, id, maxActivation: Math.max(0, ...tokens.map((t) => t.activation)), tokens };
    }).sort((a, b) => b.maxActivation - a.maxActivation);
    const rho = Math.round((next() * 1.2 - 0.6) * 1000) / 1000;
    return { latent, density: Math.round(next() * 0.2 * 1e4) / 1e4, qualityRho: i === 23 ? null : rho, qualityP: i === 23 ? null : Math.round(next() * 0.2 * 1e4) / 1e4, examples };
  });
  // The hostile feature second by |ρ|: a click, not the default, shows it.
  features[0]!.qualityRho = -0.72;
  features[1]!.qualityRho = 0.69;
  await mkdir(path.join(runDir, 'sae'), { recursive: true });
  await writeFile(path.join(runDir, 'sae', 'features.json'), JSON.stringify({ model: 'demo model (generated)', site: 'mlp_out', layer: 2, latents: 256, k: 8, features }));
  await writeFile(path.join(runDir, 'sae', 'sae.json'), JSON.stringify({ varianceExplained: 0.7342, l0: 8, deadLatents: 17, lossRecovered: 0.912, trainTokens: 3120, trainingMs: 8400, tokensPerSecond: 371.4 }));
  return { features, hostileLatent };
}

/** Runs the built CLI (bin/icl-lab.js); resolves with its exit code and output. */
function runCli(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(packageRoot(), 'bin', 'icl-lab.js'), ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function newestRun(runsRoot: string): Promise<string | undefined> {
  const names = await readdir(runsRoot).catch(() => [] as string[]);
  const runs = names.filter((n) => n.startsWith('demo-')).sort();
  return runs.length ? path.join(runsRoot, runs[runs.length - 1]!) : undefined;
}

async function readRunJson(dir: string): Promise<RunJson | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8')) as RunJson;
  } catch {
    return undefined; // not written yet, or caught mid-write
  }
}

async function assertNoPanelError(frame: Frame): Promise<void> {
  const error = await frame.locator('#error').evaluate((el) => ({ hidden: (el as HTMLElement).hidden, text: el.textContent ?? '' }));
  assert.ok(error.hidden || error.text.trim() === '', `the panel shows an error: ${error.text}`);
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(500);
  }
  throw new Error(`${message} (waited ${timeoutMs / 1000} s)`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
