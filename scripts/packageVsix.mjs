#!/usr/bin/env node
// Platform-specific VSIX packages: `vsce package --target <t>` over a staged folder that holds the
// built extension, our prebuilt N-API addon (the same build loads under Node and under VS Code's
// Electron) and the production node_modules, minus other platforms' @node-llama-cpp binaries,
// node-llama-cpp's llama.cpp source and git bundle, and build folders.
//
//   node scripts/packageVsix.mjs                          # this machine's target
//   node scripts/packageVsix.mjs --target linux-x64 --target linux-arm64 --addon linux-arm64=path/to/icl_activation_tap.node
//   node scripts/packageVsix.mjs --target all --without-addon   # sizes only: every VSIX but this machine's lacks the addon
//
// The native addon (build/Release/icl_activation_tap.node) is built by `npm ci` on the machine it
// runs on. A target other than this machine's needs the addon built on that platform (a CI matrix
// job runs `npm ci && node scripts/packageVsix.mjs` there), passed with --addon; its binary format
// is checked against the target. Without it the target is refused, or, with --without-addon,
// packaged as `…-<target>-<version>.no-addon.vsix`, which is for measuring only: it cannot extract.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, closeSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/**
 * vsce targets and what each needs. `llama`: per backend, the @node-llama-cpp package node-llama-cpp
 * imports for it on that platform (its dist/bindings/utils/compileLLamaCpp.js,
 * getPrebuiltBinariesPackageDirectoryForBuildOptions); `cpu` always ships, the others as --gpu
 * says. `cuda-fallback` is node-llama-cpp's second CUDA build, loaded only when the first fails.
 * `binary`: the addon's object format.
 */
const targets = {
  'linux-x64': { llama: { cpu: 'linux-x64', vulkan: 'linux-x64-vulkan', cuda: 'linux-x64-cuda', 'cuda-fallback': 'linux-x64-cuda-ext' }, binary: { format: 'elf', arch: 'x64' } },
  'linux-arm64': { llama: { cpu: 'linux-arm64' }, binary: { format: 'elf', arch: 'arm64' } },
  'linux-armhf': { llama: { cpu: 'linux-armv7l' }, binary: { format: 'elf', arch: 'arm' } },
  'darwin-arm64': { llama: { cpu: 'mac-arm64-metal' }, binary: { format: 'macho', arch: 'arm64' } }, // CPU and Metal in one
  'darwin-x64': { llama: { cpu: 'mac-x64' }, binary: { format: 'macho', arch: 'x64' } },
  'win32-x64': { llama: { cpu: 'win-x64', vulkan: 'win-x64-vulkan', cuda: 'win-x64-cuda', 'cuda-fallback': 'win-x64-cuda-ext' }, binary: { format: 'pe', arch: 'x64' } },
  'win32-arm64': { llama: { cpu: 'win-arm64' }, binary: { format: 'pe', arch: 'arm64' } },
};
const gpuVariants = ['vulkan', 'cuda', 'cuda-fallback'];
const defaultGpuVariants = ['vulkan', 'cuda'];
const refusedTargets = {
  'alpine-x64': 'node-llama-cpp ships no prebuilt llama.cpp for musl libc',
  'alpine-arm64': 'node-llama-cpp ships no prebuilt llama.cpp for musl libc',
  web: 'the engine is native code and cannot run in a browser',
};

/** What of node-llama-cpp's `llama/` folder it reads at run time (src/config.ts there); the rest is llama.cpp's source, its git bundle and build folders. */
const llamaRuntimeFiles = ['binariesGithubRelease.json', 'llama.cpp.info.json', 'package.json', 'grammars'];

function usage(message) {
  if (message) console.error(`packageVsix: ${message}`);
  console.error(
    'usage: node scripts/packageVsix.mjs [--target <t>|all]... [--addon <t>=<file>]... [--without-addon] [--gpu <list>] [--out <dir>] [--no-build] [--keep-stage]\n' +
      `targets: ${Object.keys(targets).join(', ')} (default: this machine's)\n` +
      `--gpu: llama.cpp builds besides the CPU one, where the target has them: ${gpuVariants.join(', ')} or none (default: ${defaultGpuVariants.join(',')})`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const options = { targets: [], addons: new Map(), withoutAddon: false, gpu: defaultGpuVariants, out: path.join(root, 'dist-vsix'), build: true, keepStage: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${arg} needs a value`));
    if (arg === '--target' || arg === '-t') options.targets.push(...value().split(','));
    else if (arg === '--addon') {
      const [target, ...file] = value().split('=');
      if (!file.length) usage('--addon takes <target>=<file>');
      options.addons.set(target, path.resolve(file.join('=')));
    } else if (arg === '--without-addon') options.withoutAddon = true;
    else if (arg === '--gpu') {
      options.gpu = value().split(',').filter((v) => v && v !== 'none');
      const unknown = options.gpu.filter((v) => !gpuVariants.includes(v));
      if (unknown.length) usage(`unknown --gpu ${unknown.join(', ')}`);
      if (options.gpu.includes('cuda-fallback') && !options.gpu.includes('cuda')) usage('--gpu cuda-fallback needs cuda');
    }
    else if (arg === '--out') options.out = path.resolve(value());
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--keep-stage') options.keepStage = true;
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  if (options.targets.includes('all')) options.targets = Object.keys(targets);
  if (!options.targets.length) options.targets = [hostTarget()];
  return options;
}

function hostTarget() {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  if (process.platform === 'linux') {
    const glibc = process.report?.getReport().header.glibcVersionRuntime;
    return `${glibc ? 'linux' : 'alpine'}-${arch}`;
  }
  return `${process.platform}-${arch}`;
}

// ---- the addon's object format, so an addon built elsewhere cannot be packaged for the wrong target

/** { format: 'elf'|'macho'|'pe', archs: [...] } of a native binary, or undefined. */
function binaryFormat(file) {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, n);
    if (bytes.readUInt32BE(0) === 0x7f454c46) {
      const machine = bytes[5] === 2 ? bytes.readUInt16BE(18) : bytes.readUInt16LE(18);
      const arch = { 0x3e: 'x64', 0xb7: 'arm64', 0x28: 'arm', 0x03: 'ia32' }[machine] ?? `elf-machine-${machine}`;
      return { format: 'elf', archs: [arch] };
    }
    const macho = { 0x01000007: 'x64', 0x0100000c: 'arm64' };
    if (bytes.readUInt32LE(0) === 0xfeedfacf) return { format: 'macho', archs: [macho[bytes.readUInt32LE(4)] ?? 'unknown'] };
    if (bytes.readUInt32BE(0) === 0xcafebabe) {
      const count = bytes.readUInt32BE(4);
      const archs = [];
      for (let i = 0; i < count && 8 + 20 * i + 4 <= n; i++) archs.push(macho[bytes.readUInt32BE(8 + 20 * i)] ?? 'unknown');
      return { format: 'macho', archs };
    }
    if (bytes[0] === 0x4d && bytes[1] === 0x5a) {
      const pe = bytes.readUInt32LE(0x3c);
      if (pe + 6 <= n && bytes.readUInt32BE(pe) === 0x50450000) {
        const machine = bytes.readUInt16LE(pe + 4);
        return { format: 'pe', archs: [{ 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'ia32' }[machine] ?? `pe-machine-${machine}`] };
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function checkAddon(target, file) {
  if (!existsSync(file)) return `${file} does not exist`;
  const found = binaryFormat(file);
  const want = targets[target].binary;
  if (!found) return `${file} is not a native library`;
  if (found.format !== want.format || !found.archs.includes(want.arch)) {
    return `${file} is ${found.format}/${found.archs.join('+')}, but ${target} needs ${want.format}/${want.arch}`;
  }
  return undefined;
}

// ---- the production dependency closure, resolved the way Node resolves it

/** Package folders (relative to the root) that the extension's dependencies need, following dependencies, installed optionalDependencies and required peers. */
function productionPackages() {
  const found = new Map();
  const missing = [];
  const visit = (fromDir, deps, optional) => {
    for (const name of deps) {
      const dir = resolvePackage(fromDir, name);
      if (!dir) {
        if (!optional.has(name)) missing.push(`${name} (needed by ${path.relative(root, fromDir) || 'the extension'})`);
        continue;
      }
      const rel = path.relative(root, dir);
      if (found.has(rel)) continue;
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      found.set(rel, pkg);
      // Optional peers (node-llama-cpp's typescript) are left out: installed here only as our dev dependency, unused at run time.
      const optionalPeers = new Set(Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, meta]) => meta?.optional).map(([peer]) => peer));
      const requiredPeers = Object.keys(pkg.peerDependencies ?? {}).filter((peer) => !optionalPeers.has(peer));
      const optionalNames = new Set(Object.keys(pkg.optionalDependencies ?? {}));
      visit(dir, [...new Set([...Object.keys(pkg.dependencies ?? {}), ...optionalNames, ...requiredPeers])], optionalNames);
    }
  };
  const rootOptional = new Set(Object.keys(manifest.optionalDependencies ?? {}));
  visit(root, [...Object.keys(manifest.dependencies ?? {}), ...rootOptional], rootOptional);
  if (missing.length) throw new Error(`production dependencies are not installed: ${missing.join(', ')}; run \`npm ci\``);
  return found;
}

function resolvePackage(fromDir, name) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || path.dirname(dir) === dir) return undefined;
  }
}

// ---- staging

/** Hard-links (or copies across devices) `from` into `to`, skipping what `keep(relativePath, isDirectory)` refuses. */
function stageTree(from, to, keep = () => true, rel = '') {
  const entry = lstatSync(from);
  if (entry.isSymbolicLink()) {
    mkdirSync(path.dirname(to), { recursive: true });
    symlinkSync(readlinkSync(from), to);
  } else if (entry.isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const childRel = rel ? `${rel}/${name}` : name;
      const child = path.join(from, name);
      if (!keep(childRel, lstatSync(child).isDirectory())) continue;
      stageTree(child, path.join(to, name), keep, childRel);
    }
  } else {
    mkdirSync(path.dirname(to), { recursive: true });
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to);
    }
  }
}

const typingsAndMaps = /\.(d\.[cm]?ts|map|tsbuildinfo)$/;

/** Filter for one dependency's folder: its nested node_modules are packages of their own; node-llama-cpp keeps only its run-time files. */
function dependencyFilter(rel, vocabFiles) {
  const isLlamaCpp = rel === path.join('node_modules', 'node-llama-cpp');
  return (file, isDirectory) => {
    if (file === 'node_modules' || file.startsWith('node_modules/')) return false;
    if (!isDirectory && typingsAndMaps.test(file)) return false;
    if (!isLlamaCpp) return true;
    if (file === 'templates' || file.startsWith('templates/')) return false; // `node-llama-cpp init` project templates
    if (!file.startsWith('llama/') && file !== 'llama') return true;
    if (file === 'llama' || file === 'llama/llama.cpp' || file === 'llama/llama.cpp/models') return true;
    const inside = file.slice('llama/'.length);
    if (llamaRuntimeFiles.some((keep) => inside === keep || inside.startsWith(`${keep}/`))) return true;
    // The model generator (the demo) reads llama.cpp's vocab-only GGUFs: keep those, not the source around them.
    return vocabFiles.includes(inside);
  };
}

/** The bundles the extension loads: its main, the engine and CLI entries, and every 'dist/…' file named in src/extension (the webview apps). */
function builtFilesNeeded() {
  const files = new Set([manifest.main.replace(/^\.\//, ''), 'dist/engineServer.mjs', 'dist/cli.mjs']);
  const stack = [path.join(root, 'src', 'extension')];
  while (stack.length) {
    const dir = stack.pop();
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(file);
      else if (entry.name.endsWith('.ts')) for (const m of readFileSync(file, 'utf8').matchAll(/'(dist\/[^']+\.(?:js|cjs|mjs))'/g)) files.add(m[1]);
    }
  }
  return [...files];
}

/** The vocab names the model generator supports (src/engine/gguf/modelGenerator.ts, vocabNames). */
function generatorVocabFiles() {
  const source = readFileSync(path.join(root, 'src', 'engine', 'gguf', 'modelGenerator.ts'), 'utf8');
  const list = /export const vocabNames = \[([^\]]*)\]/.exec(source);
  if (!list) throw new Error('cannot find vocabNames in src/engine/gguf/modelGenerator.ts');
  return [...list[1].matchAll(/'([^']+)'/g)].map((m) => `llama.cpp/models/ggml-vocab-${m[1]}.gguf`);
}

/** An @node-llama-cpp package for another platform: from node_modules when npm installed it here, else `npm pack` from the registry. */
function llamaBinaryPackage(name, version, cacheDir) {
  const installed = path.join(root, 'node_modules', '@node-llama-cpp', name);
  if (existsSync(path.join(installed, 'package.json'))) {
    const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
    if (pkg.version === version) return installed;
  }
  const unpacked = path.join(cacheDir, `${name}-${version}`);
  if (existsSync(path.join(unpacked, 'package', 'package.json'))) return path.join(unpacked, 'package');
  rmSync(unpacked, { recursive: true, force: true });
  mkdirSync(unpacked, { recursive: true });
  console.log(`  npm pack @node-llama-cpp/${name}@${version}`);
  const pack = spawnSync('npm', ['pack', `@node-llama-cpp/${name}@${version}`, '--pack-destination', unpacked, '--loglevel=error'], { encoding: 'utf8', shell: process.platform === 'win32' });
  const tarball = readdirSync(unpacked).find((f) => f.endsWith('.tgz'));
  if (pack.status !== 0 || !tarball) {
    const why = `${pack.stdout}\n${pack.stderr}`.split('\n').filter((line) => /npm error (code|notarget|404)/.test(line)).slice(0, 2).map((line) => line.replace(/\.$/, '')).join('; ');
    throw new Error(`@node-llama-cpp/${name}@${version} (llama.cpp for this target) could not be fetched: ${why || 'npm pack failed'}. Package this target on its own platform, where \`npm ci\` installs it`);
  }
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked], { cwd: unpacked, encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`cannot unpack ${tarball}: ${untar.stderr.trim()}`);
  rmSync(path.join(unpacked, tarball));
  return path.join(unpacked, 'package');
}

function stageTarget(target, stage, addon, options, packages, vocabFiles) {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const info = targets[target];

  // The extension: its manifest without what only development needs.
  const staged = { ...manifest };
  for (const key of ['scripts', 'devDependencies', 'files', 'bin']) delete staged[key];
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`);
  for (const file of ['README.md', 'CHANGELOG.md', 'LICENSE', 'LICENSE.md', 'LICENSE.txt']) {
    if (existsSync(path.join(root, file))) stageTree(path.join(root, file), path.join(stage, file));
  }
  for (const dir of ['dist', 'media', 'syntaxes']) {
    if (existsSync(path.join(root, dir))) stageTree(path.join(root, dir), path.join(stage, dir), (file, isDirectory) => isDirectory || !file.endsWith('.map'));
  }
  // src/engine/addon.ts finds the addon at <package root>/build/Release/ (the root is the folder of our package.json).
  if (addon) stageTree(addon, path.join(stage, 'build', 'Release', 'icl_activation_tap.node'));

  // Dependencies, with this target's llama.cpp binaries only.
  const llamaVersion = packages.get(path.join('node_modules', 'node-llama-cpp'))?.version;
  if (!llamaVersion) throw new Error('node-llama-cpp is not among the production dependencies');
  for (const rel of packages.keys()) {
    if (rel.startsWith(path.join('node_modules', '@node-llama-cpp') + path.sep)) continue;
    stageTree(path.join(root, rel), path.join(stage, rel), dependencyFilter(rel, vocabFiles));
  }
  const wanted = Object.entries(info.llama).filter(([backend]) => backend === 'cpu' || options.gpu.includes(backend)).map(([, name]) => name);
  for (const name of wanted) {
    const from = llamaBinaryPackage(name, llamaVersion, path.join(options.out, '.cache'));
    stageTree(from, path.join(stage, 'node_modules', '@node-llama-cpp', name), (file, isDirectory) => isDirectory || !typingsAndMaps.test(file));
  }
  // Everything staged ships; this file only keeps vsce from asking.
  writeFileSync(path.join(stage, '.vscodeignore'), '# scripts/packageVsix.mjs stages exactly what ships.\n');
  return wanted;
}

function vsce(stage, target, outFile) {
  const bin = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  const args = [bin, 'package', '--target', target, '--out', outFile, '--allow-missing-repository', '--skip-license', '--no-yarn', '--no-rewrite-relative-links'];
  const result = spawnSync(process.execPath, args, { cwd: stage, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`vsce package --target ${target} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function treeSize(dir) {
  let bytes = 0;
  const stack = [dir];
  while (stack.length) {
    const current = stack.pop();
    for (const name of readdirSync(current)) {
      const file = path.join(current, name);
      const entry = lstatSync(file);
      if (entry.isDirectory()) stack.push(file);
      else bytes += entry.size;
    }
  }
  return bytes;
}

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function main() {
  const options = parseArgs(process.argv.slice(2));
  const host = hostTarget();
  for (const target of options.targets) {
    if (refusedTargets[target]) usage(`cannot package ${target}: ${refusedTargets[target]}`);
    if (!targets[target]) usage(`unknown target ${target}`);
  }
  // Decide every target's addon before any work, so a refusal costs nothing.
  const addons = new Map();
  const problems = [];
  for (const target of options.targets) {
    const file = options.addons.get(target) ?? (target === host ? path.join(root, 'build', 'Release', 'icl_activation_tap.node') : undefined);
    if (file) {
      const problem = checkAddon(target, file);
      if (problem) problems.push(`${target}: ${problem}${target === host ? ' (run `npm ci` or `npx node-gyp rebuild`)' : ''}`);
      else addons.set(target, file);
    } else if (!options.withoutAddon) {
      problems.push(
        `${target}: the activation tap must be built on ${target} itself (this machine is ${host}); ` +
          `run \`npm ci && node scripts/packageVsix.mjs\` there (a CI matrix), or pass --addon ${target}=<icl_activation_tap.node built there>`,
      );
    }
  }
  if (problems.length) {
    console.error(`packageVsix: refused:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }

  if (options.build) {
    const build = spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
  const missing = builtFilesNeeded().filter((file) => !existsSync(path.join(root, file)));
  if (missing.length) throw new Error(`${missing.join(', ')} missing: run \`npm run build\``);
  const packages = productionPackages();
  const vocabFiles = generatorVocabFiles();
  mkdirSync(options.out, { recursive: true });

  const made = [];
  const failed = [];
  for (const target of options.targets) {
    const started = Date.now();
    const addon = addons.get(target);
    const stage = path.join(options.out, 'stage', target);
    const name = `${manifest.name}-${target}-${manifest.version}${addon ? '' : '.no-addon'}.vsix`;
    const outFile = path.join(options.out, name);
    rmSync(outFile, { force: true });
    try {
      console.log(`${target}: staging`);
      const llamaPackages = stageTarget(target, stage, addon, options, packages, vocabFiles);
      console.log(`${target}: vsce package (${mib(treeSize(stage))} staged)`);
      vsce(stage, target, outFile);
      made.push({ target, outFile, size: statSync(outFile).size, llamaPackages, addon: Boolean(addon), seconds: (Date.now() - started) / 1000 });
    } catch (error) {
      failed.push(`${target}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      if (!options.keepStage) rmSync(stage, { recursive: true, force: true });
    }
  }
  if (!options.keepStage) rmSync(path.join(options.out, 'stage'), { recursive: true, force: true });

  console.log('');
  for (const vsix of made) {
    console.log(`${path.relative(process.cwd(), vsix.outFile)}  ${mib(vsix.size)}  (llama.cpp: ${vsix.llamaPackages.join(', ')}; ${vsix.seconds.toFixed(0)} s)`);
    if (!vsix.addon) {
      console.log(`  WARNING: no activation tap for ${vsix.target} inside: this package cannot extract; build the addon on ${vsix.target} and package there (or pass --addon)`);
    }
  }
  if (failed.length) {
    console.error(`packageVsix: not packaged:\n  ${failed.join('\n  ')}`);
    process.exitCode = 1;
  }
}

try {
  main();
} catch (error) {
  console.error(`packageVsix: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
