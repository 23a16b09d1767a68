// code-server (a real VS Code server and web workbench, installed by scripts/setup-e2e.sh into
// .e2e/) started for one test: its own config, user data, extensions and XDG folders, no
// marketplace, telemetry or update calls, a free loopback port, its own process group.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { packageRoot } from '../../src/engine/packageRoot.js';

export interface CodeServer {
  readonly url: string;
  readonly port: number;
  readonly logFile: string;
  /** The last lines code-server printed (for failure messages). */
  logTail(): string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  /** Scratch folder for config, user data, extensions and XDG folders. */
  readonly home: string;
  /** Written to <user data>/User/settings.json on top of the quiet defaults below. */
  readonly settings: Record<string, unknown>;
  /** A VSIX to install; without it the built repository is linked into the extensions folder. */
  readonly vsix?: string;
  readonly logFile: string;
}

export const codeServerVersion = '4.100.3';

/** The code-server binary: $ICL_LAB_CODE_SERVER, else the one scripts/setup-e2e.sh installed. */
export function codeServerBinary(): string {
  const binary = process.env['ICL_LAB_CODE_SERVER'] ?? path.join(packageRoot(), '.e2e', 'node_modules', '.bin', 'code-server');
  if (!existsSync(binary)) throw new Error(`code-server not found at ${binary}: run \`bash scripts/setup-e2e.sh\` (or set ICL_LAB_CODE_SERVER)`);
  return binary;
}

/** Settings that keep the workbench quiet and offline. */
const quietSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'chat.disableAIFeatures': true,
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const binary = codeServerBinary();
  const dirs = {
    userData: path.join(options.home, 'user-data'),
    extensions: path.join(options.home, 'extensions'),
    xdgConfig: path.join(options.home, 'xdg-config'),
    xdgData: path.join(options.home, 'xdg-data'),
    xdgCache: path.join(options.home, 'xdg-cache'),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  const config = path.join(options.home, 'config.yaml');
  await writeFile(config, '# code-server for the ICL Lab e2e test (the rest is on the command line)\nauth: none\n');
  await mkdir(path.join(dirs.userData, 'User'), { recursive: true });
  await writeFile(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...quietSettings, ...options.settings }, null, 2));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EXTENSIONS_GALLERY: '{}',
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
  };
  // Our mocha runs TypeScript through tsx; code-server and its extension host must not inherit that.
  delete env['NODE_OPTIONS'];
  const common = ['--config', config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

  const manifest = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  if (options.vsix) {
    const installed = spawnSync(binary, [...common, '--install-extension', options.vsix, '--force'], { env, encoding: 'utf8' });
    if (installed.status !== 0) throw new Error(`code-server --install-extension ${options.vsix} failed:\n${installed.stdout}\n${installed.stderr}`);
  } else {
    const link = path.join(dirs.extensions, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
    await rm(link, { force: true, recursive: true });
    await symlink(packageRoot(), link, 'dir');
  }

  const port = await freePort();
  await mkdir(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile);
  let tail = '';
  const child: ChildProcess = spawn(
    binary,
    [...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--ignore-last-opened', '--disable-workspace-trust', '--disable-getting-started-override'],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      tail = (tail + chunk.toString()).slice(-6000);
      if (tail.includes('HTTP server listening on')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`code-server exited (${signal ?? code}) before listening:\n${tail}`)));
    child.once('error', reject);
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${tail}`)), 60_000).unref());

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // The whole group: code-server, its extension host, and what the extension started.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await exited;
    clearTimeout(killer);
    log.end();
  };

  try {
    await Promise.race([listening, timeout]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, port, logFile: options.logFile, logTail: () => tail, stop };
}
