// The sae phase end to end on the engine (issue 13): `icl-lab run` with `sae:` and `icl-lab sae RUN`
// on a generated model, through the CLI's own entry points (runRunCommand, runSaeCommand) in this
// process, the engine in its own. What a user gets in RUN/sae/ is checked as a Python user would read
// it: the .npy files in SAELens' shapes and sae.json's inputScale encode an example's activations to
// the codes and reconstruction error the phase put in stats.csv and features.json.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { demoRunConfig } from '../../src/cli/demo.js';
import { runRunCommand } from '../../src/cli/run.js';
import { runSaeCommand } from '../../src/cli/sae.js';
import { demoRows } from '../../src/core/demo/demoDataset.js';
import type { SaeRecord } from '../../src/core/experiment/saePhase.js';
import { decodeNpyFloat32 } from '../../src/core/format/npy.js';
import type { FeaturesFile } from '../../src/core/sae/saeSignals.js';
import { testModelPath, tinyQwen2 } from './generatedModels.js';

type Row = Record<string, string>;
const readCsv = async (file: string): Promise<Row[]> => parse(await readFile(file, 'utf8'), { columns: true }) as Row[];
const readJson = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, 'utf8')) as T;
const npy = async (file: string): Promise<{ values: Float32Array; shape: number[] }> => decodeNpyFloat32(await readFile(file), file);

const pool = 20;
const sae = { expansion: 2, k: 4, epochs: 2, batchSize: 64 };
const saeColumns = ['distinct_features', 'feature_entropy', 'reconstruction_error'];
const saeStrategyNames = ['sae-coverage', 'sae-diverse'];
/** What a run writes that must not change between two runs of one seed, or across a resume. */
const resultFiles = ['stats.csv', 'quality.csv', 'correlations.csv', 'selections.csv', 'curves.csv', 'strategy_vs_random.csv', 'sae/W_enc.npy', 'sae/b_enc.npy', 'sae/W_dec.npy', 'sae/b_dec.npy', 'sae/features.json', 'checkpoints/sae-signals.json'];

/** Runs a CLI entry with its console output kept (and shown only when an assertion needs it). */
async function quietly(work: () => Promise<number>): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const { log, error } = console;
  const write = process.stderr.write;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  console.error = (...args: unknown[]) => void lines.push(args.join(' '));
  // Progress lines (src/cli/progressLine.ts) go to stderr itself.
  process.stderr.write = ((chunk: string | Uint8Array) => lines.push(String(chunk).trimEnd()) > 0) as typeof process.stderr.write;
  try {
    return { code: await work(), output: lines.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

describe('icl-lab run with sae: and icl-lab sae (engine, generated model)', function () {
  this.timeout(300_000);
  let dir: string;
  let saeConfig: string;
  let plainConfig: string;
  /** The run with `sae:`: trained once, read by every test. */
  let runA: string;
  let first: { code: number; output: string };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-sae-run-'));
    const model = await testModelPath(tinyQwen2);
    await writeFile(path.join(dir, 'demo.jsonl'), demoRows(36, 7).map((row) => JSON.stringify(row)).join('\n') + '\n');
    const demo = demoRunConfig(1) as Record<string, unknown>;
    const small = {
      ...demo,
      model,
      split: { test: 6, probe: 4, pool },
      masks: ['isolated'],
      correlation: { bootstrap: 10, maxBootstrap: 10, permutations: 10 },
      evaluation: { bootstrap: 10 },
      histogramExamples: 2,
    };
    saeConfig = path.join(dir, 'sae.run.json');
    await writeFile(saeConfig, JSON.stringify({ ...small, sae, selection: { strategies: ['random', ...saeStrategyNames], budgets: [2, 4], rounds: 2, seeds: [0, 1] } }));
    plainConfig = path.join(dir, 'plain.run.json');
    await writeFile(plainConfig, JSON.stringify({ ...small, selection: { strategies: ['random'], budgets: [2], rounds: 1, seeds: [0] } }));
    runA = path.join(dir, 'run-a');
    first = await quietly(() => runRunCommand(saeConfig, { out: runA, resume: false, report: false }));
  });
  after(async () => (process.env['KEEP_TMP'] ? undefined : rm(dir, { recursive: true, force: true })));

  it('trains the SAE as a run phase: weights in SAELens shapes, sae.json, features.json, the sae rows, cells and curves', async () => {
    assert.equal(first.code, 0, first.output);
    const run = await readJson<{ status: string; phases: Record<string, { status: string; computed: number }> }>(path.join(runA, 'run.json'));
    assert.equal(run.status, 'complete');
    assert.equal(run.phases['sae']?.status, 'complete');
    assert.ok(run.phases['sae']!.computed > 0, 'the phase computed its units');

    const record = await readJson<SaeRecord>(path.join(runA, 'sae', 'sae.json'));
    assert.equal(record.format, 'icl-lab-sae/1');
    assert.equal(record.site, 'mlp_out');
    assert.equal(record.layer, 1, 'middle of 3 layers');
    const width = 64;
    const latents = width * sae.expansion;
    assert.equal(record.settings.width, width);
    assert.equal(record.settings.latents, latents);
    assert.equal(record.settings.k, sae.k);
    assert.equal(record.settings.batchSize, sae.batchSize);
    assert.equal(record.settings.epochs, sae.epochs);
    // SAELens' shapes, in sae.json and in the files themselves.
    const shapes = { W_enc: [width, latents], b_enc: [latents], W_dec: [latents, width], b_dec: [width] } as const;
    for (const [name, shape] of Object.entries(shapes)) {
      const file = path.join(runA, 'sae', `${name}.npy`);
      const { values, shape: onDisk } = await npy(file);
      assert.deepEqual(onDisk, shape, name);
      assert.deepEqual(record.files[name as keyof typeof shapes].shape, shape, `sae.json's ${name} shape`);
      assert.equal(record.files[name as keyof typeof shapes].file, `${name}.npy`);
      assert.ok(values.every(Number.isFinite), `${name} is finite`);
    }
    // Unit-norm decoder rows ([latents, width]).
    const { values: decoder } = await npy(path.join(runA, 'sae', 'W_dec.npy'));
    for (let l = 0; l < latents; l++) {
      let norm = 0;
      for (let d = 0; d < width; d++) norm += decoder[l * width + d]! ** 2;
      assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-3, `W_dec row ${l} has norm ${Math.sqrt(norm)}`);
    }
    assert.ok(Number.isFinite(record.inputScale) && record.inputScale > 0, `inputScale ${record.inputScale}`);
    const e = record.evaluation;
    assert.ok(Number.isFinite(e.varianceExplained) && e.varianceExplained <= 1, `variance explained ${e.varianceExplained}`);
    assert.ok(e.l0 > 0 && e.l0 <= sae.k, `L0 ${e.l0}`);
    assert.ok(Number.isInteger(e.deadLatents) && e.deadLatents >= 0 && e.deadLatents <= latents, `dead latents ${e.deadLatents}`);
    assert.ok(Number.isFinite(e.lossRecovered), `loss recovered ${e.lossRecovered}`);
    const loss = e.nextTokenLoss;
    assert.ok([loss.clean, loss.reconstructed, loss.zeroAblated].every((v) => Number.isFinite(v) && v > 0), JSON.stringify(loss));
    assert.ok(loss.tokens > 0);
    assert.ok(Math.abs(e.lossRecovered - (loss.zeroAblated - loss.reconstructed) / (loss.zeroAblated - loss.clean)) < 1e-9, 'loss recovered is (L_zero − L_sae) / (L_zero − L_clean)');
    assert.ok(e.trainTokens > 0 && e.heldOutTokens > 0);
    assert.equal(e.steps, Math.floor(e.trainTokens / sae.batchSize) * sae.epochs);
    assert.equal(e.epochLoss.length, sae.epochs);
    assert.equal(record.data.poolExamples, pool);
    assert.equal(record.data.trainFiles + record.data.heldOutFiles, pool);
    assert.equal(record.data.heldOutExamples.length, record.data.heldOutFiles);

    const features = await readJson<FeaturesFile>(path.join(runA, 'sae', 'features.json'));
    assert.deepEqual(Object.keys(features).sort(), ['features', 'k', 'latents', 'layer', 'model', 'site']);
    assert.deepEqual([features.site, features.layer, features.latents, features.k, features.model], ['mlp_out', 1, latents, sae.k, path.basename(record.model.path)]);
    assert.ok(features.features.length > 0 && features.features.length <= 64);
    const stats = await readCsv(path.join(runA, 'stats.csv'));
    const spanTokens = new Map(stats.filter((r) => r['site'] === 'mlp_out' && r['layer'] === '1' && r['pooling'] === 'all').map((r) => [r['example']!, Number(r['token_count'])]));
    for (const [i, f] of features.features.entries()) {
      assert.deepEqual(Object.keys(f).sort(), ['density', 'examples', 'latent', 'qualityP', 'qualityRho'], `feature ${i}`);
      assert.ok(Number.isInteger(f.latent) && f.latent >= 0 && f.latent < latents);
      assert.ok(f.density > 0 && f.density <= 1);
      if (i > 0) assert.ok(features.features[i - 1]!.density >= f.density, 'densest first');
      assert.ok(f.qualityRho === null || Math.abs(f.qualityRho) <= 1);
      assert.ok(f.examples.length > 0 && f.examples.length <= 8);
      for (const x of f.examples) {
        assert.deepEqual(Object.keys(x).sort(), ['example', 'id', 'maxActivation', 'tokens']);
        assert.equal(x.tokens.length, spanTokens.get(String(x.example)), `feature ${f.latent} example ${x.example}: one entry per span token`);
        assert.equal(Math.max(...x.tokens.map((t) => t.activation)), x.maxActivation);
        assert.ok(x.tokens.every((t) => typeof t.text === 'string'));
      }
    }

    // stats.csv: the sae columns after the activation statistics, one row per pool example, filled.
    const header = (await readFile(path.join(runA, 'stats.csv'), 'utf8')).split('\n')[0]!.split(',');
    const columns = [...saeColumns, ...record.topLatents.map((l) => `max_f${l}`)];
    assert.deepEqual(header.slice(-columns.length), columns);
    assert.deepEqual(record.statistics, columns);
    assert.ok(record.topLatents.length > 0);
    const saeRows = stats.filter((r) => r['site'] === 'sae');
    assert.equal(saeRows.length, pool, 'one sae row per pool example');
    assert.deepEqual(new Set(saeRows.map((r) => r['example'])), new Set(spanTokens.keys()));
    for (const r of saeRows) {
      assert.deepEqual([r['layer'], r['mask'], r['pooling']], ['1', 'isolated', 'all']);
      assert.equal(Number(r['token_count']), spanTokens.get(r['example']!), `example ${r['example']}: the span's tokens`);
      for (const c of columns) assert.ok(r[c] !== '' && Number.isFinite(Number(r[c])), `example ${r['example']} ${c} = "${r[c]}"`);
      const distinct = Number(r['distinct_features']);
      assert.ok(Number.isInteger(distinct) && distinct >= 1 && distinct <= sae.k * Number(r['token_count']));
      assert.ok(Number(r['reconstruction_error']) >= 0 && Number(r['feature_entropy']) >= 0);
    }
    assert.ok(stats.filter((r) => r['site'] !== 'sae').every((r) => columns.every((c) => r[c] === '')), 'activation rows leave the sae columns empty');

    const correlations = await readCsv(path.join(runA, 'correlations.csv'));
    const saeCells = correlations.filter((r) => r['site'] === 'sae');
    assert.deepEqual(new Set(saeCells.map((r) => r['statistic'])), new Set(columns));
    assert.ok(saeCells.every((r) => r['n'] === String(pool) && r['layer'] === '1'));
    assert.ok(saeCells.some((r) => Number.isFinite(Number(r['rho']))));

    const selections = await readCsv(path.join(runA, 'selections.csv'));
    const curves = await readCsv(path.join(runA, 'curves.csv'));
    for (const strategy of saeStrategyNames) {
      for (const seed of ['0', '1']) {
        for (const budget of ['2', '4']) {
          const picked = selections.filter((r) => r['strategy'] === strategy && r['seed'] === seed && r['budget'] === budget);
          assert.equal(picked.length, Number(budget), `${strategy} seed ${seed} budget ${budget}`);
          assert.equal(new Set(picked.map((r) => r['example'])).size, picked.length, 'no example twice');
          const rows = curves.filter((r) => r['strategy'] === strategy && r['seed'] === seed && r['budget'] === budget);
          assert.equal(rows.length, 2, `${strategy} seed ${seed} budget ${budget}: a curve row per metric`);
          assert.ok(rows.every((r) => Number.isFinite(Number(r['value']))));
        }
      }
    }
  });

  it('encodes as sae.json says: the .npy files and inputScale give the codes and reconstruction error the phase used', async () => {
    const saeDir = path.join(runA, 'sae');
    const record = await readJson<SaeRecord>(path.join(saeDir, 'sae.json'));
    const { values: wEnc } = await npy(path.join(saeDir, 'W_enc.npy'));
    const { values: bEnc } = await npy(path.join(saeDir, 'b_enc.npy'));
    const { values: wDec } = await npy(path.join(saeDir, 'W_dec.npy'));
    const { values: bDec } = await npy(path.join(saeDir, 'b_dec.npy'));
    const { width, latents, k } = record.settings;
    // The example of the densest feature's strongest activation: its tokens' activations are in features.json too.
    const features = await readJson<FeaturesFile>(path.join(saeDir, 'features.json'));
    const shown = features.features[0]!.examples[0]!;
    const { values: x, shape } = await npy(path.join(saeDir, 'activations', `${shown.example}_L${record.layer}.npy`));
    assert.equal(shape[1], width);
    const tokens = shape[0]!;

    /** The formula of sae.json's `encoder`, in float64: the codes, and each token's ‖x − x̂‖² / ‖x‖². */
    const encode = (scale: number): { codes: Map<number, number>[]; errors: number[] } => {
      const codes: Map<number, number>[] = [];
      const errors: number[] = [];
      for (let t = 0; t < tokens; t++) {
        const row = x.subarray(t * width, (t + 1) * width);
        const pre = Array.from({ length: latents }, (_, l) => {
          let sum = bEnc[l]!;
          for (let d = 0; d < width; d++) sum += (row[d]! * scale - bDec[d]!) * wEnc[d * latents + l]!;
          return sum;
        });
        const kept = pre
          .map((v, l) => [l, v] as const)
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, k)
          .filter(([, v]) => v > 0);
        codes.push(new Map(kept));
        let num = 0;
        let den = 0;
        for (let d = 0; d < width; d++) {
          let xHat = bDec[d]!;
          for (const [l, v] of kept) xHat += v * wDec[l * width + d]!;
          xHat /= scale;
          num += (row[d]! - xHat) ** 2;
          den += row[d]! ** 2;
        }
        errors.push(num / den);
      }
      return { codes, errors };
    };
    const { codes, errors } = encode(record.inputScale);
    const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} here, ${b} in the run`);

    // features.json: the feature's activation on every token.
    const latent = features.features[0]!.latent;
    assert.equal(shown.tokens.length, tokens);
    shown.tokens.forEach((t, i) => close(codes[i]!.get(latent) ?? 0, t.activation, `latent ${latent} on token ${i}`));
    // stats.csv: the example's row of the site sae.
    const row = (await readCsv(path.join(runA, 'stats.csv'))).find((r) => r['site'] === 'sae' && r['example'] === String(shown.example))!;
    const mean = errors.reduce((a, b) => a + b, 0) / tokens;
    close(mean, Number(row['reconstruction_error']), 'mean relative reconstruction error');
    assert.equal(new Set(codes.flatMap((c) => [...c.keys()])).size, Number(row['distinct_features']), 'distinct features');
    for (const top of record.topLatents) close(Math.max(0, ...codes.map((c) => c.get(top) ?? 0)), Number(row[`max_f${top}`]), `max_f${top}`);
    // The check has teeth: the activations taken without inputScale give another error.
    const unscaled = encode(1).errors.reduce((a, b) => a + b, 0) / tokens;
    assert.ok(Math.abs(unscaled - mean) > 1e-3 * mean, `without inputScale the error is ${unscaled}, with it ${mean}`);
  });

  it('resumes the finished run without training again: sae.json and every result byte-identical', async () => {
    const before = new Map<string, Buffer>();
    for (const file of [...resultFiles, 'sae/sae.json']) before.set(file, await readFile(path.join(runA, file)));
    const resumed = await quietly(() => runRunCommand(saeConfig, { out: runA, resume: true, report: false }));
    assert.equal(resumed.code, 0, resumed.output);
    assert.match(resumed.output, /sae: sae[/\\]sae\.json matches this config, model and inputs: reused \(no training\)/);
    assert.doesNotMatch(resumed.output, /sae: training/);
    for (const [file, bytes] of before) assert.ok((await readFile(path.join(runA, file))).equals(bytes), `${file} changed on resume`);
    const run = await readJson<{ phases: Record<string, { status: string; reused: number; invocations: number }> }>(path.join(runA, 'run.json'));
    assert.equal(run.phases['sae']?.status, 'complete');
    assert.ok(run.phases['sae']!.reused >= 1, 'the resume reused the SAE');
    assert.equal(run.phases['sae']!.invocations, 2);
  });

  it('trains the same bytes in a fresh run of the same seed', async () => {
    const runB = path.join(dir, 'run-b');
    const second = await quietly(() => runRunCommand(saeConfig, { out: runB, resume: false, report: false }));
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, /sae: training 128 latents/);
    for (const file of resultFiles) assert.ok((await readFile(path.join(runB, file))).equals(await readFile(path.join(runA, file))), `${file} differs between two runs of one seed`);
    // sae.json too, but for when and how fast.
    const timeless = async (folder: string): Promise<unknown> => {
      const r = await readJson<SaeRecord & { evaluation: Record<string, unknown> }>(path.join(folder, 'sae', 'sae.json'));
      return { ...r, createdAt: undefined, evaluation: { ...r.evaluation, trainingMs: undefined, tokensPerSecond: undefined } };
    };
    assert.deepEqual(await timeless(runB), await timeless(runA));
  });

  it('icl-lab sae RUN trains on a run made without sae: and adds the sae rows and cells', async () => {
    const runC = path.join(dir, 'run-c');
    const plain = await quietly(() => runRunCommand(plainConfig, { out: runC, resume: false, report: false }));
    assert.equal(plain.code, 0, plain.output);
    assert.equal(existsSync(path.join(runC, 'sae')), false);
    const statsBefore = (await readFile(path.join(runC, 'stats.csv'), 'utf8')).trim().split('\n');
    assert.ok(!statsBefore.some((line) => line.split(',')[1] === 'sae'));

    const trained = await quietly(() => runSaeCommand(runC, { expansion: sae.expansion, k: sae.k, epochs: sae.epochs, report: false, progress: 'text' }));
    assert.equal(trained.code, 0, trained.output);
    assert.match(trained.output, /variance explained +-?\d\.\d{3}/);
    assert.match(trained.output, /loss recovered +-?\d\.\d{3}/);
    const record = await readJson<SaeRecord>(path.join(runC, 'sae', 'sae.json'));
    assert.equal(record.seed, 7, "the run's seed");
    assert.deepEqual([record.settings.latents, record.settings.k, record.settings.epochs], [64 * sae.expansion, sae.k, sae.epochs]);
    for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec']) assert.ok(existsSync(path.join(runC, 'sae', `${name}.npy`)), name);

    const statsText = await readFile(path.join(runC, 'stats.csv'), 'utf8');
    const lines = statsText.trim().split('\n');
    const columns = [...saeColumns, ...record.topLatents.map((l) => `max_f${l}`)];
    assert.equal(lines[0], `${statsBefore[0]},${columns.join(',')}`);
    // The activation rows are kept, with empty sae cells; the sae rows follow, one per pool example.
    statsBefore.slice(1).forEach((line, i) => assert.equal(lines[i + 1], line + ','.repeat(columns.length)));
    const saeRows = (await readCsv(path.join(runC, 'stats.csv'))).filter((r) => r['site'] === 'sae');
    assert.equal(saeRows.length, pool);
    assert.ok(saeRows.every((r) => columns.every((c) => Number.isFinite(Number(r[c])) && r[c] !== '')));
    const correlations = await readCsv(path.join(runC, 'correlations.csv'));
    assert.deepEqual(new Set(correlations.filter((r) => r['site'] === 'sae').map((r) => r['statistic'])), new Set(columns));

    // Again: the folder's SAE is reused, and stats.csv is the same.
    const again = await quietly(() => runSaeCommand(runC, { expansion: sae.expansion, k: sae.k, epochs: sae.epochs, report: false, progress: 'text' }));
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /sparse autoencoder \(reused/);
    assert.equal(await readFile(path.join(runC, 'stats.csv'), 'utf8'), statsText);

    // A resume of the run (whose config has no sae:) keeps the SAE and its rows, without training.
    const correlationsText = await readFile(path.join(runC, 'correlations.csv'), 'utf8');
    const resumed = await quietly(() => runRunCommand(plainConfig, { out: runC, resume: true, report: false }));
    assert.equal(resumed.code, 0, resumed.output);
    assert.match(resumed.output, /keeping the sparse autoencoder/);
    assert.equal(await readFile(path.join(runC, 'stats.csv'), 'utf8'), statsText);
    assert.equal(await readFile(path.join(runC, 'correlations.csv'), 'utf8'), correlationsText);
    assert.deepEqual(await readJson<SaeRecord>(path.join(runC, 'sae', 'sae.json')), record);
  });
});
