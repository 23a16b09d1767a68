// `icl-lab check-model MODEL`: the site self-check (src/core/siteCheck.ts) on one model, per layer.
// Needs no reference forward pass, so it works on any model whose architecture the site table lists.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { catalogModel, catalogModels } from '../core/models/modelCatalog.js';
import { describeSiteCheck, figure, judgeSiteCheck, siteCheckText, type SiteCheckResult } from '../core/siteCheck.js';
import { cachedCatalogModel } from '../engine/modelCache.js';
import { gpuChoices, type GpuChoice } from '../engine/protocol.js';
import { startCliEngine } from './engineOptions.js';
import { nonNegativeInteger } from './optionParsers.js';

interface CheckModelCliOptions {
  gpu: GpuChoice;
  threads: number;
  text?: string;
  json: boolean;
}

export function registerCheckModelCommand(program: Command): void {
  program
    .command('check-model')
    .description("check that the model's MLP output site is right: resid_post = resid_mid + mlp_out in every layer")
    .argument('<model>', `GGUF model file, or a catalogue name (${catalogModels.map((m) => m.id).join(' / ')}; fetched into the model cache when missing)`)
    .addOption(new Option('--gpu <backend>', 'llama.cpp backend').choices(gpuChoices).default('auto'))
    .option('--threads <n>', 'CPU threads (0: llama.cpp decides)', nonNegativeInteger, 0)
    .option('--text <text>', `text whose tokens are checked (default: "${siteCheckText.replace(/\n/g, '\\n')}")`)
    .option('--json', 'print the result as JSON', false)
    .addHelpText('after', '\nExit status: 0 every layer passes, 1 a layer fails or the model cannot be checked (e.g. an architecture the site table does not list).')
    .action(async (model: string, options: CheckModelCliOptions) => {
      process.exitCode = await runCheckModel(model, options);
    });
}

/** A file path as given, else a catalogue model's cached copy. */
async function resolveModel(model: string): Promise<string> {
  if (existsSync(model) || !catalogModel(model)) return model;
  return cachedCatalogModel(model, { onStart: (start) => void (start.existing ? undefined : console.error(`fetching ${model} into the model cache: ${start.file}`)) });
}

export async function runCheckModel(model: string, options: CheckModelCliOptions): Promise<number> {
  const client = startCliEngine(options);
  try {
    const file = await resolveModel(model);
    await client.start();
    const info = await client.loadModel(file);
    const result = judgeSiteCheck(await client.checkSites({ ...(options.text !== undefined ? { text: options.text } : {}), threads: options.threads }));
    if (options.json) console.log(JSON.stringify({ model: info.path, gpu: info.gpu, ...result }, null, 2));
    else printTable(result, info.path);
    return result.passed ? 0 : 1;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await client.stop();
  }
}

function printTable(result: SiteCheckResult, file: string): void {
  console.log(`${file}: architecture "${result.architecture}", ${result.layers.length} layers, ${result.tokens} tokens`);
  console.log(`resid_mid = ${result.tensors.resid_mid}, mlp_out = ${result.tensors.mlp_out}, resid_post = ${result.tensors.resid_post}\n`);
  console.log('layer  max |resid_post − resid_mid − mlp_out|  max |resid_post|  relative');
  for (const l of result.layers) {
    console.log(`${String(l.layer).padEnd(7)}${l.maxResidual.toExponential(2).padEnd(39)}${figure(l.scale).padEnd(18)}${l.relative.toExponential(2)}${l.passed ? '' : '  FAIL'}`);
  }
  console.log(`\n${describeSiteCheck(result, path.basename(file))} (tolerance ${figure(result.tolerance)}, relative)`);
}
