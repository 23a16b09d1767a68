import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBudget } from '../../src/core/experiment/acquisition.js';
import { listRunFolders } from '../../src/core/experiment/runFolders.js';
import { formatPromptDocument, parsePromptDocument } from '../../src/core/inspect/promptDocument.js';
import { buildPromptPreview, promptChoices, type PromptPreview } from '../../src/core/inspect/promptPreview.js';
import { formatValue, layerTableMarkdown, rowHoverMarkdown, rowLensTitle } from '../../src/core/inspect/rowSummary.js';
import { readRowStarts, rowAtLine, rowsInLines } from '../../src/core/inspect/rowStarts.js';
import { readRunVectors } from '../../src/core/inspect/runVectors.js';
import { loadRunIndex, newestRunOnFile, type RunIndex } from '../../src/core/inspect/runIndex.js';
import { demonstrationOf } from '../../src/core/quality/promptEvaluation.js';
import { demonstrationOrder } from '../../src/core/selection/demonstrationOrder.js';
import { centredUnitVectors } from '../../src/core/selection/embeddings.js';
import { cosineSimilarity } from '../../src/core/selection/vectorDistance.js';
import { renderPromptPrefix, renderQuerySuffix } from '../../src/core/template/promptRenderer.js';
import { runCli } from '../support/runCli.js';
import { demonstrationText, syntheticRows, writeSyntheticRun, type SyntheticRun } from '../support/syntheticRunFolder.js';

describe('run inspection', () => {
  let root: string;
  let run: SyntheticRun;
  let index: RunIndex;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-inspect-'));
    run = await writeSyntheticRun(root);
    index = await loadRunIndex(run.dir);
  });
  after(async () => rm(root, { recursive: true, force: true }));

  describe('the row index', () => {
    it('knows every row of the three splits, with its split and line', () => {
      const { pool, probe, test } = run.splits;
      assert.equal(index.rows.size, pool.length + probe.length + test.length);
      for (const [split, rows] of Object.entries(run.splits)) {
        for (const row of rows) {
          assert.equal(index.rows.get(row.index)!.split, split);
          assert.equal(index.rows.get(row.index)!.row.line, row.index + 1);
        }
      }
      assert.equal(index.stale, undefined);
    });

    it('gives a pool row its quality values, the run\'s quality metric first', () => {
      const row = run.splits.pool[2]!;
      const quality = index.rows.get(row.index)!.quality;
      assert.deepEqual(quality.map((q) => [q.metric, q.value]), [['gold_logprob', row.index / 100], ['accuracy', 0.5]]);
    });

    it('reads the selection statistic at the resolved layer and every layer under the selection mask, site and pooling only', () => {
      const row = run.splits.pool[4]!;
      const inspection = index.rows.get(row.index)!;
      assert.deepEqual(index.chosen, { mask: 'isolated', site: 'mlp_out', layer: 2, statistic: 'kurtosis', pooling: 'all' });
      assert.equal(inspection.statistic, run.statValue(row.index, 2, 'kurtosis'));
      assert.deepEqual([...inspection.layers!.keys()], [0, 1, 2, 3]);
      // The shared-prefix mask and the other poolings were written 1000 higher, resid_post 5000: none of them leaks in.
      assert.equal(inspection.layers!.get(3)!['max_abs'], run.statValue(row.index, 3, 'max_abs'));
    });

    it('lists the selections holding a row with seed, budget, round and place', () => {
      const row = run.splits.pool[3]!;
      assert.deepEqual(
        index.rows.get(row.index)!.selections.map((s) => [s.strategy, s.seed, s.budget, s.round, s.order]),
        [['random', 0, 2, 1, 0], ['random', 1, 2, 2, 1]],
      );
      const test = run.splits.test[0]!;
      assert.deepEqual(index.rows.get(test.index)!.selections, []);
      assert.equal(index.rows.get(test.index)!.layers, undefined);
    });

    it('says a row is selected, its quality and statistic in one CodeLens line', () => {
      const row = run.splits.pool[3]!;
      const k = run.statValue(row.index, 2, 'kurtosis');
      assert.equal(rowLensTitle(index, index.rows.get(row.index)!), `quality ${row.index / 100} (one-shot gold_logprob) · kurtosis L2 ${formatValue(k)} · selected by random, round 1 (+1 more)`);
      assert.match(rowLensTitle(index, index.rows.get(row.index)!, 'mean'), /· mean L2 /);
      assert.equal(rowLensTitle(index, index.rows.get(run.splits.test[0]!.index)!), 'test row');
    });

    it('hovers with a layer × statistic table, the selection layer in bold', () => {
      const row = run.splits.pool[3]!;
      const markdown = rowHoverMarkdown(index, index.rows.get(row.index)!, 'run-a');
      assert.match(markdown, /\| layer \| mean \| variance \| skewness \| kurtosis \| max_abs \|/);
      assert.match(markdown, /\n\| \*\*2\*\* \| \*\*/);
      assert.match(markdown, /random, seed 0, budget 2, round 1 — demonstration 1/);
      const table = layerTableMarkdown(new Map([[0, { mean: 1.23456, kurtosis: NaN }], [1, { mean: 123456, kurtosis: 0.0001 }]]), undefined, ['mean', 'kurtosis']);
      assert.equal(table, '| layer | mean | kurtosis |\n|---:|---:|---:|\n| 0 | 1.235 | nan |\n| 1 | 1.23e+5 | 1.00e-4 |');
    });

    it('picks the newest complete run on a data file', async () => {
      const other = await writeSyntheticRun(root, 'run-b');
      await utimes(path.join(other.dir, 'run.json'), 2_000_000, 2_000_000);
      await utimes(path.join(run.dir, 'run.json'), 1_000_000, 1_000_000);
      const runs = await listRunFolders(root);
      assert.equal(newestRunOnFile(runs, run.dataFile)?.dir, run.dir);
      assert.equal(newestRunOnFile(runs, other.dataFile)?.dir, other.dir);
      assert.equal(newestRunOnFile(runs, path.join(root, 'elsewhere.jsonl')), undefined);
    });

    it('flags a data file that changed since the run', async () => {
      const changed = await writeSyntheticRun(root, 'run-c');
      const lines = syntheticRows(12).split('\n');
      const moved = run.splits.pool[0]!.index;
      lines[moved] = JSON.stringify({ id: 'renamed', text: 'a different note', label: 0 });
      await writeFile(changed.dataFile, lines.join('\n'));
      const stale = await loadRunIndex(changed.dir);
      assert.match(stale.stale!, /the data file changed since the run: .*names row \d+ "r\d+", the file now has "renamed"/);
    });
  });

  describe('row lines', () => {
    it('finds where each row starts in JSON Lines with blank lines, CSV with quoted line breaks and JSON arrays, bad rows included', async () => {
      const write = async (name: string, text: string): Promise<string> => {
        const file = path.join(root, name);
        await writeFile(file, text);
        return file;
      };
      assert.deepEqual(await readRowStarts(await write('starts.jsonl', '{"a":1}\n\n{"a":2}\nnot json\n{"a":3}\n')), [1, 3, 4, 5]);
      assert.deepEqual(await readRowStarts(await write('starts.csv', 'text,label\n"two\nlines",1\nplain,0\n')), [2, 4]);
      assert.deepEqual(await readRowStarts(await write('starts.json', '[\n  {"a": 1,\n   "b": 2},\n  {"a": 3}\n]\n')), [2, 4]);
    });

    it('maps an editor line to the row holding it, and a selection to the rows it touches', () => {
      const starts = [2, 4, 5, 9];
      assert.deepEqual([1, 2, 3, 4, 8, 9, 20].map((line) => rowAtLine(starts, line)), [undefined, 0, 0, 1, 2, 3, 3]);
      assert.deepEqual(rowsInLines(starts, 3, 5), [0, 1, 2]);
      assert.deepEqual(rowsInLines(starts, 6, 6), [2]);
    });
  });

  describe('the prompt preview', () => {
    it('lists the evaluated selections, KATE per seed and budget', () => {
      assert.deepEqual(promptChoices(index).map((c) => `${c.strategy}/${c.seed}/${c.budget}`), ['random/0/2', 'random/1/2', 'highest-first/0/2', 'highest-first/1/2', 'kate/0/2', 'kate/1/2']);
    });

    it('renders the selection in the seeded demonstration order before the first test row, exactly as the run did', async () => {
      const preview = await buildPromptPreview(index, { strategy: 'random', seed: 0, budget: 2 });
      const [p3, p0] = [run.splits.pool[3]!, run.splits.pool[0]!];
      // The evaluate phase's one order rule; at seed 0 it happens to keep the selection order.
      assert.deepEqual(demonstrationOrder([p0.index, p3.index], 0), [p3.index, p0.index]);
      const [h1, h2] = [run.splits.pool.at(-1)!, run.splits.pool.at(-2)!];
      const reordered = await buildPromptPreview(index, { strategy: 'highest-first', seed: 1, budget: 2 });
      assert.deepEqual(reordered.demonstrations.map((d) => d.example), demonstrationOrder([h1.index, h2.index], 1));
      const query = run.splits.test[0]!;
      assert.equal(preview.text, `Sort the notes.\n---\n${demonstrationText(p3)}\n---\n${demonstrationText(p0)}\n---\nNote: ${query.inputs['text']}\nKind:`);
      assert.deepEqual(preview.pieces.map((p) => p.kind), ['instruction', 'separator', 'demonstration', 'separator', 'demonstration', 'separator', 'query', 'answer-prefix']);
      assert.deepEqual(preview.demonstrations.map((d) => [d.example, d.round, d.line]), [[p3.index, 1, p3.index + 1], [p0.index, 2, p0.index + 1]]);
      assert.deepEqual(preview.query, { example: query.index, id: query.id, line: query.index + 1, split: 'test' });
      assert.equal(preview.evaluated, true);
      assert.deepEqual(preview.warnings, []);
      for (const piece of preview.pieces) assert.equal(preview.text.slice(piece.start, piece.end), piece.text);
      // The evaluate phase's own rendering: the selection's prefix, then the query suffix.
      const { template, task } = index.prepared;
      const prefix = renderPromptPrefix(template, [p3, p0].map((row) => demonstrationOf(row, task))).text;
      assert.equal(preview.text, prefix + renderQuerySuffix(template, { inputs: query.inputs }).text);
    });

    it('gives KATE the query\'s nearest rows among those random selection labelled at that seed and budget, in the seeded order', async () => {
      const labelled = await randomBudget(run.splits.pool.length, 2, 2, 0);
      const preview = await buildPromptPreview(index, { strategy: 'kate', seed: 0, budget: 2 }, run.splits.test[0]!.index);
      // Budget 2 and retrievalShots 4: both labelled rows, in the seeded order.
      assert.deepEqual(preview.demonstrations.map((d) => d.example), demonstrationOrder(labelled.map((p) => run.splits.pool[p]!.index), 0));
      // One shot: the labelled row whose centred vector is nearest the query's (pool p at p × 20°, query 0 at 45°).
      const oneShot: RunIndex = { ...index, config: { ...index.config, selection: { ...index.config.selection, retrievalShots: 1 } } };
      const angle = (d: number): Float64Array => Float64Array.of(Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180));
      const poolVectors = run.splits.pool.map((_, p) => angle(p * 20));
      const [query] = centredUnitVectors([angle(45)], poolVectors);
      const centred = centredUnitVectors(poolVectors);
      const nearest = [...labelled].sort((a, b) => cosineSimilarity(query!, centred[b]!) - cosineSimilarity(query!, centred[a]!))[0]!;
      const single = await buildPromptPreview(oneShot, { strategy: 'kate', seed: 0, budget: 2 }, run.splits.test[0]!.index);
      assert.deepEqual(single.demonstrations.map((d) => d.example), [run.splits.pool[nearest]!.index]);
      assert.equal(preview.demonstrations[0]!.round, undefined);
      await assert.rejects(buildPromptPreview(index, { strategy: 'kate', seed: 0, budget: 2 }, run.splits.pool[0]!.index), /KATE retrieves for test queries only/);
    });

    it('reads the vectors from the site that embedded: resid_post today, the MLP output in a run.json from before vectorSite existed', async () => {
      const own = await writeSyntheticRun(root, 'run-vectors');
      const found = await readRunVectors(own.dir, own.splits.pool.length, own.splits.test.length);
      assert.equal(found?.pool.length, own.splits.pool.length);
      const checkpoints = path.join(own.dir, 'checkpoints');
      await rename(path.join(checkpoints, 'extract-resid_post-isolated-0.json'), path.join(checkpoints, 'extract-isolated-0.json'));
      assert.equal(await readRunVectors(own.dir, own.splits.pool.length, own.splits.test.length), undefined);
      const record = JSON.parse(await readFile(path.join(own.dir, 'run.json'), 'utf8')) as { config: { selection: Record<string, unknown> } };
      delete record.config.selection['vectorSite'];
      await writeFile(path.join(own.dir, 'run.json'), JSON.stringify(record));
      assert.deepEqual((await readRunVectors(own.dir, own.splits.pool.length, own.splits.test.length))?.pool, found!.pool);
    });

    it('icl-lab prompt prints the same bytes, nothing added; --query takes a row id; unknown choices are named', async function () {
      this.timeout(120_000);
      const preview = await buildPromptPreview(index, { strategy: 'random', seed: 0, budget: 2 });
      const printed = await runCli(['prompt', run.dir, '--strategy', 'random', '--seed', '0', '--budget', '2']);
      assert.equal(printed.code, 0, printed.stderr);
      assert.equal(printed.stdout, preview.text);
      assert.ok(printed.stdout.endsWith('\nKind:'));
      const probe = run.splits.probe[0]!;
      const byId = await runCli(['prompt', run.dir, '--strategy', 'highest-first', '--seed', '1', '--budget', '2', '--query', probe.id]);
      assert.equal(byId.code, 0, byId.stderr);
      assert.equal(byId.stdout, (await buildPromptPreview(index, { strategy: 'highest-first', seed: 1, budget: 2 }, probe.index)).text);
      assert.match(byId.stderr, /^warning: row \d+ is a probe row/m);
      const annotated = await runCli(['prompt', run.dir, '--strategy', 'random', '--seed', '0', '--budget', '2', '--annotated']);
      assert.equal(parsePromptDocument(annotated.stdout).text, preview.text);
      const unknown = await runCli(['prompt', run.dir, '--strategy', 'random', '--seed', '9', '--budget', '2']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no prompt for random, seed 9, budget 2 \(strategies: .*random/);
      const noRow = await runCli(['prompt', run.dir, '--strategy', 'random', '--seed', '0', '--budget', '2', '--query', 'nope']);
      assert.match(noRow.stderr, /no row with id "nope"/);
    });

    it('renders any row of the splits as the query, saying the run did not score that prompt', async () => {
      const probe = run.splits.probe[0]!;
      const preview = await buildPromptPreview(index, { strategy: 'highest-first', seed: 1, budget: 2 }, probe.index);
      assert.equal(preview.evaluated, false);
      assert.match(preview.warnings.join('\n'), /is a probe row: the run scored its prompts on test rows only/);
      await assert.rejects(buildPromptPreview(index, { strategy: 'random', seed: 7, budget: 2 }), /no selection for random, seed 7, budget 2/);
    });

    it('writes a document whose markers give back the exact prompt, with token counts', async () => {
      const preview = await buildPromptPreview(index, { strategy: 'random', seed: 0, budget: 2 });
      const counts = preview.pieces.map((p) => p.text.length);
      const document = formatPromptDocument(preview, { runName: 'run-a', templateName: 'notes.icl.tmpl', model: 'llama, 4 layers' }, counts);
      assert.match(document, /^# ICL Lab prompt preview · run run-a · random, seed 0, budget 2 · query row \d+ \(test split, line \d+\)\n/);
      assert.match(document, /\n#▼ demonstration 1 · row \d+ · line \d+ · round 1 · score 0\.3 · \d+ tokens · \d+ chars\nNote: /);
      assert.match(document, /\n#▼ separator "\\n---\\n" · 5 tokens · 5 chars\n\n---\n\n/);
      assert.match(document, /\n#▲ end of prompt · \d+ tokens · \d+ chars\n$/);
      const parsed = parsePromptDocument(document);
      assert.equal(parsed.text, preview.text);
      assert.equal(parsed.pieces.length, preview.pieces.length);
    });

    it('recovers pieces that hold marker-like lines, trailing line breaks or nothing at all', () => {
      const texts = ['A\n#▼ not a marker · 3 chars\n', '', '\n\n', 'q #▲ end'];
      let start = 0;
      const pieces = texts.map((text, i) => {
        const piece = { kind: i === 1 ? ('query' as const) : ('instruction' as const), text, start, end: start + text.length };
        start += text.length;
        return piece;
      });
      const preview: PromptPreview = {
        choice: { strategy: 'random', seed: 0, budget: 0 },
        text: texts.join(''),
        pieces,
        demonstrations: [],
        query: { example: 0, id: '0', line: 1, split: 'test' },
        evaluated: true,
        warnings: ['two\nlines'],
      };
      const document = formatPromptDocument(preview, { runName: 'r', templateName: 't' });
      assert.equal(parsePromptDocument(document).text, preview.text);
      assert.throws(() => parsePromptDocument('# nothing here\n'), /no #▼ marker line/);
      assert.throws(() => parsePromptDocument(document.replace('· 0 chars', '· 5 chars')), /is not 5 chars followed by a line break/);
    });

    it('keeps the data file untouched', async () => {
      assert.equal(await readFile(run.dataFile, 'utf8'), syntheticRows(12));
    });
  });
});
