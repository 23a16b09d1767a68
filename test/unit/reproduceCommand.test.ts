import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'yaml';
import { runReproduce, type ReproduceCliOptions, type ReproduceDeps } from '../../src/cli/reproduce.js';
import type { RunCliOptions } from '../../src/cli/run.js';
import { writeSyntheticCell } from '../support/syntheticReproduceCell.js';

/** Made-up rows: `{"id", "text", "label"}` (classification) or `{"id", "question", "answers"}`. */
const rows = (n: number, generative: boolean): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify(generative ? { id: `q${i}`, question: `what is ${i} plus one`, answers: [String(i + 1)] } : { id: `r${i}`, text: `item number ${i} ${'is fine '.repeat(i % 4)}`, label: i % 2 })).join('\n') + '\n';

describe('icl-lab reproduce (cells run by an injected runner)', () => {
  let root: string;
  let datasets: string;
  let presetFile: string;
  let calls: { configFile: string; options: RunCliOptions }[];
  let lines: string[];
  const originalError = console.error;
  const originalLog = console.log;

  /** A runner that records its calls and leaves a finished (or cancelled) cell behind. */
  const deps = (status: 'complete' | 'cancelled' = 'complete', code = 0): ReproduceDeps => ({
    runCell: async (configFile, options) => {
      calls.push({ configFile, options });
      await writeSyntheticCell(options.out!, { status });
      return code;
    },
    resolveModel: async (model) => ('file' in model ? path.resolve(root, model.file) : undefined),
    calibrate: async () => ({ extractSecondsPerToken: 0.01, scoringSecondsPerToken: 0.001, charsPerToken: 4 }),
  });
  const run = (options: Partial<ReproduceCliOptions>, d: ReproduceDeps): Promise<number> =>
    runReproduce({ presetFile, out: path.join(root, 'grid'), datasets, dryRun: false, report: false, estimate: true, ...options }, d);

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-reproduce-'));
    datasets = path.join(root, 'datasets');
    await mkdir(path.join(datasets, 'toy'), { recursive: true });
    await writeFile(path.join(datasets, 'toy', 'all.jsonl'), rows(40, false));
    await writeFile(path.join(datasets, 'toy', 'labels.json'), JSON.stringify({ '0': 'low', '1': 'high' }));
    await writeFile(path.join(datasets, 'toy', 'qa.jsonl'), rows(40, true));
    await writeFile(path.join(root, 'tiny.gguf'), '');
    presetFile = path.join(root, 'grid.yaml');
    await writeFile(
      presetFile,
      stringify({
        name: 'toy-grid',
        models: [{ name: 'tiny', file: 'tiny.gguf' }],
        datasets: [
          { name: 'toy', file: 'toy/all.jsonl', inputs: ['text'], target: 'label', id: 'id', task: 'classification', labelsJson: 'toy/labels.json', instruction: 'Sort the items.' },
          { name: 'qa', file: 'toy/qa.jsonl', inputs: ['question'], target: 'answers', id: 'id', task: 'generative', instruction: 'Answer.' },
        ],
        study: { split: { test: 10, probe: 5, pool: 20 }, selection: { strategies: ['random', 'uncertainty', 'bm25'], budgets: [2, 4], seeds: [0] } },
      }),
    );
  });
  after(async () => rm(root, { recursive: true, force: true }));
  beforeEach(() => {
    calls = [];
    lines = [];
    console.error = (...args: unknown[]) => void lines.push(args.join(' '));
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  });
  afterEach(() => {
    console.error = originalError;
    console.log = originalLog;
  });

  it('runs every cell into DIR/<model>/<dataset>, writes its config beside it and the table after each', async () => {
    assert.equal(await run({}, deps()), 0, lines.join('\n'));
    assert.deepEqual(calls.map((c) => path.relative(root, c.options.out!)), [path.join('grid', 'tiny', 'toy'), path.join('grid', 'tiny', 'qa')]);
    assert.deepEqual(calls.map((c) => c.options.resume), [false, false]);
    assert.equal(calls[0]!.configFile, path.join(root, 'grid', 'tiny', 'toy.run.yaml'));
    const config = await readFile(calls[1]!.configFile, 'utf8');
    assert.match(config, /task: generative/);
    assert.doesNotMatch(config, /uncertainty/, 'a generative cell drops uncertainty');
    assert.match(await readFile(calls[0]!.configFile, 'utf8'), /labels:\n\s+"0": low\n\s+"1": high/);
    const table = parse(await readFile(path.join(root, 'grid', 'table.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(table.map((r) => `${r['model']}/${r['dataset']}/${r['mask']}`), ['tiny/toy/isolated', 'tiny/toy/in-context', 'tiny/qa/isolated', 'tiny/qa/in-context']);
    assert.match(await readFile(path.join(root, 'grid', 'table.md'), 'utf8'), /^Preset `toy-grid`: 2 of 2 cells finished\./);
    assert.match(await readFile(path.join(root, 'grid', 'summary.md'), 'utf8'), /^Preset `toy-grid`: 2 of 2 cells finished\.\n\n- \*\*toy\*\* — tiny: largest \|ρ\| /m);
    assert.ok(existsSync(path.join(root, 'grid', 'tiny', 'qa', 'table.csv')), "each cell's own rows, to commit");
    assert.ok(lines.some((l) => /^grid: ≈\d+ tokens; expected time ≈/.test(l)), 'the estimate is printed before the cells run');
    assert.ok(lines.some((l) => /^\[2\/2\] tiny\/qa: done in \d+s \(expected /.test(l)));
  });

  it('skips finished cells and resumes an interrupted one', async () => {
    await writeSyntheticCell(path.join(root, 'grid', 'tiny', 'qa'), { status: 'cancelled' });
    assert.equal(await run({}, deps()), 0, lines.join('\n'));
    assert.deepEqual(calls.map((c) => [path.basename(c.options.out!), c.options.resume]), [['qa', true]]);
    assert.ok(lines.some((l) => l.includes('1 cell is finished already: tiny/toy')));
    calls = [];
    assert.equal(await run({}, deps()), 0);
    assert.deepEqual(calls, [], 'nothing left to run');
  });

  it('--refresh resumes the finished cells too, rewriting their configs, so this version recomputes their analysis', async () => {
    const config = path.join(root, 'grid', 'tiny', 'toy.run.yaml');
    await writeFile(config, '# stale\n');
    assert.equal(await run({ refresh: true }, deps()), 0, lines.join('\n'));
    assert.deepEqual(calls.map((c) => [path.basename(c.options.out!), c.options.resume]), [['toy', true], ['qa', true]]);
    assert.match(await readFile(config, 'utf8'), /^# icl-lab reproduce, preset toy-grid, cell tiny\/toy/);
    assert.ok(lines.some((l) => /^\[1\/2\] tiny\/toy \(refreshing\)/m.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^\[1\/2\] tiny\/toy: done in \d+s$/.test(l)), 'no estimate for a refresh');
  });

  it('stops at a cancelled cell, keeping the table of the finished ones', async () => {
    const out = path.join(root, 'cancel');
    assert.equal(await run({ out }, deps('cancelled', 130)), 130);
    assert.equal(calls.length, 1);
    assert.match(await readFile(path.join(out, 'table.md'), 'utf8'), /0 of 2 cells finished/);
  });

  it('--dry-run prints the plan and the estimate and runs nothing; --shard and --only pick cells', async () => {
    const out = path.join(root, 'dry');
    assert.equal(await run({ out, dryRun: true }, deps()), 0);
    assert.equal(calls.length, 0);
    assert.ok(lines.some((l) => /^tiny\/toy +20\/5\/10 +≈\d+ \+ \d+ +≈/.test(l)), lines.join('\n'));
    assert.ok(!existsSync(path.join(out, 'table.csv')));
    assert.equal(await run({ out, shard: { index: 2, count: 2 } }, deps()), 0);
    assert.deepEqual(calls.map((c) => path.basename(c.options.out!)), ['qa']);
    calls = [];
    assert.equal(await run({ out: path.join(root, 'only'), only: ['tiny/toy'] }, deps()), 0);
    assert.deepEqual(calls.map((c) => path.basename(c.options.out!)), ['toy']);
  });

  it('names a missing dataset file and a missing datasets folder', async () => {
    await rm(path.join(datasets, 'toy', 'qa.jsonl'));
    try {
      assert.equal(await run({ out: path.join(root, 'missing') }, deps()), 1);
      assert.ok(lines.some((l) => l.includes(`missing dataset file: ${path.join(datasets, 'toy', 'qa.jsonl')} (dataset qa)`)), lines.join('\n'));
      assert.deepEqual(calls, []);
      assert.equal(await run({ out: path.join(root, 'missing'), datasets: path.join(root, 'nowhere') }, deps()), 1);
      assert.ok(lines.some((l) => l.includes(`datasets folder ${path.join(root, 'nowhere')} not found; give it with --datasets DIR`)));
    } finally {
      await writeFile(path.join(datasets, 'toy', 'qa.jsonl'), rows(40, true));
    }
  });
});
