/// <reference lib="dom" />
// Chart panels moved between editor groups in a real workbench (code-server + Chromium): a webview
// moved to another group reloads, and so does one shown again; in code-server 4.100 such a reload
// sometimes came back without its script, an empty panel that never asked for its data. The panel
// now pings its page after every move or show and loads it again when nothing answers
// (ChartPanel.expectWebview). Each move here must end with every panel drawing its chart.
// Run with the rest: `npm run test:e2e` (setup: `bash scripts/setup-e2e.sh`).
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { writeSyntheticRun, type SyntheticRun } from '../support/panelRunFolder.js';
import { startCodeServer, type CodeServer } from './codeServer.js';
import { openBrowser, panelFrame, quickInputTitle, runCommand } from './workbench.js';

const resultsDir = path.join(packageRoot(), 'test-results', 'e2e-move');
/** Longer than the liveness check's wait and two reloads (ChartPanel: 5 s each), plus loading. */
const chartTimeoutMs = 40_000;

describe('chart panels moved between editor groups (code-server + Chromium)', function () {
  this.timeout(240_000);
  let run: SyntheticRun;
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;

  before(async function () {
    this.timeout(180_000);
    await rm(resultsDir, { recursive: true, force: true });
    await mkdir(resultsDir, { recursive: true });
    run = await writeSyntheticRun();
    server = await startCodeServer({ home: path.join(run.root, 'code-server'), logFile: path.join(resultsDir, 'code-server.log'), settings: { 'iclLab.runsFolder': 'runs' } });
    ({ context, page } = await openBrowser(path.join(run.root, 'chromium-profile')));
  });

  after(async function () {
    this.timeout(60_000);
    await context?.close().catch(() => undefined);
    await server?.stop();
    await run?.cleanup();
  });

  const show = async (command: string, kind: string): Promise<void> => {
    await runCommand(page, command);
    await page.waitForTimeout(1000);
    if ((await quickInputTitle(page)) !== undefined) await page.keyboard.press('Enter');
    await chartOf(kind);
  };
  /** Waits until the panel's page has drawn its chart. */
  const chartOf = async (kind: string): Promise<void> => {
    const deadline = Date.now() + chartTimeoutMs;
    while (Date.now() < deadline) {
      const frame = await panelFrame(page, kind, Math.max(1000, deadline - Date.now())).catch(() => undefined);
      if (frame && (await frame.evaluate(() => document.querySelector('#chart svg') !== null).catch(() => false))) return;
      await page.waitForTimeout(500);
    }
    await page.screenshot({ path: path.join(resultsDir, `${kind}-no-chart.png`) });
    throw new Error(`the ${kind} panel shows no chart ${chartTimeoutMs / 1000} s after the move`);
  };

  it('every panel draws its chart after each of three moves (the moved one and the one shown again)', async () => {
    await page.goto(`${server!.url}/?folder=${encodeURIComponent(run.root)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await show('ICL Lab: Show Learning Curves', 'learningCurves');
    await show('ICL Lab: Show Activation Histograms', 'histograms');
    // The curves behind the histograms, then into a group of their own (the histograms shown again),
    // back in front of the hidden histograms, and out again.
    await page.locator('.tabs-container .tab', { hasText: 'Learning Curves' }).first().click();
    const moves = [
      ['View: Move Editor into Right Group', ['learningCurves', 'histograms']],
      ['View: Move Editor into Left Group', ['learningCurves']],
      ['View: Move Editor into Right Group', ['learningCurves', 'histograms']],
    ] as const;
    for (const [i, [move, visible]] of moves.entries()) {
      await runCommand(page, move);
      for (const kind of visible) await chartOf(kind);
      await page.screenshot({ path: path.join(resultsDir, `move-${i + 1}.png`) });
    }
  });
});
