// The engine settings every model-running command takes, and the engine client they start.
import { Option, type Command } from 'commander';
import { EngineClient } from '../engine/client.js';
import { gpuChoices, type GpuChoice } from '../engine/protocol.js';
import { engineLaunchOptions } from './engineLaunch.js';
import { nonNegativeInteger, positiveInteger } from './optionParsers.js';

export interface EngineCliOptions {
  model: string;
  gpu: GpuChoice;
  exact: boolean;
  contextSize: number;
  batchSize: number;
  maxSequences: number;
  threads: number;
}

export function addEngineOptions(command: Command): Command {
  return command
    .requiredOption('--model <file>', 'GGUF model file')
    .addOption(new Option('--gpu <backend>', 'llama.cpp backend').choices(gpuChoices).default('auto'))
    .option('--exact', 'numerically exact: F32 KV cache, flash attention off', false)
    .option('--context-size <n>', 'tokens per context window', positiveInteger, 4096)
    .option('--batch-size <n>', 'tokens per llama_decode', positiveInteger, 512)
    .option('--max-sequences <n>', 'sequences decoded together (at most 256)', positiveInteger, 64)
    .option('--threads <n>', 'CPU threads (0: llama.cpp decides)', nonNegativeInteger, 0);
}

/** An engine process for a CLI command; llama.cpp's errors (not its warnings) go to stderr. */
export function startCliEngine(options: Pick<EngineCliOptions, 'gpu'>): EngineClient {
  return new EngineClient({
    ...engineLaunchOptions(),
    gpu: options.gpu,
    onLog: (log) => {
      if (log.level === 'error' || log.level === 'fatal') console.error(`[llama.cpp ${log.level}] ${log.message.trim()}`);
    },
  });
}

/**
 * Runs `work` with an engine process that has the command's model loaded; errors become one
 * `error:` line and exit code 1, and the process is always stopped.
 */
export async function withCliEngine(options: EngineCliOptions, work: (client: EngineClient) => Promise<void>): Promise<number> {
  const client = startCliEngine(options);
  try {
    await client.start();
    await client.loadModel(options.model);
    await work(client);
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await client.stop();
  }
}
