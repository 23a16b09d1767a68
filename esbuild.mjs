// Builds the three entry points: the VS Code extension (CommonJS, as VS Code loads it),
// the engine child process and the CLI (ESM, because node-llama-cpp is ESM-only); and the chart
// panels' webview apps (browser IIFEs with vega, vega-lite and vega-embed inside: no CDN).
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Native and ESM-only runtime packages stay outside the bundle.
  external: ['vscode', 'node-llama-cpp'],
};

// Bundled CommonJS dependencies (commander, vscode-jsonrpc) call require(); an ESM bundle has
// none unless we make one.
const esmRequireBanner = { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" };

// One bundle per panel, dist/webviews/<panel>.js, loaded by src/extension/panels/panelHtml.ts.
const webviewPanels = ['histograms', 'correlations', 'learningCurves', 'features'];

// @stdlib's t distribution (Spearman p-values: never computed in a panel, but imported with the
// curve summaries) tests for generator support with eval when it loads, which the panels'
// Content-Security-Policy reports as a violation. Marked free of side effects, it is left out of a
// bundle where nothing calls it.
const stdlibWithoutSideEffects = {
  name: 'stdlib-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /^@stdlib\// }, async (args) => {
      if (args.pluginData?.resolving) return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { resolving: true } });
      return resolved.errors.length > 0 ? undefined : { path: resolved.path, sideEffects: false };
    });
  },
};

const webview = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome114'],
  minify: true,
  // No source maps: 5 MiB each, shipped in the VSIX for little use.
  sourcemap: false,
  logLevel: 'warning',
  legalComments: 'linked',
  plugins: [stdlibWithoutSideEffects],
};

await Promise.all([
  build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.cjs', format: 'cjs' }),
  build({ ...common, entryPoints: ['src/engine/server.ts'], outfile: 'dist/engineServer.mjs', format: 'esm', banner: esmRequireBanner }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.mjs', format: 'esm', banner: esmRequireBanner }),
  ...webviewPanels.map((name) => build({ ...webview, entryPoints: [`webviews/${name}/main.ts`], outfile: `dist/webviews/${name}.js` })),
]);
