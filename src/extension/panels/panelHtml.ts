// The HTML of a chart panel: static markup per panel kind, the one script and stylesheet from the
// extension's dist/webviews and media folders, and a Content-Security-Policy that allows nothing
// else (no inline script or style without this render's nonce, no eval, no network). No data is
// ever put in the HTML: it arrives by postMessage and is written with textContent or drawn by vega.
// No vscode import: the caller passes the webview's cspSource and its asWebviewUri.
import { randomBytes } from 'node:crypto';
import type { PanelKind } from './panelMessages.js';

/** The folders (relative to the extension) a panel may load from: its localResourceRoots. */
export const panelResourceRoots = ['dist/webviews', 'media'] as const;

/** The bundle esbuild writes for each panel (see esbuild.mjs) and the shared stylesheet. */
export const panelScripts: Readonly<Record<PanelKind, string>> = {
  histograms: 'dist/webviews/histograms.js',
  correlations: 'dist/webviews/correlations.js',
  learningCurves: 'dist/webviews/learningCurves.js',
  features: 'dist/webviews/features.js',
};
export const panelStylesheet = 'media/panels.css';

/** A fresh nonce: 128 random bits, base64 (the CSP grammar's base64-value). */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export interface PanelHtmlOptions {
  readonly kind: PanelKind;
  /** webview.cspSource. */
  readonly cspSource: string;
  /** webview.asWebviewUri of a path relative to the extension folder, as a string. */
  readonly resourceUri: (relativePath: string) => string;
  /** Default: a fresh one (tests pass their own). */
  readonly nonce?: string;
}

const exportButtons = (prefix: string, what: string) =>
  `<span class="exports" role="group" aria-label="Export the ${what}">` +
  `<button type="button" id="${prefix}export-svg" title="Save the ${what} as SVG">SVG</button>` +
  `<button type="button" id="${prefix}export-png" title="Save the ${what} as PNG">PNG</button>` +
  `<button type="button" id="${prefix}export-csv" title="Save the ${what}'s data as CSV">CSV</button>` +
  '</span>';

const header = (controls: string, what: string) => `<header class="toolbar">
<span id="run-name" class="run-name"></span>
${controls}
<span class="spacer"></span>
${exportButtons('', what)}
</header>
<div id="model-banner" class="model-banner" role="note" hidden></div>
<div id="error" class="error" role="alert" hidden></div>
<div id="notes" class="notes" hidden></div>`;

/** Each panel's static markup (ids are what the webview apps and the e2e tests find). */
const bodies: Readonly<Record<PanelKind, string>> = {
  histograms: `${header(
    `<label>Mask <select id="mask"></select></label>
<label id="site-label">Site <select id="site"></select></label>
<label>Layer <input type="range" id="layer" min="0" max="0" step="1" value="0"> <output id="layer-value" for="layer"></output></label>
<label>Pooling <select id="pooling"></select></label>
<label id="statistic-label">Statistic <select id="statistic"></select></label>
<label><input type="checkbox" id="log-scale" checked> Log scale</label>`,
    'chart',
  )}
<main>
<div id="chart" class="chart"></div>
<section id="massive-section" hidden><h2>Massive activations</h2><table id="massive"><thead><tr><th>layer</th><th>example</th><th>token</th><th>dimension</th><th>value</th></tr></thead><tbody></tbody></table></section>
</main>`,
  correlations: `${header(
    `<label>Mask <select id="mask"></select></label>
<label>Site <select id="site"></select></label>
<label>Quality <select id="quality"></select></label>
<label>Pooling <select id="pooling"></select></label>`,
    'heatmap',
  )}
<main>
<p class="hint">Click a cell for its scatter plot; click a point to open that example in the dataset.</p>
<div id="heatmap" class="chart"></div>
<section id="scatter-section" hidden>
<header class="toolbar"><span id="scatter-title" class="title"></span><span class="spacer"></span>${exportButtons('scatter-', 'scatter plot')}<button type="button" id="scatter-close" title="Close the scatter plot">Close</button></header>
<div id="scatter-notes" class="notes" hidden></div>
<div id="scatter" class="chart"></div>
</section>
</main>`,
  learningCurves: `${header(
    `<label>Metric <select id="metric"></select></label>
<label>Band <select id="band"><option value="min-max">min–max over seeds</option><option value="sd">mean ± 1 sd</option></select></label>`,
    'chart',
  )}
<main>
<div id="chart" class="chart"></div>
</main>`,
  features: `<header class="toolbar">
<span id="run-name" class="run-name"></span>
<span id="sae-info" class="sae-info"></span>
<span class="spacer"></span>
<label>Sort <select id="sort"><option value="quality">|ρ| with quality</option><option value="density">density</option><option value="latent">latent</option></select></label>
<label>Latent <input type="search" id="filter" inputmode="numeric" size="8" placeholder="number" aria-label="Show latents whose number starts with"></label>
</header>
<div id="model-banner" class="model-banner" role="note" hidden></div>
<div id="error" class="error" role="alert" hidden></div>
<div id="notes" class="notes" hidden></div>
<dl id="sae-figures" class="sae-figures" hidden></dl>
<main class="features-layout">
<section class="feature-list-section" aria-label="Features">
<p id="list-note" class="hint"></p>
<div class="feature-list-scroll">
<table id="feature-list" class="feature-list"><thead><tr><th scope="col">latent</th><th scope="col" title="Fraction of tokens the latent is active on">density</th><th scope="col" title="Spearman ρ of the feature's activation per example with example quality">ρ quality</th><th scope="col">p</th><th scope="col" title="Largest activation among its top examples">max</th></tr></thead><tbody></tbody></table>
</div>
</section>
<section id="examples-section" class="examples-section" aria-live="polite">
<h2 id="examples-title">Top activating examples</h2>
<p class="hint">Tokens are shaded by the feature's activation; click an example to open its row in the dataset.</p>
<ol id="examples" class="feature-examples"></ol>
</section>
</main>`,
};

const pageTitles: Readonly<Record<PanelKind, string>> = {
  histograms: 'Activation histograms',
  correlations: 'Correlations',
  learningCurves: 'Learning curves',
  features: 'SAE features',
};

/** The panel's whole HTML document, with a fresh nonce unless one is given. */
export function panelHtml(options: PanelHtmlOptions): string {
  const nonce = options.nonce ?? createNonce();
  const script = options.resourceUri(panelScripts[options.kind]);
  const style = options.resourceUri(panelStylesheet);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(options.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" nonce="${nonce}" href="${style}">
<title>${pageTitles[options.kind]}</title>
</head>
<body data-panel="${options.kind}">
${bodies[options.kind]}
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>
`;
}
