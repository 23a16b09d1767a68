// What a data file's rows hold, read from its first rows: field names, how often each is text, a
// few distinct values. The run wizard offers these and guesses which field is the input and which
// the label.
import { datasetFormatOf, readSourceRecords } from './datasetFormat.js';

export interface FieldSummary {
  readonly name: string;
  /** Rows (of those read) where the field is a non-empty value. */
  readonly present: number;
  readonly meanLength: number;
  /** Up to `maxDistinct + 1` distinct values as strings (more means "many"). */
  readonly distinct: readonly string[];
}

export interface FieldSurvey {
  /** Rows the field statistics come from (the first `options.rows`). */
  readonly rowsRead: number;
  /** Rows in the whole file (rows that are not objects left out). */
  readonly rows: number;
  readonly fields: readonly FieldSummary[];
  /** The longest free-text field: the likely input. */
  readonly guessedInput?: string;
  /** A field with few distinct short values: the likely label. */
  readonly guessedLabel?: string;
  /** Distinct label values when the label guess has few (the label set). */
  readonly guessedLabels?: readonly string[];
}

export async function surveyFields(file: string, options: { rows?: number; maxDistinct?: number } = {}): Promise<FieldSurvey> {
  const limit = options.rows ?? 500;
  const maxDistinct = options.maxDistinct ?? 20;
  const stats = new Map<string, { present: number; length: number; distinct: Set<string> }>();
  let rowsRead = 0;
  let rows = 0;
  for await (const record of readSourceRecords(file, datasetFormatOf(file), { maxLineBytes: 10 * 1024 * 1024 })) {
    if ('problem' in record) continue;
    // Past the sample, rows are only counted.
    if (++rows > limit) continue;
    rowsRead++;
    for (const [name, value] of Object.entries(record.fields)) {
      const entry = stats.get(name) ?? { present: 0, length: 0, distinct: new Set<string>() };
      stats.set(name, entry);
      if (value === null || value === undefined || value === '') continue;
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      entry.present++;
      entry.length += text.length;
      if (entry.distinct.size <= maxDistinct) entry.distinct.add(text);
    }
  }
  const fields = [...stats].map(([name, s]) => ({ name, present: s.present, meanLength: s.present ? s.length / s.present : 0, distinct: [...s.distinct] }));
  const idLike = /^(id|idx|index|uid|guid)$/i;
  const textFields = fields.filter((f) => !idLike.test(f.name) && f.distinct.length > maxDistinct);
  const guessedInput = [...textFields].sort((a, b) => b.meanLength - a.meanLength)[0]?.name;
  const labelField =
    fields.find((f) => /^(label|labels|class|target|category|answer)$/i.test(f.name) && f.name !== guessedInput) ??
    fields.filter((f) => f.name !== guessedInput && !idLike.test(f.name) && f.distinct.length >= 2 && f.distinct.length <= maxDistinct).sort((a, b) => a.distinct.length - b.distinct.length)[0];
  const labels = labelField && labelField.distinct.length <= maxDistinct ? [...labelField.distinct].sort() : undefined;
  return {
    rowsRead,
    rows,
    fields,
    ...(guessedInput ? { guessedInput } : {}),
    ...(labelField ? { guessedLabel: labelField.name } : {}),
    ...(labels ? { guessedLabels: labels } : {}),
  };
}
