import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { contentSecurityPolicy, panelHtml, panelResourceRoots } from '../../src/extension/panels/panelHtml.js';
import { panelKinds, type PanelKind } from '../../src/extension/panels/panelMessages.js';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
const extensionBase = `${cspSource}/home/me/.vscode/extensions/icl-lab/`;
const resourceUri = (relative: string) => `${extensionBase}${relative}`;
const render = (kind: PanelKind, nonce?: string) => panelHtml({ kind, cspSource, resourceUri, ...(nonce ? { nonce } : {}) });

function cspOf(html: string): string {
  const metas = [...html.matchAll(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/g)];
  assert.equal(metas.length, 1, 'one CSP meta');
  return metas[0]![1]!;
}

function nonceOf(html: string): string {
  const match = /script-src 'nonce-([^']+)'/.exec(cspOf(html));
  assert.ok(match, 'script-src has a nonce');
  return match[1]!;
}

/** The ids a panel's webview code looks up: byId('…') and the export buttons' `${prefix}export-…`. */
async function idsUsedBy(kind: PanelKind): Promise<Set<string>> {
  const files = [path.join('webviews', kind, 'main.ts'), ...(await readdir(path.join('webviews', 'shared'))).map((f) => path.join('webviews', 'shared', f))];
  const ids = new Set<string>();
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(/byId(?:<[^>]*>)?\('([^']+)'\)/g)) if (file.includes(kind) || m[1] === 'error') ids.add(m[1]!);
    if (file.includes(kind)) {
      for (const m of source.matchAll(/wireExports\(\s*'([^']*)'/g)) for (const format of ['svg', 'png', 'csv']) ids.add(`${m[1]}export-${format}`);
    }
  }
  return ids;
}

describe('chart panel HTML', () => {
  it('has a strict Content-Security-Policy: nothing by default, scripts and inline styles only with the nonce', () => {
    const html = render('correlations', 'abc123');
    assert.equal(
      cspOf(html),
      `default-src 'none'; img-src ${cspSource} data:; style-src ${cspSource} 'nonce-abc123'; script-src 'nonce-abc123'; font-src ${cspSource}`,
    );
    assert.equal(contentSecurityPolicy(cspSource, 'abc123'), cspOf(html));
    assert.doesNotMatch(cspOf(html), /unsafe-(eval|inline)|\*/);
  });

  it('uses a fresh random nonce for every render', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => nonceOf(render('histograms'))));
    assert.equal(nonces.size, 50);
    for (const nonce of nonces) assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/, '128 random bits, base64');
  });

  for (const kind of panelKinds) {
    describe(kind, () => {
      const html = render(kind);
      const nonce = nonceOf(html);

      it('gives every script, style and stylesheet the nonce', () => {
        const tags = [...html.matchAll(/<(script|style|link)\b[^>]*>/g)].map((m) => m[0]);
        assert.ok(tags.some((t) => t.startsWith('<script')));
        for (const tag of tags) assert.ok(tag.includes(` nonce="${nonce}"`), `${tag} carries the nonce`);
        assert.equal([...html.matchAll(/<script\b/g)].length, 1, 'one script');
        assert.doesNotMatch(html, /<script\b[^>]*>[^<\s]/, 'no inline script body');
      });

      it('has no inline event handlers, inline styles or javascript: URLs', () => {
        assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
        assert.doesNotMatch(html, /\sstyle\s*=/i);
        assert.doesNotMatch(html, /javascript:/i);
      });

      it('loads resources only from the panel resource roots', () => {
        const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
        assert.deepEqual(urls.sort(), [resourceUri(`dist/webviews/${kind}.js`), resourceUri('media/panels.css')].sort());
        for (const url of urls) assert.ok(panelResourceRoots.some((root) => url.startsWith(`${extensionBase}${root}/`)), url);
      });

      it('has every element its webview code looks up, and the stable ids the e2e tests use', async () => {
        const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
        assert.equal(new Set(ids).size, ids.length, 'ids are unique');
        for (const id of await idsUsedBy(kind)) assert.ok(ids.includes(id), `#${id} is in the ${kind} panel's HTML`);
        // The Features panel is a table and a list, not a chart: no export buttons, no #chart.
        if (kind === 'features') {
          for (const id of ['error', 'notes', 'run-name', 'model-banner', 'sae-figures', 'feature-list', 'examples']) assert.ok(ids.includes(id), `#${id}`);
          return;
        }
        for (const id of ['error', 'notes', 'run-name', 'export-svg', 'export-png', 'export-csv']) assert.ok(ids.includes(id), `#${id}`);
        if (kind === 'correlations') for (const id of ['heatmap', 'scatter', 'scatter-export-svg', 'scatter-export-png', 'scatter-export-csv']) assert.ok(ids.includes(id), `#${id}`);
        else assert.ok(ids.includes('chart'));
      });

      it('shows no error text when all is well: #error starts hidden and empty', () => {
        assert.match(html, /<div id="error" class="error" role="alert" hidden><\/div>/);
        assert.doesNotMatch(html.replace(/id="error" class="error"/, ''), /error/i);
      });
    });
  }
});
