/// <reference lib="dom" />
// End to end in a real VS Code workbench (code-server) in a real browser (Debian's Chromium via
// playwright-core): the demo dataset with one hostile row, "Run Active Learning on Dataset…"
// answered with Enter at each step, the run followed to the end, then the correlation panel's
// heatmap, a cell's scatter plot, the text-only tooltip, escaping and the Content-Security-Policy.
// Steps run in order and stop at the first failure (mocha --bail); each leaves a screenshot in
// test-results/e2e/. Setup: `bash scripts/setup-e2e.sh`. Run: `npm run test:e2e`.
// ICL_LAB_E2E_VSIX=<file> installs that VSIX instead of linking the built repository.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { demoModelOptions } from '../../src/cli/demo.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { testModelPath } from '../engine/generatedModels.js';
import { startCodeServer, type CodeServer } from './codeServer.js';
import { acceptQuickInput, notification, openBrowser, panelFrame, quickInputTitle, runCommand, webviewFrames } from './workbench.js';

const hostileText = '<img src=x onerror="window.__xss=1"> great';
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
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'demo.jsonl' }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'demo.jsonl' }).first().waitFor({ state: 'visible', timeout: 30_000 });
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
    await waitFor(() => existsSync(configFile), 30_000, `${configFile} was not written`);
    const config = await readFile(configFile, 'utf8');
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
    await runCommand(page, 'ICL Lab: Show Learning Curves');
    await page.waitForTimeout(1000);
    if ((await quickInputTitle(page)) !== undefined) await page.keyboard.press('Enter');
    await panelFrame(page, 'learningCurves', 60_000);
    // Two columns: the curves move to a new group on the right, the histograms open on the left.
    await runCommand(page, 'View: Move Editor into Next Group');
    await runCommand(page, 'View: Focus First Editor Group');
    await runCommand(page, 'ICL Lab: Show Activation Histograms');
    await page.waitForTimeout(1000);
    if ((await quickInputTitle(page)) !== undefined) await page.keyboard.press('Enter');
    const histograms = await panelFrame(page, 'histograms', 60_000);
    // A moved webview reloads: find the curves' frame again.
    const curves = await panelFrame(page, 'learningCurves', 60_000);
    await page.waitForTimeout(2000);
    for (const [frame, name] of [[curves, 'learning curves'], [histograms, 'histograms']] as const) {
      await frame.locator('#chart svg').first().waitFor({ state: 'attached', timeout: 60_000 });
      const size = await frame.evaluate(() => ({ svg: document.querySelector('#chart svg')!.getBoundingClientRect().width, body: document.body.clientWidth }));
      assert.ok(size.svg <= size.body, `the ${name} chart is ${size.svg} px wide in a ${size.body} px panel`);
      assert.ok(size.body < 800, `the ${name} panel is ${size.body} px wide: not a two-column layout`);
      await assertNoPanelError(frame);
    }
    const legend = await curves.evaluate(() => Array.from(document.querySelectorAll('#chart svg .role-legend-label text'), (t) => t.textContent ?? ''));
    assert.deepEqual([...legend].sort(), ['highest-first', 'k-center-greedy', 'random', 'top-quality'], `legend labels: ${legend.join(', ')}`);
    const swatches = await curves.evaluate(() => Array.from(document.querySelectorAll('#chart svg .role-legend-symbol path'), (p) => Number(getComputedStyle(p).opacity || '1') * Number(p.getAttribute('opacity') ?? '1')));
    assert.ok(swatches.length > 0 && swatches.every((o) => o === 1), `legend swatch opacities: ${swatches.join(', ')}`);
    const bars = await histograms.locator('#chart svg g.mark-rect path').count();
    assert.ok(bars > 0, 'the histogram has no bars');
    await screenshot('curves-and-histograms-two-columns');
  });

  it('step 12: a run that failed before its model loaded shows in the Runs view with its error', async () => {
    const failed = path.join(workspace, '.icl-lab', 'runs', 'bad-20260101-000000');
    await mkdir(failed, { recursive: true });
    await writeFile(
      path.join(failed, 'run.json'),
      JSON.stringify({ format: 'icl-lab-run/1', status: 'failed', error: `${path.join(workspace, 'bad.jsonl')}:3:84: malformed JSON`, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), pid: 1, seed: 0, config: {}, data: { file: path.join(workspace, 'bad.jsonl'), pool: 0, probe: 0, test: 0 }, versions: {}, phases: {} }),
    );
    await runCommand(page, 'View: Show ICL Lab');
    await runCommand(page, 'ICL Lab: Refresh Runs');
    const row = page.locator('.monaco-list-row', { hasText: 'bad-20260101-000000' }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await row.textContent()) ?? '', /failed/);
    await row.click();
    await page.locator('.monaco-list-row', { hasText: 'malformed JSON' }).first().waitFor({ state: 'visible', timeout: 10_000 });
  });
});

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
