// The prompt a finished run put before the model for one selection and one query, rendered exactly
// as the evaluate phase renders it: the selection's rows in the one seeded order (demonstrationOrder)
// as demonstrations (KATE, BM25: the query's retrieved rows among those random selection labelled
// at that seed and budget), then the query and the answer prefix, with every piece's span.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { SplitName } from '../dataset/splits.js';
import { exampleText } from '../experiment/runExperiment.js';
import { randomBudget } from '../experiment/acquisition.js';
import { retrievalStrategies, retrieveDemonstrations, type RetrievalStrategy } from '../selection/retrieval.js';
import { demonstrationOrder } from '../selection/demonstrationOrder.js';
import { centredUnitVectors } from '../selection/embeddings.js';
import { demonstrationOf } from '../quality/promptEvaluation.js';
import { renderPrompt, type PromptPiece } from '../template/promptRenderer.js';
import type { RunIndex } from './runIndex.js';
import { readRunVectors, type RunVectors } from './runVectors.js';

/** One evaluated selection: a strategy, seed and budget. */
export interface PromptChoice {
  readonly strategy: string;
  readonly seed: number;
  readonly budget: number;
}

export interface PreviewDemonstration {
  readonly example: number;
  readonly id: string;
  /** 1-based line of the row in the data file. */
  readonly line: number;
  /** Acquisition round (absent for KATE and BM25). */
  readonly round?: number;
  /** What the strategy ranked it by (KATE: cosine similarity to the query; BM25: its BM25 score). */
  readonly score: number;
}

export interface PromptPreview {
  readonly choice: PromptChoice;
  /** The exact prompt text; the model's answer follows it directly. */
  readonly text: string;
  /** instruction, demonstrations, separators, query, answer prefix: their texts concatenate to `text`. */
  readonly pieces: readonly PromptPiece[];
  /** In prompt order; demonstration piece `index` i is demonstrations[i]. */
  readonly demonstrations: readonly PreviewDemonstration[];
  readonly query: { readonly example: number; readonly id: string; readonly line: number; readonly split: SplitName };
  /** Whether the run scored this very prompt (the query is a test row). */
  readonly evaluated: boolean;
  /** Reasons the preview may differ from what the run saw, or what it does not show. */
  readonly warnings: readonly string[];
}

const choiceKey = (c: PromptChoice): string => `${c.strategy}\u0000${c.seed}\u0000${c.budget}`;

/** The selections the run evaluated, in selections.csv order, then KATE's and BM25's per seed and budget. */
export function promptChoices(index: RunIndex): PromptChoice[] {
  const seen = new Map<string, PromptChoice>();
  for (const s of index.selections) {
    const choice = { strategy: s.strategy, seed: s.seed, budget: s.budget };
    if (!seen.has(choiceKey(choice))) seen.set(choiceKey(choice), choice);
  }
  const choices = [...seen.values()];
  for (const strategy of retrievalStrategies) {
    if (!index.config.selection.strategies.includes(strategy)) continue;
    for (const seed of index.config.selection.seeds) for (const budget of index.config.selection.budgets) choices.push({ strategy, seed, budget });
  }
  return choices;
}

/**
 * The prompt of `choice` with row `queryExample` (default: the first test row) as the query.
 * `vectors` (KATE only) defaults to the run's checkpoints.
 */
export async function buildPromptPreview(index: RunIndex, choice: PromptChoice, queryExample?: number, vectors?: RunVectors): Promise<PromptPreview> {
  const { splits, template, task } = index.prepared;
  const queryRow = queryExample === undefined ? splits.test[0] : index.rows.get(queryExample)?.row;
  if (!queryRow) {
    throw new Error(queryExample === undefined ? 'the run has no test rows to use as the query' : `row ${queryExample} is in none of the run's splits (pool, probe, test): pick another query`);
  }
  const split = index.rows.get(queryRow.index)!.split;
  const warnings: string[] = [];
  if (index.stale) warnings.push(index.stale);

  let demonstrations: PreviewDemonstration[];
  if ((retrievalStrategies as readonly string[]).includes(choice.strategy)) {
    const name = choice.strategy === 'kate' ? 'KATE' : 'BM25';
    const testPosition = splits.test.findIndex((row) => row.index === queryRow.index);
    if (testPosition < 0) throw new Error(`${name} retrieves for test queries only; row ${queryRow.index} is a ${split} row`);
    if (!index.config.selection.budgets.includes(choice.budget)) throw new Error(`the run evaluated ${name} at budgets ${index.config.selection.budgets.join(', ')}, not ${choice.budget}`);
    // Runs from before retrieval drew from the budget (no retrievalShots in run.json) retrieved from the whole pool.
    if (index.config.selection.retrievalShots === undefined) throw new Error(`${index.dir}: this run predates ${name} retrieving from the budget's labelled rows; its prompts cannot be rebuilt: run it again`);
    let kateVectors: { query: Float64Array; pool: Float64Array[] } | undefined;
    if (choice.strategy === 'kate') {
      const found = vectors ?? (await readRunVectors(index.dir, splits.pool.length, splits.test.length));
      if (!found || found.test.length !== splits.test.length) throw new Error(`${index.dir}: the checkpoints hold no vectors for KATE's retrieval`);
      kateVectors = { query: centredUnitVectors([found.test[testPosition]!], found.pool)[0]!, pool: centredUnitVectors(found.pool) };
    }
    const inputs = index.config.data.inputs;
    const retrieved = retrieveDemonstrations({
      strategy: choice.strategy as RetrievalStrategy,
      labelled: await randomBudget(splits.pool.length, choice.budget, index.config.selection.rounds, choice.seed),
      shots: index.config.selection.retrievalShots,
      seed: choice.seed,
      rowIndex: splits.pool.map((row) => row.index),
      ...(kateVectors ? { vectors: kateVectors } : { texts: { query: exampleText(queryRow, inputs), pool: splits.pool.map((row) => exampleText(row, inputs)) } }),
    });
    demonstrations = retrieved.map((s) => ({ example: splits.pool[s.position]!.index, id: splits.pool[s.position]!.id, line: splits.pool[s.position]!.line, score: s.score }));
  } else {
    const chosen = index.selections.filter((s) => s.strategy === choice.strategy && s.seed === choice.seed && s.budget === choice.budget);
    if (chosen.length === 0) throw new Error(`the run has no selection for ${choice.strategy}, seed ${choice.seed}, budget ${choice.budget}`);
    const byExample = new Map(chosen.map((s) => [s.example, s]));
    demonstrations = demonstrationOrder([...byExample.keys()], choice.seed).map((example) => {
      const s = byExample.get(example)!;
      const row = index.rows.get(example)?.row;
      if (!row) throw new Error(`selections.csv names row ${example}, which is in none of the run's splits: the data file changed since the run`);
      return { example, id: row.id, line: row.line, round: s.round, score: s.score };
    });
  }

  const rendered = renderPrompt(
    template,
    demonstrations.map((d) => demonstrationOf(index.rows.get(d.example)!.row, task)),
    { inputs: queryRow.inputs },
  );
  const evaluated = split === 'test';
  if (!evaluated) warnings.push(`row ${queryRow.index} is a ${split} row: the run scored its prompts on test rows only, so this one was rendered, not scored`);
  if (index.config.template && existsSync(index.config.template)) {
    const changed = (await stat(index.config.template)).mtime.getTime() > Date.parse(index.record.startedAt);
    if (changed) warnings.push(`the template ${index.config.template} changed after the run started: this is how it renders now`);
  }
  return {
    choice,
    text: rendered.text,
    pieces: rendered.pieces,
    demonstrations,
    query: { example: queryRow.index, id: queryRow.id, line: queryRow.line, split },
    evaluated,
    warnings,
  };
}
