/// <reference lib="dom" />
// Driving the VS Code web workbench with playwright-core and Debian's Chromium (never a browser
// download): the command palette, quick inputs, notifications and webview panels.
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';

/** $ICL_LAB_CHROMIUM, else Debian's. */
export function chromiumPath(): string {
  const candidates = [process.env['ICL_LAB_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((c): c is string => Boolean(c));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`no Chromium at ${candidates.join(' or ')}: run \`bash scripts/setup-e2e.sh\` (apt-get install chromium) or set ICL_LAB_CHROMIUM`);
  return found;
}

export async function openBrowser(profileDir: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

export const quickInput = '.quick-input-widget';

/** Runs a command by its palette title ("ICL Lab: Show Correlations"); retries when the row does not show. */
export async function runCommand(page: Page, title: string): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      await page.keyboard.press('F1');
      const input = page.locator(`${quickInput} input`).first();
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`);
      const row = page.locator(`${quickInput} .quick-input-list .monaco-list-row`, { hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (error) {
      lastError = error;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1000);
    }
  }
  throw new Error(`the command palette never offered "${title}": ${(lastError as Error).message}`);
}

/** Waits for the quick input whose title contains `title`, then presses Enter (its default answer). */
export async function acceptQuickInput(page: Page, title: string, timeout = 30_000): Promise<void> {
  const heading = page.locator(`${quickInput} .quick-input-title`, { hasText: title });
  await heading.waitFor({ state: 'visible', timeout });
  // The list fills in after the title shows; accept once the widget is settled.
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
  await heading.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
}

/** The title of the quick input shown now, or undefined. */
export async function quickInputTitle(page: Page): Promise<string | undefined> {
  const widget = page.locator(quickInput).first();
  if (!(await widget.isVisible().catch(() => false))) return undefined;
  return (await page.locator(`${quickInput} .quick-input-title`).first().textContent().catch(() => null)) ?? '';
}

/** The notification toast holding `text`. */
export function notification(page: Page, text: string) {
  return page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
}

/** What the workbench is telling the user now: a dialog and notification toasts (for failure messages). */
export async function workbenchMessages(page: Page): Promise<string[]> {
  const read = (selector: string): Promise<string[]> => page.locator(selector).allTextContents().catch(() => [] as string[]);
  const dialog = [...(await read('.monaco-dialog-box .dialog-message-text')), ...(await read('.monaco-dialog-box .dialog-message-detail'))].join(': ');
  const toasts = await read('.notifications-toasts .notification-toast .notification-list-item-message');
  return [dialog, ...toasts].map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/**
 * The document of a webview panel: webviews are two nested iframes (iframe.webview.ready, then
 * iframe#active-frame); ours carry <body data-panel="<kind>">.
 */
export async function panelFrame(page: Page, panel: string, timeout = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const frame of webviewFrames(page)) {
      const kind = await frame.evaluate(() => document.body?.dataset['panel']).catch(() => undefined);
      if (kind === panel) return frame;
    }
    // An error dialog (e.g. "command … not found") will not turn into a panel: stop waiting.
    if (await page.locator('.monaco-dialog-box').isVisible().catch(() => false)) break;
    await page.waitForTimeout(250);
  }
  const messages = await workbenchMessages(page);
  const frames = webviewFrames(page).map((f) => f.url().slice(0, 100));
  throw new Error(
    `no webview with body[data-panel="${panel}"] appeared` +
      (messages.length ? `; the workbench shows: ${messages.map((m) => `"${m}"`).join(', ')}` : '') +
      `; webview frames: ${frames.length ? frames.join(', ') : 'none'}`,
  );
}

/** The first webview document for which `condition` (an expression evaluated in it) is true. */
export async function frameWhere(page: Page, what: string, condition: string, timeout = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const frame of webviewFrames(page)) {
      if ((await frame.evaluate(condition).catch(() => false)) === true) return frame;
    }
    if (await page.locator('.monaco-dialog-box').isVisible().catch(() => false)) break;
    await page.waitForTimeout(500);
  }
  const messages = await workbenchMessages(page);
  throw new Error(`no webview showing ${what} appeared${messages.length ? `; the workbench shows: ${messages.map((m) => `"${m}"`).join(', ')}` : ''}`);
}

/** Every frame but the workbench's own: webview hosts and the documents inside them. */
export function webviewFrames(page: Page): Frame[] {
  return page.frames().filter((f) => f !== page.mainFrame());
}
