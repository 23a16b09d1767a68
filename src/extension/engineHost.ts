// The processes the extension starts, always outside the extension host: the engine (for model
// facts and token counts) and the `icl-lab` CLI (for runs). Both use VS Code's own runtime
// (process.execPath with ELECTRON_RUN_AS_NODE=1), so users need no Node install.
import path from 'node:path';
import * as vscode from 'vscode';
import { EngineClient } from '../engine/client.js';
import type { GpuChoice, ModelInfo } from '../engine/protocol.js';

export interface EngineHost {
  readonly output: vscode.OutputChannel;
  /** The engine with `modelPath` loaded (loaded once, reloaded when the path changes). */
  modelInfo(modelPath: string): Promise<ModelInfo>;
  countTokens(modelPath: string, texts: readonly string[]): Promise<number[]>;
  /** The command line that runs `icl-lab <args>`. */
  cli(args: readonly string[]): { command: string; args: string[]; env: NodeJS.ProcessEnv };
  dispose(): Promise<void>;
}

export function createEngineHost(context: vscode.ExtensionContext, output: vscode.OutputChannel): EngineHost {
  let client: EngineClient | undefined;
  let loaded: { path: string; info: Promise<ModelInfo> } | undefined;
  const runtimeEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };

  const engine = (): EngineClient => {
    if (client) return client;
    const gpu = vscode.workspace.getConfiguration('iclLab').get<GpuChoice>('gpu', 'auto');
    client = new EngineClient({
      serverModule: path.join(context.extensionPath, 'dist', 'engineServer.mjs'),
      execPath: process.execPath,
      env: { ELECTRON_RUN_AS_NODE: '1' },
      gpu,
      onLog: (log) => output.appendLine(`[engine ${log.level}] ${log.message.trim()}`),
      onExit: (reason) => {
        output.appendLine(`engine: ${reason}`);
        loaded = undefined;
      },
    });
    return client;
  };

  const modelInfo = (modelPath: string): Promise<ModelInfo> => {
    if (loaded?.path === modelPath) return loaded.info;
    const info = (async () => {
      const c = engine();
      await c.start();
      return c.loadModel(modelPath);
    })();
    loaded = { path: modelPath, info };
    info.catch(() => {
      if (loaded?.info === info) loaded = undefined;
    });
    return info;
  };

  // A new GPU choice takes a new engine process.
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('iclLab.gpu') && client) {
        const old = client;
        client = undefined;
        loaded = undefined;
        void old.stop();
      }
    }),
  );

  return {
    output,
    modelInfo,
    async countTokens(modelPath, texts) {
      await modelInfo(modelPath);
      const c = engine();
      return Promise.all(texts.map(async (text) => (await c.tokenize(text, false)).length));
    },
    cli(args) {
      return { command: process.execPath, args: [path.join(context.extensionPath, 'dist', 'cli.mjs'), ...args], env: runtimeEnv };
    },
    async dispose() {
      await client?.stop();
    },
  };
}
