// `icl-lab make-model`: writes a small llama or qwen2 GGUF with seeded random weights and a real
// tokenizer, for trying the lab out and for tests, without downloading a model.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import {
  generateModel,
  modelArchitectures,
  modelOptionProblems,
  vocabNames,
  weightTypes,
} from '../engine/gguf/modelGenerator.js';
import type { ModelArchitecture, ModelOptions, VocabName, WeightType } from '../engine/gguf/modelGenerator.js';
import { nonNegativeInteger, positiveInteger, positiveNumber } from './optionParsers.js';

interface MakeModelCliOptions {
  arch: ModelArchitecture;
  layers: number;
  embd: number;
  ff: number;
  heads: number;
  kvHeads?: number;
  vocab?: VocabName;
  type: WeightType;
  seed: number;
  out: string;
  contextLength: number;
  ropeFreqBase?: number;
  rmsEps?: number;
}

/** Each architecture's own tokenizer unless told otherwise. */
const defaultVocab: Readonly<Record<ModelArchitecture, VocabName>> = { llama: 'llama-bpe', qwen2: 'qwen2' };




export function registerMakeModelCommand(program: Command): void {
  program
    .command('make-model')
    .description('write a small GGUF model with seeded random weights and a real tokenizer (for demos and tests)')
    .addOption(new Option('--arch <arch>', 'architecture').choices(modelArchitectures).default('llama'))
    .option('--layers <n>', 'transformer blocks', positiveInteger, 4)
    .option('--embd <d>', 'model width', positiveInteger, 128)
    .option('--ff <f>', 'MLP hidden width', positiveInteger, 384)
    .option('--heads <h>', 'attention heads', positiveInteger, 4)
    .option('--kv-heads <k>', 'key/value heads (default: --heads)', positiveInteger)
    .addOption(new Option('--vocab <name>', "tokenizer (default: the architecture's own)").choices(vocabNames))
    .addOption(new Option('--type <type>', 'type of the weight matrices').choices(weightTypes).default('f32'))
    .option('--seed <s>', 'seed for the weights (same seed, same file)', nonNegativeInteger, 0)
    .requiredOption('--out <file>', 'GGUF file to write')
    .option('--context-length <n>', 'training context length to declare', positiveInteger, 4096)
    .option('--rope-freq-base <x>', 'RoPE base (default: 10000 llama, 1000000 qwen2)', positiveNumber)
    .option('--rms-eps <x>', 'RMSNorm epsilon (default: 1e-5 llama, 1e-6 qwen2)', positiveNumber)
    .action(async (options: MakeModelCliOptions) => {
      process.exitCode = await runMakeModel(options);
    });
}

async function runMakeModel(cli: MakeModelCliOptions): Promise<number> {
  const options: ModelOptions = {
    arch: cli.arch,
    layers: cli.layers,
    embd: cli.embd,
    ff: cli.ff,
    heads: cli.heads,
    kvHeads: cli.kvHeads ?? cli.heads,
    vocab: cli.vocab ?? defaultVocab[cli.arch],
    type: cli.type,
    seed: cli.seed,
    out: path.resolve(cli.out),
    contextLength: cli.contextLength,
    ...(cli.ropeFreqBase === undefined ? {} : { ropeFreqBase: cli.ropeFreqBase }),
    ...(cli.rmsEps === undefined ? {} : { rmsEps: cli.rmsEps }),
  };
  const problems = modelOptionProblems(options);
  if (problems.length > 0) {
    for (const problem of problems) console.error(`make-model: ${problem}`);
    return 1;
  }
  try {
    await mkdir(path.dirname(options.out), { recursive: true });
    const model = await generateModel(options);
    const { massive } = model;
    console.log(
      `wrote ${model.path}: ${options.arch}, ${options.layers} layers, embd ${options.embd}, ff ${options.ff}, ` +
        `heads ${options.heads} (kv ${options.kvHeads}), vocab ${options.vocab} (${model.vocabSize} tokens), ` +
        `${options.type}, seed ${options.seed}; ${formatBytes(model.fileSize)}; ` +
        `massive activations at layer ${massive.layer}, dimension ${massive.dimension}`,
    );
    return 0;
  } catch (error) {
    console.error(`make-model: ${(error as Error).message}`);
    return 1;
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
