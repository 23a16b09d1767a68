// Scores k-shot prompts on a set of probe rows: for each prompt (a list of demonstrations) and
// each probe, the metrics example quality is measured with. One prompt is one scoring group, so
// its demonstrations are evaluated once for all probes.
import type { ClassLabel, DatasetRow } from '../dataset/datasetSpec.js';
import { exactMatch, rougeL, tokenF1 } from '../metrics/generativeMetrics.js';
import type { Template } from '../template/template.js';
import { renderPromptPrefix, renderQuerySuffix, type Demonstration } from '../template/promptRenderer.js';
import type { PromptScorer } from './promptScorer.js';

/** metric[prompt][probe], one array per metric name. */
export interface PromptMetrics {
  readonly metrics: ReadonlyMap<string, readonly Float64Array[]>;
  /** predictions[prompt][probe]: the predicted label's value, or the generated answer. */
  readonly predictions: readonly (readonly string[])[];
  readonly evaluatedTokens: number;
  readonly minimumTokens: number;
}

export interface ClassificationTask {
  readonly type: 'classification';
  readonly labels: readonly ClassLabel[];
  /** Divide a label's log-probability by its token count before comparing labels. */
  readonly lengthNormalize: boolean;
}

export interface GenerativeTask {
  readonly type: 'generative';
  readonly maxTokens: number;
  readonly stop: readonly string[];
}

/**
 * The text the model should produce after the answer prefix: the answer, after a space unless the
 * prefix already ends in whitespace (demonstrations read "Label: positive", so the continuation of
 * "…\nLabel:" is " positive").
 */
export function continuationText(answerPrefix: string, answer: string): string {
  return /\s$/.test(answerPrefix) || answerPrefix === '' ? answer : ` ${answer}`;
}

export function demonstrationOf(row: DatasetRow, task: ClassificationTask | GenerativeTask): Demonstration {
  if (task.type === 'classification') {
    const label = task.labels.find((l) => l.value === row.label);
    if (!label) throw new Error(`row ${row.index} (line ${row.line}) has no label in the label set`);
    return { inputs: row.inputs, answer: label.verbalizer };
  }
  return { inputs: row.inputs, answer: row.references?.[0] ?? '' };
}

export async function evaluatePrompts(
  scorer: PromptScorer,
  template: Template,
  task: ClassificationTask | GenerativeTask,
  prompts: readonly (readonly DatasetRow[])[],
  probes: readonly DatasetRow[],
): Promise<PromptMetrics> {
  const prefixes = prompts.map((demos) => renderPromptPrefix(template, demos.map((d) => demonstrationOf(d, task))).text);
  const suffixes = probes.map((probe) => renderQuerySuffix(template, { inputs: probe.inputs }).text);
  const key = (prompt: number, probe: number): number => prompt * probes.length + probe;
  const perPrompt = (): Float64Array[] => prompts.map(() => new Float64Array(probes.length));

  if (task.type === 'classification') {
    const continuations = task.labels.map((l) => continuationText(template.answerPrefix, l.verbalizer));
    const scored = await scorer.scoreTexts(
      prefixes.map((prefix, p) => ({ prefix, queries: suffixes.map((query, q) => ({ key: key(p, q), query, continuations })) })),
    );
    const gold = perPrompt();
    const correct = perPrompt();
    const predictions = prompts.map(() => probes.map(() => ''));
    prompts.forEach((_, p) => {
      probes.forEach((probe, q) => {
        const scores = scored.scores.get(key(p, q))!;
        const comparable = scores.map((s) => (task.lengthNormalize ? s.logprob / s.tokens : s.logprob));
        const goldIndex = task.labels.findIndex((l) => l.value === probe.label);
        let best = 0;
        comparable.forEach((v, i) => {
          if (v > comparable[best]!) best = i;
        });
        gold[p]![q] = comparable[goldIndex]!;
        correct[p]![q] = best === goldIndex ? 1 : 0;
        predictions[p]![q] = task.labels[best]!.value;
      });
    });
    return { metrics: new Map([['gold_logprob', gold], ['accuracy', correct]]), predictions, evaluatedTokens: scored.evaluatedTokens, minimumTokens: scored.minimumTokens };
  }

  const references = probes.map((probe) => probe.references?.[0] ?? '');
  const scored = await scorer.scoreTexts(
    prefixes.map((prefix, p) => ({
      prefix,
      queries: suffixes.map((query, q) => ({ key: key(p, q), query, continuations: [continuationText(template.answerPrefix, references[q]!)] })),
    })),
  );
  const generated = await scorer.generateTexts(
    prefixes.map((prefix, p) => ({ prefix, queries: suffixes.map((query, q) => ({ key: key(p, q), query })) })),
    task.maxTokens,
    task.stop,
  );
  const loglik = perPrompt();
  const em = perPrompt();
  const f1 = perPrompt();
  const rouge = perPrompt();
  const predictions = prompts.map((_, p) => probes.map((_, q) => generated.get(key(p, q)) ?? ''));
  prompts.forEach((_, p) => {
    probes.forEach((probe, q) => {
      const score = scored.scores.get(key(p, q))![0]!;
      const answer = predictions[p]![q]!.trim();
      loglik[p]![q] = score.logprob / score.tokens;
      em[p]![q] = exactMatch(answer, probe.references ?? []);
      f1[p]![q] = tokenF1(answer, probe.references ?? []);
      rouge[p]![q] = rougeL(answer, probe.references ?? []);
    });
  });
  return { metrics: new Map([['reference_loglik', loglik], ['em', em], ['f1', f1], ['rouge_l', rouge]]), predictions, evaluatedTokens: scored.evaluatedTokens, minimumTokens: scored.minimumTokens };
}
