import assert from 'node:assert/strict';
import '../support/fakeVscodeLoader.js';
import * as vscode from 'vscode';
import { ChartPanel, maxWebviewReloads } from '../../src/extension/panels/chartPanel.js';
import { fake } from '../support/fakeVscode.js';
import { writeSyntheticRun, type SyntheticRun } from '../support/panelRunFolder.js';

// A chart panel moved to another editor group (or shown again) must end up showing its chart: the
// webview reloads there, and in code-server its script once failed to load, leaving an empty panel
// that never said `ready`. The panel pings its page and sets the HTML again when nothing answers.
// The WebviewPanel is a stand-in that records what the extension does to it.

type Listener<T> = (value: T) => void;

function standInPanel() {
  const receive: Listener<unknown>[] = [];
  const viewState: Listener<unknown>[] = [];
  const htmls: string[] = [];
  const posted: { type: string }[] = [];
  const panel = {
    viewColumn: 1 as number | undefined,
    visible: true,
    title: '',
    iconPath: undefined as unknown,
    webview: {
      options: {},
      cspSource: 'vscode-webview:',
      get html(): string {
        return htmls.at(-1) ?? '';
      },
      set html(value: string) {
        htmls.push(value);
      },
      asWebviewUri: (uri: vscode.Uri) => uri,
      postMessage: async (message: { type: string }) => {
        posted.push(message);
        return true;
      },
      onDidReceiveMessage: (listener: Listener<unknown>) => (receive.push(listener), { dispose() {} }),
    },
    onDidChangeViewState: (listener: Listener<unknown>) => (viewState.push(listener), { dispose() {} }),
    onDidDispose: () => ({ dispose() {} }),
    reveal() {},
    dispose() {},
  };
  return {
    panel,
    htmls,
    posted,
    /** The webview sends a message to the extension. */
    say: (message: unknown) => receive.forEach((l) => l(message)),
    /** VS Code moves the panel to another column (or hides / shows it). */
    viewStateChanged: (change: { viewColumn?: number; visible?: boolean }) => {
      Object.assign(panel, change);
      viewState.forEach((l) => l({ webviewPanel: panel }));
    },
  };
}

const silenceMs = 200;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nonceOf = (html: string) => /nonce-([^']+)'/.exec(html)?.[1];

describe('a chart panel checks that its webview runs after it is shown or moved', () => {
  let run: SyntheticRun;
  const panels: ChartPanel[] = [];
  before(async () => (run = await writeSyntheticRun()));
  after(async () => run.cleanup());
  beforeEach(() => fake.reset());
  afterEach(() => panels.splice(0).forEach((p) => p.dispose()));

  const open = () => {
    const stand = standInPanel();
    panels.push(new ChartPanel('learningCurves', run.dir, stand.panel as unknown as vscode.WebviewPanel, vscode.Uri.file('/ext'), () => {}, silenceMs));
    return stand;
  };

  it('leaves a page that answered alone, and pings it again after a move', async () => {
    const stand = open();
    assert.equal(stand.htmls.length, 1);
    assert.deepEqual(stand.posted, [{ type: 'ping' }]);
    stand.say({ type: 'ready' });
    await wait(silenceMs * 1.5);
    assert.equal(stand.htmls.length, 1, 'the HTML was set again though the page said ready');
    assert.ok(stand.posted.some((m) => m.type === 'learningCurves/data'), 'no data after ready');

    // Moved to the second group; the page is alive and answers the ping.
    stand.viewStateChanged({ viewColumn: 2 });
    assert.equal(stand.posted.filter((m) => m.type === 'ping').length, 2);
    stand.say({ type: 'pong' });
    await wait(silenceMs * 3);
    assert.equal(stand.htmls.length, 1, 'a live page was reloaded');
    // Focus changes (same column, still visible) are not a move: no ping.
    stand.viewStateChanged({});
    assert.equal(stand.posted.filter((m) => m.type === 'ping').length, 2);
  });

  it('sets the HTML again (a new nonce) when the moved page stays silent, then sends the data once it says ready', async () => {
    const stand = open();
    stand.say({ type: 'ready' });
    stand.viewStateChanged({ viewColumn: 2 });
    await wait(silenceMs * 1.5);
    assert.equal(stand.htmls.length, 2, 'the silent page was not loaded again');
    assert.notEqual(nonceOf(stand.htmls[1]!), nonceOf(stand.htmls[0]!));
    const dataBefore = stand.posted.filter((m) => m.type === 'learningCurves/data').length;
    stand.say({ type: 'ready' });
    await wait(silenceMs * 1.5);
    assert.equal(stand.htmls.length, 2);
    assert.equal(stand.posted.filter((m) => m.type === 'learningCurves/data').length, dataBefore + 1);
    assert.deepEqual(fake.messages, []);
  });

  it(`gives up after ${maxWebviewReloads} reloads with a warning that offers Reload Panel, which loads it again`, async () => {
    const stand = open();
    fake.messageChoices.push('Reload Panel');
    await wait(silenceMs * (maxWebviewReloads + 1) + silenceMs / 2);
    assert.equal(fake.notifications.length, 1);
    assert.match(fake.notifications[0]!.text, /Learning Curves panel of synthetic did not load/);
    assert.deepEqual(fake.notifications[0]!.buttons, ['Reload Panel']);
    // The first load, the reloads, then the one Reload Panel asked for.
    assert.equal(stand.htmls.length, 1 + maxWebviewReloads + 1);
    stand.say({ type: 'ready' });
    await wait(silenceMs * 2);
    assert.equal(stand.htmls.length, 1 + maxWebviewReloads + 1, 'a page that said ready was loaded again');
    assert.equal(fake.notifications.length, 1);
  });

  it('does not check a hidden panel, and checks it when it is shown again', async () => {
    const stand = open();
    stand.say({ type: 'ready' });
    stand.viewStateChanged({ visible: false });
    await wait(silenceMs * 1.5);
    assert.equal(stand.htmls.length, 1);
    stand.viewStateChanged({ visible: true });
    await wait(silenceMs * 1.5);
    assert.equal(stand.htmls.length, 2, 'a page shown again that stayed silent was not loaded again');
  });
});
