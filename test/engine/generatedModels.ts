// Small generated models shared by the engine tests. Generation is deterministic, so a model
// made once per machine (in the OS temp folder, keyed by its options) is reused across runs.
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GgufValueType, type GgufValue } from '../../src/engine/gguf/ggufFormat.js';
import { readGguf, readTensorData } from '../../src/engine/gguf/ggufReader.js';
import { writeGguf } from '../../src/engine/gguf/ggufWriter.js';
import { generateModel, MODEL_GENERATOR_VERSION, type ModelOptions } from '../../src/engine/gguf/modelGenerator.js';

export type TestModelOptions = Omit<ModelOptions, 'out'>;

export const tinyLlama: TestModelOptions = { arch: 'llama', layers: 3, embd: 64, ff: 160, heads: 4, kvHeads: 2, vocab: 'llama-bpe', type: 'f32', seed: 11 };
export const tinyQwen2: TestModelOptions = { arch: 'qwen2', layers: 3, embd: 64, ff: 160, heads: 4, kvHeads: 2, vocab: 'qwen2', type: 'f32', seed: 12 };

const pending = new Map<string, Promise<string>>();

export function testModelPath(options: TestModelOptions): Promise<string> {
  const key = `g${MODEL_GENERATOR_VERSION}-${options.arch}-${options.vocab}-${options.type}-L${options.layers}-E${options.embd}-F${options.ff}-H${options.heads}-K${options.kvHeads}-S${options.seed}`;
  let model = pending.get(key);
  if (!model) {
    model = (async () => {
      const dir = path.join(os.tmpdir(), 'icl-lab-test-models');
      const file = path.join(dir, `${key}.gguf`);
      if (existsSync(file)) return file;
      await mkdir(dir, { recursive: true });
      // Written under a temporary name so a killed run never leaves a half-written model behind.
      const partial = `${file}.${process.pid}.partial`;
      await generateModel({ ...options, out: partial });
      await rename(partial, file);
      return file;
    })();
    pending.set(key, model);
  }
  return model;
}

/**
 * A generated model relabelled as another llama.cpp architecture with the same tensors (e.g.
 * `xverse`): llama.cpp loads and runs it, but the site table does not list it. Cached beside the
 * generated models.
 */
export async function relabelledModelPath(options: TestModelOptions, architecture: string): Promise<string> {
  const source = await testModelPath(options);
  const file = source.replace(/\.gguf$/, `-as-${architecture}.gguf`);
  if (existsSync(file)) return file;
  const gguf = await readGguf(source);
  const metadata = [...gguf.metadata].map(([key, value]): [string, GgufValue] => {
    if (key === 'general.architecture') return [key, { type: GgufValueType.String, value: architecture }];
    return [key.startsWith(`${options.arch}.`) ? `${architecture}${key.slice(options.arch.length)}` : key, value];
  });
  const partial = `${file}.${process.pid}.partial`;
  await writeGguf(partial, {
    metadata,
    alignment: gguf.alignment,
    tensors: gguf.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: async function* () { yield await readTensorData(gguf, t.name); } })),
  });
  await rename(partial, file);
  return file;
}
