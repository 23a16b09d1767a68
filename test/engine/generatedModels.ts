// Small generated models shared by the engine tests. Generation is deterministic, so a model
// made once per machine (in the OS temp folder, keyed by its options) is reused across runs.
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
