// The VSIX for this machine's platform, as a user installs it: scripts/packageVsix.mjs makes it,
// then the test unpacks it into a folder outside the repository (so nothing resolves back into our
// node_modules) and checks what it holds and that its engine starts the way VS Code starts it.
// ICL_LAB_VSIX=<file> tests a VSIX made elsewhere (a CI artifact) instead of packaging anew.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EngineClient, type ExtractedStatistics } from '../../src/engine/client.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { readZip, type ZipEntry } from './zipArchive.js';

const manifest = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { name: string; version: string; devDependencies: Record<string, string> };
/** npm's lockfile marks a package `dev` when only development needs it (a devDependency a runtime dependency also needs, like semver, is not). */
const lock = JSON.parse(await readFile(path.join(packageRoot(), 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };

/** vsce's name for this machine, and the prefix of node-llama-cpp's binary packages for it. */
function hostTarget(): { target: string; llamaPrefix: string } {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  const target = `${process.platform}-${arch}`;
  const llamaPrefix = { 'linux-x64': 'linux-x64', 'linux-arm64': 'linux-arm64', 'linux-armhf': 'linux-armv7l', 'darwin-arm64': 'mac-arm64', 'darwin-x64': 'mac-x64', 'win32-x64': 'win-x64', 'win32-arm64': 'win-arm64' }[target];
  if (!llamaPrefix) throw new Error(`no VSIX target for ${target}`);
  return { target, llamaPrefix };
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: packageRoot(), env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the platform VSIX', function () {
  this.timeout(600_000);
  const { target, llamaPrefix } = hostTarget();
  let dir: string;
  let vsix: string;
  let entries: ZipEntry[];
  let names: string[];
  let unpacked: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-vsix-'));
    if (process.env['ICL_LAB_VSIX']) {
      vsix = path.resolve(process.env['ICL_LAB_VSIX']);
    } else {
      const out = path.join(dir, 'out');
      const result = await run(process.execPath, [path.join(packageRoot(), 'scripts', 'packageVsix.mjs'), '--no-build', '--out', out]);
      assert.equal(result.code, 0, `packageVsix.mjs failed:\n${result.output}`);
      vsix = path.join(out, `${manifest.name}-${target}-${manifest.version}.vsix`);
      assert.match(result.output, new RegExp(`${manifest.name}-${target}-${manifest.version}\\.vsix\\s+[\\d.]+ MiB`), 'prints the VSIX and its size');
    }
    entries = await readZip(vsix);
    names = entries.map((e) => e.name);
    unpacked = path.join(dir, 'unpacked');
    for (const entry of entries) {
      if (entry.name.endsWith('/')) continue;
      const file = path.join(unpacked, entry.name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, entry.read());
    }
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`is marked for ${target} in its manifest`, () => {
    const vsixManifest = entries.find((e) => e.name === 'extension.vsixmanifest')!.read().toString('utf8');
    assert.match(vsixManifest, new RegExp(`TargetPlatform="${target}"`));
  });

  it("holds only this platform's node-llama-cpp binaries", () => {
    const packages = new Set(names.map((n) => /^extension\/node_modules\/@node-llama-cpp\/([^/]+)\//.exec(n)?.[1]).filter((n): n is string => n !== undefined));
    assert.ok(packages.size > 0, 'no @node-llama-cpp package inside');
    for (const name of packages) assert.ok(name.startsWith(llamaPrefix), `@node-llama-cpp/${name} is another platform's`);
    assert.ok(names.some((n) => n.startsWith('extension/node_modules/node-llama-cpp/dist/')), 'node-llama-cpp itself is missing');
  });

  it("leaves out llama.cpp's source, its git bundle and build folders, keeping the generator's vocab files", () => {
    const llama = 'extension/node_modules/node-llama-cpp/llama/';
    const inLlama = names.filter((n) => n.startsWith(llama)).map((n) => n.slice(llama.length));
    const source = inLlama.filter((n) => n.startsWith('llama.cpp/') && !/^llama\.cpp\/models\/ggml-vocab-[\w-]+\.gguf$/.test(n));
    assert.deepEqual(source, [], 'llama.cpp source files are inside');
    assert.ok(!inLlama.includes('gitRelease.bundle'), 'the git bundle is inside');
    assert.deepEqual(inLlama.filter((n) => /^(localBuilds|addon|cmake|xpack|toolchains)\//.test(n) || n === 'CMakeLists.txt'), []);
    assert.ok(inLlama.includes('binariesGithubRelease.json'));
    assert.ok(inLlama.includes('llama.cpp/models/ggml-vocab-qwen2.gguf'), 'the demo model needs the qwen2 vocab');
    assert.deepEqual(names.filter((n) => n.startsWith('extension/build/')), ['extension/build/Release/icl_activation_tap.node']);
  });

  it('holds no development dependencies, type declarations or source maps', () => {
    const modules = new Set(names.map((n) => /^extension\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(n)?.[1]));
    const devOnly = Object.keys(manifest.devDependencies).filter((dev) => lock.packages[`node_modules/${dev}`]?.dev === true);
    assert.ok(devOnly.includes('mocha') && devOnly.includes('esbuild'), 'the lockfile marks development-only packages');
    for (const dev of devOnly) assert.ok(!modules.has(dev), `${dev} (development only) is inside`);
    assert.ok(!modules.has('typescript'), 'typescript is inside');
    assert.deepEqual(names.filter((n) => /\.(map|d\.ts)$/.test(n)), []);
    assert.ok(!names.some((n) => n.startsWith('extension/src/') || n.startsWith('extension/test/')), 'sources or tests are inside');
  });

  it("runs its CLI and engine under VS Code's runtime settings (ELECTRON_RUN_AS_NODE=1) from the unpacked folder", async () => {
    const extension = path.join(unpacked, 'extension');
    // The packaged model generator (the demo's) finds its vocab inside the package.
    const model = path.join(dir, 'tiny.gguf');
    const made = await run(
      process.execPath,
      [path.join(extension, 'dist', 'cli.mjs'), 'make-model', '--arch', 'qwen2', '--layers', '2', '--embd', '64', '--ff', '128', '--heads', '4', '--kv-heads', '2', '--vocab', 'qwen2', '--type', 'q8_0', '--seed', '5', '--out', model],
      { ELECTRON_RUN_AS_NODE: '1' },
    );
    assert.equal(made.code, 0, made.output);

    const client = new EngineClient({ serverModule: path.join(extension, 'dist', 'engineServer.mjs'), execPath: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' }, gpu: 'cpu' });
    try {
      const info = await client.start();
      assert.equal(info.version, manifest.version);
      assert.equal(info.gpu, 'cpu');
      const loaded = await client.loadModel(model);
      assert.equal(loaded.layers, 2);
      assert.ok(loaded.llamaLibrary.startsWith(extension), `llama.cpp was loaded from ${loaded.llamaLibrary}, not from the package`);
      const results: ExtractedStatistics[] = [];
      await client.extract(
        { examples: [{ example: 0, text: 'A packaged engine answers.' }], mask: 'isolated', contextSize: 128, batchSize: 64, maxSequences: 2, threads: 1, exact: false },
        (r) => results.push(r),
      ).done;
      assert.equal(results.length, 1);
      assert.ok(results[0]!.spanTokens > 0);
      assert.ok(results[0]!.stats.some((v) => Number.isFinite(v) && v !== 0));
    } finally {
      await client.stop();
    }
  });
});
