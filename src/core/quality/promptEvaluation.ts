// Scores k-shot prompts on a set of probe rows: for each prompt (a list of demonstrations) and
// each probe, the metrics example quality is measured with. One prompt is one scoring group, so
// its demonstrations are evaluated once for all probes.
import type { ClassLabel, DatasetRow } from '../dataset/datasetSpec.js';
import { exactMatch, rougeL, tokenF1 } from '../metrics/generativeMetrics.js';
import type { Template } from '../template/template.js';
import { renderPromptPrefix, renderQuerySuffix, type Demonstration } from '../template/promptRenderer.js';
import type { PromptScorer } from './promptScorer.js';

/** metric[prompt][probe], one array per metric name (a prompt's own probes for evaluatePromptItems). */
export interface PromptMetrics {
  readonly metrics: ReadonlyMap<string, readonly Float64Array[]>;
  /** predictions[prompt][probe]: the predicted label's value, or the generated answer. */
  readonly predictions: readonly (readonly string[])[];
  readonly evaluatedTokens: number;
  readonly minimumTokens: number;
}

/**
 * How a classification prompt's labels are compared (each label's verbalizer scored as the
 * continuation of the answer prefix):
 *   sum        — its summed token log-probability (a label of more tokens pays for each one);
 *   mean       — that sum over its token count (length-normalised);
 *   calibrated — contextual calibration (Zhao et al., 2021): the labels' probabilities, normalised
 *                over the labels, divided by those the same prompt gives a content-free query (every
 *                input "N/A"), renormalised; a label's length and the prompt's own bias cancel.
 * `gold_logprob` is the gold label's score on the same scale: sum, mean, or log of its calibrated
 * probability.
 */
export const labelScorings = ['sum', 'mean', 'calibrated'] as const;
export type LabelScoring = (typeof labelScorings)[number];

/** The content-free input of contextual calibration, in every input field. */
export const contentFreeInput = 'N/A';

export interface ClassificationTask {
  readonly type: 'classification';
  readonly labels: readonly ClassLabel[];
  readonly scoring: LabelScoring;
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

/** One prompt and the probes it is scored on (KATE gives each test query its own prompt). */
export interface PromptItem {
  readonly demonstrations: readonly DatasetRow[];
  readonly probes: readonly DatasetRow[];
}

export interface PromptLayout {
  /**
   * Each prompt in windows of its own (TextScoringGroup.ownWindow): prompts on the same probes are
   * then scored in the same layout, so the difference of two prompts' metrics — one-shot gain's
   * candidate minus zero-shot — holds no trace of which prompts shared a batch.
   */
  readonly ownWindows?: boolean;
}

/** Every prompt on every probe: metric[prompt][probe]. */
export function evaluatePrompts(
  scorer: PromptScorer,
  template: Template,
  task: ClassificationTask | GenerativeTask,
  prompts: readonly (readonly DatasetRow[])[],
  probes: readonly DatasetRow[],
  layout: PromptLayout = {},
): Promise<PromptMetrics> {
  return evaluatePromptItems(scorer, template, task, prompts.map((demonstrations) => ({ demonstrations, probes })), layout);
}

/** Each item's prompt on its own probes: metric[item][probe of that item]. */
export async function evaluatePromptItems(
  scorer: PromptScorer,
  template: Template,
  task: ClassificationTask | GenerativeTask,
  items: readonly PromptItem[],
  layout: PromptLayout = {},
): Promise<PromptMetrics> {
  const own = layout.ownWindows ? { ownWindow: true } : {};
  const prefixes = items.map((item) => renderPromptPrefix(template, item.demonstrations.map((d) => demonstrationOf(d, task))).text);
  const suffixes = items.map((item) => item.probes.map((probe) => renderQuerySuffix(template, { inputs: probe.inputs }).text));
  // Query keys number every (item, probe) pair in order.
  const offsets: number[] = [];
  let pairs = 0;
  for (const item of items) {
    offsets.push(pairs);
    pairs += item.probes.length;
  }
  const key = (item: number, probe: number): number => offsets[item]! + probe;
  const perItem = (): Float64Array[] => items.map((item) => new Float64Array(item.probes.length));

  if (task.type === 'classification') {
    const continuations = task.labels.map((l) => continuationText(template.answerPrefix, l.verbalizer));
    // Calibration scores one more query per prompt: its content-free input, keyed after every real pair.
    const calibrated = task.scoring === 'calibrated';
    const fieldNames = [...new Set(items.flatMap((item) => item.probes.flatMap((probe) => Object.keys(probe.inputs))))];
    const contentFree = renderQuerySuffix(template, { inputs: Object.fromEntries(fieldNames.map((f) => [f, contentFreeInput])) }).text;
    const scored = await scorer.scoreTexts(
      prefixes.map((prefix, p) => ({
        prefix,
        ...own,
        queries: [
          ...suffixes[p]!.map((query, q) => ({ key: key(p, q), query, continuations })),
          ...(calibrated ? [{ key: pairs + p, query: contentFree, continuations }] : []),
        ],
      })),
    );
    const logNormalised = (logprobs: readonly number[]): number[] => {
      const top = Math.max(...logprobs);
      const total = top + Math.log(logprobs.reduce((sum, v) => sum + Math.exp(v - top), 0));
      return logprobs.map((v) => v - total);
    };
    const labelScores = (p: number, q: number): number[] => {
      const scores = scored.scores.get(key(p, q))!;
      if (task.scoring === 'sum') return scores.map((s) => s.logprob);
      if (task.scoring === 'mean') return scores.map((s) => s.logprob / s.tokens);
      const prior = logNormalised(scored.scores.get(pairs + p)!.map((s) => s.logprob));
      return logNormalised(logNormalised(scores.map((s) => s.logprob)).map((v, i) => v - prior[i]!));
    };
    const gold = perItem();
    const correct = perItem();
    const predictions = items.map((item) => item.probes.map(() => ''));
    items.forEach((item, p) => {
      item.probes.forEach((probe, q) => {
        const comparable = labelScores(p, q);
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

  const scored = await scorer.scoreTexts(
    prefixes.map((prefix, p) => ({
      prefix,
      ...own,
      queries: suffixes[p]!.map((query, q) => ({ key: key(p, q), query, continuations: [continuationText(template.answerPrefix, items[p]!.probes[q]!.references?.[0] ?? '')] })),
    })),
  );
  const generated = await scorer.generateTexts(
    prefixes.map((prefix, p) => ({ prefix, ...own, queries: suffixes[p]!.map((query, q) => ({ key: key(p, q), query })) })),
    task.maxTokens,
    task.stop,
  );
  const loglik = perItem();
  const em = perItem();
  const f1 = perItem();
  const rouge = perItem();
  const predictions = items.map((item, p) => item.probes.map((_, q) => generated.get(key(p, q)) ?? ''));
  items.forEach((item, p) => {
    item.probes.forEach((probe, q) => {
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
