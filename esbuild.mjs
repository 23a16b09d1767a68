// Builds the three entry points: the VS Code extension (CommonJS, as VS Code loads it),
// the engine child process and the CLI (ESM, because node-llama-cpp is ESM-only).
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

await Promise.all([
  build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.cjs', format: 'cjs' }),
  build({ ...common, entryPoints: ['src/engine/server.ts'], outfile: 'dist/engineServer.mjs', format: 'esm', banner: esmRequireBanner }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.mjs', format: 'esm', banner: esmRequireBanner }),
]);
