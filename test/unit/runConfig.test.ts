import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import {
  RunConfigError,
  checkLayersAgainstModel,
  loadRunConfig,
  parseRunConfig,
  resolveLayer,
  runConfigSchema,
  runConfigToJson,
  changedComputationKeys,
  type RunConfig,
} from '../../src/core/experiment/runConfig.js';

const minimalYaml = ['model: models/tiny.gguf', 'data:', '  file: data/rows.jsonl', '  inputs: text', '  target: label', ''].join('\n');

/** The problems parsing `text` reports; fails when it parses. */
function problemsOf(text: string, file = 'run.yaml'): readonly string[] {
  try {
    parseRunConfig(text, file);
  } catch (error) {
    assert.ok(error instanceof RunConfigError, `expected a RunConfigError, got ${String(error)}`);
    assert.equal(error.message, error.problems.join('\n'));
    return error.problems;
  }
  assert.fail('the config was accepted');
}

/** The minimal config with `extra` YAML lines after it. */
function withLines(...extra: string[]): string {
  return minimalYaml + extra.join('\n') + '\n';
}

describe('run configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icl-lab-run-config-'));
    await mkdir(path.join(dir, 'study'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  describe('loading', () => {
    it('reads YAML and resolves relative paths against the config file\'s folder, not the working directory', async () => {
      const file = path.join(dir, 'study', 'run.yaml');
      await writeFile(file, withLines('template: ../templates/mine.icl.tmpl', 'output: runs/first'));
      const config = await loadRunConfig(file);
      assert.equal(config.configFile, file);
      assert.equal(config.model, path.join(dir, 'study', 'models', 'tiny.gguf'));
      assert.equal(config.data.file, path.join(dir, 'study', 'data', 'rows.jsonl'));
      assert.equal(config.template, path.join(dir, 'templates', 'mine.icl.tmpl'));
      assert.equal(config.output, path.join(dir, 'study', 'runs', 'first'));
    });

    it('reads JSON the same way, keeping absolute paths as they are', async () => {
      const file = path.join(dir, 'study', 'run.json');
      const model = path.join(dir, 'elsewhere', 'model.GGUF');
      await writeFile(file, JSON.stringify({ model, data: { file: 'rows.csv', inputs: ['premise', 'hypothesis'], target: 'label' }, seed: 7 }));
      const config = await loadRunConfig(file);
      assert.equal(config.model, model);
      assert.equal(config.data.file, path.join(dir, 'study', 'rows.csv'));
      assert.deepEqual(config.data.inputs, ['premise', 'hypothesis']);
      assert.equal(config.seed, 7);
    });

    it('says when the file is missing', async () => {
      const file = path.join(dir, 'absent.yaml');
      await assert.rejects(loadRunConfig(file), { name: 'RunConfigError', message: `${file}: file not found` });
    });

    it('fills in every default for a minimal classification config', () => {
      const config = parseRunConfig(minimalYaml, '/experiments/run.yaml');
      const expected: RunConfig = {
        configFile: '/experiments/run.yaml',
        model: '/experiments/models/tiny.gguf',
        data: { file: '/experiments/data/rows.jsonl', inputs: ['text'], target: 'label', task: 'classification' },
        split: { test: 100, probe: 50 },
        masks: ['isolated', 'shared-prefix', 'in-context'],
        sites: ['mlp_out'],
        span: 'input',
        inContextShots: 4,
        statistics: ['mean', 'variance', 'skewness', 'kurtosis', 'max_abs', 'median_abs', 'max_over_median', 'massive', 'abs_over_100', 'abs_over_1000x_median'],
        poolings: ['all', 'token-mean', 'last'],
        layers: 'all',
        quality: { estimator: 'one-shot', metric: 'gold_logprob', shots: 4, influenceAppearances: 16 },
        selection: {
          strategies: ['random', 'label-balanced-random', 'highest-first', 'lowest-first', 'k-center-greedy', 'k-means++', 'vote-k', 'uncertainty', 'adaicl', 'kate', 'bm25', 'top-quality'],
          budgets: [4, 8, 16, 32],
          rounds: 1,
          seeds: [0, 1, 2],
          statistic: { mask: 'isolated', site: 'mlp_out', layer: 'middle', statistic: 'kurtosis', pooling: 'all' },
          vectorSite: 'resid_post',
          vectorLayer: 'last',
          voteK: { neighbours: 150, rho: 10 },
          embedding: 'model',
          retrievalShots: 4,
        },
        evaluation: { metric: 'accuracy', bootstrap: 1000 },
        correlation: { bootstrap: 1000, maxBootstrap: 500, permutations: 500 },
        seed: 0,
        engine: { gpu: 'auto', contextSize: 4096, batchSize: 512, maxSequences: 64, threads: 0, exact: false },
        histogramExamples: 8,
        scoring: { labels: 'mean' },
      };
      assert.deepEqual(config, expected);
    });

    it('gives generative tasks their own metrics, keeps the template\'s instruction, and the statistic mask follows the first mask', () => {
      const config = parseRunConfig(withLines('  task: generative', 'masks: [in-context, isolated]'), '/x/run.yml');
      assert.equal(config.data.task, 'generative');
      assert.equal(config.quality.metric, 'reference_loglik');
      assert.equal(config.evaluation.metric, 'em');
      assert.equal(config.instruction, undefined);
      assert.equal(config.selection.statistic.mask, 'in-context');
      // The default strategies are the ones a generative task can run.
      assert.deepEqual(config.selection.strategies, ['random', 'highest-first', 'lowest-first', 'k-center-greedy', 'k-means++', 'vote-k', 'kate', 'bm25', 'top-quality']);
    });

    it('keeps the values given over the defaults', () => {
      const config = parseRunConfig(
        withLines(
          'split: {test: 20, probe: 10, pool: 64}',
          'layers: [0, 6, 12]',
          'quality: {estimator: influence, metric: accuracy, shots: 2, prompts: 30}',
          'selection:',
          '  strategies: [kate, random]',
          '  budgets: [2, 4]',
          '  rounds: 2',
          '  statistic: {layer: 6, statistic: max_abs, pooling: last, mask: shared-prefix}',
          '  vectorSite: mlp_out',
          '  vectorLayer: middle',
          '  voteK: {neighbours: 5, rho: 2.5}',
          'engine: {gpu: cpu, exact: true, threads: 4}',
        ),
        '/x/run.yaml',
      );
      assert.deepEqual(config.split, { test: 20, probe: 10, pool: 64 });
      assert.deepEqual(config.layers, [0, 6, 12]);
      assert.deepEqual(config.quality, { estimator: 'influence', metric: 'accuracy', shots: 2, prompts: 30, influenceAppearances: 16 });
      assert.deepEqual(config.selection.strategies, ['kate', 'random']);
      assert.deepEqual(config.selection.statistic, { mask: 'shared-prefix', site: 'mlp_out', layer: 6, statistic: 'max_abs', pooling: 'last' });
      assert.deepEqual([config.selection.vectorSite, config.selection.vectorLayer], ['mlp_out', 'middle']);
      assert.deepEqual(config.selection.voteK, { neighbours: 5, rho: 2.5 });
      assert.deepEqual(config.engine, { gpu: 'cpu', contextSize: 4096, batchSize: 512, maxSequences: 64, threads: 4, exact: true });
    });

    it('reads the sites to extract, the ranking statistic at the first of them unless it names its own', () => {
      const both = parseRunConfig(withLines('sites: [resid_post, mlp_out]'), '/x/run.yaml');
      assert.deepEqual(both.sites, ['resid_post', 'mlp_out']);
      assert.equal(both.selection.statistic.site, 'resid_post');
      const chosen = parseRunConfig(withLines('sites: [resid_post, mlp_out]', 'selection: {statistic: {site: mlp_out}}'), '/x/run.yaml');
      assert.equal(chosen.selection.statistic.site, 'mlp_out');
      assert.deepEqual(parseRunConfig(withLines('sites: [resid_post]'), '/x/run.yaml').sites, ['resid_post']);
    });

    it('reads labels as a map from value to verbalizer, or as a list with numbers read as strings', () => {
      const map = parseRunConfig(withLines('  labels:', '    "0": negative', '    "1": positive'), '/x/run.yaml');
      assert.deepEqual(map.data.labels, [
        { value: '0', verbalizer: 'negative' },
        { value: '1', verbalizer: 'positive' },
      ]);
      const list = parseRunConfig(withLines('  labels:', '    - {value: 1, verbalizer: yes}', '    - {value: 0, verbalizer: no}'), '/x/run.yaml');
      assert.deepEqual(list.data.labels, [
        { value: '1', verbalizer: 'yes' },
        { value: '0', verbalizer: 'no' },
      ]);
      assert.equal(parseRunConfig(minimalYaml, '/x/run.yaml').data.labels, undefined);
    });

    it('accepts a $schema key for editors', () => {
      const config = parseRunConfig(JSON.stringify({ $schema: './run.schema.json', model: 'm.gguf', data: { file: 'd.jsonl', inputs: 'q', target: 'a' } }), '/x/run.json');
      assert.equal(config.model, '/x/m.gguf');
    });
  });

  describe('problems', () => {
    it('names the config file when its YAML is an alias bomb', () => {
      const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdef'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`)].join('\n');
      assert.throws(() => parseRunConfig(bomb, '/w/bomb.run.yaml'), /^RunConfigError: \/w\/bomb\.run\.yaml: Excessive alias count/);
    });

    it('names an array element inside a nested object', () => {
      assert.deepEqual(problemsOf(withLines('selection:', '  budgets: [4, 8, 0]')), ['run.yaml: selection.budgets[2]: must be a whole number ≥ 1, got 0']);
    });

    it('suggests the key an unknown key was probably meant to be', () => {
      assert.deepEqual(problemsOf(withLines('selection:', '  strategy: [random]')), ['run.yaml: selection.strategy: unknown key (did you mean "strategies"?)']);
      assert.deepEqual(problemsOf(withLines('in_context_shots: 2')), ['run.yaml: in_context_shots: unknown key (did you mean "inContextShots"?)']);
      assert.deepEqual(problemsOf(withLines('engine: {flavour: fast}')), [
        'run.yaml: engine.flavour: unknown key (known keys: gpu, contextSize, batchSize, maxSequences, threads, exact)',
      ]);
    });

    it('lists the allowed values of an enum', () => {
      assert.deepEqual(problemsOf(withLines('masks: [isolated, shared_prefix]')), ['run.yaml: masks[1]: "shared_prefix" is not one of isolated, shared-prefix, in-context']);
    });

    it('says which kind of value was expected and which was found', () => {
      assert.deepEqual(problemsOf(withLines('engine: {threads: "4"}', 'split: [1, 2]', 'selection: {vectorLayer: mid}', 'layers: some')), [
        'run.yaml: split: must be a mapping with keys test, probe, pool, got a list',
        'run.yaml: layers: must be "all" or a list of whole numbers ≥ 0, got "some"',
        'run.yaml: selection.vectorLayer: must be a whole number ≥ 0 or one of middle, last, got "mid"',
        'run.yaml: engine.threads: must be a whole number ≥ 0, got "4"',
      ]);
    });

    it('names missing required keys, repeated list items and empty lists', () => {
      assert.deepEqual(problemsOf('model: m.gguf\ndata: {file: d.jsonl, inputs: []}\nseeds: [0]\nselection: {seeds: [1, 2, 1]}\n'), [
        'run.yaml: seeds: unknown key (did you mean "seed"?)',
        'run.yaml: data.target: required key is missing',
        'run.yaml: data.inputs: must not be an empty list',
        'run.yaml: selection.seeds[2]: 1 is listed twice',
      ]);
      assert.deepEqual(problemsOf('data: {file: d.jsonl, inputs: x, target: y}\n'), ['run.yaml: model: required key is missing']);
    });

    it('checks file kinds and refuses "~", which is not expanded', () => {
      assert.deepEqual(problemsOf('model: ~/models/m.gguf\ndata: {file: d.jsonl, inputs: x, target: y}\ntemplate: t.txt\n'), [
        'run.yaml: template: must name a *.icl.tmpl file, got "t.txt"',
        'run.yaml: model: "~" is not expanded: write the path in full, or relative to the config file\'s folder',
      ]);
      assert.deepEqual(problemsOf('model: m.safetensors\ndata: {file: d.txt, inputs: x, target: y}\n'), [
        'run.yaml: model: must name a .gguf file, got "m.safetensors"',
        'run.yaml: data.format: cannot tell the format from the extension of data.file; name one of jsonl, json, csv, tsv',
      ]);
      assert.equal(parseRunConfig('model: m.gguf\ndata: {file: d.txt, format: tsv, inputs: x, target: y}\n', '/x/run.yaml').data.format, 'tsv');
    });

    it('wants budgets ascending, within the pool, and at least as many as the rounds', () => {
      assert.deepEqual(problemsOf(withLines('selection: {budgets: [8, 4, 16]}')), ['run.yaml: selection.budgets[1]: budgets must be in ascending order, got 4 after 8']);
      assert.deepEqual(problemsOf(withLines('split: {pool: 10}', 'selection: {budgets: [4, 8, 16]}', 'inContextShots: 2')), [
        'run.yaml: selection.budgets[2]: budget 16 is larger than the pool (split.pool is 10)',
      ]);
      assert.deepEqual(problemsOf(withLines('selection: {budgets: [2, 8], rounds: 4}')), [
        'run.yaml: selection.rounds: 4 rounds need every budget to be at least 4, but the smallest budget is 2',
      ]);
    });

    it('wants the ranking statistic read under one of the run\'s masks and able to rank', () => {
      assert.deepEqual(problemsOf(withLines('masks: [isolated]', 'selection:', '  statistic: {mask: in-context, statistic: top_dim}')), [
        'run.yaml: selection.statistic.mask: "in-context" is not one of the run\'s masks (isolated)',
        'run.yaml: selection.statistic.statistic: top_dim names a dimension and cannot rank examples; use one of mean, variance, skewness, kurtosis, max_abs, median_abs, max_over_median, massive, abs_over_100, abs_over_1000x_median',
      ]);
      assert.deepEqual(problemsOf(withLines('statistics: [kurtosis, top_dim]')), ['run.yaml: statistics[1]: top_dim names a dimension and cannot enter correlations']);
      assert.deepEqual(problemsOf(withLines('layers: [0, 4]', 'selection: {statistic: {layer: 2}}')), [
        'run.yaml: selection.statistic.layer: layer 2 is not one of the run\'s layers (0, 4)',
      ]);
    });

    it('wants known sites, each once, and the ranking statistic read at one of them', () => {
      assert.deepEqual(problemsOf(withLines('sites: [mlp_out, resid_pre]')), ['run.yaml: sites[1]: "resid_pre" is not one of mlp_out, resid_post']);
      assert.deepEqual(problemsOf(withLines('sites: [resid_post, resid_post]')), ['run.yaml: sites[1]: "resid_post" is listed twice']);
      assert.deepEqual(problemsOf(withLines('sites: []')), ['run.yaml: sites: must not be an empty list']);
      assert.deepEqual(problemsOf(withLines('selection: {statistic: {site: resid_post}}')), [
        'run.yaml: selection.statistic.site: "resid_post" is not one of the run\'s sites (mlp_out); add it to sites',
      ]);
    });

    it('wants an instruction for the shared-prefix mask, but not without it', () => {
      assert.deepEqual(problemsOf(withLines('instruction: "  "')), [
        "run.yaml: instruction: the shared-prefix mask needs a non-empty instruction (leave the key out for the template's)",
      ]);
      assert.equal(parseRunConfig(withLines('instruction: ""', 'masks: [isolated]'), '/x/run.yaml').instruction, '');
    });

    it('reads the span and the influence appearances, and refuses prompts beside appearances', () => {
      const config = parseRunConfig(withLines('span: demonstration', 'quality: {estimator: influence, influenceAppearances: 24}'), '/x/run.yaml');
      assert.equal(config.span, 'demonstration');
      assert.equal(config.quality.influenceAppearances, 24);
      assert.deepEqual(problemsOf(withLines('span: label')).length, 1);
      assert.deepEqual(problemsOf(withLines('quality: {prompts: 30, influenceAppearances: 24}')), [
        'run.yaml: quality.influenceAppearances: give quality.prompts or quality.influenceAppearances, not both',
      ]);
    });

    it('wants metrics of the task', () => {
      assert.deepEqual(problemsOf(withLines('quality: {metric: em}', 'evaluation: {metric: rouge_l}')), [
        'run.yaml: quality.metric: "em" is not a classification metric (use one of gold_logprob, accuracy)',
        'run.yaml: evaluation.metric: "rouge_l" is not a classification metric (use one of gold_logprob, accuracy)',
      ]);
      assert.deepEqual(problemsOf(withLines('  task: generative', 'evaluation: {metric: accuracy}')), [
        'run.yaml: evaluation.metric: "accuracy" is not a generative metric (use one of reference_loglik, em, f1, rouge_l)',
      ]);
      assert.equal(parseRunConfig(withLines('  task: generative', 'evaluation: {metric: f1}'), '/x/run.yaml').evaluation.metric, 'f1');
    });

    it('checks label sets: only for classification, no value or verbalizer twice', () => {
      assert.deepEqual(problemsOf(withLines('  labels:', '    - {value: 0, verbalizer: no}', '    - {value: "0", verbalizer: nope}', '    - {value: 2, verbalizer: no}')), [
        'run.yaml: data.labels[1].value: label "0" is listed twice',
        'run.yaml: data.labels[2].verbalizer: "no" is also the verbalizer of label "0"',
      ]);
      assert.deepEqual(problemsOf(withLines('  labels: {"0": bad, "1": bad}')), ['run.yaml: data.labels["1"]: "bad" is also the verbalizer of label "0"']);
      assert.deepEqual(problemsOf(withLines('  task: generative', '  labels: {a: b}')), ['run.yaml: data.labels: labels apply only to classification (data.task is generative)']);
      assert.deepEqual(problemsOf(withLines('  labels: [{value: 1, verbaliser: x}]')), [
        'run.yaml: data.labels[0].verbalizer: required key is missing',
        'run.yaml: data.labels[0].verbaliser: unknown key (did you mean "verbalizer"?)',
      ]);
    });

    it('reports every problem at once, schema and semantic alike', () => {
      const problems = problemsOf(
        withLines('masks: [isolated, sharedprefix]', 'selection:', '  budgets: [16, 8]', '  rounds: 0', 'engine: {gpu: rocm}', 'quality: {metric: f1}'),
        'lab/run.yaml',
      );
      assert.deepEqual(problems, [
        'lab/run.yaml: masks[1]: "sharedprefix" is not one of isolated, shared-prefix, in-context',
        'lab/run.yaml: selection.rounds: must be a whole number ≥ 1, got 0',
        'lab/run.yaml: engine.gpu: "rocm" is not one of auto, cuda, vulkan, metal, cpu',
        'lab/run.yaml: selection.budgets[1]: budgets must be in ascending order, got 8 after 16',
        'lab/run.yaml: quality.metric: "f1" is not a classification metric (use one of gold_logprob, accuracy)',
      ]);
    });

    it('locates YAML syntax errors by line and column', () => {
      const problems = problemsOf('model: m.gguf\ndata:\n  file: d.jsonl\n  file: e.jsonl\n');
      assert.deepEqual(problems, ['run.yaml:4:3: Map keys must be unique']);
      assert.deepEqual(problemsOf('model: m.gguf\n\tdata: 1\n', 'run.yml'), ['run.yml:2:1: Tabs are not allowed as indentation']);
      const nested = problemsOf('model: m.gguf\ndata:\n  file: d.jsonl\n    inputs: x\n');
      assert.ok(nested.length > 0 && nested.every((p) => p.startsWith('run.yaml:3:9: ')), nested.join('\n'));
    });

    it('locates JSON syntax errors by line and column', () => {
      assert.deepEqual(problemsOf('{\n  "model": "m.gguf",\n  "data": {"file": "d.jsonl",}\n}\n', 'run.json'), [
        'run.json:3:30: malformed JSON: expected a property name in double quotes, found "}"',
      ]);
      assert.deepEqual(problemsOf('{"model": "m.gguf"', 'run.json'), ['run.json:1:19: malformed JSON: unexpected end of file']);
    });

    it('says what is wrong with a file that holds no mapping', () => {
      assert.deepEqual(problemsOf(''), ['run.yaml: the file holds no settings']);
      assert.deepEqual(problemsOf('- model.gguf\n'), ['run.yaml: the file must hold a mapping of settings, got a list']);
    });
  });

  describe('using a resolved config', () => {
    const base = parseRunConfig(withLines('layers: [0, 10, 31]', 'selection: {statistic: {layer: 10}, vectorLayer: last}'), '/x/run.yaml');

    it('resolves middle and last layers', () => {
      assert.equal(resolveLayer('middle', 32), 16);
      assert.equal(resolveLayer('middle', 5), 2);
      assert.equal(resolveLayer('last', 32), 31);
      assert.equal(resolveLayer(3, 32), 3);
      assert.throws(() => resolveLayer(32, 32), RangeError);
    });

    it('checks layers against the model', () => {
      assert.deepEqual(checkLayersAgainstModel(base, 32), []);
      assert.deepEqual(checkLayersAgainstModel(base, 24), ['layers[2]: layer 31 is out of range: the model has 24 layers (0–23)']);
      assert.deepEqual(checkLayersAgainstModel(base, 8), [
        'layers[1]: layer 10 is out of range: the model has 8 layers (0–7)',
        'layers[2]: layer 31 is out of range: the model has 8 layers (0–7)',
        'selection.statistic.layer: layer 10 is out of range: the model has 8 layers (0–7)',
      ]);
      const middle = parseRunConfig(withLines('layers: [0, 4]'), '/x/run.yaml');
      assert.deepEqual(checkLayersAgainstModel(middle, 8), []);
      assert.deepEqual(checkLayersAgainstModel(middle, 12), [
        'selection.statistic.layer: middle is layer 6, which is not one of the run\'s layers (0, 4)',
      ]);
    });

    it('writes plain JSON with absolute paths', () => {
      const json = runConfigToJson(base);
      assert.equal(json.model, '/x/models/tiny.gguf');
      assert.deepEqual((json.data as Record<string, unknown>).file, '/x/data/rows.jsonl');
      assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
      assert.deepEqual(json, JSON.parse(JSON.stringify(base)));
    });

    it('names the top-level keys two configs differ in, ignoring where the config file and the run folder are', () => {
      const moved = parseRunConfig(withLines('layers: [0, 10, 31]', 'selection: {statistic: {layer: 10}, vectorLayer: last}', 'output: elsewhere'), '/x/copy.yaml');
      assert.deepEqual(changedComputationKeys(runConfigToJson(base), runConfigToJson(moved)), []);
      const changed = parseRunConfig(
        withLines('layers: [0, 10]', 'selection: {statistic: {layer: 10}, vectorLayer: last}', 'engine: {threads: 2, contextSize: 2048}', 'template: t.icl.tmpl'),
        '/x/run.yaml',
      );
      assert.deepEqual(changedComputationKeys(runConfigToJson(base), runConfigToJson(changed)), ['engine', 'layers', 'template']);
      // Thread counts change no number: a run may resume with another.
      const threads = parseRunConfig(withLines('layers: [0, 10, 31]', 'selection: {statistic: {layer: 10}, vectorLayer: last}', 'engine: {threads: 2}'), '/x/run.yaml');
      assert.deepEqual(changedComputationKeys(runConfigToJson(base), runConfigToJson(threads)), []);
      const sites = parseRunConfig(withLines('layers: [0, 10, 31]', 'selection: {statistic: {layer: 10}, vectorLayer: last}', 'sites: [mlp_out, resid_post]'), '/x/run.yaml');
      assert.deepEqual(changedComputationKeys(runConfigToJson(base), runConfigToJson(sites)), ['sites']);
    });

    it('resumes a run.json written before sites existed: it read the MLP output, as today\'s default does', () => {
      const old = runConfigToJson(base) as Record<string, unknown>;
      delete old['sites'];
      const selection = old['selection'] as { statistic: Record<string, unknown> };
      delete selection.statistic['site'];
      assert.deepEqual(changedComputationKeys(old, runConfigToJson(base)), []);
      const both = parseRunConfig(withLines('layers: [0, 10, 31]', 'selection: {statistic: {layer: 10}, vectorLayer: last}', 'sites: [mlp_out, resid_post]'), '/x/run.yaml');
      assert.deepEqual(changedComputationKeys(old, runConfigToJson(both)), ['sites']);
      const residual = parseRunConfig(withLines('layers: [0, 10, 31]', 'selection: {statistic: {layer: 10}, vectorLayer: last}', 'sites: [resid_post]'), '/x/run.yaml');
      assert.deepEqual(changedComputationKeys(old, runConfigToJson(residual)), ['selection', 'sites']);
    });

    it('embeds examples by the residual stream after the last layer unless vectorSite and vectorLayer say otherwise', () => {
      const config = parseRunConfig(withLines(), '/x/run.yaml');
      assert.equal(config.selection.embedding, 'model');
      assert.deepEqual([config.selection.vectorSite, config.selection.vectorLayer], ['resid_post', 'last']);
      assert.deepEqual(problemsOf(withLines('selection: {vectorSite: attn_out}')), ['run.yaml: selection.vectorSite: "attn_out" is not one of mlp_out, resid_post']);
    });

    it('resumes a run.json written before vectorSite existed only with the MLP output it embedded by, unless no strategy compared vectors', () => {
      const old = (strategies: string[]): Record<string, unknown> => {
        const json = runConfigToJson(parseRunConfig(withLines(`selection: {strategies: [${strategies.join(', ')}], vectorLayer: middle}`), '/x/run.yaml')) as Record<string, unknown>;
        delete (json['selection'] as Record<string, unknown>)['vectorSite'];
        return json;
      };
      const now = (strategies: string[], ...selection: string[]) => runConfigToJson(parseRunConfig(withLines(`selection: {strategies: [${strategies.join(', ')}]${selection.map((s) => `, ${s}`).join('')}}`), '/x/run.yaml'));
      assert.deepEqual(changedComputationKeys(old(['random', 'kate']), now(['random', 'kate'])), ['selection']);
      assert.deepEqual(changedComputationKeys(old(['random', 'kate']), now(['random', 'kate'], 'vectorSite: mlp_out', 'vectorLayer: middle')), []);
      assert.deepEqual(changedComputationKeys(old(['random', 'bm25']), now(['random', 'bm25'])), []);
    });

    it('resumes a run.json written before label scoring was an option only with scoring: sum, which it used', () => {
      const old = runConfigToJson(base) as Record<string, unknown>;
      delete old['scoring'];
      assert.equal(base.scoring.labels, 'mean');
      assert.deepEqual(changedComputationKeys(old, runConfigToJson(base)), ['scoring']);
      const summed = parseRunConfig(withLines('layers: [0, 10, 31]', 'selection: {statistic: {layer: 10}, vectorLayer: last}', 'scoring: {labels: sum}'), '/x/run.yaml');
      assert.deepEqual(changedComputationKeys(old, runConfigToJson(summed)), []);
      assert.throws(() => parseRunConfig(withLines('scoring: {labels: first}'), '/x/run.yaml'), /scoring\.labels/);
    });

    it('exports a schema that compiles on its own as plain JSON', () => {
      const schema = JSON.parse(JSON.stringify(runConfigSchema)) as Record<string, unknown>;
      const validate = new Ajv({ allowUnionTypes: true }).compile(schema);
      assert.equal(validate({ model: 'm.gguf', data: { file: 'd.jsonl', inputs: 'x', target: 'y' } }), true);
      assert.equal(validate({ model: 'm.gguf', data: { file: 'd.jsonl', inputs: 'x', target: 'y' }, typo: 1 }), false);
    });
  });
});
