import assert from 'node:assert/strict';
import { copyFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EngineClient, type ExtractedStatistics } from '../../src/engine/client.js';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { EngineError, type GpuChoice } from '../../src/engine/protocol.js';
import { activationStatistics, poolings } from '../../src/core/stats/activationStatistics.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

function startClient(onExit?: (reason: string) => void, gpu: GpuChoice = 'cpu'): EngineClient {
  return new EngineClient({
    serverModule: path.join(packageRoot(), 'src', 'engine', 'server.ts'),
    execArgv: ['--import', 'tsx'],
    env: { ICL_LAB_ENGINE_TEST_HOOKS: '1' },
    gpu,
    ...(onExit ? { onExit } : {}),
  });
}

function isEngineError(code: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof EngineError, `not an EngineError: ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('the engine process', function () {
  this.timeout(120_000);
  let dir: string;
  let model: string;
  let client: EngineClient;
  const exits: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-engine-'));
    model = await testModelPath(tinyQwen2);
    client = startClient((reason) => exits.push(reason));
    await client.start();
  });
  after(async () => {
    await client?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function extractOne(): Promise<ExtractedStatistics[]> {
    const results: ExtractedStatistics[] = [];
    await client.extract(
      { examples: [{ example: 0, text: 'still working' }], mask: 'isolated', contextSize: 128, batchSize: 64, maxSequences: 4, threads: 1, exact: false },
      (r) => results.push(r),
    ).done;
    return results;
  }

  it('reports a missing model file by path and keeps working', async () => {
    const missing = path.join(dir, 'nope.gguf');
    await assert.rejects(client.loadModel(missing), isEngineError('model-not-found', /model file not found: .*nope\.gguf/));
    await client.loadModel(model);
    assert.equal((await extractOne()).length, 1);
  });

  it('reports a file that is not GGUF and keeps working', async () => {
    const notGguf = path.join(dir, 'notes.gguf');
    await writeFile(notGguf, 'these are my notes, not a model\n');
    await assert.rejects(client.loadModel(notGguf), isEngineError('model-invalid', /notes\.gguf: not a GGUF file/));
    await client.loadModel(model);
    assert.equal((await extractOne()).length, 1);
  });

  it('reports a truncated GGUF file and keeps working', async () => {
    const truncated = path.join(dir, 'truncated.gguf');
    await copyFile(model, truncated);
    const handle = await open(truncated, 'r+');
    const { size } = await handle.stat();
    await handle.truncate(Math.floor(size * 0.6));
    await handle.close();
    await assert.rejects(client.loadModel(truncated), isEngineError('model-truncated', /truncated\.gguf: the file is truncated/));
    // Cut inside the last tensor: the header is intact, llama.cpp's own bounds check must speak.
    await copyFile(model, truncated);
    const again = await open(truncated, 'r+');
    await again.truncate(size - 100);
    await again.close();
    await assert.rejects(client.loadModel(truncated), isEngineError('model-truncated', /truncated\.gguf: the file is truncated or corrupted \(llama\.cpp: .*not within the file bounds/));
    await client.loadModel(model);
    assert.equal((await extractOne()).length, 1);
  });

  it('rejects in-flight requests when the process crashes, and starts afresh', async () => {
    await assert.rejects(client.crashForTest(), isEngineError('engine-exited', /killed by SIGABRT|exited/));
    assert.equal(client.running, false);
    assert.equal(exits.length, 1);
    await client.start();
    await client.loadModel(model);
    assert.equal((await extractOne()).length, 1);
  });

  it('cancels a running extraction and keeps the examples already streamed', async () => {
    await client.loadModel(model);
    const results: ExtractedStatistics[] = [];
    // Long enough that the cancel always lands mid-run, even on a loaded machine.
    const examples = Array.from({ length: 400 }, (_, example) => ({ example, text: `sentence number ${example} of a long run` }));
    const run = client.extract(
      { examples, mask: 'isolated', contextSize: 64, batchSize: 64, maxSequences: 2, threads: 1, exact: false },
      (r) => results.push(r),
      (progress) => {
        if (progress.done >= 4) run.cancel();
      },
    );
    await assert.rejects(run.done, isEngineError('cancelled', /cancelled after \d+ of 400 examples/));
    assert.ok(results.length >= 4 && results.length < 400, `kept ${results.length}`);
    assert.deepEqual(results.map((r) => r.example), results.map((_, i) => i));
    assert.equal((await extractOne()).length, 1);
  });

  it('reports a GPU backend this machine lacks instead of silently using another', async function () {
    if (process.platform === 'darwin') this.skip(); // Metal exists there; elsewhere it never does
    const other = startClient(undefined, 'metal');
    try {
      await assert.rejects(other.start(), isEngineError('gpu-unavailable', /cannot start llama\.cpp with gpu "metal": (no prebuilt llama\.cpp binary for "metal"|this machine gave "\w+" instead)/));
    } finally {
      await other.stop();
    }
  });

  it('streams statistics that survive JSON: NaN and infinities included', async () => {
    const [result] = await extractOne();
    assert.equal(result!.stats.length, tinyQwen2.layers * poolings.length * activationStatistics.length);
    assert.ok(result!.stats.every((v) => typeof v === 'number'));
    const manifest = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    assert.equal(client.engineInfo?.version, manifest.version);
  });
});
