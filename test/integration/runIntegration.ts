// Integration tests in a real VS Code (Electron) through @vscode/test-electron: the commands run
// against the demo model in a workspace holding the demo dataset, and the tests check the files,
// views and panels they produce. Not part of `npm test` (VS Code cannot be downloaded everywhere).
//
//   npm run build && npx tsx test/integration/runIntegration.ts
//   ICL_LAB_VSCODE_EXECUTABLE=/usr/share/code/code npx tsx test/integration/runIntegration.ts
//   xvfb-run -a npx tsx test/integration/runIntegration.ts        # Linux without a display
//
// VS Code comes from ICL_LAB_VSCODE_EXECUTABLE, else a download (ICL_LAB_VSCODE_VERSION, default
// stable; cached in .vscode-test/), else a usual install location. With none of them it says so
// and exits 0.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { build } from 'esbuild';
import { demoModelOptions } from '../../src/cli/demo.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { testModelPath } from '../engine/generatedModels.js';

const root = packageRoot();

function installedVsCode(): string | undefined {
  const candidates =
    process.platform === 'darwin'
      ? ['/Applications/Visual Studio Code.app/Contents/MacOS/Electron', '/Applications/Visual Studio Code.app/Contents/MacOS/Code']
      : process.platform === 'win32'
        ? [path.join(process.env['LOCALAPPDATA'] ?? '', 'Programs', 'Microsoft VS Code', 'Code.exe'), path.join(process.env['ProgramFiles'] ?? '', 'Microsoft VS Code', 'Code.exe')]
        : ['/usr/share/code/code', '/snap/code/current/usr/share/code/code', '/opt/visual-studio-code/code'];
  return candidates.find((c) => existsSync(c));
}

async function findVsCode(): Promise<string | undefined> {
  const explicit = process.env['ICL_LAB_VSCODE_EXECUTABLE'];
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`ICL_LAB_VSCODE_EXECUTABLE=${explicit} does not exist`);
    return explicit;
  }
  try {
    return await downloadAndUnzipVSCode({ version: process.env['ICL_LAB_VSCODE_VERSION'] ?? 'stable', cachePath: path.join(root, '.vscode-test'), timeout: 20_000 });
  } catch (error) {
    const installed = installedVsCode();
    if (installed) {
      console.log(`VS Code could not be downloaded (${(error as Error).message.split('\n')[0]}); using the one installed at ${installed}`);
      return installed;
    }
    console.log(
      `Integration tests skipped: VS Code could not be downloaded (${(error as Error).message.split('\n')[0]}) and none is installed or named.\n` +
        'Set ICL_LAB_VSCODE_EXECUTABLE to a VS Code executable to run them (the workbench e2e test, npm run test:e2e, runs offline).',
    );
    return undefined;
  }
}

/** The suite, bundled to CommonJS for the extension host (mocha stays external, resolved from our node_modules). */
async function buildSuite(outDir: string): Promise<string> {
  const suiteDir = path.join(root, 'test', 'integration', 'suite');
  const tests = (await readdir(suiteDir)).filter((f) => f.endsWith('.test.ts')).map((f) => path.join(suiteDir, f));
  await rm(outDir, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(suiteDir, 'index.ts'), ...tests],
    outdir: outDir,
    outbase: suiteDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return path.join(outDir, 'index.cjs');
}

/** A workspace with the demo dataset and settings that keep runs short. */
async function makeWorkspace(dir: string): Promise<{ workspace: string; model: string }> {
  const workspace = path.join(dir, 'workspace');
  await mkdir(path.join(workspace, '.vscode'), { recursive: true });
  await writeFile(path.join(workspace, 'demo.jsonl'), demoRows(60, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
  const model = await testModelPath(demoModelOptions);
  await writeFile(
    path.join(workspace, '.vscode', 'settings.json'),
    JSON.stringify({ 'iclLab.modelPath': model, 'iclLab.budgets': [2, 4], 'iclLab.strategies': ['random', 'highest-first', 'k-center-greedy', 'top-quality'] }, null, 2),
  );
  return { workspace, model };
}

async function main(): Promise<number> {
  if (!existsSync(path.join(root, 'dist', 'extension.cjs'))) {
    console.error('dist/extension.cjs is missing: run `npm run build` first');
    return 1;
  }
  const vscodeExecutablePath = await findVsCode();
  if (!vscodeExecutablePath) return 0;
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    console.log('No DISPLAY: if VS Code fails to start, run this under `xvfb-run -a`.');
  }
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-integration-'));
  try {
    const extensionTestsPath = await buildSuite(path.join(root, 'out', 'integration'));
    const { workspace, model } = await makeWorkspace(scratch);
    return await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: root,
      extensionTestsPath,
      extensionTestsEnv: { ICL_LAB_IT_WORKSPACE: workspace, ICL_LAB_IT_MODEL: model, ICL_LAB_IT_LAYERS: String(demoModelOptions.layers) },
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-gpu',
        '--user-data-dir',
        path.join(scratch, 'user-data'),
      ],
    });
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`integration tests failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
