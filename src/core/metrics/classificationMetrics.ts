// Classification scores over predicted and gold labels, compared as strings. The conventions are
// scikit-learn's: macro-F1 is f1_score(gold, predictions, average='macro') with its default labels,
// the sorted union of the labels present in gold or predictions — so a label that occurs in neither
// is left out of the average, and a prediction outside the task's label set counts as a class of
// its own (F1 0). A ratio with a zero denominator is 0 (zero_division's default value).

export interface LabelScore {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** How many gold labels are this label. */
  readonly support: number;
}

/** The fraction of predictions equal to their gold label; NaN for no examples. */
export function accuracy(predictions: readonly string[], gold: readonly string[]): number {
  checkLengths(predictions, gold);
  if (gold.length === 0) return Number.NaN;
  return predictions.filter((prediction, index) => prediction === gold[index]).length / gold.length;
}

/** Precision, recall and F1 of every label present in gold or predictions, sorted by label. */
export function labelScores(predictions: readonly string[], gold: readonly string[]): LabelScore[] {
  checkLengths(predictions, gold);
  const counts = new Map<string, { truePositives: number; predicted: number; support: number }>();
  const countsOf = (label: string) => {
    let entry = counts.get(label);
    if (!entry) counts.set(label, (entry = { truePositives: 0, predicted: 0, support: 0 }));
    return entry;
  };
  predictions.forEach((prediction, index) => {
    const expected = gold[index]!;
    countsOf(prediction).predicted++;
    countsOf(expected).support++;
    if (prediction === expected) countsOf(expected).truePositives++;
  });
  return [...counts.keys()].sort().map((label) => {
    const { truePositives, predicted, support } = counts.get(label)!;
    return {
      label,
      precision: ratio(truePositives, predicted),
      recall: ratio(truePositives, support),
      f1: ratio(2 * truePositives, predicted + support),
      support,
    };
  });
}

/** The unweighted mean of the per-label F1 (see the conventions above); NaN for no examples. */
export function macroF1(predictions: readonly string[], gold: readonly string[]): number {
  const scores = labelScores(predictions, gold);
  if (scores.length === 0) return Number.NaN;
  return scores.reduce((sum, score) => sum + score.f1, 0) / scores.length;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function checkLengths(predictions: readonly string[], gold: readonly string[]): void {
  if (predictions.length !== gold.length) {
    throw new RangeError(`${predictions.length} predictions for ${gold.length} gold labels`);
  }
}
